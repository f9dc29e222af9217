"""双拥经费: the office records a unit's budget for the year, one line per source."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from shuangyong.lib.money import to_yuan
from units.constants import Role
from units.permissions import in_scope

from .models import BudgetLine

BUDGET_YEARS_BACK = 10
BUDGET_YEARS_AHEAD = 1


def budget_years(today=None):
    """Return (first, last): the years whose budget may be recorded."""
    year = (today or timezone.localdate()).year
    return year - BUDGET_YEARS_BACK, year + BUDGET_YEARS_AHEAD


@transaction.atomic
def budget_line_save(*, unit, year, source, amount, note, saved_by, line=None):
    """Record (or, given `line`, correct) the budget of a unit for a year from one source."""
    if not in_scope(saved_by, unit, roles=[Role.OFFICE]) or (
        line is not None and not in_scope(saved_by, line.unit, roles=[Role.OFFICE])
    ):
        raise ValidationError({"unit": f"您无权登记“{unit.name}”的双拥经费。"})
    if unit.is_military:
        raise ValidationError({"unit": "双拥经费登记在地方单位（县、乡镇等）名下，不能登记在部队名下。"})
    first, last = budget_years()
    if year is None or not first <= year <= last:
        raise ValidationError({"year": f"年度应在 {first}—{last} 年之间。"})
    try:
        amount = to_yuan(amount)
    except ValidationError as error:
        raise ValidationError({"amount": error.messages}) from error
    if amount is None:
        raise ValidationError({"amount": "请填写金额。"})
    if amount < 0:
        raise ValidationError({"amount": "金额不能为负数。"})
    taken = BudgetLine.objects.select_for_update().filter(unit=unit, year=year, source=source)
    if line is not None:
        taken = taken.exclude(pk=line.pk)
    if taken.exists():
        label = BudgetLine(source=source).get_source_display()
        raise ValidationError({"source": f"{unit.name}{year}年“{label}”的经费已登记，请修改原记录，不要重复登记。"})
    if line is None:
        line = BudgetLine(created_by=saved_by)
    line.unit, line.year, line.source, line.amount, line.note = unit, year, source, amount, (note or "").strip()
    line.full_clean()
    line._history_user = saved_by
    line.save()
    return line
