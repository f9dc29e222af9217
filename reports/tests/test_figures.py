"""reports.figures: every section's numbers against what was recorded, for a unit's subtree and a period."""

import datetime
import json
from decimal import Decimal

import pytest

from activities.constants import ActivityType, Occasion
from beneficiaries.selectors import yearly_summary
from reports.figures import Period, figure_lines, figures, figures_diff
from units.constants import GroupRole
from units.models import Agreement, GroupMember, Pairing, PlanTarget, UnitPlan

from .figure_data import Q3, _today, record  # noqa: F401 (_today is autouse)

D = datetime.date
SECTIONS = ["activities", "leading_group", "visits", "pairings", "conscription", "placement", "payments", "plans"]


# Periods


def test_periods_have_their_span_label_and_year_before():
    q3 = Period.quarter(2026, 3)
    assert (q3.start, q3.end, q3.label) == (D(2026, 7, 1), D(2026, 9, 30), "2026年第三季度")
    assert (Period.quarter(2024, 1).end, Period.quarter(2026, 4).end) == (D(2024, 3, 31), D(2026, 12, 31))
    assert (Period.half(2026, 1).end, Period.half(2026, 1).label) == (D(2026, 6, 30), "2026年上半年")
    assert (Period.half(2026, 2).start, Period.half(2026, 2).label) == (D(2026, 7, 1), "2026年下半年")
    assert (Period.year(2026).start, Period.year(2026).end, Period.year(2026).label) == (
        D(2026, 1, 1),
        D(2026, 12, 31),
        "2026年",
    )
    army_day = Period.occasion(2026, Occasion.ARMY_DAY)
    assert (army_day.kind, army_day.year, army_day.occasion, army_day.label) == (
        "occasion",
        2026,
        "army_day",
        "2026年八一",
    )
    assert Period.occasion(2026, Occasion.SPRING_FESTIVAL).start == D(2025, 12, 1)
    assert q3.previous() == Period.quarter(2025, 3)
    assert Period.half(2026, 2).previous() == Period.half(2025, 2)
    assert Period.year(2026).previous() == Period.year(2025)
    assert army_day.previous() == Period.occasion(2025, Occasion.ARMY_DAY)
    for bad in (lambda: Period.quarter(2026, 5), lambda: Period.half(2026, 0), lambda: Period.occasion(2026, "")):
        with pytest.raises(ValueError):
            bad()


# Activities


def test_a_township_counts_its_villages_and_not_the_other_township(township, world):
    section = figures(unit=township, period=Q3)["activities"]

    # 八一 visit, the village's 板报, 征兵, the village's 安置: not 雅灰乡's visit, the Q2 meeting or the 春节 visit.
    assert section == {
        "count": 4,
        "participants": 12 + 40,
        "soldiers": 30,
        "reached": 4,
        "recipients": 1 + 3,
        "money": "2800.00",
        "goods_value": "800.00",
        "total_value": "3600.00",
        "cost": "150.00",
        "by_type": [
            {"type": "visit", "label": "走访慰问", "count": 1},
            {"type": "publicity", "label": "宣传教育", "count": 1},
            {"type": "conscription", "label": "征兵", "count": 1},
            {"type": "placement", "label": "就业安置", "count": 1},
        ],
        "counts": {**section["counts"]},
    }
    counts = {name: n for name, n in section["counts"].items() if n}
    assert counts == {
        "boards": 2,
        "slogans": 5,
        "enlist_applied": 20,
        "enlist_passed": 8,
        "enlist_final": 5,
        "placed_soldiers": 3,
    }


def test_the_other_township_and_the_county_see_their_own_activities(county, other_township, world):
    other = figures(unit=other_township, period=Q3)
    assert (other["activities"]["count"], other["activities"]["money"]) == (1, "700.00")
    assert other["conscription"] == {} and other["placement"] == {}

    whole = figures(unit=county, period=Q3)["activities"]
    assert (whole["count"], whole["participants"], whole["money"]) == (5, 12 + 40 + 8, "3500.00")


def test_a_quarter_leaves_out_activities_outside_it(township, world):
    q2 = figures(unit=township, period=Period.quarter(2025, 2))
    assert q2["activities"]["count"] == 1
    assert q2["activities"]["by_type"] == [{"type": "meeting", "label": "领导小组会议", "count": 1}]
    assert q2["visits"] == {} and q2["conscription"] == {}

    q4 = figures(unit=township, period=Period.quarter(2025, 4))["activities"]
    assert (q4["count"], q4["money"]) == (1, "400.00")
    assert figures(unit=township, period=Period.quarter(2025, 1))["activities"] == {}
    assert figures(unit=township, period=Period.year(2025))["activities"]["count"] == 6


