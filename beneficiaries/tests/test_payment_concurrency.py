import datetime
import threading
import time
from decimal import Decimal

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.db.models import Count

from beneficiaries import jobs, payment_services
from beneficiaries.constants import ChangeKind, PaymentKind
from beneficiaries.models import Payment, PaymentBatch
from beneficiaries.payment_services import GENERATE_KIND, batch_create, batch_generate, payments_after_stop
from beneficiaries.services import change_record
from shuangyong.lib.jobs import run_job
from units.constants import JobStatus
from units.models import Job

from .payment_helpers import d

PENSION = PaymentKind.PENSION
NEEDS_ROW_LOCKS = "SQLite 不支持行锁，此并发测试在 PostgreSQL 上运行。"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 6, 20, 10, 0), tick=False):
        yield


def run_together(*targets):
    """Run each target in its own thread with its own connection; return the exceptions they raised."""
    errors = []

    def wrap(target):
        try:
            target()
        except Exception as error:  # noqa: BLE001 - the test asserts on what each thread raised
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def duplicates():
    return list(
        Payment.objects.counted()
        .filter(is_backpay=False, reference="")
        .values("beneficiary", "kind", "month")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )


@pytest.mark.django_db(transaction=True)
def test_two_people_generating_the_same_month_at_once_get_one_batch_and_no_duplicate_row(county, office, martyrs):
    if connection.vendor == "sqlite":
        pytest.skip(NEEDS_ROW_LOCKS)
    barrier = threading.Barrier(2)
    results = []

    def create_and_generate():
        barrier.wait()
        batch = batch_create(unit=county, kind=PENSION, first_month=d(3), last_month=d(3), created_by=office)
        results.append((batch.pk, batch_generate(batch=batch, generated_by=office)["created"]))

    errors = run_together(create_and_generate, create_and_generate)

    assert errors == []
    assert PaymentBatch.objects.count() == 1
    assert [pk for pk, _ in results] == [PaymentBatch.objects.get().pk] * 2
    assert sorted(created for _, created in results) == [0, 40]
    assert Payment.objects.count() == 40 and duplicates() == []


@pytest.mark.django_db(transaction=True)
def test_a_month_and_its_quarter_generated_at_once_pay_each_month_once(county, office, martyrs):
    if connection.vendor == "sqlite":
        pytest.skip(NEEDS_ROW_LOCKS)
    barrier = threading.Barrier(2)
    month = batch_create(unit=county, kind=PENSION, first_month=d(3), last_month=d(3), created_by=office)
    quarter = batch_create(unit=county, kind=PENSION, first_month=d(1), last_month=d(3), created_by=office)

    def generate(batch):
        def run():
            barrier.wait()
            batch_generate(batch=batch, generated_by=office)

        return run

    errors = run_together(generate(month), generate(quarter))

    assert errors == []
    assert Payment.objects.count() == 120 and duplicates() == []
    assert Payment.objects.aggregate(n=Count("month", distinct=True))["n"] == 3


def _pause_after_locking(locked, resume):
    """A progress callback that, once generation has locked and read its people, waits to be let go."""

    def progress(done, total):
        if not locked.is_set():
            locked.set()
            resume.wait(timeout=30)

    return progress


def _die(person, user):
    with transaction.atomic():
        change = change_record(
            beneficiary=person, kind=ChangeKind.DEATH, effective_on=d(1, 15), recorded_by=user, reason="病故"
        )
        payments_after_stop(person=person, change=change)


@pytest.mark.django_db(transaction=True)
def test_a_death_recorded_while_generation_holds_the_lock_waits_and_then_removes_the_months_after(
    county, office, liaison, martyrs
):
    if connection.vendor == "sqlite":
        pytest.skip(NEEDS_ROW_LOCKS)
    person = martyrs[0]
    batch = batch_create(unit=county, kind=PENSION, first_month=d(1), last_month=d(3), created_by=office)
    locked, resume = threading.Event(), threading.Event()

    def generate():
        batch_generate(batch=batch, generated_by=office, progress=_pause_after_locking(locked, resume))

    def die():
        assert locked.wait(timeout=30)
        threading.Timer(0.5, resume.set).start()  # the death is blocked on the person's row by then
        _die(person, liaison)

    errors = run_together(generate, die)

    assert errors == []
    assert list(Payment.objects.filter(beneficiary=person).values_list("month", flat=True)) == [d(1)]
    assert Payment.objects.filter(batch=batch).count() == 1 + 39 * 3


