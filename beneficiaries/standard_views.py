from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from shuangyong.lib.forms import add_service_errors
from shuangyong.lib.money import format_yuan
from units.constants import TOP_KINDS, Role
from units.models import Unit
from units.permissions import in_scope, is_office, roles_of, scope_q

from . import payment_services, standard_services
from .constants import VARIANT_CHOICES, PaymentKind
from .models import Award, Beneficiary, PaymentBatch, Standard
from .standard_forms import BackpayForm, OneOffForm, StandardFilterForm, StandardForm, StandardRaiseForm

READERS = {Role.OFFICE, Role.LEADER}
KIND_ORDER = list(PaymentKind.values)
VARIANT_ORDER = ["", *(value for value, _ in VARIANT_CHOICES)]


def _require_reader(user):
    if not roles_of(user) & READERS:
        raise Http404


def _office_units(user):
    """County-or-above units for which the user's office keeps a standards table."""
    return (
        Unit.objects.filter(scope_q(user, "path", roles=[Role.OFFICE]), kind__in=TOP_KINDS, is_active=True)
        .select_related("parent")
        .order_by("path")
    )


def _with_texts(standard):
    standard.amount_text = format_yuan(standard.amount, unit="")
    standard.national_text = format_yuan(standard.national_part, unit="")
    standard.local_text = format_yuan(standard.local_part, unit="")
    return standard


def _table_order(standard):
    return (
        KIND_ORDER.index(standard.kind),
        standard.category,
        standard.grade or 0,
        standard.nature,
        VARIANT_ORDER.index(standard.variant),
        standard.unit.path,
        standard.effective_from,
    )


def _status(standard, on):
    if standard.effective_from > on:
        return "未生效"
    if standard.effective_to and standard.effective_to < on:
        return "已停止"
    return "执行中"


@login_required
def standard_list(request):
    """The standards in force on a date (today unless asked), grouped by kind; or every row with ?history=1."""
    _require_reader(request.user)
    today = timezone.localdate()
    form = StandardFilterForm(request.GET or None, initial={"on": today})
    on, history = today, False
    if form.is_bound:
        if form.is_valid():
            on = form.cleaned_data["on"] or today
            history = form.cleaned_data["history"]
        else:
            history = request.GET.get("history") == "on"
    if history:
        rows = standard_services.standards_visible(user=request.user)
    else:
        rows = standard_services.standards_in_force(user=request.user, on=on)
    rows = list(rows)
    for standard in rows:
        _with_texts(standard)
        if standard.replaces:
            _with_texts(standard.replaces)
        standard.status_label = _status(standard, on)
        standard.editable = in_scope(request.user, standard.unit, roles=[Role.OFFICE])
    rows.sort(key=_table_order)
    groups = [
        {"label": PaymentKind(kind).label, "kind": kind, "rows": list(items)}
        for kind, items in groupby(rows, key=lambda s: s.kind)
    ]
    can_edit = is_office(request.user) and _office_units(request.user).exists()
    return render(
        request,
        "payments/standard_list.html",
        {
            "form": form,
            "groups": groups,
            "on": on,
            "today": today,
            "history": history,
            "count": len(rows),
            "can_edit": can_edit,
            "can_backpay": is_office(request.user),
        },
    )