def test_an_occasion_counts_by_its_occasion_year(township, world):
    # The 春节 visit of 2025-12-20 belongs to 2026's 春节, not to 2025's.
    spring_2026 = figures(unit=township, period=Period.occasion(2026, Occasion.SPRING_FESTIVAL))
    assert (spring_2026["activities"]["count"], spring_2026["activities"]["money"]) == (1, "400.00")
    assert [row["label"] for row in spring_2026["visits"]["occasions"]] == ["春节"]
    assert figures(unit=township, period=Period.occasion(2025, Occasion.SPRING_FESTIVAL))["activities"] == {}

    army_day = figures(unit=township, period=Period.occasion(2025, Occasion.ARMY_DAY))
    assert army_day["activities"]["count"] == 1
    # An occasion states what was done at it: no payments, plans or leading-group changes.
    assert army_day["payments"] == {} and army_day["plans"] == {} and army_day["leading_group"] == {}


# Visits


def test_visits_split_each_occasion_by_recipient_and_add_up(township, county, world):
    visits = figures(unit=township, period=Q3)["visits"]

    assert visits == {
        "occasions": [
            {
                "occasion": "army_day",
                "label": "八一",
                "activities": 1,
                "money": "2800.00",
                "goods_value": "800.00",
                "total_value": "3600.00",
                "gifts_count": 1,
                "gifts_to_troops": 1,
                "gifts_money": "2000.00",
                "gifts_goods": "800.00",
                "recipients_people": 1,
                "recipients_distinct": 1,
                "recipients_money": "500.00",
                "recipients_goods": "0.00",
                "groups_count": 1,
                "groups_people": 3,
                "groups_money": "300.00",
                "groups_goods": "0.00",
                "group_names": ["困难群众"],
                "people": 4,
            }
        ],
        "activities": 1,
        "people": 4,
        "money": "2800.00",
        "goods_value": "800.00",
        "total_value": "3600.00",
    }
    county_row = figures(unit=county, period=Q3)["visits"]["occasions"][0]
    assert (county_row["activities"], county_row["recipients_people"], county_row["recipients_money"]) == (
        2,
        2,
        "1200.00",
    )
    assert county_row["money"] == "3500.00"


def test_everyday_visits_come_after_the_occasions(office, township, world):
    record(
        township,
        office,
        type=ActivityType.ASSISTANCE,
        start_date=D(2025, 9, 9),
        title="一助一帮扶",
        groups=[{"description": "困难退役军人家庭", "people": 2, "money": "1000"}],
    )
    rows = figures(unit=township, period=Q3)["visits"]["occasions"]
    assert [(row["label"], row["groups_people"], row["money"]) for row in rows] == [
        ("八一", 3, "2800.00"),
        ("日常慰问", 2, "1000.00"),
    ]


# Leading group, pairings, 征兵 and 安置


def test_the_leading_group_on_the_period_end_with_its_changes_and_meetings(office, township, village, group, world):
    GroupMember.objects.create(
        group=group, name="吴委员", job_title="民政办主任", role=GroupRole.MEMBER, start_on=D(2025, 8, 1)
    )
    leaving = group.members.get(role=GroupRole.FIRST_DEPUTY)
    leaving.end_on = D(2025, 9, 10)
    leaving.save()
    village_group = group.__class__.objects.create(unit=village)
    GroupMember.objects.create(
        group=village_group, name="钱书记", job_title="村党支部书记", role=GroupRole.LEADER, start_on=D(2020, 1, 1)
    )
    record(township, office, type=ActivityType.MEETING, start_date=D(2025, 8, 20), title="领导小组调度会")

    section = figures(unit=township, period=Q3)["leading_group"]

    assert section == {
        "name": "双拥工作领导小组",
        "members": 2,
        "roles": [
            {"role": "leader", "label": "组长", "count": 1, "titles": ["党委书记"]},
            {"role": "member", "label": "成员", "count": 1, "titles": ["民政办主任"]},
        ],
        "joined": 1,
        "left": 1,
        "subunit_groups": 1,
        "meetings": 1,
    }
    q2 = figures(unit=township, period=Period.quarter(2025, 2))["leading_group"]
    assert (q2["members"], q2["joined"], q2["left"], q2["meetings"]) == (2, 0, 0, 1)


