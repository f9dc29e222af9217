"""Past years' payments from Excel: all rows written or none, every bad row named."""

import datetime
import io
import re
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.db.models import Sum
from django.urls import reverse

from beneficiaries.constants import Category, DisabilityNature, PaymentKind, ServiceArea
from beneficiaries.models import Entitlement, Payment
from beneficiaries.payment_importers import PAYMENT_COLUMNS, SHEET
from conftest import import_error_lines as error_lines
from conftest import valid_id_number, xlsx_upload

from .payment_helpers import d, generate, make_people, make_standard, mark_paid

HEADER = list(PAYMENT_COLUMNS)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 3, 10, 10, 0), tick=False):
        yield


def row(person, kind="残疾抚恤金", month="2024-01", amount="1234.50", **values):
    cells = {
        "身份证号": person.id_number if hasattr(person, "id_number") else person,
        "姓名": getattr(person, "name", "某某"),
        "发放类别": kind,
        "所属月份": month,
        "金额": amount,
        "补发": "否",
        "发放日期": "2024-01-20",
        "发放方式": "打卡",
        "用途/备注": "",
    }
    cells.update(values)
    return [cells[label] for label in HEADER]


def workbook(rows, *, template=None):
    return xlsx_upload(SHEET, HEADER, rows, template=template, name="历史发放.xlsx")


def upload(client, rows, **data):
    return client.post(reverse("payments:import"), {"file": workbook(rows), **data})


@pytest.fixture
def family(township):
    """An 义务兵家庭 of 溧东镇 since 2023."""
    return make_people(
        township,
        1,
        Category.CONSCRIPT_FAMILY,
        start=datetime.date(2023, 9, 1),
        name="军属",
        serving_member_name="王小兵",
        enlistment_date=datetime.date(2023, 9, 1),
        service_area=ServiceArea.ORDINARY,
    )[0]


def test_a_good_file_is_imported_whole_with_its_totals_exact(client, office, county, person, family):
    make_standard(county, PaymentKind.DISABILITY, Category.DISABLED, "1234.50", grade=6, nature=DisabilityNature.WAR)
    rows = [
        row(person, month="2024-01"),
        row(person, month="2024年2月"),
        row(person, month=datetime.datetime(2024, 3, 1), amount=1234.5 * 3 - 2469.0000000000005),
        row(person, month="2024-03", amount="0.29", 补发="是", **{"用途/备注": "调标补发"}),
        row(person, kind="慰问金", month="2024-02", amount="500", 发放方式="现金", **{"用途/备注": "2024年春节慰问"}),
        row(family, kind="义务兵家庭优待金", month="2024", amount="7619", 发放日期="2024-07-25", 发放方式="存折"),
        row(person, month="2024-04", 姓名="示例：王建国"),
    ]
    client.force_login(office)
    response = upload(client, rows)
    html = response.content.decode()
    assert error_lines(response) == []
    assert "已导入 6 条发放记录，2 人，2024年，合计 11,822.79 元" in re.sub(r"\s+", " ", html)
    imported = Payment.objects.filter(imported=True)
    assert imported.count() == 6 and not imported.filter(batch__isnull=False).exists()
    assert imported.aggregate(total=Sum("amount"))["total"] == Decimal("11822.79")
    regular = imported.get(beneficiary=person, kind=PaymentKind.DISABILITY, month=d(1, year=2024))
    assert (regular.amount, regular.rate, regular.category, regular.paid_on, regular.method) == (
        Decimal("1234.50"),
        Decimal("1234.50"),
        Category.DISABLED,
        d(1, 20, year=2024),
        "card",
    )
    assert regular.entitlement == person.entitlements.get()
    backpay = imported.get(is_backpay=True)
    assert (backpay.month, backpay.amount, backpay.cause.amount) == (
        d(3, year=2024),
        Decimal("0.29"),
        Decimal("1234.50"),
    )
    condolence = imported.get(kind=PaymentKind.CONDOLENCE)
    assert condolence.reference == "import:202402-20240120-50000" and condolence.purpose == "2024年春节慰问"
    conscript = imported.get(kind=PaymentKind.CONSCRIPT)
    assert (conscript.month, conscript.method, conscript.category) == (d(1, year=2024), "passbook", "09")


def test_the_same_file_twice_is_refused_as_duplicates_and_writes_nothing_more(client, office, person):
    rows = [row(person, month="2024-01"), row(person, kind="慰问金", **{"用途/备注": "八一慰问"})]
    client.force_login(office)
    upload(client, rows)
    assert Payment.objects.count() == 2
    response = upload(client, rows)
    assert error_lines(response) == [
        "2 2024年1月的残疾抚恤金已有发放记录（历史导入或直接发放），不能重复导入。",
        "3 2024-01-20发放的慰问金（1234.50元）已有发放记录（历史导入或直接发放），不能重复导入。",
    ]
    assert Payment.objects.count() == 2


