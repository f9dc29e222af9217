"""Entry of activities: the form (new, copy, edit), the activity page, photos, registry recipients and corrections."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from beneficiaries.models import Beneficiary
from beneficiaries.selectors import is_full_id_number, search_q
from shuangyong.lib.forms import add_service_errors
from shuangyong.lib.http import whole_number
from shuangyong.lib.idcard import mask_name
from shuangyong.lib.uploads import private_file_response
from units.constants import Role
from units.permissions import scope_q

from . import services
from .constants import COUNT_FIELDS, Occasion
from .forms import (
    ActivityForm,
    GiftFormSet,
    GroupFormSet,
    PhotoForm,
    RecipientCorrectForm,
    RecipientFormSet,
    gift_units,
    registry,
)
from .models import Activity, Photo

SEARCH_LIMIT = 20
COPIED_FIELDS = ["unit", "type", "occasion", "title", "place", "leaders"]
ROW_FIELDS = {
    "gifts": ["recipient_unit", "recipient_name", "money", "goods", "goods_value"],
    "groups": ["description", "people", "money", "goods", "goods_value"],
}
# Fields the history leaves out: derived by the services, or bookkeeping.
HISTORY_SKIPPED = [
    "money",
    "goods_value",
    "recipient_count",
    "photo_count",
    "occasion_year",
    "created_at",
    "updated_at",
]


def _posted(request):
    return (request.POST, request.FILES) if request.method == "POST" else (None, None)


def _rows(queryset, fields):
    return [{name: getattr(row, name) for name in fields} for row in queryset]


def _forms(request, *, units, initial=None, gifts=(), groups=(), activity=None):
    """Bind the activity form and its three row formsets (gifts, groups, new registry recipients)."""
    data, files = _posted(request)
    user = request.user
    form = ActivityForm(data, files, units=units, initial=initial or {})
    formsets = {
        "gifts": GiftFormSet(data, prefix="gifts", initial=list(gifts), choices={"units": gift_units(user)}),
        "groups": GroupFormSet(data, prefix="groups", initial=list(groups)),
        "recipients": RecipientFormSet(data, prefix="recipients", choices={"registry": registry(user)}),
    }
    if not data and not gifts:
        formsets["gifts"].extra = 1
    if not data and not groups:
        formsets["groups"].extra = 1
    return form, formsets


def _valid(form, formsets):
    valid = form.is_valid()
    return all([valid, *(formset.is_valid() for formset in formsets.values())])


def _show_errors(form, formsets, error):
    """Put a service's errors where the user looks: rows' errors above their table, the rest on their field."""
    if not hasattr(error, "error_dict"):
        add_service_errors(form, error)
        return
    for field, field_messages in error.message_dict.items():
        if field in formsets:
            formsets[field].non_form_errors().extend(field_messages)
        else:
            form.add_error(field if field in form.fields else None, field_messages)


def _recipient_rows(formset, *, occasion, year, activity=None):
    """Give each recipient row the person's masked label and any earlier 慰问金 of the same occasion and year."""
    pks = []
    for row in formset.forms:
        pk = whole_number(row["beneficiary"].value())
        if pk is not None:
            pks.append(pk)
    # Only people the rows may hold are named: a tampered id shows nothing (and is refused on save).
    people = formset.choices["registry"].select_related("township").in_bulk(pks)
    earlier = services.previous_condolences(
        beneficiaries=list(people.values()), occasion=occasion, year=year, exclude_activity=activity
    )
    for row in formset.forms:
        person = people.get(whole_number(row["beneficiary"].value()))
        row.person_label = services.person_label(person) if person else ""
        row.earlier = [services.visit_text(v) for v in earlier.get(person.pk, [])] if person else []


def _occasion_and_year(form, fallback=None):
    data = form.data if form.is_bound else form.initial
    occasion = data.get("occasion") or (fallback.occasion if fallback else "")
    if occasion not in Occasion.values:
        occasion = ""
    try:
        start = datetime.date.fromisoformat(str(data.get("start_date") or ""))
    except ValueError:
        start = fallback.start_date if fallback else timezone.localdate()
    return occasion, services.occasion_year_of(occasion, start)


def _error_count(form, formsets):
    count = len(form.errors)
    for formset in formsets.values():
        count += len(formset.non_form_errors()) + sum(len(errors) for errors in formset.errors)
    return count


