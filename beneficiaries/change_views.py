import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from shuangyong.lib.forms import add_service_errors
from shuangyong.lib.http import client_ip, whole_number
from shuangyong.lib.idcard import validate_id_number
from shuangyong.lib.pagination import paginate
from shuangyong.lib.pdf import pdf_response, render_pdf
from shuangyong.lib.uploads import private_file_response
from units.constants import Role, UnitKind
from units.models import Unit
from units.permissions import in_scope, scope_q

from . import selectors, services
from .constants import SERVING_MEMBER_CATEGORIES, Category, ChangeKind, Status, TransferStatus
from .forms import (
    AwardForm,
    BeneficiaryCreateForm,
    BeneficiaryEditForm,
    ChangeForm,
    ConfirmationRoundForm,
    EntitlementForm,
    IdNumberLookupForm,
    TransferAcceptForm,
)
from .models import Beneficiary, ConfirmationRound, Entitlement, StatusChange, Transfer

EDITORS = [Role.OFFICE, Role.LIAISON]
FOREIGN_ID_MESSAGE = "该身份证号已在其他县（区）登记，需由原登记地办理迁出。"
SAME_COUNTY_MESSAGE = (
    "该身份证号已在本县（区）其他乡镇（街道）登记。如该对象已迁到本乡镇，请联系县（区）双拥办调整其所属乡镇。"
)


def _posted(request):
    return (request.POST, request.FILES) if request.method == "POST" else (None, None)


def _editable_units(user):
    units = Unit.objects.filter(scope_q(user, "path", roles=EDITORS), is_active=True).order_by("path")
    return units.filter(kind=UnitKind.TOWNSHIP), units.filter(kind=UnitKind.VILLAGE)


# People


@login_required
def beneficiary_create(request):
    """Register a person in two steps: the ID number first, then the full form."""
    townships, villages = _editable_units(request.user)
    if not townships.exists():
        raise Http404
    step = request.POST.get("step") if request.method == "POST" else None
    # Both steps check the number again: the second step's hidden field comes back from the browser.
    lookup = IdNumberLookupForm({"id_number": request.POST.get("id_number", "")} if step else None)
    if step in ("lookup", "save") and lookup.is_valid():
        outcome = _lookup(request, lookup, lookup.cleaned_data["id_number"])
        if isinstance(outcome, Beneficiary):
            return redirect(outcome)
        if outcome == "new" and step == "lookup":
            initial = {"id_number": lookup.cleaned_data["id_number"], "effective_on": timezone.localdate()}
            if townships.count() == 1:
                initial["township"] = townships.first()
            form = BeneficiaryCreateForm(initial=initial, townships=townships, villages=villages)
            return _render_create(request, form)
        if outcome == "new":
            form = BeneficiaryCreateForm(request.POST, townships=townships, villages=villages)
            if form.is_valid():
                return _create(request, form)
            return _render_create(request, form)
    return render(request, "beneficiaries/create_lookup.html", {"form": lookup})


def _lookup(request, lookup, number):
    """Return the in-scope person, "new", or None after putting the refusal on the lookup form."""
    outcome, person = services.id_number_lookup(user=request.user, id_number=number, ip_address=client_ip(request))
    if outcome == "in_scope":
        messages.info(request, f"该身份证号已登记为“{person.name}”，已为您打开其档案，无需重复登记。")
        return person
    if outcome == "same_county":
        lookup.add_error("id_number", SAME_COUNTY_MESSAGE)
        return None
    if outcome == "other_county":
        lookup.add_error("id_number", FOREIGN_ID_MESSAGE)
        return None
    return "new"


