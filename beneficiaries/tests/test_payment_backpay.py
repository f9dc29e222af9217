import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models import Sum

from beneficiaries.constants import Category, ExceptionReason, PaymentKind
from beneficiaries.models import Payment, PaymentBatch, Standard
from beneficiaries.payment_services import (
    backpay_batch_create,
    backpay_generate,
    backpay_span,
    batch_create,
    batch_generate,
)
from beneficiaries.selectors import batch_totals

from .payment_helpers import d, generate, make_people, make_standard, mark_paid

LIVING = PaymentKind.LIVING


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 5, 12, 10, 0), tick=False):
        yield


@pytest.fixture
def old_rate(county):
    return make_standard(county, LIVING, Category.DEMOBILIZED, 90, effective_from=datetime.date(2025, 1, 1))


@pytest.fixture
def veterans(county, other_township, office, director, old_rate):
    """26 在乡复员军人 of 雅灰乡 paid 90元 a month for January to April, each month its own paid batch."""
    people = make_people(other_township, 26, Category.DEMOBILIZED)
    for month in range(1, 5):
        batch, _ = generate(county, LIVING, d(month), d(month), office)
        mark_paid(batch, approver=director, paid_on=d(month, 10))
    return people


def raise_to(standard, amount, effective_from):
    """Enter a raise as the standards page does: the old standard ends the day before."""
    standard.effective_to = effective_from - datetime.timedelta(days=1)
    standard.save()
    return make_standard(
        standard.unit, standard.kind, standard.category, amount, effective_from=effective_from, replaces=standard
    )


def backpay_rows(batch):
    return Payment.objects.filter(batch=batch, is_backpay=True)


def test_a_raise_entered_in_may_back_to_january_pays_the_difference_once(county, office, veterans, old_rate):
    new_rate = raise_to(old_rate, 140, d(1))
    assert backpay_span(unit=county, standard=new_rate) == (d(1), d(4))
    batch = backpay_batch_create(unit=county, standard=new_rate, created_by=office)
    assert batch.title == "2026年1—4月在乡复员军人定期生活补助补发"
    assert (batch.is_backpay, batch.cause) == (True, new_rate)
    counts = backpay_generate(batch=batch, generated_by=office)
    assert (counts["created"], counts["people"], counts["amount"]) == (104, 26, Decimal("5200.00"))
    totals = batch_totals(batch=batch)
    assert [row["text"] for row in totals["rows"]] == ["在乡复员军人（补发） 26人 × 50元 × 4个月 = 5,200.00 元"]
    row = backpay_rows(batch).first()
    assert (row.rate, row.amount, row.cause, row.standard, row.kind) == (
        Decimal("50.00"),
        Decimal("50.00"),
        new_rate,
        new_rate,
        LIVING,
    )

    assert backpay_generate(batch=batch, generated_by=office)["created"] == 0
    again = backpay_batch_create(unit=county, standard=new_rate, created_by=office)
    assert again == batch
    assert Payment.objects.filter(is_backpay=True).count() == 104


def test_a_second_batch_for_the_same_raise_adds_nothing_for_months_already_made_up(county, office, veterans, old_rate):
    new_rate = raise_to(old_rate, 140, d(1))
    first = batch_create(unit=county, kind=LIVING, first_month=d(1), last_month=d(2), created_by=office, cause=new_rate)
    backpay_generate(batch=first, generated_by=office)
    wider = batch_create(unit=county, kind=LIVING, first_month=d(1), last_month=d(4), created_by=office, cause=new_rate)
    counts = backpay_generate(batch=wider, generated_by=office)
    assert counts["created"] == 52  # March and April only
    assert Payment.objects.filter(is_backpay=True).aggregate(total=Sum("amount"))["total"] == Decimal("5200.00")


def test_the_database_refuses_a_second_backpay_row_for_one_raise_and_month(county, office, veterans, old_rate):
    new_rate = raise_to(old_rate, 140, d(1))
    batch = backpay_batch_create(unit=county, standard=new_rate, created_by=office)
    backpay_generate(batch=batch, generated_by=office)
    row = backpay_rows(batch).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            beneficiary=row.beneficiary,
            township=row.township,
            kind=LIVING,
            month=row.month,
            rate=50,
            amount=50,
            is_backpay=True,
            cause=new_rate,
        )


def test_a_second_raise_pays_only_what_the_first_backpay_left(county, office, veterans, old_rate):
    first_raise = raise_to(old_rate, 140, d(1))
    backpay_generate(
        batch=backpay_batch_create(unit=county, standard=first_raise, created_by=office), generated_by=office
    )
    second_raise = raise_to(first_raise, 160, d(3))
    batch = backpay_batch_create(unit=county, standard=second_raise, created_by=office)
    assert (batch.first_month, batch.last_month) == (d(3), d(4))
    counts = backpay_generate(batch=batch, generated_by=office)
    assert (counts["created"], counts["amount"]) == (52, Decimal("1040.00"))  # 26 × 2 months × (160 − 90 − 50)
    person = veterans[0]
    paid = Payment.objects.counted().filter(beneficiary=person, month=d(4)).aggregate(total=Sum("amount"))
    assert paid["total"] == Decimal("160.00")


