import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from beneficiaries.constants import (
    Basis,
    BatchStatus,
    Category,
    ChangeKind,
    DisabilityNature,
    ExceptionReason,
    PaymentKind,
    PayMethod,
    ServiceArea,
)
from beneficiaries.models import Entitlement, Payment, PaymentBatch
from beneficiaries.payment_services import (
    batch_approve,
    batch_create,
    batch_generate,
    batch_generate_start,
    batch_mark_paid,
    payment_return,
    payments_after_stop,
)
from beneficiaries.services import change_record, transfer_accept
from conftest import make_user
from units.constants import JobStatus, Role, UnitKind
from units.models import Unit

from .payment_helpers import d, generate, make_people, make_standard, mark_paid

PENSION, DISABILITY, LIVING, CONSCRIPT = (
    PaymentKind.PENSION,
    PaymentKind.DISABILITY,
    PaymentKind.LIVING,
    PaymentKind.CONSCRIPT,
)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 6, 20, 10, 0), tick=False):
        yield


@pytest.fixture
def martyr_count():
    return 3


def rows(batch):
    return list(Payment.objects.filter(batch=batch).order_by("beneficiary_id", "month"))


def months_paid(person, kind=PENSION):
    return sorted(Payment.objects.counted().filter(beneficiary=person, kind=kind).values_list("month", flat=True))


def exceptions(batch):
    return {(e.beneficiary.name, e.reason) for e in batch.exceptions.select_related("beneficiary")}


def record(person, kind, effective_on, user, **fields):
    if kind in (ChangeKind.SUSPEND, ChangeKind.HOLD, ChangeKind.CANCEL):
        fields.setdefault("reason", "测试")
    return change_record(beneficiary=person, kind=kind, effective_on=effective_on, recorded_by=user, **fields)


# Creating a batch


def test_batch_create_names_the_batch_and_returns_the_same_one_again(county, office):
    first = batch_create(unit=county, kind=DISABILITY, first_month=d(1), last_month=d(6), created_by=office)
    again = batch_create(unit=county, kind=DISABILITY, first_month=d(1, 15), last_month=d(6, 30), created_by=office)
    assert again == first
    assert PaymentBatch.objects.count() == 1
    assert first.title == "2026年1—6月残疾抚恤金"
    assert first.key == f"{county.pk}:disability:202601-202606"
    assert batch_create(unit=county, kind=PENSION, first_month=d(3), last_month=d(3), created_by=office).title == (
        "2026年3月定期抚恤金"
    )
    assert batch_create(unit=county, kind=CONSCRIPT, first_month=d(1), last_month=d(12), created_by=office).title == (
        "2026年度义务兵家庭优待金"
    )


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        (d(2), d(4), "last_month"),  # not a quarter
        (d(11, year=2025), d(1), "last_month"),  # across years
        (d(5), d(3), "last_month"),
    ],
)
def test_batch_create_refuses_spans_that_are_not_a_month_quarter_half_or_year(county, office, first, last, field):
    with pytest.raises(ValidationError) as error:
        batch_create(unit=county, kind=PENSION, first_month=first, last_month=last, created_by=office)
    assert field in error.value.message_dict
    assert not PaymentBatch.objects.exists()


def test_batch_create_refuses_townships_one_off_kinds_and_people_without_the_office_role(
    county, township, office, liaison, leader, outsider
):
    with pytest.raises(ValidationError) as error:
        batch_create(unit=township, kind=PENSION, first_month=d(3), last_month=d(3), created_by=office)
    assert "县（区）" in error.value.message_dict["unit"][0]
    with pytest.raises(ValidationError) as error:
        batch_create(unit=county, kind=PaymentKind.CONDOLENCE, first_month=d(3), last_month=d(3), created_by=office)
    assert "kind" in error.value.message_dict
    for user in (liaison, leader, outsider):
        with pytest.raises(ValidationError):
            batch_create(unit=county, kind=PENSION, first_month=d(3), last_month=d(3), created_by=user)
    assert not PaymentBatch.objects.exists()


# Generating