def _create(request, form):
    data = form.person_data()
    entitlement = form.entitlement_data()
    try:
        person = services.beneficiary_create(
            **data, entitlements=[entitlement], effective_on=form.cleaned_data["effective_on"], created_by=request.user
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return _render_create(request, form)
    messages.success(request, f"已登记优抚对象“{person.name}”。")
    return redirect(person)


def _render_create(request, form):
    parsed = validate_id_number(form["id_number"].value())
    return render(request, "beneficiaries/create_form.html", {"form": form, "parsed": parsed, "title": "登记优抚对象"})


@login_required
def beneficiary_edit(request, pk):
    person = get_object_or_404(Beneficiary.objects.editable_by(request.user).select_related("township"), pk=pk)
    townships, villages = _editable_units(request.user)
    can_fix = in_scope(request.user, person.township, roles=[Role.OFFICE])
    initial = {name: getattr(person, name) for name in services.EDITABLE_FIELDS}
    initial.update(id_number="", bank_account="", version=person.version)
    form = BeneficiaryEditForm(
        request.POST or None,
        initial=initial,
        townships=townships,
        villages=villages,
        person=person,
        can_fix_id_number=can_fix,
    )
    if form.is_valid():
        try:
            services.beneficiary_update(
                beneficiary=person,
                version=form.cleaned_data["version"],
                updated_by=request.user,
                **form.changed_fields(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "已保存基本信息。")
            return redirect(person)
    return render(
        request, "beneficiaries/person_form.html", {"form": form, "person": person, "title": f"修改基本信息：{person}"}
    )


# Entitlements and awards


@login_required
def entitlement_add(request, pk):
    person = get_object_or_404(Beneficiary.objects.editable_by(request.user), pk=pk)
    data, files = _posted(request)
    form = EntitlementForm(data, files, initial={"start_on": timezone.localdate()})
    if form.is_valid():
        try:
            services.entitlement_add(
                beneficiary=person,
                **form.entitlement_data(),
                document=form.cleaned_data["document"],
                recorded_by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "已增加优抚待遇。")
            return redirect(person)
    return render(
        request,
        "beneficiaries/person_form.html",
        {"form": form, "person": person, "title": f"增加优抚待遇：{person}", "multipart": True},
    )


@login_required
def award_add(request, pk):
    entitlement = get_object_or_404(Entitlement.objects.editable_by(request.user).select_related("beneficiary"), pk=pk)
    person = entitlement.beneficiary
    allowed = entitlement.category in SERVING_MEMBER_CATEGORIES
    form = AwardForm(request.POST or None) if allowed else None
    if form is not None and form.is_valid():
        try:
            services.award_add(entitlement=entitlement, **form.cleaned_data, recorded_by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已登记{entitlement.serving_member_name}的立功受奖。")
            return redirect(person)
    return render(
        request,
        "beneficiaries/award_form.html",
        {"form": form, "person": person, "entitlement": entitlement, "title": f"登记立功受奖：{person}"},
    )


# 异动

# Kinds offered in each status; 新增 comes with registration and 迁入 from another county through `transfers`.
KINDS_BY_STATUS = {
    Status.ACTIVE: [
        ChangeKind.CONFIRM,
        ChangeKind.HOLD,
        ChangeKind.SUSPEND,
        ChangeKind.REGRADE,
        ChangeKind.TRANSFER_OUT,
        ChangeKind.CANCEL,
        ChangeKind.DEATH,
    ],
    Status.HELD: [
        ChangeKind.RESUME,
        ChangeKind.CONFIRM,
        ChangeKind.SUSPEND,
        ChangeKind.REGRADE,
        ChangeKind.TRANSFER_OUT,
        ChangeKind.CANCEL,
        ChangeKind.DEATH,
    ],
    Status.SUSPENDED: [
        ChangeKind.RESUME,
        ChangeKind.CONFIRM,
        ChangeKind.REGRADE,
        ChangeKind.TRANSFER_OUT,
        ChangeKind.CANCEL,
        ChangeKind.DEATH,
    ],
    Status.TRANSFERRED: [ChangeKind.TRANSFER_IN],
    Status.CANCELLED: [ChangeKind.DEATH],
    Status.DECEASED: [],
}


def _correctable(person):
    changes = selectors.beneficiary_changes(person=person)
    ids = [c.pk for c in changes if c.kind not in (ChangeKind.ADD, ChangeKind.CORRECTION) and not c.is_corrected]
    return StatusChange.objects.filter(pk__in=ids).order_by("-effective_on", "-recorded_at", "-pk")


@login_required
def change_add(request, pk):
    person = get_object_or_404(Beneficiary.objects.editable_by(request.user).select_related("township"), pk=pk)
    kind = request.POST.get("kind") if request.method == "POST" else request.GET.get("kind", "")
    pending = Transfer.objects.filter(beneficiary=person, status=TransferStatus.PENDING).first()
    offered = [] if pending else KINDS_BY_STATUS.get(person.status, [])
    correctable = _correctable(person)
    if kind not in ChangeKind.values or kind == ChangeKind.ADD:
        choices = [(k, ChangeKind(k).label) for k in offered]
        if correctable.exists():
            choices.append((ChangeKind.CORRECTION, ChangeKind.CORRECTION.label))
        return render(
            request,
            "beneficiaries/change_kind.html",
            {"person": person, "choices": choices, "pending": pending, "bad_kind": bool(kind)},
        )
    today = timezone.localdate()
    data, files = _posted(request)
    form = ChangeForm(
        data,
        files,
        kind=kind,
        initial={"kind": kind, "effective_on": today, "year": today.year},
        entitlements=person.entitlements.current(today).filter(category=Category.DISABLED),
        corrects=correctable,
        counties=selectors.transfer_destinations(person=person),
    )
    if form.is_valid():
        try:
            change = services.change_record(
                beneficiary=person, kind=kind, recorded_by=request.user, **form.service_data()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已登记异动：{change.get_kind_display()}（{change.effective_on:%Y-%m-%d}）。")
            return redirect(person)
    return render(
        request,
        "beneficiaries/change_form.html",
        {"form": form, "person": person, "kind_label": ChangeKind(kind).label, "kind": kind},
    )


@login_required
@require_safe
def change_document(request, pk):
    """Send a 异动's document to someone who may see the person; files never have a public URL."""
    change = get_object_or_404(StatusChange.objects.visible_to(request.user), pk=pk)
    if not change.document:
        raise Http404
    content_type = mimetypes.guess_type(change.document.name)[0] or "application/octet-stream"
    return private_file_response(
        change.document.name,
        filename=change.document_name or "证明材料",
        content_type=content_type,
        storage=change.document.storage,
    )


# Transfers between counties


def _sees_registry(user):
    return Unit.objects.filter(scope_q(user, "path"), kind=UnitKind.TOWNSHIP).exists() or (
        selectors.office_counties(user).exists()
    )


@login_required
def transfers(request):
    if not _sees_registry(request.user):
        raise Http404
    if request.method == "POST":
        transfer = get_object_or_404(
            Transfer.objects.filter(scope_q(request.user, "from_township__path", roles=EDITORS)),
            pk=whole_number(request.POST.get("withdraw")),
        )
        try:
            services.transfer_withdraw(transfer=transfer, withdrawn_by=request.user)
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
        else:
            messages.success(request, f"已撤回{transfer.beneficiary}的跨县迁移，该对象恢复迁出前的状态。")
        return redirect("beneficiaries:transfers")
    incoming = list(selectors.transfers_incoming(user=request.user))
    outgoing = selectors.transfers_outgoing(user=request.user)
    withdrawable = set(
        Transfer.objects.filter(
            scope_q(request.user, "from_township__path", roles=EDITORS), status=TransferStatus.PENDING
        ).values_list("pk", flat=True)
    )
    return render(
        request,
        "beneficiaries/transfers.html",
        {"incoming": incoming, "page": paginate(request, outgoing), "withdrawable": withdrawable},
    )


@login_required
def transfer_accept(request, pk):
    transfer = get_object_or_404(
        Transfer.objects.filter(
            status=TransferStatus.PENDING, to_county__in=selectors.office_counties(request.user).values("pk")
        ).select_related("beneficiary", "to_county", "from_township__parent", "out_change"),
        pk=pk,
    )
    form = TransferAcceptForm(
        request.POST or None, county=transfer.to_county, initial={"effective_on": timezone.localdate()}
    )
    if form.is_valid():
        try:
            services.transfer_accept(transfer=transfer, accepted_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已接收{transfer.beneficiary.name}，其档案和异动记录已转入本县（区）。")
            return redirect(transfer.beneficiary)
    return render(
        request,
        "beneficiaries/transfer_accept.html",
        {
            "form": form,
            "transfer": transfer,
            "person": transfer.beneficiary,
            "entitlements": transfer.beneficiary.entitlements.current(transfer.out_change.effective_on),
            "months": selectors.transfer_pay_months(transfer),
        },
    )


# Annual confirmation


def _year(request, default):
    year = whole_number(request.POST.get("year") or request.GET.get("year"))
    return year if year is not None and 2000 <= year <= 2100 else default


@login_required
def confirmation(request):
    counties = selectors.office_counties(request.user)
    if not counties.exists():
        raise Http404
    chosen = whole_number(request.POST.get("county") or request.GET.get("county"))
    county = counties.filter(pk=chosen).first() if chosen is not None else None
    county = county or counties.first()
    year = _year(request, timezone.localdate().year)
    round_ = ConfirmationRound.objects.filter(county=county, year=year).first()
    round_form = ConfirmationRoundForm(
        request.POST if request.POST.get("action") == "deadline" else None,
        initial={"year": year, "deadline": round_.deadline if round_ else None},
    )
    here = f"{reverse('beneficiaries:confirmation')}?county={county.pk}&year={year}"
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "deadline" and round_form.is_valid():
            try:
                services.confirmation_round_set(county=county, **round_form.cleaned_data)
            except ValidationError as error:
                add_service_errors(round_form, error)
            else:
                messages.success(request, f"已设定{year}年度确认截止日期。")
                return redirect(here)
        elif action == "confirm":
            ids = [pk for pk in map(whole_number, request.POST.getlist("people")) if pk is not None]
            people = Beneficiary.objects.editable_by(request.user).filter(
                pk__in=ids, township__path__startswith=county.path
            )
            if not ids:
                messages.error(request, "请勾选要确认的对象。")
            else:
                confirmed, skipped = services.confirmation_bulk(people=people, year=year, recorded_by=request.user)
                messages.success(request, f"已为 {len(confirmed)} 人登记{year}年度确认。")
                for person, reason in skipped:
                    messages.warning(request, f"{person.name}：{reason}")
            return redirect(here)
        elif action == "apply":
            if round_ is None:
                messages.error(request, f"请先设定{year}年度确认截止日期。")
            else:
                try:
                    held = services.confirmation_apply(round=round_, applied_by=request.user)
                except ValidationError as error:
                    messages.error(request, "；".join(error.messages))
                else:
                    messages.success(request, f"已将 {len(held)} 名未按期完成{year}年度确认的对象停发。")
            return redirect(here)
    overview = selectors.confirmation_overview(county=county, year=year)
    return render(
        request,
        "beneficiaries/confirmation.html",
        {
            "county": county,
            "counties": counties,
            "year": year,
            "round": round_,
            "round_form": round_form,
            "overview": overview,
            "page": paginate(request, overview["unconfirmed"], per_page=100),
            "held": selectors.confirmation_held(county=county, year=year),
            "deadline_passed": bool(round_ and timezone.localdate() > round_.deadline),
        },
    )


# 公示


@login_required
@require_safe
def notice_pdf(request, village_pk):
    village = get_object_or_404(
        Unit.objects.visible_to(request.user).filter(kind=UnitKind.VILLAGE).select_related("parent"), pk=village_pk
    )
    today = timezone.localdate()
    year = _year(request, today.year)
    title = f"{village.name}优抚对象公示名单（{year}年）"
    rows = selectors.notice_rows(village=village, on=today)
    pdf = render_pdf(
        "beneficiaries/notice_pdf.html", {"title": title, "village": village, "rows": rows, "today": today}
    )
    return pdf_response(pdf, title)
