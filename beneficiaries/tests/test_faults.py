import datetime
from decimal import Decimal

import psycopg2
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import InterfaceError, OperationalError, connection
from django.db.models import Count
from django.urls import reverse

from beneficiaries import payment_services
from beneficiaries.constants import Category, PaymentKind
from beneficiaries.models import Entitlement, Payment, PaymentBatch, StatusChange
from beneficiaries.payment_services import batch_create, batch_generate, batch_generate_start
from conftest import xlsx_upload
from shuangyong.tests.storage_faults import (
    assert_refused_as_changed,
    edit_on_stale_form,
    upload_onto_full_disk,
    upload_whose_row_fails,
)
from units.constants import JobStatus
from units.models import Job

from .conftest import post_death
from .payment_helpers import d

PENSION = PaymentKind.PENSION
NEEDS_POSTGRESQL = "pg_terminate_backend 只有 PostgreSQL 才有；SQLite 没有可以断开的数据库连接。"
JOB_ERROR = "任务执行出错，没有保存任何改动。请稍后重试，或联系系统管理员。"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"%" * 4000


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 6, 20, 10, 0), tick=False):
        yield


# The database connection killed during a batch generation


def terminate_this_connection():
    """Kill the backend of this thread's connection from another connection, as an administrator or a crash would."""
    pid = connection.connection.get_backend_pid()
    killer = psycopg2.connect(**connection.get_connection_params())
    try:
        killer.autocommit = True
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone() == (True,)
    finally:
        killer.close()


def duplicates():
    return list(
        Payment.objects.values("beneficiary", "kind", "month").annotate(n=Count("pk")).filter(n__gt=1).order_by()
    )


def assert_paid_once(batch, people):
    assert PaymentBatch.objects.count() == 1
    assert Payment.objects.filter(batch=batch).count() == people * 3
    assert duplicates() == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("moment", ["while reading the people", "after every row is written"])
def test_a_generation_whose_database_connection_is_killed_leaves_no_row_and_a_retry_pays_each_month_once(
    county, office, martyrs, moment
):
    if connection.vendor != "postgresql":
        pytest.skip(NEEDS_POSTGRESQL)
    batch = batch_create(unit=county, kind=PENSION, first_month=d(1), last_month=d(3), created_by=office)
    killed = []

    def kill_once(done, total):
        reached = done == 0 if moment == "while reading the people" else done == total
        if reached and not killed:
            killed.append((done, total))
            terminate_this_connection()

    with pytest.raises((OperationalError, InterfaceError)):
        batch_generate(batch=batch, generated_by=office, progress=kill_once)
    connection.close()

    assert killed
    batch.refresh_from_db()
    assert Payment.objects.count() == 0 and batch.generated_at is None and not batch.exceptions.exists()
    counts = batch_generate(batch=batch, generated_by=office)
    assert (counts["created"], counts["amount"]) == (120, Decimal("24000.00"))
    assert_paid_once(batch, 40)


@pytest.mark.django_db(transaction=True)
def test_a_generation_job_whose_connection_is_killed_ends_failed_with_a_message_and_a_new_job_completes(
    county, office, martyrs, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip(NEEDS_POSTGRESQL)
    batch = batch_create(unit=county, kind=PENSION, first_month=d(1), last_month=d(3), created_by=office)
    real_insert, killed = payment_services.insert_payments, []

    def insert_then_lose_the_connection(rows, **kwargs):
        real_insert(rows, **kwargs)
        if not killed:
            killed.append(len(rows))
            terminate_this_connection()

    monkeypatch.setattr(payment_services, "insert_payments", insert_then_lose_the_connection)

    failed = batch_generate_start(batch=batch, user=office)  # the test backend runs the job on commit

    failed.refresh_from_db()
    assert killed == [120]
    assert (failed.status, failed.error) == (JobStatus.FAILED, JOB_ERROR)
    assert Payment.objects.count() == 0
    retried = batch_generate_start(batch=batch, user=office)
    retried.refresh_from_db()
    assert retried.pk != failed.pk
    assert retried.status == JobStatus.DONE and retried.result["created"] == 120
    assert_paid_once(batch, 40)
    assert not Job.objects.filter(status__in=[JobStatus.PENDING, JobStatus.RUNNING]).exists()


# Uploads on a full disk or failing storage


def post_entitlement(client, person):
    return client.post(
        reverse("beneficiaries:entitlement_add", args=[person.pk]),
        {"category": Category.WAR_VETERAN, "start_on": "2025-01-01", "document": SimpleUploadedFile("批复.pdf", PDF)},
    )


def post_roster(client):
    return client.post(
        reverse("beneficiaries:import"), {"file": xlsx_upload("优抚对象", ["姓名"], [["王一"]], name="名单.xlsx")}
    )


def test_an_entitlement_document_uploaded_onto_a_full_disk_is_refused_and_leaves_nothing(
    client, liaison, person, monkeypatch
):
    upload_onto_full_disk(monkeypatch, client, liaison, post_entitlement, person)

    assert list(Entitlement.objects.values_list("category", flat=True)) == [Category.DISABLED]


def test_an_entitlement_whose_row_cannot_be_saved_is_refused_and_its_document_removed(
    client, liaison, person, monkeypatch
):
    upload_whose_row_fails(monkeypatch, client, liaison, Entitlement, post_entitlement, person)


def test_a_death_certificate_uploaded_onto_a_full_disk_is_refused_and_records_no_death(
    client, liaison, person, monkeypatch
):
    upload_onto_full_disk(monkeypatch, client, liaison, post_death, person, PDF)

    assert not StatusChange.objects.filter(beneficiary=person, kind="death").exists()


def test_a_death_whose_row_cannot_be_saved_is_refused_and_its_certificate_removed(client, liaison, person, monkeypatch):
    upload_whose_row_fails(monkeypatch, client, liaison, StatusChange, post_death, person, PDF)

    assert not StatusChange.objects.filter(beneficiary=person, kind="death").exists()


def test_a_roster_uploaded_onto_a_full_disk_is_refused_with_a_message_and_starts_no_job(
    client, office, township, monkeypatch
):
    upload_onto_full_disk(monkeypatch, client, office, post_roster, partial=False)

    assert not Job.objects.exists()


def test_a_roster_cut_off_by_a_full_disk_leaves_no_part_of_the_file(client, office, township, monkeypatch):
    upload_onto_full_disk(monkeypatch, client, office, post_roster)

    assert not Job.objects.exists()


def test_a_roster_whose_job_cannot_be_saved_is_refused_and_its_file_removed(client, office, township, monkeypatch):
    upload_whose_row_fails(monkeypatch, client, office, Job, post_roster)


# Two office staff editing the same person


def test_the_second_of_two_staff_saving_the_same_person_is_told_who_changed_it_and_keeps_nothing(
    client, office, director, person
):
    url = reverse("beneficiaries:edit", args=[person.pk])
    second_changes = {"phone": "13722222222", "address": "东村 8 号"}

    response = edit_on_stale_form(url, office, {"phone": "13911111111"}, director, second_changes)

    saved = assert_refused_as_changed(response, person, "李干事")
    person.refresh_from_db()
    assert (person.phone, person.address) == ("13911111111", "")
    assert person.history.count() == 2 and saved.history_type == "~" and saved.history_user == office