def test_pairings_in_force_signed_and_their_joint_activities(township, military_unit, fire_brigade, pairing, world):
    signed = Pairing.objects.create(civil_unit=township, military_unit=fire_brigade, signed_on=D(2025, 8, 1))
    Agreement.objects.create(
        pairing=signed,
        signed_on=D(2025, 8, 1),
        file="agreements/x.pdf",
        original_name="协议.pdf",
        content_type="application/pdf",
        size=10,
    )
    Agreement.objects.create(
        pairing=pairing,
        signed_on=D(2024, 3, 5),
        file="agreements/y.pdf",
        original_name="协议.pdf",
        content_type="application/pdf",
        size=10,
    )

    section = figures(unit=township, period=Q3)["pairings"]

    assert section == {
        "active": 2,
        "partners": sorted([military_unit.name, fire_brigade.name]),
        "signed": 1,
        "ended": 0,
        "agreements": 1,
        "joint_activities": 1,
        "joint_participants": 12,
        "joint_soldiers": 30,
    }
    q2 = figures(unit=township, period=Period.quarter(2025, 2))["pairings"]
    assert (q2["active"], q2["signed"], q2["joint_activities"]) == (1, 0, 0)


def test_conscription_and_placement_counts(township, village, world):
    numbers = figures(unit=township, period=Q3)
    assert numbers["conscription"] == {"applied": 20, "passed": 8, "final": 5}
    assert numbers["placement"] == {"officers": 0, "soldiers": 3, "spouses": 0}
    assert figures(unit=village, period=Q3)["conscription"] == {}


# Payments


def test_payments_per_category_with_standard_backpay_and_award(township, ledger, world):
    section = figures(unit=township, period=Q3)["payments"]

    assert section["categories"] == [
        {
            "category": "04",
            "label": "残疾军人",
            "kind": "disability",
            "kind_label": "残疾抚恤金",
            "people": 1,
            "count": 3,
            "amount": "4500.00",
            "rates": [{"rate": "1500.00", "basis": "month"}],
            "backpay_people": 1,
            "backpay_amount": "120.50",
            "total": "4620.50",
        }
    ]
    # The 慰问金 of the 八一 visit is in the ledger too (500); the returned row and the unpaid batch are not counted.
    assert section["one_offs"] == [
        {"kind": "award", "label": "立功奖励", "people": 1, "count": 1, "amount": "1000.00"},
        {"kind": "condolence", "label": "慰问金", "people": 1, "count": 1, "amount": "500.00"},
    ]
    assert {key: section[key] for key in section if key not in ("categories", "one_offs")} == {
        "regular_amount": "4500.00",
        "backpay_amount": "120.50",
        "award_amount": "1000.00",
        "one_off_amount": "1500.00",
        "people": 1,
        "amount": "6120.50",
    }


def test_payments_of_a_region_are_those_of_its_townships(county, other_township, township, ledger, world):
    county_section = figures(unit=county, period=Q3)["payments"]
    other = figures(unit=other_township, period=Q3)["payments"]
    township_section = figures(unit=township, period=Q3)["payments"]
    assert (other["amount"], other["regular_amount"], other["people"]) == ("1500.00", "800.00", 1)
    assert Decimal(county_section["amount"]) == Decimal(township_section["amount"]) + Decimal(other["amount"])
    assert county_section["people"] == 2
    # Q2 holds June's row only.
    assert figures(unit=township, period=Period.quarter(2025, 2))["payments"]["amount"] == "1500.00"


def test_four_quarters_add_up_to_the_year_and_to_the_yearly_summary(office, county, ledger, world):
    quarters = [figures(unit=county, period=Period.quarter(2025, q))["payments"] for q in (1, 2, 3, 4)]
    year = figures(unit=county, period=Period.year(2025))["payments"]
    assert sum(Decimal((q or {}).get("amount", "0")) for q in quarters) == Decimal(year["amount"])
    summary = yearly_summary(user=office, year=2025)
    assert Decimal(year["amount"]) == summary["amount"]
    assert Decimal(year["backpay_amount"]) == summary["backpay_amount"]


def test_a_department_has_no_payments_section(office, bureau, township, ledger, world):
    record(bureau, office, type=ActivityType.LEGAL, start_date=D(2025, 8, 8), title="法律拥军服务", participants=6)
    numbers = figures(unit=bureau, period=Q3)
    assert numbers["activities"]["count"] == 1
    assert numbers["payments"] == {} and numbers["visits"] == {}


