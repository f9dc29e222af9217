"""双拥经费: budget lines by source, and spending (gifts, 慰问金, groups, activity costs) against them."""

import datetime
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from activities.budget_services import budget_line_save
from activities.constants import ActivityType, BudgetSource, Occasion
from activities.models import BudgetLine
from activities.services import activity_create
from shuangyong.lib.money import format_yuan

TODAY = datetime.datetime(2026, 7, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


def _line(unit, source, amount, by, year=2025, note=""):
    return budget_line_save(unit=unit, year=year, source=source, amount=Decimal(amount), note=note, saved_by=by)


def _record(unit, by, on, *, occasion="", type=ActivityType.VISIT, **fields):
    return activity_create(
        unit=unit, created_by=by, type=type, title="活动", start_date=on, occasion=occasion, **fields
    )


def _cell(html, table_id, row_attr, column):
    """The text of a cell: the `column`-th <td> (0-based) of the row marked `row_attr` in the table."""
    table = html[html.index(f'id="{table_id}"') :]
    table = table[: table.index("</table>")]
    row = re.search(rf"<tr {row_attr}>(.*?)</tr>", table, re.S)
    assert row, f"no row {row_attr} in {table_id}"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    return re.sub(r"<[^>]+>", "", cells[column]).strip()


def _by_id(html, element_id):
    match = re.search(rf'id="{element_id}">([^<]*)<', html)
    assert match, element_id
    return match.group(1).strip()


def _number(amount):
    return format_yuan(amount, unit="")


@pytest.fixture
def spending(office, county, township, village, other_township, military_unit, person, other_county):
    """A year of spending in the county, with activities outside the year and the county that must not count."""
    visit = _record(
        township,
        office,
        datetime.date(2025, 7, 28),
        occasion=Occasion.ARMY_DAY,
        cost=Decimal("120.07"),
        gifts=[
            {"recipient_unit": military_unit, "money": Decimal("3000.10"), "goods": "大米", "goods_value": "450.25"}
        ],
        recipients=[{"beneficiary": person, "amount": Decimal("500.33"), "goods": "食用油", "goods_value": "80"}],
        groups=[{"description": "军退干部", "people": 15, "money": Decimal("3000"), "goods_value": Decimal("0.01")}],
    )
    village_visit = _record(
        village,
        office,
        datetime.date(2025, 1, 20),
        occasion=Occasion.SPRING_FESTIVAL,
        gifts=[{"recipient_name": "驻村雷达连", "money": Decimal("1000.01")}],
    )
    other = _record(
        other_township, office, datetime.date(2025, 10, 1), occasion=Occasion.NATIONAL_DAY, cost=Decimal("300")
    )
    own = _record(county, office, datetime.date(2025, 3, 5), type=ActivityType.FORUM, cost=Decimal("88.88"))
    _record(township, office, datetime.date(2024, 12, 31), cost=Decimal("999"))
    _record(township, office, datetime.date(2026, 1, 1), cost=Decimal("777"))
    return {"visit": visit, "village_visit": village_visit, "other": other, "own": own}


def test_spending_adds_gifts_recipients_groups_and_costs_to_the_fen(client, office, county, township, spending):
    _line(county, BudgetSource.COUNTY, "100000", office)
    _line(county, BudgetSource.UPPER, "20000.55", office)
    _line(township, BudgetSource.TOWNSHIP, "5000", office)

    client.force_login(office)
    html = client.get(reverse("activities:budget"), {"year": 2025, "unit": county.pk}).content.decode()

    gifts = Decimal("3000.10") + Decimal("450.25") + Decimal("1000.01")
    registry = Decimal("500.33") + Decimal("80")
    groups = Decimal("3000") + Decimal("0.01")
    costs = Decimal("120.07") + Decimal("300") + Decimal("88.88")
    spent = gifts + registry + groups + costs
    budget = Decimal("100000") + Decimal("20000.55") + Decimal("5000")
    assert _by_id(html, "budget-total") == format_yuan(budget)
    assert _by_id(html, "budget-spent") == format_yuan(spent)
    assert _by_id(html, "parts-total") == _number(spent)
    assert _by_id(html, "budget-percent") == f"{int(spent * 100 / budget)}%"
    assert _by_id(html, "budget-left") == format_yuan(budget - spent)
    assert _cell(html, "budget-parts", 'data-part="recipients_money"', 1) == _number(Decimal("500.33"))
    assert _cell(html, "budget-parts", 'data-part="gifts_goods"', 1) == _number(Decimal("450.25"))
    assert _cell(html, "budget-parts", 'data-part="cost"', 1) == _number(costs)

    # Per direct child: 溧东镇 includes its village; the county's own activity is 本级.
    township_spent = Decimal("3000.10") + Decimal("450.25") + Decimal("1000.01") + registry + groups
    township_spent += Decimal("120.07")
    assert _cell(html, "budget-by-unit", f'data-unit="{township.pk}"', 5) == _number(township_spent)
    assert _cell(html, "budget-by-unit", f'data-unit="{township.pk}"', 1) == "2"
    assert _cell(html, "budget-by-unit", f'data-unit="{township.pk}"', 6) == _number(Decimal("5000"))
    other = spending["other"].unit
    assert _cell(html, "budget-by-unit", f'data-unit="{other.pk}"', 5) == _number(Decimal("300"))
    assert _cell(html, "budget-by-unit", f'data-unit="{county.pk}"', 5) == _number(Decimal("88.88"))

    # Per occasion.
    army_day = Decimal("3000.10") + Decimal("450.25") + registry + groups + Decimal("120.07")
    assert _cell(html, "budget-by-occasion", 'data-occasion="army_day"', 5) == _number(army_day)
    assert _cell(html, "budget-by-occasion", 'data-occasion="spring"', 2) == _number(Decimal("1000.01"))
    assert _cell(html, "budget-by-occasion", 'data-occasion="none"', 4) == _number(Decimal("88.88"))


def test_a_township_sees_only_its_own_subtree(client, office, township, village, spending):
    client.force_login(office)
    html = client.get(reverse("activities:budget"), {"year": 2025, "unit": township.pk}).content.decode()
    registry_and_groups = Decimal("500.33") + Decimal("80") + Decimal("3000") + Decimal("0.01")
    spent = Decimal("3000.10") + Decimal("450.25") + Decimal("1000.01") + registry_and_groups + Decimal("120.07")
    assert _by_id(html, "budget-spent") == format_yuan(spent)
    assert _cell(html, "budget-by-unit", f'data-unit="{village.pk}"', 5) == _number(Decimal("1000.01"))
    assert _by_id(html, "budget-percent") == "—"


def test_overspending_shows_in_red(client, office, county, spending):
    _line(county, BudgetSource.COUNTY, "1000", office)
    client.force_login(office)
    html = client.get(reverse("activities:budget"), {"year": 2025}).content.decode()
    assert "超支" in html
    assert 'class="progress-bar progress-bar-w bg-danger" data-percent="100"' in html


def test_office_records_a_line_and_corrects_it(client, office, county):
    client.force_login(office)
    response = client.post(
        reverse("activities:budget_create"),
        {
            "unit": county.pk,
            "year": 2026,
            "source": BudgetSource.COUNTY,
            "amount": "180000.50",
            "note": "县财〔2026〕3号",
        },
    )
    line = BudgetLine.objects.get()
    assert response.status_code == 302
    assert response.url == f"{reverse('activities:budget')}?year=2026&unit={county.pk}"
    assert (line.unit, line.year, line.amount, line.created_by) == (county, 2026, Decimal("180000.50"), office)

    response = client.post(
        reverse("activities:budget_edit", args=[line.pk]),
        {"unit": county.pk, "year": 2026, "source": BudgetSource.COUNTY, "amount": "200000", "note": "追加"},
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.amount == Decimal("200000.00") and line.note == "追加"
    assert BudgetLine.objects.count() == 1


def test_a_second_line_for_the_same_source_is_refused(client, office, county):
    _line(county, BudgetSource.COUNTY, "100", office, year=2026)
    with pytest.raises(ValidationError) as caught:
        _line(county, BudgetSource.COUNTY, "200", office, year=2026)
    assert caught.value.message_dict["source"] == ["示例县2026年“本级财政”的经费已登记，请修改原记录，不要重复登记。"]

    client.force_login(office)
    response = client.post(
        reverse("activities:budget_create"),
        {"unit": county.pk, "year": 2026, "source": BudgetSource.COUNTY, "amount": "5"},
    )
    assert response.status_code == 200
    assert "经费已登记，请修改原记录" in response.content.decode()
    assert BudgetLine.objects.count() == 1


def test_a_negative_amount_is_refused(client, office, county):
    with pytest.raises(ValidationError) as caught:
        _line(county, BudgetSource.COUNTY, "-1", office)
    assert caught.value.message_dict["amount"] == ["金额不能为负数。"]

    client.force_login(office)
    response = client.post(
        reverse("activities:budget_create"),
        {"unit": county.pk, "year": 2026, "source": BudgetSource.COUNTY, "amount": "-300"},
    )
    assert response.status_code == 200
    assert "金额不能为负数。" in response.content.decode()
    assert not BudgetLine.objects.exists()


@pytest.mark.parametrize("year", [2015, 2028])
def test_a_year_far_off_is_refused(office, county, year):
    with pytest.raises(ValidationError) as caught:
        _line(county, BudgetSource.COUNTY, "1", office, year=year)
    assert caught.value.message_dict["year"] == ["年度应在 2016—2027 年之间。"]


def test_fractions_of_a_fen_are_refused(office, county):
    with pytest.raises(ValidationError) as caught:
        budget_line_save(unit=county, year=2026, source=BudgetSource.COUNTY, amount="1.005", note="", saved_by=office)
    assert "到分" in caught.value.message_dict["amount"][0]


def test_only_the_office_records_the_budget(client, leader, liaison, county, township):
    for user in (leader, liaison):
        with pytest.raises(ValidationError):
            _line(township, BudgetSource.TOWNSHIP, "1", user)
    assert not BudgetLine.objects.exists()


def test_leader_reads_the_budget_without_edit_links(client, office, leader, county):
    line = _line(county, BudgetSource.COUNTY, "1000", office)
    client.force_login(leader)
    html = client.get(reverse("activities:budget"), {"year": 2025}).content.decode()
    assert _by_id(html, "budget-total") == "1,000.00 元"
    assert reverse("activities:budget_edit", args=[line.pk]) not in html
    assert reverse("activities:budget_create") not in html
    assert client.get(reverse("activities:budget_edit", args=[line.pk])).status_code == 404
    response = client.post(
        reverse("activities:budget_create"),
        {"unit": county.pk, "year": 2026, "source": BudgetSource.UPPER, "amount": "5"},
    )
    assert response.status_code == 404
    assert BudgetLine.objects.count() == 1


def test_liaison_has_no_budget_page(client, liaison):
    client.force_login(liaison)
    assert client.get(reverse("activities:budget")).status_code == 404


def test_outsider_sees_nothing_of_the_county(client, office, outsider, county, spending):
    line = _line(county, BudgetSource.COUNTY, "100000", office)
    client.force_login(outsider)
    response = client.get(reverse("activities:budget"), {"year": 2025, "unit": county.pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert "所选单位不存在或不在您的管辖范围内" in html
    assert "邻县2025年双拥经费" in html
    assert "示例县" not in html and "溧东镇" not in html
    assert _by_id(html, "budget-spent") == "0.00 元"
    assert client.get(reverse("activities:budget_edit", args=[line.pk])).status_code == 404
    response = client.post(
        reverse("activities:budget_create"),
        {"unit": county.pk, "year": 2026, "source": BudgetSource.UPPER, "amount": "5"},
    )
    assert "所选单位不存在或不在您的管辖范围内" in response.content.decode()
    assert BudgetLine.objects.count() == 1