def test_a_month_pays_each_person_the_standard_once_and_a_second_run_adds_nothing(county, office, martyrs):
    batch, counts = generate(county, PENSION, d(3), d(3), office)
    assert counts == {"created": 3, "removed": 0, "people": 3, "exceptions": 0, "amount": Decimal("600.00")}
    row = rows(batch)[0]
    assert (row.month, row.rate, row.amount, row.category, row.township.name) == (
        d(3),
        Decimal("200.00"),
        Decimal("200.00"),
        Category.MARTYR_FAMILY,
        "溧东镇",
    )
    assert row.standard.amount == 200 and row.entitlement.category == Category.MARTYR_FAMILY
    assert batch_generate(batch=batch, generated_by=office)["created"] == 0
    assert Payment.objects.count() == 3
    batch.refresh_from_db()
    assert batch.generated_by == office and batch.generated_at is not None


def test_a_quarter_after_a_month_skips_the_month_already_in_a_batch(county, office, martyrs):
    generate(county, PENSION, d(2), d(2), office)
    quarter, counts = generate(county, PENSION, d(1), d(3), office)
    assert counts["created"] == 6
    assert sorted({row.month for row in rows(quarter)}) == [d(1), d(3)]
    for person in martyrs:
        assert months_paid(person) == [d(1), d(2), d(3)]


def test_the_database_refuses_a_second_regular_row_for_a_person_kind_and_month(county, office, martyrs):
    monthly, _ = generate(county, PENSION, d(3), d(3), office)
    quarterly = batch_create(unit=county, kind=PENSION, first_month=d(1), last_month=d(3), created_by=office)
    row = rows(monthly)[0]
    for batch in (monthly, quarterly):
        with pytest.raises(IntegrityError), transaction.atomic():
            Payment.objects.create(
                beneficiary=row.beneficiary,
                township=row.township,
                kind=PENSION,
                month=d(3),
                rate=200,
                amount=200,
                batch=batch,
            )


def test_a_batch_at_the_city_pays_the_townships_of_every_county(city, county, township, other_county, office):
    far = Unit.objects.create(name="邻县城关镇", kind=UnitKind.TOWNSHIP, parent=other_county)
    city_office = make_user("city_office", city, Role.OFFICE)
    make_standard(city, PENSION, Category.MARTYR_FAMILY, 200)
    make_people(township, 2, Category.MARTYR_FAMILY)
    make_people(far, 1, Category.MARTYR_FAMILY)
    _, counts = generate(city, PENSION, d(3), d(3), city_office)
    assert (counts["people"], counts["amount"]) == (3, Decimal("600.00"))
    _, counts = generate(county, PENSION, d(4), d(4), office)
    assert counts["people"] == 2


def test_the_deepest_office_with_a_standard_sets_the_amount(city, county, township, other_township, office):
    make_standard(city, LIVING, Category.ILL_RETURNED, 300)
    make_standard(county, LIVING, Category.ILL_RETURNED, 365)
    make_people(township, 2, Category.ILL_RETURNED)
    batch, counts = generate(county, LIVING, d(3), d(3), office)
    assert {row.rate for row in rows(batch)} == {Decimal("365.00")}


def test_a_raise_from_august_pays_the_new_amount_from_august(county, township, office):
    old = make_standard(county, LIVING, Category.ILL_RETURNED, 300, effective_to=datetime.date(2026, 7, 31))
    make_standard(county, LIVING, Category.ILL_RETURNED, 331.5, effective_from=d(8), replaces=old)
    make_people(township, 1, Category.ILL_RETURNED)
    batch, _ = generate(county, LIVING, d(7), d(12), office)
    assert [(row.month.month, row.amount) for row in rows(batch)] == [
        (7, Decimal("300.00")),
        (8, Decimal("331.50")),
        (9, Decimal("331.50")),
        (10, Decimal("331.50")),
        (11, Decimal("331.50")),
        (12, Decimal("331.50")),
    ]


