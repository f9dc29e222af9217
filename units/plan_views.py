"""年度双拥工作计划: the office's overview, a unit's plan against what was done, and writing the plan."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from activities.selectors import FIRST_YEAR, plans_overview, unit_plan
from shuangyong.lib.pagination import paginate

from .models import Unit, UnitPlan
from .permissions import in_scope, scope_q
from .plan_forms import PlanForm, PlanYearForm, TargetFormSet, show_plan_errors, target_rows
from .plan_services import PLAN_EDITORS, plan_save, plan_years


def _plan_editor_units(user):
    return Unit.objects.filter(scope_q(user, "path", roles=PLAN_EDITORS))


@login_required
def plan_overview(request):
    today = timezone.localdate()
    form = PlanYearForm(request.GET or None, today=today)
    year = (form.cleaned_data.get("year") if form.is_valid() else None) or today.year
    overview = plans_overview(user=request.user, year=year, today=today)
    return render(
        request,
        "units/plan_list.html",
        {
            "form": form,
            "year": year,
            "overview": overview,
            "page": paginate(request, overview["plans"]),
            "can_edit": _plan_editor_units(request.user).exists(),
        },
    )


@login_required
def plan_detail(request, pk, year):
    unit = get_object_or_404(Unit.objects.visible_to(request.user), pk=pk)
    today = timezone.localdate()
    if not FIRST_YEAR <= year <= today.year + 1:
        raise Http404
    first, last = plan_years(today)
    return render(
        request,
        "units/plan_detail.html",
        {
            "unit": unit,
            "year": year,
            "today_year": today.year,
            "progress": unit_plan(unit=unit, year=year, today=today),
            "years": UnitPlan.objects.filter(unit=unit).order_by("-year").values_list("year", flat=True),
            "can_edit": first <= year <= last and in_scope(request.user, unit, roles=PLAN_EDITORS),
        },
    )


def _initial(unit, year):
    """The plan's text and targets; a new plan starts from the previous year's targets."""
    plan = UnitPlan.objects.filter(unit=unit, year=year).first()
    if plan is not None:
        return plan, {"text": plan.text}, [{"metric": t.metric, "target": t.target} for t in plan.targets.all()], None
    previous = UnitPlan.objects.filter(unit=unit, year__lt=year).order_by("-year").first()
    if previous is None:
        return None, {}, [], None
    targets = [{"metric": t.metric, "target": t.target} for t in previous.targets.all()]
    return None, {}, targets, previous.year


@login_required
def plan_edit(request, pk, year):
    unit = get_object_or_404(_plan_editor_units(request.user), pk=pk)
    today = timezone.localdate()
    if not FIRST_YEAR <= year <= today.year + 1:
        raise Http404
    plan, initial, targets, copied_from = _initial(unit, year)
    form = PlanForm(request.POST or None, initial=initial)
    formset = TargetFormSet(request.POST or None, initial=targets, prefix="targets")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            plan = plan_save(
                unit=unit,
                year=year,
                text=form.cleaned_data["text"],
                targets=target_rows(formset),
                saved_by=request.user,
            )
        except ValidationError as error:
            show_plan_errors(form, formset, error)
        else:
            messages.success(request, f"已保存{unit.name}{year}年双拥工作计划。")
            return redirect(plan)
    first, last = plan_years(today)
    return render(
        request,
        "units/plan_form.html",
        {
            "unit": unit,
            "year": year,
            "plan": plan,
            "form": form,
            "formset": formset,
            "copied_from": copied_from if request.method == "GET" else None,
            "year_error": "" if first <= year <= last else f"只能制定 {first}—{last} 年的计划。",
            "title": f"{'修改' if plan else '制定'}{unit.name}{year}年双拥工作计划",
        },
    )
