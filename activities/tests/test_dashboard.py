"""The dashboard: the figures in its tables are the inputs, and its charts draw the same figures."""

import datetime
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from activities.budget_services import budget_line_save
from activities.constants import ActivityType, BudgetSource, Occasion
from activities.services import activity_create
from shuangyong.lib.money import format_yuan
from units.plan_services import plan_save

TODAY = datetime.datetime(2026, 7, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


def _record(unit, by, on, type, *, occasion="", **fields):
    return activity_create(
        unit=unit, created_by=by, type=type, title="活动", start_date=on, occasion=occasion, **fields
    )


@pytest.fixture
def year_of_work(office, county, township, village, other_township):
    d = datetime.date
    _record(township, office, d(2026, 1, 10), ActivityType.MEETING)
    _record(township, office, d(2026, 1, 20), ActivityType.MEETING)
    _record(village, office, d(2026, 2, 5), ActivityType.PUBLICITY, boards=2)
    _record(
        other_township,
        office,
        d(2026, 2, 1),
        ActivityType.VISIT,
        occasion=Occasion.SPRING_FESTIVAL,
        gifts=[{"recipient_name": "驻地雷达连", "money": Decimal("2000"), "goods_value": Decimal("300.50")}],
    )
    # A 元旦 visit made in December counts for the next year's 元旦, but its money was spent in December.
    _record(
        other_township,
        office,
        d(2025, 12, 28),
        ActivityType.VISIT,
        occasion=Occasion.NEW_YEAR,
        groups=[{"description": "困难群众", "people": 5, "money": Decimal("500")}],
    )
    _record(county, office, d(2026, 3, 3), ActivityType.FORUM, cost=Decimal("66.60"))
    _record(township, office, d(2025, 6, 1), ActivityType.MEETING)
    plan_save(unit=township, year=2026, text="", targets=[{"metric": "type:meeting", "target": 2}], saved_by=office)
    plan_save(unit=other_township, year=2026, text="", targets=[{"metric": "type:visit", "target": 3}], saved_by=office)
    budget_line_save(
        unit=county, year=2026, source=BudgetSource.COUNTY, amount=Decimal("10000"), note="", saved_by=office
    )


def _section(html, section_id):
    start = html.index(f'id="{section_id}"')
    return html[start : html.index("</section>", start)]


def _svg(html):
    return ET.fromstring(re.search(r"<svg.*?</svg>", html, re.S).group(0))


def _bars(svg):
    return [rect for rect in svg.iter(f"{SVG}rect") if rect.get("class") == "bar"]


def _row_cells(html, attr):
    row = re.search(rf"<tr {attr}>(.*?)</tr>", html, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]


def test_months_by_type_show_the_counts_and_draw_them(client, office, year_of_work):
    client.force_login(office)
    html = client.get(reverse("activities:dashboard"), {"year": 2026}).content.decode()
    section = _section(html, "by-month")

    meetings = _row_cells(section, 'data-type="meeting"')
    assert meetings[0] == "领导小组会议" and meetings[1] == "2" and meetings[-1] == "2"
    assert _row_cells(section, 'data-type="publicity"')[2] == "1"
    assert _row_cells(section, 'data-type="visit"')[2] == "1"
    assert _row_cells(section, 'data-type="forum"')[3] == "1"
    assert re.search(r'id="month-total">5<', section)

    bars = _bars(_svg(section))
    assert sorted((b.get("data-category"), b.get("data-series"), b.get("data-value")) for b in bars) == [
        ("1月", "领导小组会议", "2"),
        ("2月", "宣传教育", "1"),
        ("2月", "走访慰问", "1"),
        ("3月", "座谈会", "1"),
    ]
    per_activity = {round(float(b.get("height")) / int(b.get("data-value")), 3) for b in bars}
    assert len(per_activity) == 1


def test_money_and_goods_by_occasion_count_the_occasions_year(client, office, year_of_work):
    client.force_login(office)
    section = _section(client.get(reverse("activities:dashboard"), {"year": 2026}).content.decode(), "by-occasion")
    spring = _row_cells(section, 'data-occasion="spring"')
    assert spring[1:] == ["1", "2,000.00", "300.50", "2,300.50"]
    assert _row_cells(section, 'data-occasion="new_year"')[1:] == ["1", "500.00", "0.00", "500.00"]
    values = {(b.get("data-category"), b.get("data-series")): b.get("data-value") for b in _bars(_svg(section))}
    assert values == {("元旦", "慰问金"): "500.00", ("春节", "慰问金"): "2000.00", ("春节", "物品折价"): "300.50"}


def test_top_units_by_activities_and_by_money(client, office, township, other_township, year_of_work):
    client.force_login(office)
    html = client.get(reverse("activities:dashboard"), {"year": 2026}).content.decode()
    by_count = _section(html, "top-by-count")
    assert by_count.index(f'data-unit="{township.pk}"') < by_count.index(f'data-unit="{other_township.pk}"')
    assert _row_cells(by_count, f'data-unit="{township.pk}"')[1] == "2"
    by_value = _section(html, "top-by-value")
    assert _row_cells(by_value, f'data-unit="{other_township.pk}"')[1:] == ["2,000.00", "300.50", "2,300.50"]
    assert f'data-unit="{township.pk}"' not in by_value


def test_plan_completion_counts_the_units_that_reached_and_those_that_lag(
    client, office, township, other_township, year_of_work
):
    client.force_login(office)
    section = _section(client.get(reverse("activities:dashboard"), {"year": 2026}).content.decode(), "plan-completion")
    figures = re.sub(r"<[^>]+>", "", re.search(r'id="plan-figures">(.*?)</p>', section, re.S).group(1))
    assert "已制定计划 2 个单位，全部指标已完成 1 个，进度滞后 1 个" in figures
    assert section.index(f'data-unit="{other_township.pk}"') < section.index(f'data-unit="{township.pk}"')
    assert _row_cells(section, f'data-unit="{other_township.pk}"')[1:] == ["33%", "走访慰问（次） 1/3"]
    widths = {b.get("data-category"): float(b.get("width")) for b in _bars(_svg(section))}
    assert widths["溧东镇"] == pytest.approx(3 * widths["雅灰乡"], rel=0.05)


def test_budget_used_counts_the_money_spent_in_the_year(client, office, year_of_work):
    client.force_login(office)
    section = _section(client.get(reverse("activities:dashboard"), {"year": 2026}).content.decode(), "budget-used")
    spent = Decimal("2000") + Decimal("300.50") + Decimal("66.60")
    assert re.search(r'id="dash-budget">([^<]*)<', section).group(1) == format_yuan(Decimal("10000"))
    assert re.search(r'id="dash-spent">([^<]*)<', section).group(1) == format_yuan(spent)
    assert re.search(r'id="dash-percent">([^<]*)<', section).group(1) == f"{int(spent * 100 / 10000)}%"


def test_a_township_dashboard_counts_its_subtree_only(client, leader, township, year_of_work):
    client.force_login(leader)
    html = client.get(reverse("activities:dashboard"), {"year": 2026, "unit": township.pk}).content.decode()
    assert re.search(r'id="total-activities">3<', html)
    assert "雅灰乡" not in html[html.index('id="dashboard-totals"') :]


def test_leader_reads_the_dashboard_and_the_liaison_has_none(client, leader, liaison, year_of_work):
    client.force_login(leader)
    assert client.get(reverse("activities:dashboard")).status_code == 200
    client.force_login(liaison)
    assert client.get(reverse("activities:dashboard")).status_code == 404


def test_outsider_sees_nothing_of_the_county(client, outsider, county, year_of_work):
    client.force_login(outsider)
    html = client.get(reverse("activities:dashboard"), {"year": 2026, "unit": county.pk}).content.decode()
    assert "所选单位不存在或不在您的管辖范围内" in html
    assert "邻县2026年双拥工作数据看板" in html
    for name in ("示例县", "溧东镇", "雅灰乡", "东村"):
        assert name not in html
    assert re.search(r'id="total-activities">0<', html)


def test_home_and_log_link_to_the_dashboard_for_office_and_leaders(client, office, leader, liaison):
    url = reverse("activities:dashboard")
    for user, sees in ((office, True), (leader, True), (liaison, False)):
        client.force_login(user)
        assert (url in client.get(reverse("home")).content.decode()) is sees
        assert (url in client.get(reverse("activities:list")).content.decode()) is sees
