"""The seeds' own figures, produced by generating batches for the people and standards they describe."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from beneficiaries.constants import Basis, Category, DisabilityNature, PaymentKind
from beneficiaries.payment_services import backpay_batch_create, backpay_generate
from beneficiaries.selectors import batch_totals
from units.constants import UnitKind
from units.models import Unit

from .payment_helpers import d, generate, make_people, make_standard, mark_paid

LIVING, DISABILITY, CONSCRIPT = PaymentKind.LIVING, PaymentKind.DISABILITY, PaymentKind.CONSCRIPT


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 5, 12, 10, 0), tick=False):
        yield


@pytest.fixture
def lidong(county):
    return Unit.objects.create(name="溧东乡", kind=UnitKind.TOWNSHIP, parent=county, region_code="320481102000")


def lines(batch):
    totals = batch_totals(batch=batch)
    return [row["text"] for row in totals["rows"]], totals["amount"]


def test_lidong_one_month_of_living_allowances(county, lidong, office):
    make_standard(county, LIVING, Category.MARTYR_FAMILY, 200)  # 老烈士子女 (Art. 62)
    make_standard(county, LIVING, Category.ILL_RETURNED, 365)
    make_standard(county, LIVING, Category.WAR_VETERAN, 365)
    make_standard(county, LIVING, Category.DEMOBILIZED, 672)
    make_standard(county, LIVING, Category.RURAL_VETERAN_60, 15)
    make_people(lidong, 5, Category.MARTYR_FAMILY)
    make_people(lidong, 7, Category.DEMOBILIZED)
    make_people(lidong, 229, Category.ILL_RETURNED)
    make_people(lidong, 27, Category.WAR_VETERAN)
    make_people(lidong, 203, Category.RURAL_VETERAN_60)

    batch, counts = generate(county, LIVING, d(3), d(3), office)

    assert lines(batch) == (
        [
            "烈士遗属 5人 × 200元 = 1,000.00 元",
            "带病回乡退役军人 229人 × 365元 = 83,585.00 元",
            "参战参试退役人员 27人 × 365元 = 9,855.00 元",
            "在乡复员军人 7人 × 672元 = 4,704.00 元",
            "60周岁以上农村籍退役士兵 203人 × 15元 = 3,045.00 元",
        ],
        Decimal("102189.00"),
    )
    assert (counts["people"], counts["created"], counts["exceptions"]) == (471, 471, 0)


def test_lidong_one_month_of_disability_pensions_for_11_people(county, lidong, office):
    grades = [(4, DisabilityNature.WAR, 2034, 2), (6, DisabilityNature.WAR, 1068, 2)]
    grades += [(7, DisabilityNature.DUTY, 743, 3), (8, DisabilityNature.WAR, 620, 4)]
    for grade, nature, amount, count in grades:
        make_standard(county, DISABILITY, Category.DISABLED, amount, grade=grade, nature=nature)
        make_people(lidong, count, Category.DISABLED, grade=grade, nature=nature)

    batch, counts = generate(county, DISABILITY, d(3), d(3), office)

    text, amount = lines(batch)
    assert amount == Decimal("10913.00") and counts["people"] == 11
    assert text == [
        "残疾军人 2人 × 2034元 = 4,068.00 元",
        "残疾军人 2人 × 1068元 = 2,136.00 元",
        "残疾军人 3人 × 743元 = 2,229.00 元",
        "残疾军人 4人 × 620元 = 2,480.00 元",
    ]


def test_yahui_first_half_year_conscript_families_paid_the_annual_amount_whole(county, other_township, office):
    make_standard(county, CONSCRIPT, Category.CONSCRIPT_FAMILY, 1546, basis=Basis.YEAR, payment_month=6)
    make_people(
        other_township,
        9,
        Category.CONSCRIPT_FAMILY,
        start=datetime.date(2025, 9, 10),
        serving_member_name="现役军人",
        enlistment_date=datetime.date(2025, 9, 10),
    )

    batch, counts = generate(county, CONSCRIPT, d(1), d(6), office)

    assert batch.title == "2026年1—6月义务兵家庭优待金"
    assert lines(batch) == (["义务兵家庭 9人 × 1546元 = 13,914.00 元"], Decimal("13914.00"))
    second_half, counts = generate(county, CONSCRIPT, d(7), d(12), office)
    assert counts["created"] == 0


def test_yahui_demobilized_soldiers_backpay_of_a_raise_entered_in_may(county, other_township, office, director):
    old_rate = make_standard(county, LIVING, Category.DEMOBILIZED, 90, effective_from=datetime.date(2025, 1, 1))
    make_people(other_township, 26, Category.DEMOBILIZED)
    for month in range(1, 5):
        batch, _ = generate(county, LIVING, d(month), d(month), office)
        assert lines(batch) == (["在乡复员军人 26人 × 90元 = 2,340.00 元"], Decimal("2340.00"))
        mark_paid(batch, approver=director, paid_on=d(month, 10))
    old_rate.effective_to = datetime.date(2025, 12, 31)
    old_rate.save()
    new_rate = make_standard(county, LIVING, Category.DEMOBILIZED, 140, effective_from=d(1), replaces=old_rate)

    backpay = backpay_batch_create(unit=county, standard=new_rate, created_by=office)
    backpay_generate(batch=backpay, generated_by=office)

    assert backpay.title == "2026年1—4月在乡复员军人定期生活补助补发"
    assert lines(backpay) == (["在乡复员军人（补发） 26人 × 50元 × 4个月 = 5,200.00 元"], Decimal("5200.00"))
    assert backpay_generate(batch=backpay, generated_by=office)["created"] == 0
    may, _ = generate(county, LIVING, d(5), d(5), office)
    assert lines(may) == (["在乡复员军人 26人 × 140元 = 3,640.00 元"], Decimal("3640.00"))
