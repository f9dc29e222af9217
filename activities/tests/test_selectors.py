import datetime
from decimal import Decimal

import pytest
from django.http import QueryDict

from activities import selectors
from activities.constants import ActivityType, Occasion
from activities.models import Activity
from activities.services import recipient_correct

from .log_data import make_person, photo, record

pytestmark = pytest.mark.django_db

D = Decimal


def log(user, **params):
    activities, filters, errors = selectors.activity_filter(user=user, params=params)
    return sorted(a.title for a in activities), filters, errors


@pytest.fixture
def spread(office, county, township, village, other_township):
    """One activity in each place of the county."""
    return {
        "county": record(county, office, title="县八一慰问"),
        "township": record(township, office, title="镇八一慰问"),
        "village": record(village, office, title="村八一慰问"),
        "other": record(other_township, office, title="乡八一慰问"),
    }


def test_totals_add_up_every_column_in_one_query(office, township, village, person, django_assert_num_queries):
    record(
        township,
        office,
        participants=30,
        soldiers=12,
        reached=40,
        cost=D("350.50"),
        boards=2,
        gifts=[{"recipient_name": "武警中队", "money": D("2000"), "goods": "水果", "goods_value": D("300")}],
        groups=[{"description": "困难群众", "people": 5, "money": D("1000")}],
        recipients=[{"beneficiary": person, "amount": D("500"), "goods": "大米", "goods_value": D("80")}],
    )
    record(village, office, type=ActivityType.PUBLICITY, title="板报", participants=8, boards=3, slogans=10)
    activities = Activity.objects.visible_to(office)
    with django_assert_num_queries(1):
        totals = selectors.activity_totals(activities=activities)
    assert totals["count"] == 2
    assert (totals["participants"], totals["soldiers"], totals["reached"]) == (38, 12, 40)
    assert totals["money"] == D("3500.00")
    assert totals["goods_value"] == D("380.00")
    assert totals["total_value"] == D("3880.00")
    assert totals["cost"] == D("350.50")
    assert totals["recipients"] == 6
    assert totals["counts"]["boards"] == 5
    assert totals["counts"]["slogans"] == 10
    assert selectors.count_lines(totals["counts"]) == [("板报", 5, "期"), ("标语", 10, "条")]


def test_totals_are_exact_to_the_fen_over_many_small_amounts(office, township):
    amounts = [D("0.01"), D("0.07"), D("33.33"), D("0.10"), D("19.99")] * 20
    for number, amount in enumerate(amounts):
        record(township, office, title=f"慰问{number}", groups=[{"description": "群众", "people": 1, "money": amount}])
    totals = selectors.activity_totals(activities=Activity.objects.visible_to(office))
    assert totals["money"] == sum(amounts)
    assert str(totals["money"]) == "1070.00"


def test_empty_totals_are_zero(outsider):
    totals = selectors.activity_totals(activities=Activity.objects.visible_to(outsider))
    assert totals["count"] == 0
    assert totals["money"] == D("0.00")
    assert totals["counts"]["boards"] == 0


def test_a_unit_filter_takes_its_villages_and_leaves_the_other_township(office, township, spread):
    titles, filters, errors = log(office, unit=str(township.pk))
    assert titles == ["村八一慰问", "镇八一慰问"]
    assert filters["unit"] == township
    assert errors == {}


def test_a_liaison_sees_the_township_and_its_villages_only(liaison, spread):
    titles, _, _ = log(liaison)
    assert titles == ["村八一慰问", "镇八一慰问"]


def test_the_outsider_sees_nothing_of_the_county_even_when_naming_its_units(outsider, township, spread):
    titles, filters, errors = log(outsider)
    assert titles == []
    titles, filters, errors = log(outsider, unit=str(township.pk))
    assert titles == []
    assert filters["unit"] is None
    assert "单位" in errors["unit"]


def test_type_occasion_and_year_narrow_the_list(office, township):
    record(township, office, title="八一慰问")
    record(township, office, title="宣传", type=ActivityType.PUBLICITY, occasion="", on=datetime.date(2025, 3, 5))
    # 春节 2026 visited in December 2025: the 2026 春节, yet an activity of the calendar year 2025.
    record(township, office, title="春节慰问", occasion=Occasion.SPRING_FESTIVAL, on=datetime.date(2025, 12, 28))
    record(township, office, title="去年八一", occasion=Occasion.ARMY_DAY, on=datetime.date(2024, 7, 30))

    assert log(office, type=ActivityType.PUBLICITY)[0] == ["宣传"]
    assert log(office, occasion=Occasion.SPRING_FESTIVAL)[0] == ["春节慰问"]
    assert log(office, occasion="none")[0] == ["宣传"]
    assert log(office, year="2025")[0] == ["八一慰问", "宣传", "春节慰问"]
    assert log(office, occasion=Occasion.SPRING_FESTIVAL, year="2026")[0] == ["春节慰问"]
    assert log(office, occasion=Occasion.SPRING_FESTIVAL, year="2025")[0] == []