# Plans


def test_the_plan_against_what_was_done_up_to_the_period_end(township, world):
    plan = UnitPlan.objects.create(unit=township, year=2025)
    PlanTarget.objects.create(plan=plan, metric="type:visit", target=4)
    PlanTarget.objects.create(plan=plan, metric="count:boards", target=4)

    q3 = figures(unit=township, period=Q3)["plans"]
    assert q3["rows"] == [
        {"metric": "type:visit", "label": "走访慰问（次）", "target": 4, "done": 1, "percent": 25, "reached": False},
        {"metric": "count:boards", "label": "板报（期）", "target": 4, "done": 2, "percent": 50, "reached": False},
    ]
    assert (q3["completion"], q3["reached"]) == (37, 0)
    assert 70 < q3["expected"] < 80
    # By the year's end the 春节 visit of December counts too.
    assert figures(unit=township, period=Period.year(2025))["plans"]["rows"][0]["done"] == 2
    assert figures(unit=township, period=Period.year(2024))["plans"] == {}


# Empty, JSON, lines and differences


def test_a_unit_with_nothing_has_only_empty_sections(bureau):
    numbers = figures(unit=bureau, period=Q3)
    assert all(numbers[name] == {} for name in SECTIONS)
    assert figure_lines(numbers) == []


def test_figures_are_json_and_money_stays_exact(office, township, people, world):
    record(
        township,
        office,
        type=ActivityType.VISIT,
        start_date=D(2025, 9, 9),
        title="慰问",
        groups=[{"description": "困难群众", "people": 1, "money": "0.29"} for _ in range(7)],
    )
    numbers = figures(unit=township, period=Q3)
    assert json.loads(json.dumps(numbers)) == numbers
    assert numbers["activities"]["money"] == "2802.03"
    assert numbers["visits"]["occasions"][-1]["groups_money"] == "2.03"


def test_figure_lines_format_amounts_and_counts_and_skip_zeros(township, ledger, world):
    lines = figure_lines(figures(unit=township, period=Q3))

    assert ("双拥活动", "活动", "4 项") in lines
    assert ("双拥活动", "板报", "2 期") in lines
    assert ("走访慰问", "八一·慰问金合计", "2,800.00 元") in lines
    assert ("征兵工作", "报名", "20 人") in lines
    assert ("安置工作", "安置退役士兵", "3 人") in lines
    assert ("优抚发放", "残疾军人·残疾抚恤金", "1 人，标准每月 1,500.00 元，4,500.00 元") in lines
    assert ("优抚发放", "补发合计", "120.50 元") in lines
    assert not any(value.startswith("0 ") or value == "0.00 元" for _, _, value in lines)
    # 征兵 and 安置 counts are shown in their own sections only.
    assert not any(section == "双拥活动" and label == "报名" for section, label, _ in lines)


def test_figures_diff_lists_exactly_the_changed_lines(office, township, world):
    before = figures(unit=township, period=Q3)
    assert figures_diff(before, figures(unit=township, period=Q3)) == []

    record(
        township,
        office,
        type=ActivityType.PUBLICITY,
        start_date=D(2025, 9, 15),
        title="国防教育宣传",
        participants=10,
        lectures=1,
    )
    after = figures(unit=township, period=Q3)

    assert figures_diff(before, after) == [
        ("双拥活动", "活动", "4 项", "5 项"),
        ("双拥活动", "参加人员", "52 人次", "62 人次"),
        ("双拥活动", "宣传教育", "1 项", "2 项"),
        ("双拥活动", "讲座", "—", "1 场"),
    ]
    assert figures_diff(after, before)[-1] == ("双拥活动", "讲座", "1 场", "—")
    assert figures_diff(None, before)[0] == ("双拥活动", "活动", "—", "4 项")


def test_the_query_count_does_not_grow_with_the_data(
    office, county, township, ledger, world, django_assert_max_num_queries
):
    with django_assert_max_num_queries(30) as context:
        figures(unit=county, period=Q3)
    used = len(context.captured_queries)
    for day in range(1, 11):
        record(
            township,
            office,
            type=ActivityType.VISIT,
            start_date=D(2025, 8, day),
            title="走访",
            groups=[{"description": "困难群众", "people": 1, "money": "10"}],
        )
    with django_assert_max_num_queries(used):
        figures(unit=county, period=Q3)
