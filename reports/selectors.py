"""Reads of the quarterly reports: lists, the quarter's activities against the snapshot, locks, titles."""

import datetime

from django.db.models import Q
from django.utils import timezone

from units.constants import Role, UnitKind
from units.models import Unit
from units.permissions import memberships, scope_q

from .completeness import deadlines_of, due_date
from .constants import ReportStatus
from .figures import Period, subtree_activities
from .models import QuarterlyReport

RECENT_QUARTERS = 4
# A county's own departments are often named short: 县规划局, 区民政局.
SHORT_PREFIXES = ("县", "区")


def quarter_of(day):
    return day.year, (day.month - 1) // 3 + 1


def ended_quarters(*, today=None, count=RECENT_QUARTERS):
    """The last `count` quarters that have ended before today, latest first: [(2026, 3), (2026, 2), ...]."""
    year, quarter = quarter_of(today or timezone.localdate())
    quarters = []
    for _ in range(count):
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
        quarters.append((year, quarter))
    return quarters


def report_list(*, user, year=None, quarter=None, status=None, unit=None):
    """The reports a user may see, newest quarter first, narrowed by year, quarter, status and unit (its subtree)."""
    reports = QuarterlyReport.objects.visible_to(user).select_related("unit", "unit__parent")
    if year:
        reports = reports.filter(year=year)
    if quarter:
        reports = reports.filter(quarter=quarter)
    if status:
        reports = reports.filter(status=status)
    if unit is not None:
        reports = reports.filter(unit__path__startswith=unit.path)
    return reports.order_by("-year", "-quarter", "unit__path")


def liaison_units(*, user):
    """The units a user files reports for as their liaison."""
    paths = [path for path, role, _ in memberships(user) if role == Role.LIAISON]
    return list(Unit.objects.filter(path__in=paths, is_active=True).order_by("path"))


def liaison_overview(*, user, today=None):
    """For each unit the user files for: the recent ended quarters, each with its report (or None) and due date."""
    quarters = ended_quarters(today=today)
    units = liaison_units(user=user)
    reports = {
        (r.unit_id, r.year, r.quarter): r
        for r in QuarterlyReport.objects.filter(
            unit__in=units, year__gte=quarters[-1][0], year__lte=quarters[0][0]
        ).only("pk", "unit_id", "year", "quarter", "status", "due_on", "submitted_at")
    }
    deadlines = {(year, quarter): deadlines_of(year, quarter) for year, quarter in quarters}
    rows = []
    for unit in units:
        cells = []
        for year, quarter in quarters:
            report = reports.get((unit.pk, year, quarter))
            cells.append(
                {
                    "year": year,
                    "quarter": quarter,
                    "label": Period.quarter(year, quarter).label,
                    "report": report,
                    "due_on": report.due_on if report else due_date(unit, year, quarter, deadlines[year, quarter]),
                }
            )
        rows.append({"unit": unit, "quarters": cells})
    return rows


def below_reports(*, user, units):
    """Reports of the units below those a liaison files for (a township's villages), newest first."""
    paths = [unit.path for unit in units]
    if not paths:
        return QuarterlyReport.objects.none()
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(unit__path__startswith=path)
    return (
        QuarterlyReport.objects.visible_to(user)
        .filter(q)
        .exclude(unit__in=units)
        .select_related("unit")
        .order_by("-year", "-quarter", "unit__path")
    )


def report_units(*, user):
    """The civil units a user may draft reports for, as a choice list."""
    editors = [Role.OFFICE, Role.LIAISON]
    return Unit.objects.filter(scope_q(user, "path", roles=editors), is_active=True).civil().order_by("path")


def filter_units(*, user):
    """Units that appear in the reports a user sees, to narrow the office's list."""
    ids = QuarterlyReport.objects.visible_to(user).values("unit_id")
    return Unit.objects.filter(pk__in=ids).order_by("path")


def report_activities(*, report):
    """The quarter's activities of the unit's subtree, oldest first; each flagged `not_in_report` when the report
    was submitted without it (it was added or moved into the quarter afterwards).

    Returns (activities, missing): `missing` counts the activities the report covered that are gone from the
    quarter since (deleted, or moved to another quarter or unit).
    """
    period = Period.quarter(report.year, report.quarter)
    activities = list(
        period.activities(subtree_activities(report.unit)).select_related("unit").order_by("start_date", "pk")
    )
    submitted = report.figures is not None
    covered = set(report.activity_ids or [])
    for activity in activities:
        activity.not_in_report = submitted and activity.pk not in covered
    missing = len(covered - {a.pk for a in activities}) if submitted else 0
    return activities, missing


def locking_report(*, unit, day):
    """Return the accepted report of the unit or a unit above it whose quarter holds `day`, or None.

    While it stands, the unit's activities of that quarter are read-only for liaisons.
    """
    if day is None or unit is None:
        return None
    if isinstance(day, datetime.datetime):
        day = day.date()
    year, quarter = quarter_of(day)
    ids = [int(part) for part in unit.path.strip("/").split("/") if part]
    return (
        QuarterlyReport.objects.filter(unit_id__in=ids, year=year, quarter=quarter, status=ReportStatus.ACCEPTED)
        .select_related("unit")
        .order_by("-unit__depth")
        .first()
    )


def report_title(report):
    """The report's title as a document: 示例县溧东镇2026年第三季度双拥工作报告.

    A unit below a county is named with the county and the township it lies in, unless its own name already
    starts with theirs (示例县规划局); a short name such as 县规划局 joins its county as 示例县规划局.
    """
    unit = report.unit
    name = unit.name
    for region in reversed([u for u in unit.ancestors() if u.kind in (UnitKind.COUNTY, UnitKind.TOWNSHIP)]):
        if name.startswith(region.name):
            continue
        if name[:1] in SHORT_PREFIXES and region.name.endswith(name[:1]):
            name = name[1:]
        name = region.name + name
    return f"{name}{Period.quarter(report.year, report.quarter).label}双拥工作报告"


def report_events(*, report):
    return report.events.select_related("by__profile").order_by("at", "pk")
