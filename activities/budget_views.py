"""双拥经费: the year's budget by source against what the activities spent, per unit and occasion."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from shuangyong.lib.forms import add_service_errors
from shuangyong.lib.http import whole_number
from units.constants import Role
from units.permissions import in_scope

from .budget_forms import BudgetLineForm, ScopeForm, budget_units
from .budget_services import budget_line_save
from .models import BudgetLine
from .selectors import budget_overview as budget_figures


def _overview_url(unit, year):
    return f"{reverse('activities:budget')}?{urlencode({'year': year, 'unit': unit.pk})}"


def page_scope(request):
    """Return (form, unit, year, today) of a page's ?year=&unit= (the user's top unit and this year by default);
    a user who reads no unit's 双拥经费 gets a 404."""
    units = budget_units(request.user)
    default_unit = units.order_by("depth", "path").first()
    if default_unit is None:
        raise Http404
    today = timezone.localdate()
    form = ScopeForm(request.GET or None, units=units, today=today)
    unit, year = form.scope(default_unit=default_unit, default_year=today.year)
    return form, unit, year, today


@login_required
def budget_overview(request):
    form, unit, year, _ = page_scope(request)
    return render(
        request,
        "activities/budget.html",
        {
            "form": form,
            "unit": unit,
            "year": year,
            "budget": budget_figures(unit=unit, year=year),
            "can_edit": in_scope(request.user, unit, roles=[Role.OFFICE]),
            "editable_lines": set(
                BudgetLine.objects.editable_by(request.user)
                .filter(unit__path__startswith=unit.path, year=year)
                .values_list("pk", flat=True)
            ),
        },
    )


@login_required
def budget_create(request):
    if not budget_units(request.user, roles=[Role.OFFICE]).exists():
        raise Http404
    initial = {"year": timezone.localdate().year}
    for name in ("unit", "year"):
        if whole_number(request.GET.get(name)) is not None:
            initial[name] = whole_number(request.GET.get(name))
    form = BudgetLineForm(request.POST or None, user=request.user, initial=initial)
    if form.is_valid():
        try:
            line = budget_line_save(saved_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"已登记{line.unit.name}{line.year}年{line.get_source_display()}经费 {line.amount:,.2f} 元。"
            )
            return redirect(_overview_url(line.unit, line.year))
    return render(request, "activities/budget_form.html", {"form": form, "title": "登记双拥经费"})


@login_required
def budget_edit(request, pk):
    line = get_object_or_404(BudgetLine.objects.editable_by(request.user).select_related("unit"), pk=pk)
    initial = {"unit": line.unit, "year": line.year, "source": line.source, "amount": line.amount, "note": line.note}
    form = BudgetLineForm(request.POST or None, user=request.user, line=line, initial=initial)
    if form.is_valid():
        try:
            line = budget_line_save(saved_by=request.user, line=line, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "已保存。")
            return redirect(_overview_url(line.unit, line.year))
    return render(
        request,
        "activities/budget_form.html",
        {
            "form": form,
            "line": line,
            "title": f"修改双拥经费：{line.unit.name}{line.year}年{line.get_source_display()}",
        },
    )
