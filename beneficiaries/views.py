from django.contrib.auth.decorators import login_required
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from activities.selectors import person_visits
from shuangyong.lib.http import client_ip
from shuangyong.lib.idcard import mask_id_number, normalize_id_number
from shuangyong.lib.pagination import paginate
from units.permissions import is_office

from . import selectors
from .constants import SERVING_MEMBER_CATEGORIES
from .forms import AccessLogFilterForm, BeneficiaryFilterForm
from .models import Beneficiary, PaymentBatch
from .privacy import REVEAL_FIELDS, can_reveal, personal_data_reveal


def _address_bar_search(post):
    """Redirect a posted search to the list with its non-empty fields in the query string."""
    params = QueryDict(mutable=True)
    for key, values in post.lists():
        kept = [v for v in values if v.strip()]
        if key not in ("csrfmiddlewaretoken", "page") and kept:
            params.setlist(key, kept)
    return redirect(f"{reverse('beneficiaries:list')}?{params.urlencode()}" if params else "beneficiaries:list")


@login_required
def beneficiary_list(request):
    """The registry list; a search by a full ID number is posted, so the number stays out of URLs and server logs."""
    data = request.POST if request.method == "POST" else request.GET
    full_id = normalize_id_number(data.get("q", "")) if selectors.is_full_id_number(data.get("q", "")) else ""
    if request.method == "POST" and not full_id:
        return _address_bar_search(request.POST)

    today = timezone.localdate()
    form = BeneficiaryFilterForm(data or None, user=request.user)
    people = selectors.beneficiary_filter(user=request.user, on=today, **form.filters())
    export_query = request.GET.copy()
    export_query.pop("page", None)
    export_query.pop("counts", None)
    if full_id:
        # Never echo the full number back into the page.
        form.data = form.data.copy()
        form.data["q"] = ""
        export_query.pop("q", None)
    # Counting every category over a province's whole register is slow; there it waits for a click.
    show_counts = not form.large_scope or form.has_filters() or data.get("counts") == "1"
    counts_query = request.GET.copy()
    counts_query["counts"] = "1"
    return render(
        request,
        "beneficiaries/list.html",
        {
            "form": form,
            "page": paginate(request, selectors.beneficiary_rows(people=people, on=today)),
            "counts": selectors.category_counts(people=people, on=today) if show_counts else None,
            "counts_query": counts_query.urlencode(),
            "can_edit": selectors.registry_editor(request.user),
            "is_office": is_office(request.user),
            "searched_id": mask_id_number(full_id),
            "export_query": export_query.urlencode(),
        },
    )


@login_required
def beneficiary_detail(request, pk):
    person = get_object_or_404(
        Beneficiary.objects.visible_to(request.user).select_related("township", "village"), pk=pk
    )
    can_edit = Beneficiary.objects.editable_by(request.user).filter(pk=person.pk).exists()
    payments = selectors.person_payments(person=person, user=request.user)
    return render(
        request,
        "beneficiaries/detail.html",
        {
            "person": person,
            "entitlements": selectors.beneficiary_entitlements(person=person),
            "changes": selectors.beneficiary_changes(person=person),
            "history": selectors.beneficiary_history(person=person),
            "transfer": selectors.pending_transfer(person=person, user=request.user),
            "can_edit": can_edit,
            "can_reveal": can_reveal(request.user),
            "serving_member_categories": [c.value for c in SERVING_MEMBER_CATEGORIES],
            "today": timezone.localdate(),
            "payments": payments,
            "payment_years": selectors.person_payment_years(payments=payments),
            "batch_links": PaymentBatch.objects.visible_to(request.user).exists(),
            "visits": person_visits(beneficiary=person, user=request.user),
        },
    )


@never_cache
@login_required
@require_POST
def beneficiary_reveal(request, pk, field):
    person = get_object_or_404(Beneficiary.objects.visible_to(request.user), pk=pk)
    if field not in REVEAL_FIELDS:
        raise Http404
    if not can_reveal(request.user):
        return render(request, "403.html", status=403)
    value = personal_data_reveal(user=request.user, beneficiary=person, field=field, ip_address=client_ip(request))
    return render(request, "beneficiaries/_revealed.html", {"value": value, "field": field})


@login_required
def access_log(request):
    if not is_office(request.user):
        raise Http404
    form = AccessLogFilterForm(request.GET or None, accounts=selectors.access_log_users(user=request.user))
    form.is_valid()
    filters = getattr(form, "cleaned_data", {})
    logs = selectors.access_log_list(
        user=request.user,
        account=filters.get("account"),
        kind=filters.get("kind", ""),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    return render(
        request,
        "beneficiaries/access_log.html",
        {"form": form, "page": paginate(request, logs), "holders": selectors.reveal_holders(user=request.user)},
    )
