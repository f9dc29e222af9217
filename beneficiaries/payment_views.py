from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from shuangyong.lib.excel import workbook_response
from shuangyong.lib.forms import add_service_errors
from shuangyong.lib.http import client_ip
from shuangyong.lib.pagination import paginate
from shuangyong.lib.pdf import pdf_response
from units.models import Job

from . import payment_exporters, payment_services, selectors
from .constants import BatchStatus, PayMethod
from .exporters import display_name, user_unit
from .models import Payment, PaymentBatch
from .payment_forms import (
    BatchCreateForm,
    BatchFilterForm,
    BatchPaidForm,
    LedgerFilterForm,
    PaymentReturnForm,
    SummaryForm,
)
from .privacy import can_reveal

BATCH_RELATED = (
    "unit",
    "cause",
    "created_by__profile",
    "generated_by__profile",
    "approved_by__profile",
    "paid_by__profile",
)
RETURNABLE_METHODS = (PayMethod.CARD, PayMethod.PASSBOOK)


def _editable_batch(user, pk):
    return get_object_or_404(PaymentBatch.objects.editable_by(user).select_related(*BATCH_RELATED), pk=pk)


def approval_block(batch, user):
    """Say why the user cannot approve the batch now, or return "" when they can (the service decides in the end)."""
    if batch.status != BatchStatus.DRAFT:
        return ""
    if not batch.generated_at:
        return "批次尚未生成，生成发放名单后才能审批。"
    if not payment_services.is_director_for(user, batch.unit):
        return "批次须由双拥办主任审批。"
    if user.pk in (batch.created_by_id, batch.generated_by_id):
        return "您是本批次的制表人，须由另一位双拥办主任审批。"
    return ""


# Batches


@login_required
def batch_list(request):
    form = BatchFilterForm(request.GET or None, years=selectors.batch_years(user=request.user))
    page = paginate(request, selectors.batch_filter(user=request.user, **form.filters()))
    page.object_list = selectors.batch_page_totals(page.object_list)
    return render(
        request,
        "payments/batch_list.html",
        {"form": form, "page": page, "can_create": selectors.office_counties(request.user).exists()},
    )


@login_required
def batch_add(request):
    """Create a batch for a kind and a span and start its generation; the same span twice opens the first batch."""
    if not selectors.office_counties(request.user).exists():
        raise Http404
    form = BatchCreateForm(request.POST or None, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            batch = payment_services.batch_create(
                unit=data["unit"],
                kind=data["kind"],
                first_month=data["first_month"],
                last_month=data["last_month"],
                created_by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if batch.generated_at or batch.locked:
                messages.info(request, f"“{batch.title}”已经建立，没有重复建立。")
                return redirect(batch)
            try:
                payment_services.batch_generate_start(batch=batch, user=request.user)
            except ValidationError as error:
                messages.error(request, "；".join(error.messages))
            else:
                messages.success(request, f"已建立“{batch.title}”，正在生成发放名单。")
            return redirect(batch)
    return render(request, "payments/batch_form.html", {"form": form, "title": "新建发放批次"})


@login_required
def batch_detail(request, pk):
    batch = get_object_or_404(PaymentBatch.objects.visible_to(request.user).select_related(*BATCH_RELATED), pk=pk)
    can_act = PaymentBatch.objects.editable_by(request.user).filter(pk=batch.pk).exists()
    job = None
    if can_act:
        job = (
            Job.objects.visible_to(request.user)
            .filter(kind=payment_services.GENERATE_KIND, params__batch=batch.pk)
            .order_by("-created_at", "-pk")
            .first()
        )
    return render(
        request,
        "payments/batch_detail.html",
        {
            "batch": batch,
            "totals": selectors.batch_totals(batch=batch),
            "exceptions": selectors.batch_exceptions(batch=batch),
            "page": paginate(request, selectors.batch_rows(batch=batch)),
            "can_act": can_act,
            "approval_block": approval_block(batch, request.user) if can_act else "",
            "paid_form": BatchPaidForm() if can_act and batch.status == BatchStatus.APPROVED else None,
            "can_return": can_act and batch.status == BatchStatus.PAID and batch.method in RETURNABLE_METHODS,
            "can_reveal": can_reveal(request.user),
            "job": job,
        },
    )


@login_required
@require_POST
def batch_generate(request, pk):
    batch = _editable_batch(request.user, pk)
    try:
        payment_services.batch_generate_start(batch=batch, user=request.user)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, "已开始生成发放名单，完成后本页显示结果。")
    return redirect(batch)


@login_required
@require_POST
def batch_approve(request, pk):
    batch = _editable_batch(request.user, pk)
    try:
        payment_services.batch_approve(batch=batch, approved_by=request.user)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, f"已审批“{batch.title}”。")
    return redirect(batch)


@login_required
def batch_paid(request, pk):
    batch = _editable_batch(request.user, pk)
    form = BatchPaidForm(request.POST or None)
    if form.is_valid():
        try:
            payment_services.batch_mark_paid(batch=batch, paid_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"“{batch.title}”已标记为已发放，批次已锁定。")
            return redirect(batch)
    return render(request, "payments/batch_paid.html", {"batch": batch, "form": form, "title": "标记已发放"})