def _render_form(request, form, formsets, *, title, activity=None, source=None):
    occasion, year = _occasion_and_year(form, activity)
    _recipient_rows(formsets["recipients"], occasion=occasion, year=year, activity=activity)
    single_unit = form.fields["unit"].queryset.count() == 1
    if not form.is_bound:
        form.fields["type" if single_unit else "unit"].widget.attrs["autofocus"] = True
    existing = []
    if activity is not None:
        existing = list(activity.recipients.select_related("beneficiary__township").order_by("pk"))
        for recipient in existing:
            recipient.person_label = services.person_label(recipient.beneficiary)
    return render(
        request,
        "activities/form.html",
        {
            "form": form,
            "formsets": formsets,
            "title": title,
            "activity": activity,
            "source": source,
            "existing_recipients": existing,
            "error_count": _error_count(form, formsets) if form.is_bound else 0,
            "photos_dropped": bool(request.FILES.getlist("photos")),
        },
    )


def _saved(request, activity, verb):
    messages.success(request, f"已{verb}活动“{activity.title}”。")
    for line in services.repeat_warnings(activity=activity):
        messages.warning(request, f"请核实：{line}。")
    return redirect(activity)


@login_required
def activity_create(request):
    units = services.editable_units(request.user)
    if not units.exists():
        raise Http404
    source, initial, gifts, groups = None, {"start_date": None}, [], []
    copy = whole_number(request.GET.get("copy"))
    if copy is not None:
        source = get_object_or_404(Activity.objects.visible_to(request.user), pk=copy)
        initial = {name: getattr(source, name) for name in COPIED_FIELDS}
        initial["unit"] = source.unit_id
        initial["military_units"] = list(source.military_units.values_list("pk", flat=True))
        initial["pairings"] = list(source.pairings.values_list("pk", flat=True))
        gifts = _rows(source.gifts.all(), ROW_FIELDS["gifts"])
        groups = _rows(source.groups.all(), ROW_FIELDS["groups"])
    form, formsets = _forms(request, units=units, initial=initial, gifts=gifts, groups=groups)
    if request.method == "POST" and _valid(form, formsets):
        try:
            activity = services.activity_create(
                created_by=request.user,
                photos=form.cleaned_data["photos"],
                gifts=formsets["gifts"].rows(),
                groups=formsets["groups"].rows(),
                recipients=formsets["recipients"].rows(),
                **form.activity_fields(),
            )
        except ValidationError as error:
            _show_errors(form, formsets, error)
        else:
            return _saved(request, activity, "登记")
    title = f"登记双拥活动（复制“{source.title}”）" if source else "登记双拥活动"
    return _render_form(request, form, formsets, title=title, source=source)


@login_required
def activity_edit(request, pk):
    activity = get_object_or_404(Activity.objects.editable_by(request.user).select_related("unit"), pk=pk)
    lock = services.lock_for(request.user, activity.unit, activity.start_date)
    if lock is not None:
        messages.error(request, f"{lock}已通过，该季度的活动已锁定；如需修改，请联系双拥办。")
        return redirect(activity)
    units = services.editable_units(request.user)
    initial = {name: getattr(activity, name) for name in services.FIELDS if name != "imported"}
    # A count left at nothing shows as an empty box, as on a new activity.
    initial.update({name: None for name in services.COUNTS if not initial[name]})
    initial.update(
        unit=activity.unit_id,
        military_units=list(activity.military_units.values_list("pk", flat=True)),
        pairings=list(activity.pairings.values_list("pk", flat=True)),
        version=activity.version,
    )
    gifts = _rows(activity.gifts.all(), ROW_FIELDS["gifts"])
    groups = _rows(activity.groups.all(), ROW_FIELDS["groups"])
    form, formsets = _forms(request, units=units, initial=initial, gifts=gifts, groups=groups, activity=activity)
    if request.method == "POST" and _valid(form, formsets):
        kept = [
            {"beneficiary": r.beneficiary, "amount": r.amount, "goods": r.goods, "goods_value": r.goods_value}
            for r in activity.recipients.select_related("beneficiary__township")
        ]
        try:
            activity = services.activity_update(
                activity=activity,
                version=form.cleaned_data["version"],
                updated_by=request.user,
                photos=form.cleaned_data["photos"],
                gifts=formsets["gifts"].rows(),
                groups=formsets["groups"].rows(),
                recipients=kept + formsets["recipients"].rows(),
                **form.activity_fields(),
            )
        except ValidationError as error:
            _show_errors(form, formsets, error)
        else:
            return _saved(request, activity, "保存")
    return _render_form(request, form, formsets, title=f"修改活动：{activity.title}", activity=activity)


