"""Each death rule of the 条例 as a function: what the survivors are due, to the fen."""

import datetime
from decimal import Decimal

from beneficiaries.constants import Category, DeathCause, DisabilityNature, PaymentKind
from beneficiaries.death_rules import first_unpaid_month, funeral_grants, last_paid_month
from beneficiaries.models import Entitlement

DIED = datetime.date(2026, 3, 17)


def held(category, *, grade=None, nature="", start=datetime.date(2010, 1, 1), end=datetime.date(2026, 3, 31)):
    return Entitlement(category=category, grade=grade, nature=nature, start_on=start, end_on=end)


def test_regular_pay_covers_the_month_of_death_and_stops_after_it():
    assert last_paid_month(DIED) == datetime.date(2026, 3, 1)
    assert first_unpaid_month(DIED) == datetime.date(2026, 4, 1)
    assert last_paid_month(datetime.date(2026, 12, 31)) == datetime.date(2026, 12, 1)
    assert first_unpaid_month(datetime.date(2026, 12, 31)) == datetime.date(2027, 1, 1)
    assert first_unpaid_month(datetime.date(2024, 2, 29)) == datetime.date(2024, 3, 1)


def test_art_22_a_martyrs_parent_is_due_six_months_of_pension():
    result = funeral_grants(
        entitlements=[held(Category.MARTYR_FAMILY)],
        death_on=DIED,
        death_cause=DeathCause.ILLNESS,
        rates={PaymentKind.PENSION: Decimal("2196.50")},
    )
    (grant,) = result.grants
    assert (grant.kind, grant.months, grant.rate, grant.amount) == (
        PaymentKind.FUNERAL,
        6,
        Decimal("2196.50"),
        Decimal("13179.00"),
    )
    assert grant.article == "条例第二十二条"
    assert grant.category == Category.MARTYR_FAMILY
    assert "6个月定期抚恤金" in grant.basis


def test_art_22_applies_to_every_kind_of_survivor_whatever_the_cause():
    for category in (Category.DUTY_DEATH_FAMILY, Category.ILLNESS_DEATH_FAMILY):
        result = funeral_grants(
            entitlements=[held(category)],
            death_on=DIED,
            death_cause=DeathCause.OTHER,
            rates={PaymentKind.PENSION: Decimal("1000")},
        )
        assert [g.amount for g in result.grants] == [Decimal("6000.00")]


def test_art_32_a_disabled_veteran_dying_of_illness_leaves_twelve_months_of_pension():
    result = funeral_grants(
        entitlements=[held(Category.DISABLED, grade=6, nature=DisabilityNature.WAR)],
        death_on=DIED,
        death_cause=DeathCause.ILLNESS,
        rates={PaymentKind.DISABILITY: Decimal("1234.56")},
    )
    (grant,) = result.grants
    assert (grant.kind, grant.months, grant.amount) == (PaymentKind.FUNERAL, 12, Decimal("14814.72"))
    assert grant.article == "条例第三十二条"
    # Grade 6 is not 1–4: no 病故遗属 treatment for the survivors.
    assert not any("病故军人遗属" in note for note in result.notes)


def test_art_32_survivors_of_a_grade_1_to_4_war_or_duty_veteran_are_treated_as_illness_death_family():
    for grade, nature in [(1, DisabilityNature.WAR), (4, DisabilityNature.DUTY)]:
        result = funeral_grants(
            entitlements=[held(Category.DISABLED, grade=grade, nature=nature)],
            death_on=DIED,
            death_cause=DeathCause.ILLNESS,
            rates={PaymentKind.DISABILITY: Decimal("5000")},
        )
        assert [g.amount for g in result.grants] == [Decimal("60000.00")]
        assert any("病故军人遗属" in note for note in result.notes)
    # 因病 grade 2 and 因战 grade 5 are outside the rule.
    for grade, nature in [(2, DisabilityNature.ILLNESS), (5, DisabilityNature.WAR)]:
        result = funeral_grants(
            entitlements=[held(Category.DISABLED, grade=grade, nature=nature)],
            death_on=DIED,
            death_cause=DeathCause.ILLNESS,
            rates={PaymentKind.DISABILITY: Decimal("5000")},
        )
        assert not any("病故军人遗属" in note for note in result.notes)