@login_required
def batch_bank_file(request, pk):
    """The 发放名册 for the bank: masked; full numbers with the reveal permission and ?full=1, logged."""
    batch = get_object_or_404(PaymentBatch.objects.visible_to(request.user).select_related("unit"), pk=pk)
    unmasked = request.GET.get("full") == "1"
    if unmasked:
        if not can_reveal(request.user):
            raise PermissionDenied
        people = Payment.objects.counted().filter(batch=batch).values("beneficiary").distinct().count()
        payment_exporters.bank_file_log(user=request.user, batch=batch, people=people, ip_address=client_ip(request))
    content = payment_exporters.bank_file_workbook(
        batch=batch, unmasked=unmasked, exported_by=display_name(request.user)
    )
    return workbook_response(content, payment_exporters.bank_file_name(batch, unmasked=unmasked))


@login_required
def batch_sign_sheet(request, pk):
    batch = get_object_or_404(PaymentBatch.objects.visible_to(request.user).select_related("unit"), pk=pk)
    return pdf_response(payment_exporters.sign_sheet_pdf(batch=batch), f"{batch.title}签领表")


@login_required
def payment_return(request, pk):
    """Mark a paid bank transfer as returned; the next batch of its kind re-issues it once."""
    payment = get_object_or_404(
        Payment.objects.editable_by(request.user).select_related("beneficiary", "batch", "township"), pk=pk
    )
    back = payment.batch.get_absolute_url() if payment.batch else payment.beneficiary.get_absolute_url()
    form = PaymentReturnForm(request.POST or None)
    if form.is_valid():
        try:
            payment_services.payment_return(
                payment=payment,
                returned_on=form.cleaned_data["returned_on"],
                reason=form.cleaned_data["reason"],
                user=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已登记{payment.beneficiary.name}的退回款，将在下一批同类发放中重发。")
            return redirect(back)
    return render(
        request,
        "payments/batch_return.html",
        {"payment": payment, "form": form, "back": back, "title": "登记退回款"},
    )


# Ledger and yearly summary


@login_required
def ledger(request):
    today = timezone.localdate()
    form = LedgerFilterForm(request.GET or None, user=request.user)
    filters = form.filters(default_year=today.year)
    chosen = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else {}
    default_month = None
    if not chosen.get("month_from") and not chosen.get("month_to"):
        # Without months: the latest month with payments, not the whole year (a province's year is 1.5 M rows).
        default_month = selectors.ledger_default_month(user=request.user, today=today, **filters)
        filters["month_from"] = filters["month_to"] = default_month
    # Distinct people are cheap over one month; over a wider range the totals state rows (笔数) and amounts.
    one_month = filters["month_from"] is not None and filters["month_from"] == filters["month_to"]
    payments = selectors.ledger_filter(user=request.user, **filters)
    query = request.GET.copy()
    query.pop("page", None)
    export = request.GET.get("format") == "xlsx"
    query.pop("format", None)
    if export:
        count = payments.count()
        limit = payment_exporters.LEDGER_EXPORT_MAX_ROWS
        if count > limit:
            messages.error(
                request, f"符合条件的发放记录有 {count} 条，超过单次导出上限 {limit} 条，请缩小月份或乡镇范围后再导出。"
            )
            return redirect(f"{reverse('payments:ledger')}?{query.urlencode()}")
        content = payment_exporters.ledger_workbook(
            payments=payments,
            totals=selectors.payment_totals(payments=payments, people=one_month),
            description=payment_exporters.describe_ledger_filters(form, filters),
            exported_by=display_name(request.user),
        )
        return workbook_response(content, f"发放台账-{today:%Y%m%d}.xlsx")
    totals = selectors.payment_totals(payments=payments, people=one_month)
    return render(
        request,
        "payments/ledger.html",
        {
            "form": form,
            "totals": totals,
            "page": paginate(request, selectors.ledger_rows(payments=payments), count=totals["rows"]),
            "query": query.urlencode(),
            "default_month": default_month,
            "batch_links": PaymentBatch.objects.visible_to(request.user).exists(),
        },
    )


@login_required
def yearly_summary(request):
    today = timezone.localdate()
    form = SummaryForm(request.GET or None, user=request.user)
    cleaned = form.cleaned_data if form.is_bound and form.is_valid() else {}
    year, unit = cleaned.get("year") or today.year, cleaned.get("unit")
    summary = selectors.yearly_summary(user=request.user, year=year, unit=unit)
    place = unit or user_unit(request.user)
    title = f"{place.name if place else ''}{year}年度抚恤补助发放汇总"
    if request.GET.get("format") == "xlsx":
        content = payment_exporters.summary_workbook(summary=summary, title=title)
        return workbook_response(content, f"{title}.xlsx")
    query = request.GET.copy()
    query["format"] = "xlsx"
    return render(
        request,
        "payments/summary.html",
        {"form": form, "summary": summary, "title": title, "xlsx_query": query.urlencode()},
    )