def _history(activity, limit=20):
    """Who recorded and changed the activity, and which fields each change touched, newest first."""
    records = list(
        activity.history.select_related("history_user__profile").order_by("-history_date", "-pk")[: limit + 1]
    )
    entries = []
    for index, record in enumerate(records[:limit]):
        older = records[index + 1] if index + 1 < len(records) else None
        if record.history_type == "+" or older is None:
            changed = []
        else:
            delta = record.diff_against(older, excluded_fields=HISTORY_SKIPPED)
            names = {change.field for change in delta.changes}
            changed = [str(field.verbose_name) for field in Activity._meta.fields if field.name in names]
        user = record.history_user
        who = ""
        if user is not None:
            profile = getattr(user, "profile", None)
            who = (profile.full_name if profile else "") or user.get_username()
        action = {"+": "登记", "~": "修改", "-": "删除"}.get(record.history_type, record.history_type)
        entries.append({"when": record.history_date, "who": who, "action": action, "changed": changed})
    return entries


@login_required
@require_safe
def activity_detail(request, pk):
    activity = get_object_or_404(
        Activity.objects.visible_to(request.user).select_related("unit", "created_by__profile"), pk=pk
    )
    gifts = list(activity.gifts.select_related("recipient_unit"))
    groups = list(activity.groups.all())
    recipients = list(activity.recipients.select_related("beneficiary__township").order_by("pk"))
    visible = set(
        Beneficiary.objects.visible_to(request.user)
        .filter(pk__in=[r.beneficiary_id for r in recipients])
        .values_list("pk", flat=True)
    )
    rows_by_person = {}
    for payment in services.activity_payments(activity).order_by("pk"):
        rows_by_person.setdefault(payment.beneficiary_id, []).append(payment)
    for recipient in recipients:
        recipient.person_visible = recipient.beneficiary_id in visible
        recipient.masked_name = mask_name(recipient.beneficiary.name)
        recipient.ledger_rows = rows_by_person.get(recipient.beneficiary_id, [])
    counts = [
        (label, getattr(activity, name), word)
        for name, (label, word, _) in COUNT_FIELDS.items()
        if getattr(activity, name)
    ]
    lock = services.lock_for(request.user, activity.unit, activity.start_date)
    return render(
        request,
        "activities/detail.html",
        {
            "activity": activity,
            "military_units": activity.military_units.all(),
            "pairings": activity.pairings.select_related("civil_unit", "military_unit"),
            "counts": counts,
            "gifts": gifts,
            "gift_totals": _sums(gifts, "money", "goods_value"),
            "groups": groups,
            "group_totals": _sums(groups, "people", "money", "goods_value"),
            "recipients": recipients,
            "recipient_totals": _sums(recipients, "amount", "goods_value"),
            "photos": activity.photos.filter(is_removed=False),
            "history": _history(activity),
            "lock": lock,
            "can_edit": lock is None and Activity.objects.editable_by(request.user).filter(pk=activity.pk).exists(),
            "can_correct": services.can_correct(request.user, activity),
        },
    )


def _sums(rows, *fields):
    """The 合计 line of a table on the page: the rows shown, added up (Decimal yuan stay exact)."""
    return {field: sum(getattr(row, field) for row in rows) for field in fields}


# Photos


def _photo_file(stored, *, content_type, filename):
    """Send a photo inline to a caller who may see its activity; files never have a public URL."""
    return private_file_response(
        stored.name,
        filename=filename,
        content_type=content_type,
        storage=stored.storage,
        as_attachment=False,
        cache_control="private, max-age=3600",
    )


def _visible_photo(request, pk):
    visible = Activity.objects.visible_to(request.user)
    return get_object_or_404(Photo.objects.filter(activity__in=visible, is_removed=False), pk=pk)


@login_required
@require_safe
def photo_image(request, pk):
    photo = _visible_photo(request, pk)
    return _photo_file(photo.image, content_type=photo.content_type, filename=photo.original_name)


@login_required
@require_safe
def photo_thumbnail(request, pk):
    photo = _visible_photo(request, pk)
    return _photo_file(photo.thumbnail, content_type=photo.content_type, filename=f"缩略图-{photo.original_name}")


