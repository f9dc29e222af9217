"""Deadlines and completeness: who must report, by when, who has, and the liaison's due items (reads only)."""

import datetime
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone

from units.constants import Role, UnitKind
from units.models import Unit
from units.permissions import scope_q

from .constants import DEFAULT_DUE_DAYS, ReportStatus
from .figures import Period
from .models import QuarterDeadline, QuarterlyReport, ReportingUnit

COUNTY_LEVEL = "县直单位"
# A liaison's home page lists the quarters of this year and the last one; older gaps are the office's to chase.
DUE_ITEMS_YEARS = 2
IN_CHUNKS = 500

STATUS_LABELS = {
    "missing": "未报送",
    "draft": "草稿未报送",
    "submitted": "待审核",
    "returned": "已退回",
    "accepted": "已通过",
}
TIMING_LABELS = {"on_time": "按时", "late": "迟报"}


def quarter_period(year, quarter):
    return Period.quarter(year, quarter)


def default_due_date(year, quarter):
    return quarter_period(year, quarter).end + datetime.timedelta(days=DEFAULT_DUE_DAYS)


def latest_ended_quarter(today):
    """The (year, quarter) of the last quarter that ended before `today`."""
    quarter = (today.month - 1) // 3 + 1
    return (today.year - 1, 4) if quarter == 1 else (today.year, quarter - 1)


def has_ended(year, quarter, today):
    return quarter_period(year, quarter).end < today


def _path_ids(unit_or_path):
    path = unit_or_path if isinstance(unit_or_path, str) else unit_or_path.path
    return [int(part) for part in path.strip("/").split("/") if part]


def nearest_on_path(path, by_unit_id):
    """The value of the nearest ancestor-or-self on `path` that has one in `by_unit_id`, else None."""
    for unit_id in reversed(_path_ids(path)):
        if unit_id in by_unit_id:
            return by_unit_id[unit_id]
    return None


def _chunks(ids):
    ids = sorted(ids)
    for start in range(0, len(ids), IN_CHUNKS):
        yield ids[start : start + IN_CHUNKS]


def deadlines_of(year, quarter):
    """{unit id: QuarterDeadline} of a quarter (the offices' settings: a short table)."""
    return {d.unit_id: d for d in QuarterDeadline.objects.filter(year=year, quarter=quarter).select_related("unit")}


def deadline_for(unit, year, quarter, deadlines=None):
    """The QuarterDeadline that applies to the unit (its nearest ancestor-or-self that has one), or None."""
    deadlines = deadlines_of(year, quarter) if deadlines is None else deadlines
    return nearest_on_path(unit.path, deadlines)


def due_date(unit, year, quarter, deadlines=None):
    """The unit's due date for a quarter: the nearest ancestor-or-self deadline, else quarter end + 10 days."""
    deadline = deadline_for(unit, year, quarter, deadlines)
    return deadline.due_on if deadline else default_due_date(year, quarter)


def is_on_time(submitted_at, due_on):
    """Whether a submission counts as on time: on or before the due date in the local time zone."""
    return timezone.localtime(submitted_at).date() <= due_on


def _townships(units):
    """{unit id: its township ancestor-or-self (a Unit), or None for county-level units}."""
    ids = {unit_id for unit in units for unit_id in _path_ids(unit)}
    townships = {}
    for chunk in _chunks(ids):
        townships.update(Unit.objects.filter(pk__in=chunk, kind=UnitKind.TOWNSHIP).in_bulk())
    return {unit.pk: nearest_on_path(unit.path, townships) for unit in units}


KIND_ORDER = {kind: index for index, kind in enumerate(UnitKind.values)}


def unit_order(unit, township=None):
    """A sort key that reads like the office's lists: townships in their code order, each with the units below it,
    then the county-level units by kind, in the order they were set up."""
    group = (0, township.region_code or "~", township.pk) if township else (1, "", 0)
    return (*group, unit.depth, KIND_ORDER.get(unit.kind, 99), unit.region_code or "~", unit.pk)


