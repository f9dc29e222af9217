"""An outside death list (e.g. from 殡葬 records) checked against the registry: read only."""

import datetime
import io
import re

import openpyxl
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from beneficiaries.constants import Category, ChangeKind, DeathCause, PaymentKind
from beneficiaries.models import Payment, StatusChange
from beneficiaries.services import change_record
from conftest import valid_id_number

from .payment_helpers import d, generate, make_people, make_standard, mark_paid


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 6, 20, 10, 0), tick=False):
        yield


def death_list(rows, header=("序号", "姓名", "身份证号", "死亡日期", "火化日期")):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "2026年火化登记"
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("死亡名单.xlsx", buffer.getvalue())


def table(html, table_id):
    found = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0))) if found else ""


@pytest.fixture
def registry(county, office, director, township, other_county, other_township_far):
    make_standard(county, PaymentKind.PENSION, Category.MARTYR_FAMILY, "200.00")
    alive, recorded, overpaid = make_people(township, 3, Category.MARTYR_FAMILY, name="烈属")
    batch, _ = generate(county, PaymentKind.PENSION, d(1), d(6), office)
    mark_paid(batch, approver=director, paid_on=d(1, 10))
    change_record(
        beneficiary=recorded,
        kind=ChangeKind.DEATH,
        effective_on=d(6, 3),
        death_cause=DeathCause.ILLNESS,
        recorded_by=office,
    )
    change_record(
        beneficiary=overpaid,
        kind=ChangeKind.DEATH,
        effective_on=d(3, 9),
        death_cause=DeathCause.ILLNESS,
        recorded_by=office,
    )
    elsewhere = make_people(other_township_far, 1, Category.MARTYR_FAMILY, name="邻县")[0]
    return {"alive": alive, "recorded": recorded, "overpaid": overpaid, "elsewhere": elsewhere}


def test_the_list_shows_who_is_still_on_the_register_or_was_paid_after_dying(client, office, registry):
    alive, recorded, overpaid, elsewhere = (registry[k] for k in ("alive", "recorded", "overpaid", "elsewhere"))
    before = (Payment.objects.count(), StatusChange.objects.count())
    upload = death_list(
        [
            (1, alive.name, alive.id_number, "2026-04-12", "2026-04-14"),
            (2, recorded.name, recorded.id_number, datetime.date(2026, 6, 3), None),
            (3, overpaid.name, overpaid.id_number, "2026年3月9日", None),
            (4, elsewhere.name, elsewhere.id_number, "2026-02-01", None),
            (5, "路人甲", valid_id_number("11010519491231002"), "2026-01-20", None),
        ]
    )
    client.force_login(office)
    response = client.post(reverse("payments:death_check"), {"file": upload})
    html = response.content.decode()
    matches = table(html, "death-check-matches")
    assert alive.name in matches and "未登记死亡" in matches
    assert "2026年5月至2026年6月，400.00 元" in matches  # alive, paid May and June after dying in April
    assert overpaid.name in matches and "已登记死亡（2026-03-09）" in matches
    assert "2026年4月至2026年6月，600.00 元" in matches
    assert recorded.name not in matches  # recorded on the same date, paid through June: nothing to do
    assert elsewhere.name not in html and "路人甲" not in html  # not this county's people
    assert f"{reverse('beneficiaries:change_add', args=[alive.pk])}?kind=death" in html
    assert alive.id_number not in html
    summary = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html.split('id="death-check-summary">')[1].split("</p>")[0]))
    assert summary.startswith("名单共 5 行：本辖区优抚对象 3 人，其中需处理 2 人，已登记死亡且无多发 1 人")
    assert (Payment.objects.count(), StatusChange.objects.count()) == before


def test_a_different_recorded_date_and_name_are_pointed_out(client, office, registry):
    recorded = registry["recorded"]
    upload = death_list([(1, "王某某", recorded.id_number, "2026-05-30", None)])
    client.force_login(office)
    matches = table(
        client.post(reverse("payments:death_check"), {"file": upload}).content.decode(), "death-check-matches"
    )
    assert "与名单日期不一致" in matches and "名单姓名：王某某" in matches


def test_bad_rows_are_named_and_good_rows_still_checked(client, office, registry):
    alive = registry["alive"]
    upload = death_list(
        [
            (1, alive.name, alive.id_number, "2026-04-12", None),
            (2, "张三", "320481195001010010", "2026-04-12", None),
            (3, "李四", valid_id_number("32048119500101002"), "2026-02-30", None),
            (4, "王五", valid_id_number("32048119500101003"), "2026-07-01", None),
            (5, alive.name, alive.id_number, "2026-04-12", None),
            (6, "赵六", valid_id_number("32048119500101004"), None, None),
        ]
    )
    client.force_login(office)
    html = client.post(reverse("payments:death_check"), {"file": upload}).content.decode()
    errors = table(html, "death-check-errors")
    assert "3 身份证号" in errors  # row 3 of the sheet: the wrong check character
    assert "4 死亡日期 “2026-02-30”不是有效日期" in errors
    assert "5 死亡日期 死亡日期不能晚于今天" in errors
    assert "6 身份证号 与第 2 行的身份证号重复" in errors
    assert "7 死亡日期 请填写死亡日期" in errors
    assert alive.name in table(html, "death-check-matches")


def test_a_file_without_the_columns_is_refused(client, office, registry):
    client.force_login(office)
    response = client.post(reverse("payments:death_check"), {"file": death_list([("x",)], header=("姓名", "日期"))})
    assert "缺少列：身份证号、死亡日期" in response.context["form"].errors["file"][0]


@pytest.mark.parametrize("persona", ["liaison", "leader", "bureau_liaison"])
def test_only_the_office_checks_death_lists(client, personas, persona):
    client.force_login(personas[persona])
    assert client.get(reverse("payments:death_check")).status_code == 404
    assert client.post(reverse("payments:death_check"), {"file": death_list([])}).status_code == 404


def test_another_countys_office_sees_none_of_ours(client, outsider, registry):
    alive = registry["alive"]
    client.force_login(outsider)
    html = client.post(
        reverse("payments:death_check"), {"file": death_list([(1, alive.name, alive.id_number, "2026-04-12", None)])}
    ).content.decode()
    assert alive.name not in html
    assert "本辖区优抚对象 0 人" in html