def test_two_entitlements_of_one_kind_pay_the_higher_unless_one_is_cumulative(county, township, office):
    make_standard(county, LIVING, Category.ILL_RETURNED, 365)
    make_standard(county, LIVING, Category.DEMOBILIZED, 672)
    (person,) = make_people(township, 1, Category.ILL_RETURNED)
    Entitlement.objects.create(beneficiary=person, category=Category.DEMOBILIZED, start_on=datetime.date(2020, 1, 1))
    batch, _ = generate(county, LIVING, d(3), d(3), office)
    (row,) = rows(batch)
    assert (row.amount, row.category) == (Decimal("672.00"), Category.DEMOBILIZED)

    make_standard(county, LIVING, Category.WAR_VETERAN, 100, cumulative=True)
    Entitlement.objects.create(beneficiary=person, category=Category.WAR_VETERAN, start_on=datetime.date(2020, 1, 1))
    batch, _ = generate(county, LIVING, d(4), d(4), office)
    (row,) = rows(batch)
    assert (row.rate, row.amount, row.category) == (Decimal("772.00"), Decimal("772.00"), Category.DEMOBILIZED)


def test_a_standard_per_year_of_service_multiplies_by_the_years(county, township, office):
    make_standard(county, LIVING, Category.RURAL_VETERAN_60, 15, basis=Basis.SERVICE_YEAR)
    make_people(township, 1, Category.RURAL_VETERAN_60, service_years=4)
    batch, _ = generate(county, LIVING, d(3), d(3), office)
    assert [row.amount for row in rows(batch)] == [Decimal("60.00")]


def test_disability_pays_the_standard_of_the_grade_and_nature(county, township, office, person):
    make_standard(county, DISABILITY, Category.DISABLED, 1000, grade=6, nature=DisabilityNature.DUTY)
    make_standard(county, DISABILITY, Category.DISABLED, 1100, grade=6, nature=DisabilityNature.WAR)
    batch, _ = generate(county, DISABILITY, d(3), d(3), office)
    assert [(row.beneficiary, row.amount) for row in rows(batch)] == [(person, Decimal("1100.00"))]


def test_a_missing_standard_is_an_exception_and_pays_nothing(county, township, office, person):
    make_standard(county, DISABILITY, Category.DISABLED, 1000, grade=5, nature=DisabilityNature.WAR)
    batch, counts = generate(county, DISABILITY, d(3), d(3), office)
    assert counts["created"] == 0
    (exception,) = batch.exceptions.all()
    assert exception.reason == ExceptionReason.NO_STANDARD
    assert "残疾军人六级" in exception.detail and "2026年3月" in exception.detail


def test_a_person_without_a_bank_account_is_listed_not_paid(county, township, office):
    make_standard(county, PENSION, Category.MARTYR_FAMILY, 200)
    make_people(township, 1, Category.MARTYR_FAMILY, bank=False, name="无卡")
    make_people(township, 1, Category.MARTYR_FAMILY, name="有卡")
    batch, counts = generate(county, PENSION, d(3), d(3), office)
    assert counts["people"] == 1
    assert {(name[:2], reason) for name, reason in exceptions(batch)} == {("无卡", ExceptionReason.NO_ACCOUNT)}


def test_an_entitlement_pays_the_months_it_overlaps(county, township, office):
    make_standard(county, PENSION, Category.MARTYR_FAMILY, 200)
    (person,) = make_people(township, 1, Category.MARTYR_FAMILY, start=d(2, 20), end_on=d(4, 3))
    generate(county, PENSION, d(1), d(6), office)
    assert months_paid(person) == [d(2), d(3), d(4)]


# Annual standards


def test_an_annual_standard_is_paid_whole_once_in_the_batch_holding_its_month(county, township, office):
    make_standard(county, CONSCRIPT, Category.CONSCRIPT_FAMILY, 1546, basis=Basis.YEAR, payment_month=7)
    (person,) = make_people(
        township,
        1,
        Category.CONSCRIPT_FAMILY,
        start=d(3),
        serving_member_name="张小兵",
        enlistment_date=d(3),
        service_area=ServiceArea.ORDINARY,
    )
    first_half, counts = generate(county, CONSCRIPT, d(1), d(6), office)
    assert counts["created"] == 0
    second_half, counts = generate(county, CONSCRIPT, d(7), d(12), office)
    (row,) = rows(second_half)
    assert (row.month, row.amount, row.rate) == (d(1), Decimal("1546.00"), Decimal("1546.00"))
    year, counts = generate(county, CONSCRIPT, d(1), d(12), office)
    assert counts["created"] == 0
    assert months_paid(person, CONSCRIPT) == [d(1)]