def test_dates_military_unit_pairing_photos_and_title_narrow_the_list(office, township, military_unit, pairing):
    record(township, office, title="军民联谊晚会", on=datetime.date(2025, 5, 1), military_units=[military_unit])
    record(township, office, title="共建签约", on=datetime.date(2025, 6, 1), pairings=[pairing], photos=[photo()])
    record(township, office, title="板报", on=datetime.date(2025, 9, 1))

    assert log(office, date_from="2025-05-15")[0] == ["共建签约", "板报"]
    assert log(office, date_to="2025-06-01")[0] == ["共建签约", "军民联谊晚会"]
    assert log(office, date_from="2025-05-15", date_to="2025-06-30")[0] == ["共建签约"]
    assert log(office, military_unit=str(military_unit.pk))[0] == ["军民联谊晚会"]
    assert log(office, pairing=str(pairing.pk))[0] == ["共建签约"]
    assert log(office, has_photos="1")[0] == ["共建签约"]
    assert log(office, has_photos="0")[0] == ["军民联谊晚会", "板报"]
    assert log(office, q="联谊")[0] == ["军民联谊晚会"]


def test_a_military_unit_in_two_lists_of_one_activity_counts_it_once(office, township, military_unit):
    record(
        township,
        office,
        title="联谊",
        military_units=[military_unit],
        groups=[{"description": "官兵", "people": 5, "money": D("500")}],
    )
    activities, _, _ = selectors.activity_filter(user=office, params={"military_unit": str(military_unit.pk)})
    totals = selectors.activity_totals(activities=activities)
    assert (totals["count"], totals["money"]) == (1, D("500.00"))


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"unit": "abc"}, "unit", "单位"),
        ({"unit": "999999"}, "unit", "单位"),
        ({"type": "party"}, "type", "活动类型"),
        ({"occasion": "christmas"}, "occasion", "时机"),
        ({"year": "20x5"}, "year", "年度"),
        ({"year": "1800"}, "year", "年度"),
        ({"date_from": "2025-13-01"}, "date_from", "开始日期"),
        ({"date_to": "yesterday"}, "date_to", "截止日期"),
        ({"military_unit": "-1"}, "military_unit", "部队"),
        ({"pairing": "1e9"}, "pairing", "共建对子"),
        ({"has_photos": "maybe"}, "has_photos", "照片"),
        ({"q": "长" * 51}, "q", "标题"),
    ],
)
def test_a_bad_filter_names_itself_and_is_left_out(office, township, spread, params, field, words):
    titles, filters, errors = log(office, **params)
    assert titles == ["乡八一慰问", "县八一慰问", "村八一慰问", "镇八一慰问"]
    assert filters[field] in (None, "")
    assert errors[field].startswith(f"{words}：")
    assert errors[field].endswith("此条件未生效。")


def test_a_range_ending_before_it_starts_keeps_the_start(office, township):
    record(township, office, title="五月", on=datetime.date(2025, 5, 1))
    record(township, office, title="九月", on=datetime.date(2025, 9, 1))
    titles, filters, errors = log(office, date_from="2025-06-01", date_to="2025-01-01")
    assert titles == ["九月"]
    assert filters["date_to"] is None
    assert "截止日期" in errors["date_to"]


def test_the_filters_go_back_into_a_query_and_into_words(office, township, pairing):
    _, filters, _ = log(office, unit=str(township.pk), occasion="army_day", year="2025", has_photos="0")
    assert QueryDict(selectors.filter_query(filters)).dict() == {
        "unit": str(township.pk),
        "occasion": "army_day",
        "year": "2025",
        "has_photos": "0",
    }
    assert selectors.describe_filters(filters) == "单位：溧东镇；时机：八一；年度：2025；照片：无照片"


def test_filter_choices_are_the_users_own(liaison, township, village, other_township, military_unit, pairing):
    _, filters, _ = log(liaison)
    options = selectors.filter_options(user=liaison, filters=filters)
    assert [label.strip("　") for _, label in options["units"]] == ["溧东镇", "东村"]
    # The county's 人武部 is outside the township, but the township's pairing brings it.
    assert options["military_units"] == [(military_unit.pk, "示例县人武部")]
    assert options["pairings"] == [(pairing.pk, "溧东镇 ↔ 示例县人武部")]


