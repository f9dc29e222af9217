from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache

from shuangyong.lib.excel import workbook_response
from shuangyong.lib.forms import WorkbookImportForm, add_service_errors
from shuangyong.lib.pagination import paginate
from units.constants import Role, UnitKind
from units.models import Unit
from units.permissions import scope_q

from . import payment_importers, recovery_services
from .constants import Category, ChangeKind, RecoveryStatus
from .models import Beneficiary, Recovery, StatusChange
from .recovery_forms import DeathListForm, DeathSettleForm, RecoveryFilterForm, RecoverySettleForm
from .selectors import office_counties


def _require_office(user):
    if not office_counties(user).exists():
        raise Http404


def _townships(user):
    return Unit.objects.filter(scope_q(user, "path"), kind=UnitKind.TOWNSHIP).order_by("path")


# Deaths and stops


@login_required
def death_settle(request, pk):
    """Show what a death (or a 取消资格/中止) leaves to settle; office staff settle it."""
    change = get_object_or_404(
        StatusChange.objects.filter(
            scope_q(request.user, "beneficiary__township__path", roles=[Role.OFFICE]),
            kind__in=recovery_services.STOP_KINDS,
            corrections__isnull=True,
        ).select_related("beneficiary__township", "recorded_by"),
        pk=pk,
    )
    person = change.beneficiary
    plan = recovery_services.settlement_plan(change=change)
    form = None
    if change.kind == ChangeKind.DEATH and not plan.done:
        entitlements = person.entitlements.all()
        form = DeathSettleForm(
            request.POST or None,
            ask_cause=not change.death_cause and any(e.category == Category.DISABLED for e in entitlements),
            needs_method=plan.funeral_amount > 0 or plan.lump_sum_grant is not None,
        )
        if form.is_valid():
            try:
                plan = recovery_services.death_settle(change=change, settled_by=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _settled_message(plan))
                return redirect(person)
    elif request.method == "POST" and not plan.done:
        try:
            plan = recovery_services.overpayment_record(change=change, recorded_by=request.user)
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
        else:
            messages.success(request, f"已登记追回：应追回 {plan.recovery.amount} 元。")
            return redirect("payments:recovery", pk=plan.recovery.pk)
    return render(
        request, "payments/death_settle.html", {"change": change, "person": person, "plan": plan, "form": form}
    )


def _settled_message(plan):
    if not plan.created:
        return "该死亡已结算过，没有重复登记。"
    parts = []
    if plan.funeral is not None and plan.funeral in plan.created:
        parts.append(f"丧葬补助实发 {plan.funeral.amount} 元")
    if plan.lump_sum is not None and plan.lump_sum in plan.created:
        parts.append(f"一次性抚恤金 {plan.lump_sum.amount} 元")
    if plan.recovery is not None and plan.recovery in plan.created:
        parts.append(
            f"多发 {plan.recovery.overpaid} 元，抵扣 {plan.recovery.offset} 元，应追回 {plan.recovery.amount} 元"
        )
    return "已结算：" + "；".join(parts) + "。"


# Recoveries


@login_required
def recovery_list(request):
    """Recoveries in the user's scope, open and settled, with totals; the 待结算 tab lists what is still to do."""
    townships = _townships(request.user)
    if not townships.exists() and not office_counties(request.user).exists():
        raise Http404
    form = RecoveryFilterForm(request.GET or None, townships=townships)
    filters = form.filters()
    recoveries = Recovery.objects.visible_to(request.user)
    people = Beneficiary.objects.visible_to(request.user)
    if filters.get("township"):
        recoveries = recoveries.filter(township=filters["township"])
        people = people.filter(township=filters["township"])
    totals = recovery_services.recovery_totals(recoveries)
    if filters.get("status"):
        recoveries = recoveries.filter(status=filters["status"])
    tab = "pending" if request.GET.get("tab") == "pending" else "ledger"
    page = paginate(
        request,
        recoveries.select_related("beneficiary", "township", "change").order_by("status", "-created_at", "-pk"),
    )
    editable = set(
        Recovery.objects.editable_by(request.user).filter(pk__in=[r.pk for r in page]).values_list("pk", flat=True)
    )
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("tab", None)
    return render(
        request,
        "payments/recovery_list.html",
        {
            "form": form,
            "page": page,
            "totals": totals,
            "editable": editable,
            "tab": tab,
            "pending": recovery_services.pending_settlements(people=people) if tab == "pending" else None,
            "can_settle": office_counties(request.user).exists(),
            "query": query.urlencode(),
        },
    )


@login_required
def recovery_settle(request, pk):
    """Record money recovered or write the rest off; office staff only."""
    recovery = get_object_or_404(
        Recovery.objects.editable_by(request.user).select_related("beneficiary", "township", "change"), pk=pk
    )
    form = RecoverySettleForm(request.POST or None) if recovery.status == RecoveryStatus.OPEN else None
    if form is not None and form.is_valid():
        try:
            recovery = recovery_services.recovery_settle(recovery=recovery, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if recovery.status == RecoveryStatus.SETTLED:
                messages.success(request, f"已结清：{recovery.beneficiary.name}的追回。")
            else:
                messages.success(request, f"已登记，尚待追回 {recovery.outstanding} 元。")
            return redirect("payments:recovery", pk=recovery.pk)
    return render(
        request,
        "payments/recovery_settle.html",
        {
            "recovery": recovery,
            "person": recovery.beneficiary,
            "rows": recovery.payments.select_related("batch").order_by("month", "kind", "pk"),
            "steps": recovery_services.recovery_steps(recovery=recovery),
            "form": form,
        },
    )


# The outside death list


@never_cache
@login_required
def death_check(request):
    """Check an outside death list against the registry: who is still 在册 or was paid after dying. Writes nothing."""
    _require_office(request.user)
    form = DeathListForm(request.POST or None, request.FILES or None)
    check = None
    if form.is_valid():
        try:
            check = payment_importers.death_list_read(form.cleaned_data["file"])
        except ValidationError as error:
            form.add_error("file", error)
        else:
            payment_importers.death_list_match(check=check, user=request.user)
    return render(request, "payments/death_check.html", {"form": form, "check": check})


# Past payments


@login_required
def payment_import(request):
    """Import past years' payments from the template: every row checked, all written or none."""
    _require_office(request.user)
    form = WorkbookImportForm(request.POST or None, request.FILES or None)
    result = None
    if form.is_valid():
        try:
            result = payment_importers.payment_import(
                file=form.cleaned_data["file"], user=request.user, dry_run=form.cleaned_data["check_only"]
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            if result.written:
                messages.success(request, f"已导入 {result.written} 条历史发放记录。")
    return render(
        request,
        "payments/payment_import.html",
        {"form": form, "result": result, "max_rows": payment_importers.PAYMENT_IMPORT_MAX_ROWS},
    )


@login_required
def payment_import_template(request):
    _require_office(request.user)
    return workbook_response(payment_importers.payment_template(), "历史发放记录导入模板.xlsx")