def test_an_annual_standard_marked_prorate_pays_the_months_entitled(county, township, office):
    make_standard(county, CONSCRIPT, Category.CONSCRIPT_FAMILY, 1200, basis=Basis.YEAR, payment_month=12, prorate=True)
    make_standard(county, CONSCRIPT, Category.CONSCRIPT_FAMILY, 2400, basis=Basis.YEAR, variant=ServiceArea.TIBET)
    make_people(township, 1, Category.CONSCRIPT_FAMILY, start=d(9), serving_member_name="甲", enlistment_date=d(9))
    make_people(
        township,
        1,
        Category.CONSCRIPT_FAMILY,
        start=d(1, year=2025),
        serving_member_name="乙",
        enlistment_date=d(1, year=2025),
        service_area=ServiceArea.TIBET,
    )
    batch, _ = generate(county, CONSCRIPT, d(1), d(12), office)
    assert sorted(row.amount for row in rows(batch)) == [Decimal("400.00"), Decimal("2400.00")]


# Status by month


def test_a_death_in_a_month_pays_that_month_and_nothing_after(county, office, liaison, martyrs):
    record(martyrs[0], ChangeKind.DEATH, d(2, 14), liaison)
    batch, _ = generate(county, PENSION, d(1), d(3), office)
    assert months_paid(martyrs[0]) == [d(1), d(2)]
    assert months_paid(martyrs[1]) == [d(1), d(2), d(3)]
    assert not batch.exceptions.exists()  # paid through the month of death: not an exception
    record(martyrs[1], ChangeKind.DEATH, d(3, 5), liaison)
    april, _ = generate(county, PENSION, d(4), d(4), office)
    assert exceptions(april) == {(martyrs[1].name, ExceptionReason.DIED)}
    assert april.exceptions.get().detail == "2026-03-05死亡，不再发放"
    may, _ = generate(county, PENSION, d(5), d(5), office)
    assert not may.exceptions.exists()  # listed once, in the batch after the death


def test_a_death_recorded_after_generation_removes_the_draft_months_after_it(county, office, liaison, martyrs):
    batch, _ = generate(county, PENSION, d(1), d(6), office)
    change = record(martyrs[0], ChangeKind.DEATH, d(3, 31), liaison)
    assert payments_after_stop(person=martyrs[0], change=change) == []
    assert months_paid(martyrs[0]) == [d(1), d(2), d(3)]
    assert batch_generate(batch=batch, generated_by=office)["created"] == 0
    assert months_paid(martyrs[0]) == [d(1), d(2), d(3)]


def test_a_death_after_a_paid_batch_returns_the_overpaid_rows(county, office, director, liaison, martyrs):
    batch, _ = generate(county, PENSION, d(1), d(6), office)
    mark_paid(batch, approver=director, paid_on=d(1, 10))
    change = record(martyrs[0], ChangeKind.DEATH, d(3, 31), liaison)
    overpaid = payments_after_stop(person=martyrs[0], change=change)
    assert [row.month for row in overpaid] == [d(4), d(5), d(6)]
    assert months_paid(martyrs[0]) == [d(1), d(2), d(3), d(4), d(5), d(6)]  # paid rows are never deleted


def test_suspended_months_are_never_paid(county, office, liaison, martyrs):
    record(martyrs[0], ChangeKind.SUSPEND, d(2, 10), liaison)
    record(martyrs[0], ChangeKind.RESUME, d(4, 10), liaison)
    first, _ = generate(county, PENSION, d(1), d(3), office)
    assert exceptions(first) == {(martyrs[0].name, ExceptionReason.SUSPENDED)}
    assert "2026年3月" in first.exceptions.get().detail
    generate(county, PENSION, d(4), d(6), office)
    assert months_paid(martyrs[0]) == [d(1), d(2), d(5), d(6)]