def test_a_large_scope_offers_the_upper_levels_of_units(office, county, township, other_township, village, monkeypatch):
    monkeypatch.setattr(selectors, "SELECT_LIMIT", 2)
    _, filters, _ = log(office, unit=str(village.pk))
    units = selectors.filter_options(user=office, filters=filters)["units"]
    # 示例县 and its first level do not fit in 2; the county alone does, and the chosen village is added.
    assert [pk for pk, _ in units] == [county.pk, village.pk]


def seed_001_campaign(office, county, township, bureau):
    """Seed 001 篇4: the 八一 campaign of a district, 合计20.39万元."""
    troops = [{"recipient_name": f"驻区部队{n}", "money": D("3875")} for n in range(16)]
    disabled = [make_person(township, n, name=name) for n, name in enumerate(["粟正祥", "李卫国", "赵建军"])]
    enterprises = [
        {"recipient_name": name, "money": D("8500")}
        for name in ["韶光微电子总公司", "长沙轴承厂", "3614厂", "曙光电子管厂"]
    ]
    record(county, office, title="八一慰问驻区部队", gifts=troops, participants=20)
    record(
        county,
        office,
        title="八一慰问一等伤残军人",
        recipients=[{"beneficiary": p, "amount": D("500")} for p in disabled],
    )
    record(county, office, title="八一慰问困难企业", gifts=enterprises)
    record(
        bureau, office, title="慰问军退干部", groups=[{"description": "军队退休干部", "people": 15, "money": D("3000")}]
    )
    record(
        township,
        office,
        title="慰问老复员军人、烈军属",
        groups=[
            {"description": "老复员军人、烈军属、特困复退战士", "people": 115, "money": D("23000")},
            {"description": "在乡老复员军人", "people": 26, "money": D("10400")},
        ],
    )
    record(
        township,
        office,
        title="区直机关街道慰问涉军人员",
        groups=[{"description": "辖区涉军人员", "people": 300, "money": D("70000")}],
    )
    return disabled


def test_an_occasion_adds_gifts_recipients_and_groups_once(office, county, township, bureau):
    seed_001_campaign(office, county, township, bureau)
    record(
        township,
        office,
        title="国庆慰问",
        occasion=Occasion.NATIONAL_DAY,
        groups=[{"description": "x", "people": 1, "money": D("1")}],
    )
    summary = selectors.occasion_summary(user=office, year=2025, occasion=Occasion.ARMY_DAY)
    totals = summary["totals"]
    assert totals["gifts_money"] == D("96000.00")
    assert totals["recipients_money"] == D("1500.00")
    assert totals["groups_money"] == D("106400.00")
    assert totals["money"] == D("203900.00")
    assert totals["gifts_count"] == 20
    assert totals["recipients_people"] == 3
    assert totals["groups_people"] == 456
    # The same money, counted on the activities, is the log's total for the occasion.
    assert summary["activity_totals"]["money"] == totals["money"]
    assert [r.masked_name for r in summary["recipients"]] == ["粟*祥", "李*国", "赵*军"]


def test_an_occasion_of_a_unit_takes_its_subtree(office, county, township, bureau):
    seed_001_campaign(office, county, township, bureau)
    totals = selectors.occasion_summary(user=office, year=2025, occasion=Occasion.ARMY_DAY, unit=township)["totals"]
    assert totals["money"] == D("103400.00")
    assert totals["gifts_count"] == 0


def test_an_occasion_counts_goods_beside_money(office, township, person):
    record(
        township,
        office,
        gifts=[{"recipient_name": "消防中队", "money": D("1000"), "goods": "空调两台", "goods_value": D("5200")}],
        recipients=[{"beneficiary": person, "amount": D("300"), "goods": "米油", "goods_value": D("99.99")}],
    )
    totals = selectors.occasion_summary(user=office, year=2025, occasion=Occasion.ARMY_DAY)["totals"]
    assert (totals["money"], totals["goods_value"], totals["total_value"]) == (
        D("1300.00"),
        D("5299.99"),
        D("6599.99"),
    )


def test_a_corrected_visit_counts_its_corrected_amount(office, director, township, person):
    activity = record(township, office, recipients=[{"beneficiary": person, "amount": D("500")}])
    recipient_correct(recipient=activity.recipients.get(), amount=D("800"), reason="少登记", corrected_by=director)
    summary = selectors.occasion_summary(user=office, year=2025, occasion=Occasion.ARMY_DAY)
    assert summary["totals"]["money"] == D("800.00")
    assert summary["activity_totals"]["money"] == D("800.00")