def expected_units(*, user, year, quarter, roles=None):
    """The units in the user's scope that must report for the quarter (on the list during it)."""
    period = quarter_period(year, quarter)
    duties = (
        ReportingUnit.objects.filter(scope_q(user, "unit__path", roles=roles))
        .during(period.start, period.end)
        .select_related("unit", "unit__parent")
        .order_by("unit__path")
    )
    units = {}
    for duty in duties:
        units.setdefault(duty.unit_id, duty.unit)
    return list(units.values())


@dataclass
class UnitRow:
    """One unit that must report, and where its report of the quarter stands."""

    unit: Unit
    township: Unit | None
    due_on: datetime.date
    report: QuarterlyReport | None
    status: str  # missing, draft, submitted, returned, accepted
    timing: str  # on_time, late, or "" when never submitted
    days_late: int  # how late the first submission was, or how long overdue it still is

    @property
    def group(self):
        return self.township.name if self.township else COUNTY_LEVEL

    @property
    def kind_label(self):
        return self.unit.get_kind_display()

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]

    @property
    def timing_label(self):
        if self.timing == "late":
            return f"迟报 {self.days_late} 天"
        if self.timing == "on_time":
            return TIMING_LABELS["on_time"]
        return f"已逾期 {self.days_late} 天" if self.days_late else ""

    @property
    def submitted(self):
        return bool(self.timing)