@login_required
def standard_add(request):
    units = _office_units(request.user)
    if not units.exists():
        raise Http404
    initial = {"effective_from": timezone.localdate().replace(day=1), "national_part": 0}
    if units.count() == 1:
        initial["unit"] = units.first()
    form = StandardForm(request.POST or None, initial=initial, units=units)
    if form.is_valid():
        try:
            standard = standard_services.standard_create(**form.cleaned_data, created_by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已新增标准：{standard}，{standard.effective_from:%Y-%m-%d} 起执行。")
            return redirect(f"{reverse('payments:standards')}?on={standard.effective_from:%Y-%m-%d}")
    return render(request, "payments/standard_form.html", {"form": form, "title": "新增抚恤补助标准"})


@login_required
def standard_raise(request, pk):
    old = get_object_or_404(Standard.objects.editable_by(request.user).select_related("unit"), pk=pk)
    initial = {"amount": old.amount, "national_part": old.national_part, "local_part": old.local_part}
    form = StandardRaiseForm(request.POST or None, initial=initial)
    if form.is_valid():
        try:
            new = standard_services.standard_raise(standard=old, **form.cleaned_data, created_by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"已调标：{old.get_kind_display()}由 {format_yuan(old.amount)} 调整为 {format_yuan(new.amount)}，"
                f"{new.effective_from:%Y-%m-%d} 起执行。",
            )
            if new.effective_from <= timezone.localdate():
                return redirect("payments:backpay_add", new.pk)
            return redirect("payments:standards")
    return render(request, "payments/standard_raise.html", {"form": form, "old": old, "title": f"调整标准：{old}"})


@login_required
def backpay_add(request, pk):
    """Show what the old rate paid for months a raise now covers, and start the 补发 batch."""
    if not is_office(request.user):
        raise Http404
    standard = get_object_or_404(Standard.objects.visible_to(request.user).select_related("unit", "replaces"), pk=pk)
    units = standard_services.backpay_units(user=request.user, standard=standard)
    if not units:
        raise Http404
    form = BackpayForm(
        request.POST or None,
        initial={"unit": units[0]},
        units=Unit.objects.filter(pk__in=[u.pk for u in units]).select_related("parent").order_by("path"),
    )
    unit = form.cleaned_data["unit"] if form.is_bound and form.is_valid() else units[0]
    preview = standard_services.backpay_preview(standard=standard, unit=unit) if standard.replaces else None
    if request.method == "POST" and form.is_valid() and preview:
        if not preview["rows"]:
            form.add_error(None, "没有按原标准发放过调标后的月份，无需补发。")
        else:
            outcome = _start_backpay(request, standard=standard, unit=unit, form=form)
            if outcome is not None:
                return outcome
    batches = PaymentBatch.objects.visible_to(request.user).filter(cause=standard, is_backpay=True)
    return render(
        request,
        "payments/standard_backpay.html",
        {
            "standard": standard,
            "preview": preview,
            "form": form,
            "unit": unit,
            "several_units": len(units) > 1,
            "batches": batches,
            "difference_text": _difference_text(standard),
            "estimate_text": format_yuan(preview["estimate"]) if preview and preview["estimate"] is not None else "",
        },
    )


def _difference_text(standard):
    if not standard.replaces:
        return ""
    difference = standard.amount - standard.replaces.amount
    sign = "+" if difference >= 0 else "−"
    return f"{sign}{format_yuan(abs(difference))}（{standard.get_basis_display()}）"


def _start_backpay(request, *, standard, unit, form):
    try:
        batch = payment_services.backpay_batch_create(unit=unit, standard=standard, created_by=request.user)
        job = payment_services.batch_generate_start(batch=batch, user=request.user)
    except ValidationError as error:
        add_service_errors(form, error)
        return None
    messages.success(request, f"已创建补发批次“{batch.title}”，正在生成补发明细。")
    return redirect(job.get_absolute_url() if job is not None else batch.get_absolute_url())


@login_required
def one_off_add(request, pk):
    person = get_object_or_404(
        Beneficiary.objects.filter(scope_q(request.user, "township__path", roles=[Role.OFFICE])).select_related(
            "township"
        ),
        pk=pk,
    )
    rows = standard_services.award_choices(beneficiary=person)
    awards = Award.objects.filter(entitlement__beneficiary=person).select_related("entitlement")
    form = OneOffForm(request.POST or None, awards=awards, rows=rows)
    if form.is_valid():
        try:
            payment = standard_services.one_off_pay(beneficiary=person, **form.cleaned_data, created_by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"已登记{payment.get_kind_display()} {format_yuan(payment.amount)}"
                f"（{payment.get_method_display()}，{payment.paid_on:%Y-%m-%d}）。",
            )
            return redirect(person)
    return render(
        request,
        "payments/one_off_form.html",
        {"form": form, "person": person, "rows": rows, "title": f"登记一次性发放：{person}"},
    )