def test_held_months_are_paid_in_the_next_batch_after_the_person_is_resumed(county, office, liaison, martyrs):
    record(martyrs[0], ChangeKind.HOLD, d(1, 20), liaison)
    first, _ = generate(county, PENSION, d(1), d(3), office)
    assert months_paid(martyrs[0]) == [d(1)]
    assert exceptions(first) == {(martyrs[0].name, ExceptionReason.HELD)}
    record(martyrs[0], ChangeKind.RESUME, d(5, 6), liaison)
    second, counts = generate(county, PENSION, d(6), d(6), office)
    assert months_paid(martyrs[0]) == [d(1), d(2), d(3), d(4), d(5), d(6)]
    assert sorted(row.month for row in rows(second) if row.beneficiary == martyrs[0]) == [d(2), d(3), d(4), d(5), d(6)]
    assert generate(county, PENSION, d(6), d(6), office)[1]["created"] == 0
    assert generate(county, PENSION, d(7), d(9), office)[1]["created"] == 9


def test_a_cancelled_person_is_paid_the_month_of_cancellation_only(county, office, liaison, martyrs):
    record(martyrs[0], ChangeKind.CANCEL, d(2, 10), liaison)
    batch, _ = generate(county, PENSION, d(1), d(3), office)
    assert months_paid(martyrs[0]) == [d(1), d(2)]


# Transfers between counties (Art. 30)


@pytest.fixture
def far_setup(other_county, other_township_far, outsider):
    make_standard(other_county, PENSION, Category.MARTYR_FAMILY, 260)
    return other_township_far


def test_no_month_is_paid_by_both_counties_after_a_transfer(
    county, other_county, far_setup, office, outsider, liaison, martyrs
):
    person = martyrs[0]
    with time_machine.travel(datetime.datetime(2025, 4, 20, 10, 0), tick=False):
        record(person, ChangeKind.TRANSFER_OUT, datetime.date(2025, 4, 15), liaison, to_county=other_county)
    with time_machine.travel(datetime.datetime(2025, 6, 1, 10, 0), tick=False):
        transfer_accept(
            transfer=person.transfers.get(),
            township=far_setup,
            accepted_by=outsider,
            effective_on=datetime.date(2025, 6, 1),
        )
    for year in (2025, 2026):
        for quarter in range(4):
            first, last = d(quarter * 3 + 1, year=year), d(quarter * 3 + 3, year=year)
            if first > d(6):
                break
            generate(county, PENSION, first, last, office)
            generate(other_county, PENSION, first, last, outsider)
    rows_of = Payment.objects.filter(beneficiary=person).order_by("month")
    months = [row.month for row in rows_of]
    assert len(months) == len(set(months)) == 18
    sender = [row.month for row in rows_of if row.batch.unit == county]
    receiver = [row.month for row in rows_of if row.batch.unit == other_county]
    assert sender[-1] == d(12, year=2025) and receiver[0] == d(1, year=2026)
    assert {row.township.name for row in rows_of if row.batch.unit == county} == {"溧东镇"}
    assert {row.amount for row in rows_of if row.batch.unit == other_county} == {Decimal("260.00")}
    receiver_2025 = PaymentBatch.objects.get(unit=other_county, first_month=d(7, year=2025))
    assert exceptions(receiver_2025) == {(person.name, ExceptionReason.PAID_BY_OTHER)}
    sender_2026 = PaymentBatch.objects.get(unit=county, first_month=d(1))
    assert exceptions(sender_2026) == {(person.name, ExceptionReason.TRANSFERRED)}
    assert sender_2026.exceptions.get().detail == "2025-04-15迁出，2026年1—3月由迁入地发放"
    assert receiver_2025.exceptions.get().detail == "2025-04-15迁出，2025年7—9月由迁出地县（区）发放（迁出当年）"


