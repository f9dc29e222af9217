"""Logs hold no password, full 身份证号 or bank account: not after a failed login, a bad import or a reveal."""

import datetime
import logging

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from beneficiaries.importers import COLUMNS
from beneficiaries.models import Beneficiary
from conftest import PASSWORD, valid_id_number, xlsx_upload

WRONG_PASSWORD = "Wrong-Secret-Passw0rd-9931"
ACCOUNT = "6228480402564890018"
NEW_ACCOUNT = "6217000010098765432"
# Valid and not registered: the import refuses its row for another reason.
NEW_ID = valid_id_number("32048119580301002")
OTHER_COUNTY_ID = valid_id_number("32041319700101001")


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 3, 10, 10, 0), tick=False):
        yield


@pytest.fixture
def every_log(caplog):
    """Capture every log record at every level, from loggers that do not propagate as well."""
    quiet = [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    for logger in quiet:
        logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    yield caplog
    for logger in quiet:
        logger.removeHandler(caplog.handler)


def logged(caplog):
    """Everything the records say, their arguments and exception text included."""
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        parts.append(repr(getattr(record, "request", "")))
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def assert_secret_free(text, *secrets):
    for secret in secrets:
        assert secret not in text
    for number in (valid for valid in secrets if len(valid) == 18):
        assert number[:17] not in text  # no full body either, even without its check character


def test_a_failed_login_logs_the_event_but_not_the_password(client, office, every_log):
    response = client.post(reverse("login"), {"username": "office", "password": WRONG_PASSWORD})
    assert response.status_code == 200
    client.post(reverse("login"), {"username": "office", "password": PASSWORD})

    text = logged(every_log)
    assert every_log.records, "a failed login leaves a log record"
    assert "office" in text
    assert_secret_free(text, WRONG_PASSWORD, PASSWORD)


def test_an_import_with_bad_rows_logs_no_id_or_account_number(
    client, office, township, village, person, other_township_far, every_log, django_capture_on_commit_callbacks
):
    Beneficiary.objects.create(
        name="外县人",
        id_number=OTHER_COUNTY_ID,
        sex="男",
        birth_date=datetime.date(1970, 1, 1),
        township=other_township_far,
    )
    rows = []
    for number, account in ((person.id_number, ACCOUNT), (OTHER_COUNTY_ID, NEW_ACCOUNT), (NEW_ID, "银行")):
        row = dict.fromkeys(COLUMNS)
        row.update({"姓名": "王建国", "身份证号": number, "乡镇（街道）": "溧东镇", "银行账号": account})
        row.update({"优抚类别": "不存在的类别", "享受起始日期": "2025-01-01"})
        rows.append(list(row.values()))
    upload = xlsx_upload("优抚对象", list(COLUMNS), rows, name="优抚对象.xlsx")
    client.force_login(office)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("beneficiaries:import"), {"file": upload})
    page = client.get(response.url).content.decode()

    assert "不是有效的优抚类别" in page and "已在其他县（区）登记" in page
    assert_secret_free(logged(every_log), person.id_number, OTHER_COUNTY_ID, NEW_ID, ACCOUNT, NEW_ACCOUNT)


def test_reveals_and_searches_log_who_and_what_but_not_the_numbers(client, office, person, every_log):
    office.user_permissions.add(Permission.objects.get(codename="reveal_personal_data"))
    client.force_login(office)
    for field in ("id_number", "bank_account"):
        assert client.post(reverse("beneficiaries:reveal", args=[person.pk, field])).status_code == 200
    client.post(reverse("beneficiaries:list"), {"q": person.id_number})
    client.get(reverse("beneficiaries:list"), {"q": ACCOUNT})
    client.post(reverse("beneficiaries:create"), {"step": "lookup", "id_number": OTHER_COUNTY_ID})

    text = logged(every_log)
    assert f"beneficiary={person.pk}" in text
    assert_secret_free(text, person.id_number, OTHER_COUNTY_ID, ACCOUNT)


def test_a_server_error_while_handling_a_number_logs_no_number(client, office, person, every_log, monkeypatch):
    client.raise_request_exception = False
    client.force_login(office)

    def broken(*args, **kwargs):
        raise RuntimeError("数据库不可用")

    monkeypatch.setattr("beneficiaries.views.render", broken)
    response = client.post(reverse("beneficiaries:list"), {"q": person.id_number, "bank": ACCOUNT})

    assert response.status_code == 500
    assert any(record.levelno >= logging.ERROR for record in every_log.records)
    assert_secret_free(logged(every_log), person.id_number, ACCOUNT)


def test_an_upload_name_holding_a_number_is_not_logged_in_full(client, office, township, every_log):
    client.force_login(office)
    name = f"{NEW_ID}-{ACCOUNT}.xlsx"
    client.post(reverse("beneficiaries:import"), {"file": SimpleUploadedFile(name, b"not a workbook")})
    assert_secret_free(logged(every_log), NEW_ID, ACCOUNT)
