"""Deadlines and completeness: due dates, on time against late, what counts, the dashboard and the home page."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from conftest import make_user
from reports.completeness import completeness, due_date, due_items, expected_units
from reports.constants import ReportStatus
from reports.models import QuarterDeadline, QuarterlyReport, ReportingUnit
from units.constants import Role, UnitKind
from units.models import Unit

LOCAL = ZoneInfo("Asia/Shanghai")
TODAY = datetime.datetime(2026, 12, 2, 10, 0, tzinfo=LOCAL)
LIST_START = datetime.date(2025, 1, 1)


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


def on_list(*units, start_on=LIST_START, end_on=None):
    return [ReportingUnit.objects.create(unit=unit, start_on=start_on, end_on=end_on) for unit in units]


def local(*args):
    return datetime.datetime(*args, tzinfo=LOCAL)


def file_report(unit, year=2026, quarter=3, *, status=ReportStatus.SUBMITTED, sent=None, **fields):
    """A report as the workflow leaves it: `sent` is the first submission (None for a draft)."""
    return QuarterlyReport.objects.create(
        unit=unit,
        year=year,
        quarter=quarter,
        status=status,
        due_on=due_date(unit, year, quarter),
        first_submitted_at=sent,
        submitted_at=sent,
        work_text=fields.pop("work_text", f"{unit.name}本季度工作"),
        **fields,
    )


def data_for(user, year=2026, quarter=3):
    return completeness(user=user, year=year, quarter=quarter, today=TODAY.date())


def by_unit(data):
    return {row.unit.name: row for row in data["rows"]}


def test_due_date_is_ten_days_after_the_quarter_by_default(township):
    assert due_date(township, 2026, 3) == datetime.date(2026, 10, 10)
    assert due_date(township, 2026, 4) == datetime.date(2027, 1, 10)
    assert due_date(township, 2026, 1) == datetime.date(2026, 4, 10)


def test_a_county_deadline_overrides_the_default_and_the_nearest_one_wins(city, county, township, village, bureau):
    QuarterDeadline.objects.create(unit=city, year=2026, quarter=3, due_on=datetime.date(2026, 10, 20))
    QuarterDeadline.objects.create(unit=county, year=2026, quarter=3, due_on=datetime.date(2026, 10, 15))
    QuarterDeadline.objects.create(unit=township, year=2026, quarter=3, due_on=datetime.date(2026, 10, 12))
    assert due_date(bureau, 2026, 3) == datetime.date(2026, 10, 15)
    assert due_date(village, 2026, 3) == datetime.date(2026, 10, 12)
    assert due_date(township, 2026, 3) == datetime.date(2026, 10, 12)
    # Another quarter keeps the default.
    assert due_date(bureau, 2026, 2) == datetime.date(2026, 7, 10)


def test_on_time_and_late_are_judged_on_the_local_date_of_the_due_day(office, county, township, other_township, bureau):
    on_list(township, other_township, bureau)
    # The last minute of 10 October in 北京时间 is on time; half a minute into 11 October is late, although
    # both moments are on 10 October in UTC.
    file_report(township, sent=local(2026, 10, 10, 23, 59))
    file_report(other_township, sent=local(2026, 10, 11, 0, 0, 30))
    file_report(bureau, sent=local(2026, 10, 14, 9, 0))
    data = data_for(office)
    rows = by_unit(data)
    assert rows["溧东镇"].timing == "on_time"
    assert rows["雅灰乡"].timing == "late"
    assert rows["雅灰乡"].timing_label == "迟报 1 天"
    assert rows["示例县规划局"].timing_label == "迟报 4 天"
    totals = data["totals"]
    assert (totals.expected, totals.submitted, totals.on_time, totals.late, totals.missing) == (3, 3, 1, 2, 0)
    assert (totals.submitted_rate, totals.on_time_rate) == (100, 33)


def test_a_county_deadline_makes_a_late_looking_report_on_time(office, county, township):
    on_list(township)
    QuarterDeadline.objects.create(unit=county, year=2026, quarter=3, due_on=datetime.date(2026, 10, 15))
    file_report(township, sent=local(2026, 10, 14, 17, 0))
    row = data_for(office)["rows"][0]
    assert (row.due_on, row.timing) == (datetime.date(2026, 10, 15), "on_time")


def test_never_submitted_is_missing_whether_or_not_a_draft_exists(office, township, other_township):
    on_list(township, other_township)
    file_report(township, status=ReportStatus.DRAFT, sent=None)
    data = data_for(office)
    rows = by_unit(data)
    assert (rows["溧东镇"].status, rows["雅灰乡"].status) == ("draft", "missing")
    # 2 December is 53 days after the due date of 10 October.
    assert rows["雅灰乡"].timing_label == "已逾期 53 天"
    totals = data["totals"]
    assert (totals.expected, totals.submitted, totals.missing, totals.on_time, totals.late) == (2, 0, 2, 0, 0)
    assert totals.submitted_rate == 0


def test_a_returned_report_counts_as_submitted_and_as_returned(office, township, other_township):
    on_list(township, other_township)
    file_report(township, status=ReportStatus.RETURNED, sent=local(2026, 10, 9, 9, 0))
    file_report(other_township, status=ReportStatus.ACCEPTED, sent=local(2026, 10, 12, 9, 0))
    data = data_for(office)
    rows = by_unit(data)
    assert (rows["溧东镇"].status, rows["溧东镇"].timing) == ("returned", "on_time")
    assert (rows["雅灰乡"].status, rows["雅灰乡"].timing) == ("accepted", "late")
    totals = data["totals"]
    assert (totals.submitted, totals.returned, totals.accepted, totals.on_time, totals.late) == (2, 1, 1, 1, 1)


def test_a_unit_off_the_list_is_not_counted(office, township, village, bureau, other_township):
    on_list(township)
    # The bureau stopped reporting before the quarter; 雅灰乡 starts after it; the village was never listed.
    on_list(bureau, end_on=datetime.date(2026, 6, 30))
    on_list(other_township, start_on=datetime.date(2026, 10, 1))
    for unit in (bureau, village, other_township):
        file_report(unit, sent=local(2026, 10, 8, 9, 0))
    data = data_for(office)
    assert [row.unit.name for row in data["rows"]] == ["溧东镇"]
    assert (data["totals"].expected, data["totals"].submitted, data["totals"].missing) == (1, 0, 1)
    assert sorted(report.unit.name for report in data["unlisted"]) == ["东村", "示例县规划局", "雅灰乡"]


def test_a_duty_that_ends_inside_the_quarter_still_owes_that_quarter(office, township):
    on_list(township, end_on=datetime.date(2026, 8, 15))
    assert [unit.name for unit in expected_units(user=office, year=2026, quarter=3)] == ["溧东镇"]
    assert expected_units(user=office, year=2026, quarter=4) == []


def test_rates_never_exceed_100_even_with_extra_reports(office, county, township, village, other_township):
    on_list(township, other_township)
    # The same unit listed twice over the quarter (ended and put back) still counts once.
    ReportingUnit.objects.filter(unit=township).update(end_on=datetime.date(2026, 7, 31))
    on_list(township, start_on=datetime.date(2026, 8, 1))
    for unit in (township, other_township, village, county):
        file_report(unit, sent=local(2026, 10, 1, 9, 0))
    data = data_for(office)
    totals = data["totals"]
    assert (totals.expected, totals.submitted, totals.on_time) == (2, 2, 2)
    assert (totals.submitted_rate, totals.on_time_rate) == (100, 100)
    for tally in [*data["by_kind"], *data["by_township"]]:
        assert tally.submitted_rate <= 100
        assert tally.submitted <= tally.expected


def test_rows_per_township_and_per_kind(office, county, township, village, other_township, bureau):
    school = Unit.objects.create(name="县第一中学", kind=UnitKind.SCHOOL, parent=county)
    on_list(township, village, other_township, bureau, school)
    file_report(village, sent=local(2026, 10, 5, 9, 0))
    file_report(bureau, sent=local(2026, 10, 20, 9, 0))
    data = data_for(office)
    townships = {t.label: (t.expected, t.submitted, t.on_time, t.submitted_rate) for t in data["by_township"]}
    assert townships == {"溧东镇": (2, 1, 1, 50), "雅灰乡": (1, 0, 0, 0), "县直单位": (2, 1, 0, 50)}
    assert [t.label for t in data["by_township"]][-1] == "县直单位"
    kinds = {t.label: (t.expected, t.submitted, t.late) for t in data["by_kind"]}
    assert kinds == {"乡镇/街道": (2, 0, 0), "村/社区": (1, 1, 0), "机关部门": (1, 1, 1), "学校": (1, 0, 0)}
    assert by_unit(data)["东村"].group == "溧东镇"


def test_expected_units_follow_the_user_s_scope(office, liaison, outsider, township, other_township, bureau):
    on_list(township, other_township, bureau)
    assert [u.name for u in expected_units(user=office, year=2026, quarter=3)] == ["溧东镇", "雅灰乡", "示例县规划局"]
    assert [u.name for u in expected_units(user=liaison, year=2026, quarter=3)] == ["溧东镇"]
    assert expected_units(user=outsider, year=2026, quarter=3) == []


# The dashboard


def _cards(html):
    return {
        name: int(re.search(rf'id="total-{name}">(\d+)<', html).group(1))
        for name in ("expected", "submitted", "on-time", "late", "missing", "returned", "accepted")
    }


@pytest.fixture
def quarter_in_flight(township, village, other_township, bureau, county):
    """2026 Q3: 溧东镇 on time and accepted, 雅灰乡 late, the bureau returned, 东村 a draft; a school not listed."""
    on_list(township, other_township, bureau, village)
    school = Unit.objects.create(name="县第一中学", kind=UnitKind.SCHOOL, parent=county)
    reports = {
        "township": file_report(township, status=ReportStatus.ACCEPTED, sent=local(2026, 10, 9, 9, 0)),
        "other": file_report(other_township, sent=local(2026, 10, 13, 9, 0)),
        "bureau": file_report(bureau, status=ReportStatus.RETURNED, sent=local(2026, 10, 10, 18, 0)),
        "village": file_report(village, status=ReportStatus.DRAFT),
        "school": file_report(school, sent=local(2026, 10, 2, 9, 0)),
    }
    return reports


def test_the_dashboard_shows_the_latest_ended_quarter_by_default(client, office, quarter_in_flight):
    client.force_login(office)
    response = client.get(reverse("reports:completeness"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "2026年第三季度报告报送情况" in html
    assert _cards(html) == {
        "expected": 4,
        "submitted": 3,
        "on-time": 2,
        "late": 1,
        "missing": 1,
        "returned": 1,
        "accepted": 1,
    }
    assert 'id="rate-submitted">75%<' in html
    bars = html.split('id="overall-progress"')[1].split("</div>\n</div>")[0]
    assert re.findall(r'data-percent="(\d+)"', bars) == ["50", "25"]
    # Every unit row links to its report; the unlisted school shows apart.
    for key in ("township", "other", "bureau", "village"):
        assert reverse("reports:report", args=[quarter_in_flight[key].pk]) in html
    unlisted = html.split('id="unlisted"')[1]
    assert "县第一中学" in unlisted
    assert reverse("reports:settings") in html


def test_the_dashboard_per_township_and_kind_tables(client, office, quarter_in_flight):
    client.force_login(office)
    html = client.get(reverse("reports:completeness")).content.decode()
    townships = html.split('id="township-table"')[1].split("</table>")[0]
    rows = re.findall(r'<th class="fw-normal">(.*?)</th>.*?class="small submitted-rate">(\d+)%', townships, re.S)
    assert rows == [("溧东镇", "50"), ("雅灰乡", "100"), ("县直单位", "100")]
    kinds = html.split('id="kind-table"')[1].split("</table>")[0]
    assert re.findall(r'<th class="fw-normal">(.*?)</th>', kinds) == ["乡镇/街道", "村/社区", "机关部门"]


def test_another_quarter_and_bad_quarters(client, office, quarter_in_flight, township):
    client.force_login(office)
    file_report(township, 2026, 2, status=ReportStatus.ACCEPTED, sent=local(2026, 7, 3, 9, 0))
    html = client.get(reverse("reports:completeness"), {"year": 2026, "quarter": 2}).content.decode()
    assert "2026年第二季度" in html
    assert _cards(html)["submitted"] == 1
    html = client.get(reverse("reports:completeness"), {"year": 2026, "quarter": 4}).content.decode()
    assert "2026年第四季度尚未结束" in html
    assert "2026年第三季度报告报送情况" in html
    html = client.get(reverse("reports:completeness"), {"year": "abc", "quarter": 9}).content.decode()
    assert "请选择列出的年度" in html and "请选择第一至第四季度" in html
    assert "2026年第三季度报告报送情况" in html


def test_a_leader_reads_the_dashboard_without_the_settings(client, leader, quarter_in_flight):
    client.force_login(leader)
    html = client.get(reverse("reports:completeness")).content.decode()
    assert _cards(html)["expected"] == 4
    assert reverse("reports:settings") not in html


def test_liaisons_have_no_dashboard(client, liaison, bureau_liaison, quarter_in_flight):
    for user in (liaison, bureau_liaison):
        client.force_login(user)
        assert client.get(reverse("reports:completeness")).status_code == 404


def test_the_outsider_sees_nothing_of_the_county(client, outsider, other_township_far, quarter_in_flight):
    on_list(other_township_far)
    client.force_login(outsider)
    html = client.get(reverse("reports:completeness")).content.decode()
    assert _cards(html)["expected"] == 1
    for name in ("溧东镇", "雅灰乡", "示例县规划局", "东村", "县第一中学"):
        assert name not in html
    assert "邻县城关镇" in html
    data = data_for(outsider)
    assert [row.unit.name for row in data["rows"]] == ["邻县城关镇"]
    assert data["unlisted"] == []


def test_the_dashboard_query_count_does_not_grow_with_units(client, office, county, django_assert_max_num_queries):
    for n in range(30):
        town = Unit.objects.create(name=f"镇{n}", kind=UnitKind.TOWNSHIP, parent=county)
        on_list(town)
        if n % 2:
            file_report(town, sent=local(2026, 10, 5, 9, 0))
    client.force_login(office)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("reports:completeness"))
    assert _cards(response.content.decode())["submitted"] == 15


# The liaison's home page


def test_the_liaison_home_page_lists_the_overdue_quarter(client, liaison, township):
    on_list(township, start_on=datetime.date(2026, 7, 1))
    client.force_login(liaison)
    html = client.get(reverse("home")).content.decode()
    section = html.split('id="due-reports"')[1].split("</ul>")[0]
    assert "2026年第三季度报告 截止 10月10日" in section
    assert "已逾期 53 天" in section
    assert f"{reverse('reports:report_create')}?unit={township.pk}&amp;period=2026-3" in section
    assert "起草" in section
    # Quarters before the unit was put on the list are not due.
    assert "第二季度" not in section


def test_the_home_page_links_a_draft_or_a_returned_report(client, liaison, township):
    on_list(township, start_on=datetime.date(2026, 4, 1))
    draft = file_report(township, 2026, 2, status=ReportStatus.RETURNED, sent=local(2026, 7, 8, 9, 0))
    file_report(township, 2026, 3, status=ReportStatus.DRAFT)
    client.force_login(liaison)
    section = client.get(reverse("home")).content.decode().split('id="due-reports"')[1].split("</ul>")[0]
    assert reverse("reports:report", args=[draft.pk]) in section
    assert "已退回" in section and "修改后重新报送" in section
    assert "继续起草" in section


def test_no_due_item_once_the_unit_has_submitted(client, liaison, bureau_liaison, township, bureau):
    on_list(township, bureau, start_on=datetime.date(2026, 7, 1))
    file_report(township, sent=local(2026, 10, 9, 9, 0))
    client.force_login(liaison)
    assert 'id="due-reports"' not in client.get(reverse("home")).content.decode()
    assert due_items(user=liaison, today=TODAY.date()) == []
    # The bureau has not: its liaison sees the item.
    items = due_items(user=bureau_liaison, today=TODAY.date())
    assert [(item.unit.name, item.year, item.quarter, item.days_overdue) for item in items] == [
        ("示例县规划局", 2026, 3, 53)
    ]


def test_a_quarter_not_yet_due_shows_the_days_left(liaison, township):
    on_list(township, start_on=datetime.date(2026, 7, 1))
    with time_machine.travel(local(2026, 10, 6, 9, 0), tick=False):
        (item,) = due_items(user=liaison, today=datetime.date(2026, 10, 6))
    assert (item.days_overdue, item.days_left, item.action) == (0, 4, "起草")


def test_office_and_units_off_the_list_have_no_due_items(office, liaison, township, village):
    on_list(village)
    assert due_items(user=office, today=TODAY.date()) == []
    # A township liaison files for the villages below when the office lists them.
    village_liaison = make_user("village_liaison", village, Role.LIAISON)
    assert [item.unit.name for item in due_items(user=village_liaison, today=TODAY.date())][-1] == "东村"
    assert {item.unit.name for item in due_items(user=liaison, today=TODAY.date())} == {"东村"}