def test_the_receiving_county_pays_the_months_before_a_late_arrival(
    county, other_county, far_setup, office, outsider, liaison, martyrs
):
    person = martyrs[0]
    record(person, ChangeKind.TRANSFER_OUT, datetime.date(2025, 11, 15), liaison, to_county=other_county)
    generate(county, PENSION, d(1), d(3), office)  # the sender's 2026 batch: not theirs any more
    transfer_accept(transfer=person.transfers.get(), township=far_setup, accepted_by=outsider, effective_on=d(3, 2))
    generate(other_county, PENSION, d(4), d(6), outsider)
    assert months_paid(person) == [d(1), d(2), d(3), d(4), d(5), d(6)]
    assert {row.batch.unit for row in Payment.objects.filter(beneficiary=person)} == {other_county}


# Returned transfers


def test_a_returned_transfer_is_re_issued_once_when_the_person_has_an_account(
    county, office, director, liaison, martyrs
):
    batch, _ = generate(county, PENSION, d(3), d(3), office)
    mark_paid(batch, approver=director, paid_on=d(3, 10))
    row = rows(batch)[0]
    payment_return(payment=row, returned_on=d(3, 15), reason="账号错误", user=office)
    row.refresh_from_db()
    assert row.returned_on == d(3, 15)
    beneficiary = row.beneficiary
    beneficiary.bank_account = ""
    beneficiary.save()
    april, counts = generate(county, PENSION, d(4), d(4), office)
    assert counts["created"] == 2  # the others' April; the returned row waits for an account
    beneficiary.bank_account = "6228480402564890999"
    beneficiary.save()
    april_counts = batch_generate(batch=april, generated_by=office)
    assert april_counts["created"] == 2  # April for the person, and the re-issue of March
    reissue = Payment.objects.get(reissue_of=row)
    assert (reissue.batch, reissue.month, reissue.amount) == (april, d(3), row.amount)
    may, counts = generate(county, PENSION, d(5), d(5), office)
    assert counts["created"] == 3
    assert Payment.objects.counted().filter(beneficiary=beneficiary, month=d(3)).count() == 1


def test_only_a_paid_card_row_can_be_returned_and_not_before_it_was_paid(county, office, director, martyrs):
    batch, _ = generate(county, PENSION, d(3), d(3), office)
    row = rows(batch)[0]
    with pytest.raises(ValidationError, match="已发放"):
        payment_return(payment=row, returned_on=d(3, 15), reason="账号错误", user=office)
    mark_paid(batch, approver=director, paid_on=d(3, 10))
    row.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        payment_return(payment=row, returned_on=d(3, 9), reason="账号错误", user=office)
    assert "returned_on" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        payment_return(payment=row, returned_on=d(3, 12), reason=" ", user=office)
    assert "reason" in error.value.message_dict
    payment_return(payment=row, returned_on=d(3, 12), reason="销户", user=office)
    with pytest.raises(ValidationError, match="已于"):
        payment_return(payment=row, returned_on=d(3, 12), reason="销户", user=office)


# Approval and payment


def test_only_a_director_who_did_not_prepare_the_batch_approves_it(county, office, director, leader, martyrs):
    batch, _ = generate(county, PENSION, d(3), d(3), office)
    for user in (office, leader):
        with pytest.raises(ValidationError, match="双拥办主任"):
            batch_approve(batch=batch, approved_by=user)
    preparer = make_user("director2", county, Role.OFFICE, is_director=True)
    own = batch_create(unit=county, kind=PENSION, first_month=d(4), last_month=d(4), created_by=preparer)
    batch_generate(batch=own, generated_by=preparer)
    with pytest.raises(ValidationError, match="不能审批本批次"):
        batch_approve(batch=own, approved_by=preparer)
    batch_approve(batch=batch, approved_by=director)
    batch.refresh_from_db()
    assert (batch.status, batch.approved_by) == (BatchStatus.APPROVED, director)