def test_months_paid_at_the_new_rate_are_not_made_up_again(county, office, director, veterans, old_rate):
    new_rate = raise_to(old_rate, 140, d(1))
    may, _ = generate(county, LIVING, d(5), d(5), office)
    assert {row.amount for row in Payment.objects.filter(batch=may)} == {Decimal("140.00")}
    mark_paid(may, approver=director, paid_on=d(5, 10))
    assert backpay_span(unit=county, standard=new_rate) == (d(1), d(5))
    batch = backpay_batch_create(unit=county, standard=new_rate, created_by=office)
    assert backpay_generate(batch=batch, generated_by=office)["created"] == 104


def test_draft_months_are_regenerated_at_the_new_rate_not_made_up(county, office, veterans, old_rate):
    may, _ = generate(county, LIVING, d(5), d(5), office)
    new_rate = raise_to(old_rate, 140, d(1))
    batch = backpay_batch_create(unit=county, standard=new_rate, created_by=office)
    assert batch.last_month == d(4)
    assert backpay_generate(batch=batch, generated_by=office)["created"] == 104
    counts = batch_generate(batch=may, generated_by=office)
    assert (counts["created"], counts["removed"], counts["amount"]) == (26, 26, Decimal("3640.00"))


def test_a_raise_of_another_office_leaves_a_township_with_its_own_standard_alone(
    city, county, township, other_township, office, veterans, old_rate
):
    city_rate = make_standard(city, LIVING, Category.DEMOBILIZED, 200, effective_from=d(1))
    batch = batch_create(
        unit=county, kind=LIVING, first_month=d(1), last_month=d(4), created_by=office, cause=city_rate
    )
    assert backpay_generate(batch=batch, generated_by=office)["created"] == 0


def test_a_person_without_an_account_is_listed_not_made_up(county, office, veterans, old_rate):
    person = veterans[0]
    person.bank_account = ""
    person.save()
    new_rate = raise_to(old_rate, 140, d(1))
    batch = backpay_batch_create(unit=county, standard=new_rate, created_by=office)
    assert backpay_generate(batch=batch, generated_by=office)["created"] == 100
    exception = batch.exceptions.get()
    assert (exception.beneficiary, exception.reason) == (person, ExceptionReason.NO_ACCOUNT)
    assert "2026年1—4月" in exception.detail


def test_backpay_batches_are_refused_for_future_months_and_months_before_the_raise(county, office, veterans, old_rate):
    new_rate = raise_to(old_rate, 140, d(1))
    with pytest.raises(ValidationError) as error:
        batch_create(unit=county, kind=LIVING, first_month=d(1), last_month=d(6), created_by=office, cause=new_rate)
    assert "本月" in error.value.message_dict["last_month"][0]
    with pytest.raises(ValidationError) as error:
        batch_create(
            unit=county,
            kind=LIVING,
            first_month=d(12, year=2025),
            last_month=d(3),
            created_by=office,
            cause=new_rate,
        )
    assert "生效月份" in error.value.message_dict["first_month"][0]
    with pytest.raises(ValidationError) as error:
        batch_create(
            unit=county, kind=PaymentKind.PENSION, first_month=d(1), last_month=d(3), created_by=office, cause=new_rate
        )
    assert "kind" in error.value.message_dict
    assert not PaymentBatch.objects.filter(is_backpay=True).exists()


def test_a_raise_with_nothing_paid_since_has_no_backpay(county, office, old_rate):
    new_rate = raise_to(old_rate, 140, d(1))
    with pytest.raises(ValidationError, match="不需要补发"):
        backpay_span(unit=county, standard=new_rate)


def test_the_command_generates_the_backpay_of_a_raise_and_a_second_run_adds_nothing(
    county, office, veterans, old_rate, capsys
):
    new_rate = raise_to(old_rate, 140, d(1))
    args = ["generate_payments", "--backpay-standard", str(new_rate.pk), "--unit", county.region_code]
    call_command(*args)
    out = capsys.readouterr().out
    assert "2026年1—4月在乡复员军人定期生活补助补发" in out and "新增 104 条" in out
    assert "26人 × 50元 × 4个月 = 5,200.00 元" in out
    call_command(*args)
    assert "没有需要新增的发放记录" in capsys.readouterr().out
    assert Payment.objects.filter(is_backpay=True).count() == 104
    assert Standard.objects.get(pk=new_rate.pk).backpays.count() == 104
