"""The small world of the figures and writing tests: two townships' activities and ledger rows of 2025.

conftest.py offers the fixtures; a module that wants today frozen at 2026-01-20 imports the autouse `_today`."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from activities.constants import ActivityType, Occasion
from activities.services import activity_create
from activities.tests.log_data import make_person
from beneficiaries.constants import Basis, BatchStatus, Category, PaymentKind
from beneficiaries.models import Payment, Standard
from beneficiaries.tests.test_payment_views import make_batch
from reports.figures import Period

D = datetime.date
Q3 = Period.quarter(2025, 3)


def record(unit, by, **fields):
    return activity_create(unit=unit, created_by=by, **fields)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 1, 20, 10, 0), tick=False):
        yield


@pytest.fixture
def people(township, other_township):
    return {"east": make_person(township, 1, "李大海"), "west": make_person(other_township, 3, "赵德明")}


@pytest.fixture
def world(office, township, village, other_township, military_unit, pairing, people):
    """溧东镇 (with 东村) and 雅灰乡 in 2025: a 八一 visit giving to a person, a troop and a group; a village's 板报;
    the other township's visit; a meeting in Q2; a 春节 visit in December; 征兵 and 安置 counts."""

    def add(unit, kind, day, title, **fields):
        return record(unit, office, type=kind, start_date=day, title=title, **fields)

    return {
        "army_day": add(
            township,
            ActivityType.VISIT,
            D(2025, 7, 28),
            "八一走访慰问驻地部队",
            occasion=Occasion.ARMY_DAY,
            participants=12,
            soldiers=30,
            reached=4,
            cost="150",
            recipients=[{"beneficiary": people["east"], "amount": "500"}],
            gifts=[{"recipient_unit": military_unit, "money": "2000", "goods": "慰问品", "goods_value": "800"}],
            groups=[{"description": "困难群众", "people": 3, "money": "300"}],
            pairings=[pairing],
        ),
        "boards": add(
            village, ActivityType.PUBLICITY, D(2025, 8, 10), "村拥军板报", participants=40, boards=2, slogans=5
        ),
        "other": add(
            other_township,
            ActivityType.VISIT,
            D(2025, 7, 30),
            "雅灰乡八一走访慰问",
            occasion=Occasion.ARMY_DAY,
            participants=8,
            recipients=[{"beneficiary": people["west"], "amount": "700"}],
        ),
        "meeting": add(township, ActivityType.MEETING, D(2025, 5, 10), "领导小组会议", participants=9),
        "spring": add(
            township,
            ActivityType.VISIT,
            D(2025, 12, 20),
            "春节走访慰问",
            occasion=Occasion.SPRING_FESTIVAL,
            recipients=[{"beneficiary": people["east"], "amount": "400"}],
        ),
        "enlist": add(
            township,
            ActivityType.CONSCRIPTION,
            D(2025, 9, 1),
            "征兵体检",
            enlist_applied=20,
            enlist_passed=8,
            enlist_final=5,
        ),
        "placement": add(village, ActivityType.PLACEMENT, D(2025, 9, 5), "退役士兵安置", placed_soldiers=3),
    }


@pytest.fixture
def ledger(office, county, people):
    """Q3 2025 of the ledger: 残疾抚恤金 of 溧东镇's person for three months at one standard, a 补发 with fen,
    an award; a returned row and a row of an unpaid batch that do not count; 雅灰乡's person paid too."""
    east, west = people["east"], people["west"]
    standard = Standard.objects.create(
        unit=county,
        kind=PaymentKind.DISABILITY,
        category=Category.DISABLED,
        grade=6,
        basis=Basis.MONTH,
        amount=Decimal("1500"),
        effective_from=D(2025, 1, 1),
    )

    def pay(person, month, amount, **fields):
        fields.setdefault("kind", PaymentKind.DISABILITY)
        fields.setdefault("category", Category.DISABLED)
        return Payment.objects.create(
            beneficiary=person, township_id=person.township_id, month=month, amount=Decimal(amount), **fields
        )

    for month in (7, 8, 9):
        pay(east, D(2025, month, 1), "1500", rate=Decimal("1500"), standard=standard, paid_on=D(2025, month, 20))
    pay(east, D(2025, 7, 1), "120.50", is_backpay=True, cause=standard, paid_on=D(2025, 9, 20))
    pay(east, D(2025, 8, 1), "1000", kind=PaymentKind.AWARD, category="", reference="award:1", paid_on=D(2025, 8, 5))
    pay(east, D(2025, 9, 1), "1500", rate=Decimal("1500"), returned_on=D(2025, 9, 25), paid_on=D(2025, 9, 20))
    draft = make_batch(county, PaymentKind.NURSING, D(2025, 8, 1), created_by=office, status=BatchStatus.DRAFT)
    pay(east, D(2025, 8, 1), "999", kind=PaymentKind.NURSING, batch=draft)
    pay(west, D(2025, 7, 1), "800", kind=PaymentKind.LIVING, category=Category.DEMOBILIZED, paid_on=D(2025, 7, 20))
    pay(east, D(2025, 6, 1), "1500", rate=Decimal("1500"), standard=standard, paid_on=D(2025, 6, 20))
    return standard
