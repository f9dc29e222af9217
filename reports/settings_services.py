"""The office's reporting settings: which units must report, from and until when, and each quarter's due date."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from units import permissions
from units.constants import MILITARY_KINDS, Role, UnitKind
from units.models import Unit

from . import completeness
from .models import QuarterDeadline, QuarterlyReport, ReportingUnit

FIRST_YEAR = 2000


def date_text(day):
    return f"{day.year}年{day.month}月{day.day}日"


def reporting_candidates(*, user):
    """The member units an office may put on the list: active civil units below its own, not villages."""
    own = [path for path, role, _ in permissions.memberships(user) if role == Role.OFFICE]
    return (
        Unit.objects.filter(permissions.scope_q(user, "path", roles=[Role.OFFICE]), is_active=True)
        .exclude(kind__in=[*MILITARY_KINDS, UnitKind.VILLAGE])
        .exclude(path__in=own)
        .select_related("parent")
        .order_by("region_code", "pk")
    )


@transaction.atomic
def reporting_unit_add(*, units, start_on, set_by):
    """Put units on the list of those that must report, from `start_on`; refuse all if one cannot be added."""
    if not units:
        raise ValidationError({"units": "请至少选择一个单位。"})
    if start_on is None:
        raise ValidationError({"start_on": "请填写起始日期。"})
    allowed = set(reporting_candidates(user=set_by).values_list("pk", flat=True))
    errors = []
    for unit in units:
        if unit.pk not in allowed:
            errors.append(f"“{unit.name}”不在您的管辖范围内或不需要报送季度报告。")
    if errors:
        raise ValidationError({"units": errors})
    duties = list(ReportingUnit.objects.select_for_update().filter(unit__in=units))
    open_units = {duty.unit_id for duty in duties if duty.end_on is None}
    last_end = {}
    for duty in duties:
        if duty.end_on is not None:
            last_end[duty.unit_id] = max(duty.end_on, last_end.get(duty.unit_id, duty.end_on))
    for unit in units:
        if unit.pk in open_units:
            errors.append(f"“{unit.name}”已在报送名单中。")
        elif last_end.get(unit.pk) and start_on <= last_end[unit.pk]:
            errors.append(f"“{unit.name}”报送至{date_text(last_end[unit.pk])}，重新列入的起始日期应晚于该日期。")
    if errors:
        raise ValidationError({"units": errors})
    added = []
    for unit in units:
        duty = ReportingUnit(unit=unit, start_on=start_on, set_by=set_by)
        duty.full_clean()
        duty.save()
        added.append(duty)
    return added


@transaction.atomic
def reporting_unit_end(*, duty, end_on, ended_by):
    """End a unit's duty to report: `end_on` is the last day it covers (that quarter is still due)."""
    duty = ReportingUnit.objects.select_for_update().select_related("unit").get(pk=duty.pk)
    if not permissions.in_scope(ended_by, duty.unit, roles=[Role.OFFICE]):
        raise ValidationError(f"“{duty.unit.name}”不在您的管辖范围内。")
    if duty.end_on is not None:
        raise ValidationError(f"“{duty.unit.name}”已于{date_text(duty.end_on)}停止报送。")
    if end_on is None:
        raise ValidationError({"end_on": "请填写停止报送日期。"})
    if end_on < duty.start_on:
        raise ValidationError(
            {"end_on": f"停止报送日期不能早于“{duty.unit.name}”的起始日期{date_text(duty.start_on)}。"}
        )
    duty.end_on = end_on
    duty.set_by = ended_by
    duty.full_clean()
    duty.save()
    return duty


@transaction.atomic
def deadline_set(*, unit, year, quarter, due_on, set_by):
    """Set (or, with due_on None, clear) the quarter's due date for the units below `unit`.

    Reports of the quarter already begun below the unit take the new due date, so that a report and the
    completeness page agree on when it was due.
    """
    if not permissions.in_scope(set_by, unit, roles=[Role.OFFICE]):
        raise ValidationError(f"“{unit.name}”不在您的管辖范围内。")
    if quarter not in (1, 2, 3, 4):
        raise ValidationError({"quarter": "季度应为第一至第四季度。"})
    if not FIRST_YEAR <= year <= timezone.localdate().year + 1:
        raise ValidationError({"year": f"年度应在{FIRST_YEAR}年至明年之间。"})
    period = completeness.quarter_period(year, quarter)
    deadline = QuarterDeadline.objects.select_for_update().filter(unit=unit, year=year, quarter=quarter).first()
    if due_on is None:
        if deadline is not None:
            deadline.delete()
    else:
        if due_on <= period.end:
            raise ValidationError(
                {"due_on": f"报送截止日期应晚于季度结束日期（{period.label}结束于{date_text(period.end)}）。"}
            )
        if due_on > period.end + datetime.timedelta(days=366):
            raise ValidationError({"due_on": f"报送截止日期离{period.label}结束超过一年，请检查年份。"})
        deadline = deadline or QuarterDeadline(unit=unit, year=year, quarter=quarter)
        deadline.due_on = due_on
        deadline.set_by = set_by
        deadline.full_clean()
        deadline.save()
    _refresh_report_due_dates(unit=unit, year=year, quarter=quarter)
    return deadline if due_on is not None else None


def _refresh_report_due_dates(*, unit, year, quarter):
    deadlines = completeness.deadlines_of(year, quarter)
    reports = QuarterlyReport.objects.filter(unit__path__startswith=unit.path, year=year, quarter=quarter)
    by_due = {}
    for report_id, path, due_on in reports.values_list("pk", "unit__path", "due_on"):
        deadline = completeness.nearest_on_path(path, deadlines)
        new = deadline.due_on if deadline else completeness.default_due_date(year, quarter)
        if new != due_on:
            by_due.setdefault(new, []).append(report_id)
    for new, ids in by_due.items():
        QuarterlyReport.objects.filter(pk__in=ids).update(due_on=new)
