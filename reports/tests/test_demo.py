"""The demo's quarterly reports: every state in the latest quarter, dated like real work, nothing in the future."""

import datetime
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model

from reports.completeness import completeness, due_items
from reports.constants import ReportAction, ReportStatus
from reports.models import QuarterDeadline, QuarterlyReport, ReportEvent, ReportingUnit
from units import demo

LOCAL = ZoneInfo("Asia/Shanghai")
TODAY = datetime.datetime(2026, 12, 2, 10, 0, tzinfo=LOCAL)


@pytest.fixture(autouse=True)
def _units_only(monkeypatch):
    """The demo's units, groups, pairings and logins without the registry, payments and activities (slow here)."""
    for name in ("build_registry", "build_payments", "build_activities"):
        monkeypatch.setattr(demo, name, lambda units, today: 0)


def _seed(when=TODAY):
    with time_machine.travel(when, tick=False):
        demo.build_demo()


def _counts():
    return (
        QuarterlyReport.objects.count(),
        ReportEvent.objects.count(),
        ReportingUnit.objects.count(),
        QuarterDeadline.objects.count(),
        QuarterlyReport.history.count(),
    )


def _user(name):
    return get_user_model().objects.get(username=name)


@pytest.fixture
def seeded(db):
    """The demo seeded twice: the second run must change nothing."""
    _seed()
    first = _counts()
    _seed()
    return first, _counts()


def test_the_demo_reports(seeded):
    """Seeding takes a while, so one test checks all that the demo promises."""
    first, second = seeded
    assert first == second
    _the_latest_quarter_has_reports_in_every_state()
    _earlier_quarters_are_settled_with_a_few_late_returned_and_missing()
    _the_county_deadline_applies_to_its_quarter()
    _the_demo_is_dated_like_real_work_and_never_after_today()
    _the_liaisons_see_their_due_items()


def _the_latest_quarter_has_reports_in_every_state():
    data = completeness(user=_user("zhuren"), year=2026, quarter=3, today=TODAY.date())
    states = Counter((row.status, row.timing) for row in data["rows"])
    assert states[("accepted", "on_time")] == 4
    assert states[("submitted", "on_time")] == 4
    assert states[("submitted", "late")] == 2
    assert states[("returned", "on_time")] == 1
    assert states[("draft", "")] == 2
    assert states[("missing", "")] == 3
    totals = data["totals"]
    assert (totals.expected, totals.submitted, totals.on_time, totals.late, totals.missing) == (16, 11, 9, 2, 5)
    returned = next(row.report for row in data["rows"] if row.status == "returned")
    event = returned.events.get(action=ReportAction.RETURN)
    assert event.comment and event.by.username == "zhuren"
    assert data["unlisted"] == []


def _earlier_quarters_are_settled_with_a_few_late_returned_and_missing():
    office = _user("zhuren")
    for year, quarter in [(2025, 1), (2025, 2), (2025, 3), (2025, 4), (2026, 1), (2026, 2)]:
        totals = completeness(user=office, year=year, quarter=quarter, today=TODAY.date())["totals"]
        assert totals.expected == 16
        assert totals.submitted + totals.missing == 16
        assert totals.missing <= 1
    assert ReportEvent.objects.filter(action=ReportAction.RESUBMIT).exists()
    assert QuarterlyReport.objects.filter(year=2025, status=ReportStatus.ACCEPTED).count() == 62
    reopened = QuarterlyReport.objects.get(unit__name="天目湖乡", year=2026, quarter=2)
    assert reopened.status == ReportStatus.RETURNED
    assert reopened.events.filter(action=ReportAction.REOPEN).exists()


def _the_county_deadline_applies_to_its_quarter():
    (deadline,) = QuarterDeadline.objects.all()
    assert (deadline.unit.name, deadline.year, deadline.quarter) == ("示例县", 2025, 4)
    due = set(QuarterlyReport.objects.filter(year=2025, quarter=4).values_list("due_on", flat=True))
    assert due == {datetime.date(2026, 1, 15)}
    assert set(QuarterlyReport.objects.filter(year=2025, quarter=3).values_list("due_on", flat=True)) == {
        datetime.date(2025, 10, 10)
    }


def _the_demo_is_dated_like_real_work_and_never_after_today():
    now = TODAY
    for report in QuarterlyReport.objects.all():
        events = list(report.events.order_by("at", "pk"))
        assert events[0].action == ReportAction.CREATE
        assert [e.at for e in events] == sorted(e.at for e in events)
        assert all(e.at <= now for e in events)
        assert report.created_at <= now and report.updated_at <= now
        assert report.created_at.date() > datetime.date(report.year, 3 * report.quarter, 28)
        if report.first_submitted_at:
            first = events[[e.action for e in events].index(ReportAction.SUBMIT)]
            assert report.first_submitted_at == first.at
            assert report.created_at < report.first_submitted_at <= report.submitted_at <= now
            assert report.figures  # frozen at submission
        if report.status == ReportStatus.ACCEPTED:
            assert report.submitted_at < report.accepted_at <= now
    assert QuarterlyReport.history.filter(history_date__gt=now).count() == 0


def _the_liaisons_see_their_due_items():
    (item,) = due_items(user=_user("lidong"), today=TODAY.date())
    assert (item.unit.name, item.year, item.quarter, item.report, item.days_overdue) == ("溧东镇", 2026, 3, None, 53)
    (item,) = due_items(user=_user("guihua"), today=TODAY.date())
    assert (item.unit.name, item.report.status) == ("县规划局", ReportStatus.DRAFT)


def test_an_early_run_leaves_out_what_has_not_happened_yet(db):
    early = datetime.datetime(2026, 10, 6, 12, 0, tzinfo=LOCAL)
    _seed(early)
    latest = QuarterlyReport.objects.filter(year=2026, quarter=3)
    assert not latest.filter(first_submitted_at__date__gt=datetime.date(2026, 10, 10)).exists()
    assert not ReportEvent.objects.filter(at__gt=early).exists()
    assert not latest.filter(status=ReportStatus.ACCEPTED, accepted_at__gt=early).exists()
    assert latest.exists()
    assert QuarterlyReport.objects.filter(year=2026, quarter=2, status=ReportStatus.ACCEPTED).count() == 15