def test_every_bad_row_is_named_and_nothing_is_written(
    client, office, director, county, township, person, other_township_far
):
    make_standard(
        county,
        PaymentKind.DISABILITY,
        Category.DISABLED,
        "1000",
        grade=6,
        nature=DisabilityNature.WAR,
        effective_from=datetime.date(2025, 1, 1),
    )
    paid, _ = generate(county, PaymentKind.DISABILITY, d(1), d(1), office)
    mark_paid(paid, approver=director, paid_on=d(1, 10))
    stranger = make_people(other_township_far, 1, Category.DISABLED, grade=6, nature=DisabilityNature.WAR)[0]
    Entitlement.objects.filter(beneficiary=person).update(start_on=datetime.date(2015, 1, 1))
    rows = [
        row(person, month="2024-01"),  # 2: good
        row(valid_id_number("11010519491231002"), month="2024-01"),  # 3: unknown person
        row(stranger, month="2024-01"),  # 4: out of scope
        row(person, month="2024-02", 姓名="王建军"),  # 5: name
        row(person, kind="抚恤金", month="2024-02"),  # 6: unknown kind
        row(person, kind="补发", month="2024-02"),  # 7: 补发 is no kind
        row(person, month="2024-13"),  # 8: bad month
        row(person, month="2024-04", amount="1.234"),  # 9: three decimals
        row(person, month="2024-05", amount="-5"),  # 10: negative
        row(person, month="2024-01"),  # 11: duplicate of row 2
        row(person, month="2026-01"),  # 12: already paid in a batch
        row(person, kind="慰问金", month="2024-06"),  # 13: one-off without a purpose
        row(person, kind="慰问金", month="2024-06", 补发="是", **{"用途/备注": "慰问"}),  # 14: backpay one-off
        row(person, month="2014-12"),  # 15: before the entitlement
        row(person, month="2024-07", 发放日期="2026-04-01"),  # 16: paid in the future
        row(person, month="2024-08", 补发="是"),  # 17: backpay without a standard that month
        row(person, month="2024-09", 发放方式="支票"),  # 18: bad method
        row(person, month="2024-10", amount=12.345),  # 19: a number cell with a third decimal
    ]
    client.force_login(office)
    before = Payment.objects.count()
    response = upload(client, rows)
    lines = error_lines(response)
    assert [int(line.split()[0]) for line in lines] == list(range(3, 20))
    expected = {
        3: "本辖区没有登记该身份证号的优抚对象",
        4: "本辖区没有登记该身份证号的优抚对象",
        5: "姓名 与登记的姓名“王建国”不符",
        6: "发放类别 “抚恤金”不是有效的发放类别",
        7: "发放类别 “补发”不是发放类别",
        8: "所属月份 “2024-13”不是有效月份",
        9: "金额 金额最多保留两位小数（到分）",
        10: "金额 金额应大于 0",
        11: "与第 2 行重复：2024年1月的残疾抚恤金",
        12: "2026年1月的残疾抚恤金已有发放记录（批次“2026年1月残疾抚恤金”）",
        13: "用途/备注 请填写慰问金的用途",
        14: "补发 慰问金是一次性发放，不能标为补发",
        15: "所属月份 该对象2014年12月没有可领取残疾抚恤金的优抚待遇资格",
        16: "发放日期 发放日期不能晚于今天",
        17: "补发 补发须对应该月适用的残疾抚恤金标准",
        18: "发放方式 “支票”不是有效的发放方式",
        19: "金额 金额最多保留两位小数（到分）",
    }
    for line in lines:
        number = int(line.split()[0])
        assert expected[number] in line, line
    assert "没有导入任何数据" in response.content.decode()
    assert Payment.objects.count() == before


def test_check_only_writes_nothing_and_shows_what_would_be_imported(client, office, person):
    client.force_login(office)
    response = upload(client, [row(person, month="2024-01"), row(person, month="2024-02")], check_only="on")
    html = re.sub(r"\s+", " ", response.content.decode())
    assert "检查无误（未导入）： 2 条发放记录，1 人，2024年，合计 2,469.00 元" in html
    assert not Payment.objects.exists()


def test_the_template_has_the_columns_an_example_and_the_notes(client, office):
    client.force_login(office)
    response = client.get(reverse("payments:import_template"))
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book[SHEET]
    assert [c.value for c in sheet[1]] == HEADER
    assert sheet["B2"].value.startswith("示例：")
    assert "填写说明" in book.sheetnames
    # The template itself imports as “no data”: its example row is skipped.
    response = client.post(reverse("payments:import"), {"file": workbook([], template=response.content)})
    assert "文件中没有要导入的数据" in response.context["form"].errors["file"][0]


def test_a_file_with_more_rows_than_allowed_is_refused(client, office, person, monkeypatch):
    monkeypatch.setattr("beneficiaries.payment_importers.PAYMENT_IMPORT_MAX_ROWS", 2)
    client.force_login(office)
    response = upload(client, [row(person, month=f"2024-0{m}") for m in range(1, 4)])
    assert "超过 2 行" in response.context["form"].errors["file"][0]
    assert not Payment.objects.exists()


@pytest.mark.parametrize("persona", ["liaison", "leader", "bureau_liaison"])
def test_only_the_office_imports_payments(client, personas, person, persona):
    client.force_login(personas[persona])
    assert client.get(reverse("payments:import")).status_code == 404
    assert client.get(reverse("payments:import_template")).status_code == 404
    assert upload(client, [row(person)]).status_code == 404
    assert not Payment.objects.exists()


def test_another_countys_office_cannot_import_for_our_people(client, outsider, person):
    client.force_login(outsider)
    response = upload(client, [row(person)])
    assert "本辖区没有登记该身份证号的优抚对象" in " ".join(error_lines(response))
    assert not Payment.objects.exists()


def test_a_number_cell_a_hair_off_a_fen_is_that_fen_but_a_third_decimal_is_refused():
    from django.core.exceptions import ValidationError

    from beneficiaries.payment_importers import _amount

    assert _amount(1234.4999999999995) == Decimal("1234.50")
    assert _amount(0.1 + 0.2) == Decimal("0.30")
    assert _amount("672.5") == Decimal("672.50")
    for bad in (12.345, "12.345", "0", "abc", None):
        with pytest.raises(ValidationError):
            _amount(bad)