def _percent(part, whole):
    return min(100, part * 100 // whole) if whole else 0


@dataclass
class Tally:
    """Counts of a set of units that must report; rates are whole per cent of those units (never above 100)."""

    label: str = ""
    key: str = ""
    expected: int = 0
    submitted: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    returned: int = 0
    accepted: int = 0
    rows: list = field(default_factory=list, repr=False)

    def add(self, row):
        self.rows.append(row)
        self.expected += 1
        if row.submitted:
            self.submitted += 1
            if row.timing == "on_time":
                self.on_time += 1
            else:
                self.late += 1
        else:
            self.missing += 1
        if row.status == "returned":
            self.returned += 1
        elif row.status == "accepted":
            self.accepted += 1

    @property
    def submitted_rate(self):
        return _percent(self.submitted, self.expected)

    @property
    def on_time_rate(self):
        return _percent(self.on_time, self.expected)

    @property
    def late_rate(self):
        """The late share of the submitted rate, so that on time and late together make the submitted rate."""
        return self.submitted_rate - self.on_time_rate

    @property
    def accepted_rate(self):
        return _percent(self.accepted, self.expected)


def _row(unit, township, due_on, report, today):
    if report is None or report.first_submitted_at is None:
        status = "missing" if report is None else "draft"
        days = (today - due_on).days
        return UnitRow(unit, township, due_on, report, status, "", max(days, 0))
    submitted_on = timezone.localtime(report.first_submitted_at).date()
    late = (submitted_on - due_on).days
    status = report.status if report.status != ReportStatus.DRAFT else "submitted"
    return UnitRow(unit, township, due_on, report, status, "late" if late > 0 else "on_time", max(late, 0))


def completeness(*, user, year, quarter, today, roles=None):
    """Where the quarter's reports stand in the user's scope.

    {"period", "rows": [UnitRow] (unit_order), "totals": Tally, "by_kind": [Tally], "by_township": [Tally]
    (townships in code order, then 县直单位), "unlisted": reports of the quarter from units that are not on the
    list (shown apart, never counted)}. Only the units that must report are counted, each once.
    """
    period = quarter_period(year, quarter)
    units = expected_units(user=user, year=year, quarter=quarter, roles=roles)
    reports = {
        report.unit_id: report
        for report in QuarterlyReport.objects.filter(scope_q(user, "unit__path", roles=roles))
        .filter(year=year, quarter=quarter)
        .select_related("unit", "unit__parent")
    }
    deadlines = deadlines_of(year, quarter)
    townships = _townships(units)
    units.sort(key=lambda unit: unit_order(unit, townships[unit.pk]))
    rows = [
        _row(unit, townships[unit.pk], due_date(unit, year, quarter, deadlines), reports.pop(unit.pk, None), today)
        for unit in units
    ]
    totals = Tally(label="合计")
    by_kind = {kind: Tally(label=label, key=kind) for kind, label in UnitKind.choices}
    by_township = {}
    for row in rows:
        totals.add(row)
        by_kind[row.unit.kind].add(row)
        key = row.township.pk if row.township else ""
        by_township.setdefault(key, Tally(label=row.group, key=key)).add(row)
    return {
        "period": period,
        "year": year,
        "quarter": quarter,
        "rows": rows,
        "totals": totals,
        "by_kind": [tally for tally in by_kind.values() if tally.expected],
        # Rows are in township order already, with 县直单位 last.
        "by_township": list(by_township.values()),
        "unlisted": sorted(reports.values(), key=lambda report: unit_order(report.unit)),
    }


@dataclass
class DueItem:
    """A quarter a liaison's unit still has to file (or fix after a return)."""

    unit: Unit
    year: int
    quarter: int
    due_on: datetime.date
    report: QuarterlyReport | None
    today: datetime.date

    @property
    def label(self):
        return f"{quarter_period(self.year, self.quarter).label}报告"

    @property
    def days_overdue(self):
        return max((self.today - self.due_on).days, 0)

    @property
    def days_left(self):
        return max((self.due_on - self.today).days, 0)

    @property
    def returned(self):
        return self.report is not None and self.report.status == ReportStatus.RETURNED

    @property
    def action(self):
        if self.report is None:
            return "起草"
        return "修改后重新报送" if self.returned else "继续起草"

    @property
    def url(self):
        if self.report is not None:
            return self.report.get_absolute_url()
        query = f"unit={self.unit.pk}&period={self.year}-{self.quarter}"
        return f"{reverse('reports:report_create')}?{query}"


def due_items(*, user, today):
    """The quarters the liaison's units must still file: ended, not yet submitted or returned to them; oldest first."""
    last_year, last_quarter = latest_ended_quarter(today)
    first = datetime.date(today.year - DUE_ITEMS_YEARS + 1, 1, 1)
    if (last_year, last_quarter) < (first.year, 1):
        return []
    duties = list(
        ReportingUnit.objects.filter(scope_q(user, "unit__path", roles=[Role.LIAISON]))
        .during(first, quarter_period(last_year, last_quarter).end)
        .select_related("unit")
        .order_by("unit__path", "start_on")
    )
    if not duties:
        return []
    quarters = [
        (year, quarter)
        for year in range(first.year, last_year + 1)
        for quarter in range(1, 5)
        if (year, quarter) <= (last_year, last_quarter)
    ]
    unit_ids = {duty.unit_id for duty in duties}
    reports = {
        (report.unit_id, report.year, report.quarter): report
        for report in QuarterlyReport.objects.filter(unit_id__in=unit_ids, year__gte=first.year)
    }
    deadlines = {}
    for deadline in QuarterDeadline.objects.filter(year__gte=first.year):
        deadlines.setdefault((deadline.year, deadline.quarter), {})[deadline.unit_id] = deadline
    items = []
    seen = set()
    for duty in duties:
        for year, quarter in quarters:
            period = quarter_period(year, quarter)
            on_duty = duty.start_on <= period.end and (duty.end_on is None or duty.end_on >= period.start)
            if not on_duty or (duty.unit_id, year, quarter) in seen:
                continue
            seen.add((duty.unit_id, year, quarter))
            report = reports.get((duty.unit_id, year, quarter))
            if report is not None and report.status not in (ReportStatus.DRAFT, ReportStatus.RETURNED):
                continue
            due_on = due_date(duty.unit, year, quarter, deadlines.get((year, quarter), {}))
            items.append(DueItem(duty.unit, year, quarter, due_on, report, today))
    items.sort(key=lambda item: (item.year, item.quarter, item.unit.path))
    return items