@login_required
def photo_add(request, pk):
    activity = get_object_or_404(Activity.objects.editable_by(request.user).select_related("unit"), pk=pk)
    data, files = _posted(request)
    form = PhotoForm(data, files)
    if form.is_valid():
        try:
            photos = services.photos_add(
                activity=activity,
                files=form.cleaned_data["photos"],
                caption=form.cleaned_data["caption"],
                uploaded_by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已上传 {len(photos)} 张照片。")
            return redirect(activity)
    return render(request, "activities/form_photos.html", {"form": form, "activity": activity})


@login_required
@require_POST
def photo_remove(request, pk):
    editable = Activity.objects.editable_by(request.user)
    photo = get_object_or_404(Photo.objects.filter(activity__in=editable).select_related("activity__unit"), pk=pk)
    if photo.is_removed:
        messages.info(request, "该照片已移除。")
    else:
        services.photo_remove(photo=photo, removed_by=request.user)
        messages.success(request, f"已移除照片“{photo.original_name}”。")
    return redirect(photo.activity)


# Registry recipients


@login_required
def recipient_correct(request, pk, recipient_pk):
    offices = Activity.objects.filter(scope_q(request.user, "unit__path", roles=[Role.OFFICE]))
    activity = get_object_or_404(offices.select_related("unit"), pk=pk)
    recipient = get_object_or_404(activity.recipients.select_related("beneficiary__township"), pk=recipient_pk)
    data, _ = _posted(request)
    form = RecipientCorrectForm(data, initial={"amount": recipient.amount})
    if form.is_valid():
        try:
            services.recipient_correct(recipient=recipient, corrected_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "已更正慰问金，差额已作为更正记录记入发放台账。")
            return redirect(activity)
    return render(
        request,
        "activities/form_correct.html",
        {
            "form": form,
            "activity": activity,
            "recipient": recipient,
            "person_label": services.person_label(recipient.beneficiary),
            "ledger_rows": services.recipient_payments(recipient=recipient),
        },
    )


def _chosen_unit(request, data):
    units = services.editable_units(request.user)
    pk = whole_number(data.get("unit"))
    unit = units.filter(pk=pk).first() if pk is not None else None
    return unit or units.first()


@login_required
@require_http_methods(["GET", "POST"])
def recipient_search(request):
    """Find people in the county's registry by name or pinyin initials: masked, and never a link to the person.

    The form posts (so that nothing typed lands in a URL); each hit says whether the person already had
    慰问金 for the same occasion and year.
    """
    data = request.POST if request.method == "POST" else request.GET
    unit = _chosen_unit(request, data)
    if unit is None:
        raise Http404
    query = (data.get("q") or "").strip()[:50]
    people, hint = [], ""
    if is_full_id_number(query):
        hint = "请输入姓名、拼音首字母或身份证号后 4–6 位，不必输入完整号码。"
    elif query:
        people = list(
            services.registry_of(unit)
            .filter(search_q(query))
            .select_related("township")
            .order_by("name", "pk")[: SEARCH_LIMIT + 1]
        )
    occasion = data.get("occasion", "")
    occasion = occasion if occasion in Occasion.values else ""
    try:
        start = datetime.date.fromisoformat(data.get("start_date", ""))
    except ValueError:
        start = timezone.localdate()
    earlier = services.previous_condolences(
        beneficiaries=people[:SEARCH_LIMIT],
        occasion=occasion,
        year=services.occasion_year_of(occasion, start),
        exclude_activity=whole_number(data.get("activity")),
    )
    hits = [
        {
            "pk": person.pk,
            "label": services.person_label(person),
            "status": person.get_status_display() if person.status != "active" else "",
            "earlier": [services.visit_text(v) for v in earlier.get(person.pk, [])],
        }
        for person in people[:SEARCH_LIMIT]
    ]
    return render(
        request,
        "activities/_recipient_results.html",
        {
            "hits": hits,
            "query": query,
            "hint": hint,
            "more": len(people) > SEARCH_LIMIT,
            "county": services.county_of(unit),
        },
    )


@login_required
@require_safe
def unit_options(request):
    """The military units and pairings the form offers once the organizing unit changes."""
    units = services.editable_units(request.user)
    if not units.exists():
        raise Http404
    form = ActivityForm(units=units, initial={"unit": request.GET.get("unit", "")})
    return render(request, "activities/form_unit_options.html", {"form": form})
