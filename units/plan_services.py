"""年度双拥工作计划: writing a unit's plan and its measurable targets."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from activities.constants import metric_choices

from .constants import Role
from .models import PlanTarget, UnitPlan
from .permissions import in_scope

PLAN_EDITORS = [Role.OFFICE, Role.LIAISON]
# Plans of past years may be entered for the record; a plan more than a year ahead is a typing error.
PLAN_YEARS_BACK = 10
PLAN_YEARS_AHEAD = 1


def plan_years(today=None):
    """Return (first, last): the years for which a plan may be written."""
    year = (today or timezone.localdate()).year
    return year - PLAN_YEARS_BACK, year + PLAN_YEARS_AHEAD


def _check_targets(targets):
    """Return [(metric, target)] for the filled rows; raise every row's problem at once.

    targets: dicts {metric, target} in the order the user sees them; a row with neither is skipped,
    so that the row numbers in the messages are the form's row numbers.
    """
    labels = dict(metric_choices())
    seen, rows, errors = {}, [], []
    for number, row in enumerate(targets, start=1):
        metric, target = (row.get("metric") or "").strip(), row.get("target")
        if not metric and target in (None, ""):
            continue
        if not metric:
            errors.append(f"第{number}行：请选择指标。")
            continue
        if metric not in labels:
            errors.append(f"第{number}行：指标“{metric}”不存在，请从列表中选择。")
            continue
        label = labels[metric]
        if metric in seen:
            errors.append(f"第{number}行：指标“{label}”与第{seen[metric]}行重复，同一指标只能填写一次。")
            continue
        seen[metric] = number
        if target in (None, ""):
            errors.append(f"第{number}行：请填写“{label}”的目标数。")
            continue
        try:
            value = target if isinstance(target, int) else int(str(target).strip())
        except ValueError:
            errors.append(f"第{number}行：“{label}”的目标数应为整数。")
            continue
        if value <= 0:
            errors.append(f"第{number}行：“{label}”的目标数应大于 0。")
            continue
        rows.append((metric, value))
    if errors:
        raise ValidationError({"targets": errors})
    return rows


@transaction.atomic
def plan_save(*, unit, year, text, targets, saved_by):
    """Write the unit's plan for the year (creating it the first time): its text and its whole list of targets."""
    if not in_scope(saved_by, unit, roles=PLAN_EDITORS):
        raise ValidationError({"unit": f"您无权为“{unit.name}”制定计划。"})
    first, last = plan_years()
    if not first <= year <= last:
        raise ValidationError({"year": f"年度应在 {first}—{last} 年之间，{year} 年不能制定计划。"})
    rows = _check_targets(targets)
    if not rows:
        raise ValidationError({"targets": ["请至少填写一项可量化的目标（如 板报 6 期、信息报送 24 篇）。"]})
    plan = UnitPlan.objects.select_for_update().filter(unit=unit, year=year).first()
    if plan is None:
        plan = UnitPlan(unit=unit, year=year, created_by=saved_by)
    plan.text = (text or "").strip()
    plan.full_clean()
    plan._history_user = saved_by
    plan.save()
    plan.targets.all().delete()
    for metric, value in rows:
        target = PlanTarget(plan=plan, metric=metric, target=value)
        target.full_clean()
        target.save()
    return plan