def test_a_paid_batch_is_locked_and_its_rows_carry_the_date_and_method(county, office, director, liaison, martyrs):
    batch, _ = generate(county, PENSION, d(3), d(3), office)
    with pytest.raises(ValidationError, match="尚未审批"):
        batch_mark_paid(batch=batch, paid_on=d(3, 10), method=PayMethod.CARD, paid_by=office)
    batch_approve(batch=batch, approved_by=director)
    with pytest.raises(ValidationError) as error:
        batch_mark_paid(batch=batch, paid_on=d(7, 1), method=PayMethod.CARD, paid_by=office)
    assert "paid_on" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        batch_mark_paid(batch=batch, paid_on=d(6, 20), method="bitcoin", paid_by=office)
    assert "method" in error.value.message_dict
    batch_mark_paid(batch=batch, paid_on=d(6, 20), method=PayMethod.PASSBOOK, paid_by=office)
    assert set(Payment.objects.filter(batch=batch).values_list("paid_on", "method")) == {(d(6, 20), "passbook")}
    with pytest.raises(ValidationError, match="已锁定"):
        batch_generate(batch=batch, generated_by=office)
    with pytest.raises(ValidationError, match="不能重复"):
        batch_mark_paid(batch=batch, paid_on=d(6, 20), method=PayMethod.CARD, paid_by=office)
    record(martyrs[0], ChangeKind.DEATH, d(3, 1), liaison)
    payments_after_stop(person=martyrs[0], change=martyrs[0].changes.get())
    assert Payment.objects.filter(batch=batch).count() == 3


def test_an_approved_batch_is_not_generated_again(county, office, director, martyrs):
    batch, _ = generate(county, PENSION, d(3), d(3), office)
    batch_approve(batch=batch, approved_by=director)
    with pytest.raises(ValidationError, match="已锁定"):
        batch_generate(batch=batch, generated_by=office)
    with pytest.raises(ValidationError, match="已锁定"):
        batch_generate_start(batch=batch, user=office)


def test_generation_runs_as_a_background_job_with_the_same_result(
    county, office, martyrs, django_capture_on_commit_callbacks
):
    batch = batch_create(unit=county, kind=PENSION, first_month=d(3), last_month=d(3), created_by=office)
    with django_capture_on_commit_callbacks(execute=True):
        job = batch_generate_start(batch=batch, user=office)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert job.result["created"] == 3 and job.result["amount"] == "600.00"
    assert "本批共 3 人，合计 600.00 元" in job.result["message"]
    assert job.done == job.total > 0
    assert Payment.objects.filter(batch=batch).count() == 3


def test_starting_generation_twice_returns_the_job_already_queued(county, office, liaison, martyrs):
    batch = batch_create(unit=county, kind=PENSION, first_month=d(3), last_month=d(3), created_by=office)
    job = batch_generate_start(batch=batch, user=office)
    assert batch_generate_start(batch=batch, user=office) == job
    with pytest.raises(ValidationError, match="工作人员"):
        batch_generate_start(batch=batch, user=liaison)


# The command


def test_the_command_generates_a_batch_and_a_second_run_adds_nothing(county, office, martyrs, capsys):
    call_command("generate_payments", "--kind", "pension", "--period", "2026Q1", "--unit", county.region_code)
    out = capsys.readouterr().out
    assert "新增 9 条发放记录" in out
    assert "烈士遗属 3人 × 200元 × 3个月 = 1,800.00 元" in out
    call_command("generate_payments", "--kind", "定期抚恤金", "--period", "2026q1", "--unit", str(county.pk))
    out = capsys.readouterr().out
    assert "没有需要新增的发放记录" in out and "合计 3人 1,800.00 元" in out
    assert PaymentBatch.objects.count() == 1 and Payment.objects.count() == 9


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "pension", "--period", "2026-13"], "格式不对"),
        (["--kind", "condolence", "--period", "2026-03"], "发放类别"),
        (["--kind", "pension", "--period", "2026-02-03"], "格式不对"),
        (["--kind", "pension"], "--period"),
    ],
)
def test_the_command_explains_bad_arguments(county, office, args, message):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=message):
        call_command("generate_payments", *args, "--unit", county.region_code)
    assert not PaymentBatch.objects.exists()


def test_the_command_refuses_a_township_code(county, township, office):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="不对应唯一"):
        call_command("generate_payments", "--kind", "pension", "--period", "2026", "--unit", township.region_code)