def test_the_occasion_index_gives_years_by_occasion(office, township):
    record(township, office, title="八一", groups=[{"description": "群众", "people": 2, "money": D("200")}])
    record(township, office, title="八一二", groups=[{"description": "群众", "people": 2, "money": D("300")}])
    record(township, office, title="春节", occasion=Occasion.SPRING_FESTIVAL, on=datetime.date(2025, 12, 30))
    record(township, office, title="日常", type=ActivityType.PUBLICITY, occasion="")
    table = selectors.occasion_index(user=office)
    assert [row["year"] for row in table] == [2026, 2025]
    army_day = Occasion.values[1:].index(Occasion.ARMY_DAY)
    assert table[1]["cells"][army_day]["count"] == 2
    assert table[1]["cells"][army_day]["money"] == D("500.00")
    assert table[1]["count"] == 2
    assert table[0]["count"] == 1


def test_a_persons_visits_include_those_of_other_units(office, liaison, county, township, person):
    record(county, office, title="县八一慰问", recipients=[{"beneficiary": person, "amount": D("600")}])
    record(
        township,
        liaison,
        title="镇春节慰问",
        occasion=Occasion.SPRING_FESTIVAL,
        on=datetime.date(2025, 1, 20),
        recipients=[{"beneficiary": person, "amount": D("400"), "goods": "米油"}],
    )
    visits = selectors.person_visits(beneficiary=person, user=liaison)
    assert [(v.activity.title, v.amount, v.activity_visible) for v in visits] == [
        ("县八一慰问", D("600.00"), False),
        ("镇春节慰问", D("400.00"), True),
    ]


def test_a_units_activities_and_a_military_units(office, township, village, military_unit, pairing, time_machine):
    time_machine.move_to(datetime.datetime(2025, 10, 1, 9, 0))
    record(village, office, title="旧", on=datetime.date(2024, 8, 1), participants=100)
    record(village, office, title="村", participants=10, military_units=[military_unit])
    record(township, office, title="镇", participants=5, pairings=[pairing])
    record(
        township,
        office,
        title="慰问部队",
        on=datetime.date(2025, 7, 1),
        gifts=[{"recipient_unit": military_unit, "money": D("5000")}],
    )
    section = selectors.unit_activities(user=office, unit=township, limit=2)
    assert [a.title for a in section["latest"]] == ["镇", "村"]
    assert (section["year"], section["totals"]["count"], section["totals"]["participants"]) == (2025, 3, 15)
    assert section["query"] == f"unit={township.pk}"
    # A military unit's page lists what it took part in and what it was given.
    military = selectors.unit_activities(user=office, unit=military_unit)
    assert [a.title for a in military["latest"]] == ["村", "慰问部队"]
    assert military["totals"]["money"] == D("5000.00")
    assert military["query"] == f"military_unit={military_unit.pk}"
    paired = selectors.pairing_activities(user=office, pairing=pairing)
    assert [a.title for a in paired["latest"]] == ["镇"]


def test_dashboard_figures(office, township, village):
    record(
        township,
        office,
        title="a",
        on=datetime.date(2025, 1, 20),
        occasion=Occasion.SPRING_FESTIVAL,
        groups=[{"description": "群众", "people": 1, "money": D("100")}],
    )
    record(township, office, title="b", on=datetime.date(2025, 1, 25), type=ActivityType.PUBLICITY, occasion="")
    record(village, office, title="c", groups=[{"description": "群众", "people": 1, "money": D("50.50")}])
    record(village, office, title="d", on=datetime.date(2024, 7, 25))
    activities = Activity.objects.visible_to(office)
    by_month = selectors.activities_by_month_and_type(activities=activities, year=2025)
    assert by_month["months"][0] == {"month": 1, "by_type": {"visit": 1, "publicity": 1}, "total": 2}
    assert by_month["months"][6]["total"] == 1
    assert by_month["total"] == 3
    assert by_month["types"] == [("visit", "走访慰问"), ("publicity", "宣传教育")]
    money = selectors.money_by_occasion(activities=activities.filter(start_date__year=2025))
    assert [(row["label"], row["count"], row["money"]) for row in money] == [
        ("春节", 1, D("100.00")),
        ("八一", 1, D("50.50")),
        ("日常活动", 1, D("0.00")),
    ]
    top = selectors.top_units(activities=activities, limit=1)
    assert [(row["name"], row["count"], row["money"]) for row in top] == [("溧东镇", 2, D("100.00"))]


@pytest.mark.parametrize(
    ("name", "masked"), [("王建国", "王*国"), ("王伟", "王*"), ("欧阳建国", "欧**国"), ("李", "*"), ("", "")]
)
def test_names_are_masked(name, masked):
    assert selectors.mask_name(name) == masked