@pytest.mark.django_db(transaction=True)
def test_generation_started_while_a_death_is_being_recorded_waits_and_leaves_the_person_out(
    county, office, liaison, martyrs
):
    if connection.vendor == "sqlite":
        pytest.skip(NEEDS_ROW_LOCKS)
    person = martyrs[0]
    batch = batch_create(unit=county, kind=PENSION, first_month=d(1), last_month=d(3), created_by=office)
    recorded, commit = threading.Event(), threading.Event()

    def die():
        with transaction.atomic():
            change = change_record(
                beneficiary=person, kind=ChangeKind.DEATH, effective_on=d(1, 15), recorded_by=liaison, reason="病故"
            )
            payments_after_stop(person=person, change=change)
            recorded.set()
            commit.wait(timeout=30)

    def generate():
        assert recorded.wait(timeout=30)
        threading.Timer(0.5, commit.set).start()  # generation is blocked on the person's row by then
        batch_generate(batch=batch, generated_by=office)

    errors = run_together(die, generate)

    assert errors == []
    assert list(Payment.objects.filter(beneficiary=person).values_list("month", flat=True)) == [d(1)]
    assert Payment.objects.filter(batch=batch).count() == 1 + 39 * 3


def test_a_database_failure_mid_batch_rolls_everything_back_and_a_retry_completes(county, office, martyrs, monkeypatch):
    batch = batch_create(unit=county, kind=PENSION, first_month=d(1), last_month=d(3), created_by=office)
    real_insert = payment_services.insert_payments

    def insert_half_then_fail(rows, **kwargs):
        real_insert(rows[: len(rows) // 2], **kwargs)
        assert Payment.objects.count() == 60
        raise DatabaseError("disk full")

    monkeypatch.setattr(payment_services, "insert_payments", insert_half_then_fail)
    with pytest.raises(DatabaseError):
        batch_generate(batch=batch, generated_by=office)
    batch.refresh_from_db()
    assert Payment.objects.count() == 0 and batch.generated_at is None and not batch.exceptions.exists()

    monkeypatch.setattr(payment_services, "insert_payments", real_insert)
    counts = batch_generate(batch=batch, generated_by=office)
    assert (counts["created"], counts["amount"]) == (120, Decimal("24000.00"))
    assert batch_generate(batch=batch, generated_by=office)["created"] == 0
    assert duplicates() == []


@pytest.mark.django_db(transaction=True)
def test_the_job_page_sees_the_progress_of_a_generation_still_running(county, office, martyrs, monkeypatch):
    if connection.vendor == "sqlite":
        pytest.skip(NEEDS_ROW_LOCKS)
    batch = batch_create(unit=county, kind=PENSION, first_month=d(3), last_month=d(3), created_by=office)
    job = Job.objects.create(kind=GENERATE_KIND, created_by=office, params={"batch": batch.pk})
    reported, finish = threading.Event(), threading.Event()

    def generate_slowly(*, batch, generated_by, progress):
        with transaction.atomic():
            progress(3, 10)
            reported.set()
            finish.wait(timeout=30)
            return batch_generate(batch=batch, generated_by=generated_by, progress=progress)

    monkeypatch.setattr(jobs, "batch_generate", generate_slowly)
    seen = []

    def watch():
        assert reported.wait(timeout=30)
        for _ in range(40):
            job.refresh_from_db()
            if job.done:
                break
            time.sleep(0.05)
        seen.append((job.done, job.total))
        finish.set()

    errors = run_together(lambda: run_job.call(job.pk), watch)

    assert errors == []
    assert seen == [(3, 10)]
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.result["created"] == 40