def test_art_32_death_from_an_old_wound_is_treated_as_death_on_duty():
    result = funeral_grants(
        entitlements=[held(Category.DISABLED, grade=3, nature=DisabilityNature.DUTY)],
        death_on=DIED,
        death_cause=DeathCause.OLD_WOUND,
        rates={PaymentKind.DISABILITY: Decimal("5000"), PaymentKind.LUMP_SUM: Decimal("1105880.00")},
    )
    # No twelve months: the 因公牺牲 一次性抚恤金 instead, and the survivors' 定期抚恤金 noted.
    (grant,) = result.grants
    assert (grant.kind, grant.amount, grant.category) == (
        PaymentKind.LUMP_SUM,
        Decimal("1105880.00"),
        Category.DUTY_DEATH_FAMILY,
    )
    assert result.funeral is None
    assert any("因公牺牲军人遗属" in note and "定期抚恤金" in note for note in result.notes)


def test_an_old_wound_death_without_a_lump_sum_standard_says_so_and_grants_nothing():
    result = funeral_grants(
        entitlements=[held(Category.DISABLED, grade=3, nature=DisabilityNature.WAR)],
        death_on=DIED,
        death_cause=DeathCause.OLD_WOUND,
        rates={PaymentKind.DISABILITY: Decimal("5000")},
    )
    assert result.grants == []
    assert any("未找到" in note for note in result.notes)


def test_a_disabled_veteran_dying_of_other_causes_leaves_no_funeral_grant():
    result = funeral_grants(
        entitlements=[held(Category.DISABLED, grade=6, nature=DisabilityNature.WAR)],
        death_on=DIED,
        death_cause=DeathCause.OTHER,
        rates={PaymentKind.DISABILITY: Decimal("1000")},
    )
    assert result.grants == []
    assert result.total == Decimal("0.00")


def test_arts_61_62_a_war_veteran_on_living_allowance_is_due_six_months_of_it():
    result = funeral_grants(
        entitlements=[held(Category.WAR_VETERAN)],
        death_on=DIED,
        death_cause=DeathCause.OTHER,
        rates={PaymentKind.LIVING: Decimal("365.00")},
    )
    (grant,) = result.grants
    assert (grant.months, grant.amount, grant.article) == (6, Decimal("2190.00"), "条例第六十一条、第六十二条")


def test_other_living_allowance_groups_have_no_funeral_grant():
    result = funeral_grants(
        entitlements=[held(Category.ILL_RETURNED), held(Category.RURAL_VETERAN_60)],
        death_on=DIED,
        death_cause=DeathCause.ILLNESS,
        rates={PaymentKind.LIVING: Decimal("365.00")},
    )
    assert result.grants == []


def test_an_entitlement_ended_before_the_month_of_death_does_not_count():
    result = funeral_grants(
        entitlements=[held(Category.WAR_VETERAN, end=datetime.date(2026, 2, 28))],
        death_on=DIED,
        death_cause=DeathCause.ILLNESS,
        rates={PaymentKind.LIVING: Decimal("365.00")},
    )
    assert result.grants == []


def test_where_two_rules_apply_the_higher_funeral_grant_is_paid_once():
    result = funeral_grants(
        entitlements=[
            held(Category.DISABLED, grade=8, nature=DisabilityNature.WAR),
            held(Category.WAR_VETERAN),
        ],
        death_on=DIED,
        death_cause=DeathCause.ILLNESS,
        rates={PaymentKind.DISABILITY: Decimal("400.00"), PaymentKind.LIVING: Decimal("700.00")},
    )
    assert sorted(g.amount for g in result.grants) == [Decimal("4200.00"), Decimal("4800.00")]
    assert result.funeral.amount == Decimal("4800.00")
    assert result.total == Decimal("4800.00")
    assert any("按最高的一项发放" in note for note in result.notes)


def test_without_a_rate_no_grant_is_made_up():
    result = funeral_grants(
        entitlements=[held(Category.MARTYR_FAMILY)], death_on=DIED, death_cause=DeathCause.ILLNESS, rates={}
    )
    assert result.grants == []
    assert result.notes
