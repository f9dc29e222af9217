import datetime
import io
import re

import openpyxl
import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse
from pypdf import PdfReader

from beneficiaries import payment_exporters
from beneficiaries.constants import AccessKind, BatchStatus, Category, PaymentKind, PayMethod
from beneficiaries.models import AccessLog, Beneficiary
from beneficiaries.payment_exporters import BANK_HEADER, LEDGER_HEADER
from beneficiaries.tests.test_payment_views import make_batch, make_people, pay
from shuangyong.lib.idcard import mask_bank_account, mask_id_number

MARCH = datetime.date(2026, 3, 1)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 6, 20, 10, 0), tick=False):
        yield


def grant_reveal(user):
    user.user_permissions.add(Permission.objects.get(codename="reveal_personal_data"))


def cells(content, sheet):
    """Return a sheet's rows as lists, without the empty cells at their ends."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    rows = []
    for row in workbook[sheet].values:
        row = list(row)
        while row and row[-1] is None:
            row.pop()
        rows.append(row)
    return rows


def all_text(content):
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return "\n".join(str(value) for ws in workbook for row in ws.values for value in row if value is not None)


def pdf_pages(content):
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


@pytest.fixture
def cash_batch(office, county, township, other_township):
    """March 定期生活补助: 3 people of 溧东镇 (one named like a formula), 2 of 雅灰乡 (one paid two held months too)."""
    batch = make_batch(county, PaymentKind.LIVING, MARCH, created_by=office, status=BatchStatus.APPROVED)
    lidong = make_people(township, 3, name="溧东")
    Beneficiary.objects.filter(pk=lidong[2].pk).update(name="=HYPERLINK(1)", bank_account="")
    lidong[2].refresh_from_db()
    yahui = make_people(other_township, 2, start=100, name="雅灰")
    pay(batch, lidong, category=Category.ILL_RETURNED, amount=365)
    pay(batch, yahui, category=Category.DEMOBILIZED, amount="672.50")
    # Held in January and February, resumed in March.
    pay(
        batch,
        yahui[:1],
        category=Category.DEMOBILIZED,
        amount="672.50",
        months=[datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)],
    )
    return batch


# 发放名册


def test_the_bank_file_is_masked_and_totals_one_line_per_person(client, office, cash_batch):
    client.force_login(office)

    response = client.get(reverse("payments:batch_bank_file", args=[cash_batch.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")
    rows = cells(response.content, "发放名册")
    assert rows[0] == BANK_HEADER
    lines = [dict(zip(BANK_HEADER, row, strict=False)) for row in rows[1:]]
    assert [line["序号"] for line in lines[:-1]] == [1, 2, 3, 4, 5]
    assert [line["乡镇"] for line in lines[:-1]] == ["溧东镇"] * 3 + ["雅灰乡"] * 2
    first = Beneficiary.objects.get(name="溧东0")
    line = next(line for line in lines if line["姓名"] == "溧东0")
    assert line["身份证号"] == mask_id_number(first.id_number)
    assert line["账号"] == mask_bank_account(first.bank_account)
    assert (line["开户银行"], line["金额"], line["类别"], line["备注"]) == (
        "示例县农村商业银行",
        365,
        "带病回乡退役军人",
        "2026年3月",
    )
    held = next(line for line in lines if line["姓名"] == "雅灰100")
    assert held["金额"] == pytest.approx(2017.5) and held["备注"] == "2026年1—3月"
    assert lines[-1]["姓名"] == "合计"
    assert lines[-1]["金额"] == pytest.approx(365 * 3 + 672.5 * 4)
    assert lines[-1]["类别"] == "5人"
    assert lines[-1]["备注"] == "叁仟柒佰捌拾伍元整"
    text = all_text(response.content)
    assert first.id_number not in text and first.bank_account not in text
    assert not AccessLog.objects.exists()


def test_formulas_in_names_are_neutralised(client, office, cash_batch):
    client.force_login(office)
    rows = cells(client.get(reverse("payments:batch_bank_file", args=[cash_batch.pk])).content, "发放名册")
    formula = next(row for row in rows if "HYPERLINK" in str(row[1]))
    assert formula[1] == "'=HYPERLINK(1)"
    assert formula[8] == "2026年3月，无银行账号"


def test_full_numbers_need_the_permission(client, office, cash_batch):
    client.force_login(office)
    response = client.get(reverse("payments:batch_bank_file", args=[cash_batch.pk]), {"full": "1"})
    assert response.status_code == 403
    assert not AccessLog.objects.exists()


def test_full_numbers_with_the_permission_are_logged(client, office, county, cash_batch):
    grant_reveal(office)
    client.force_login(office)

    response = client.get(
        reverse("payments:batch_bank_file", args=[cash_batch.pk]), {"full": "1"}, REMOTE_ADDR="10.1.2.3"
    )

    assert response.status_code == 200
    assert (
        "未脱敏" in response["Content-Disposition"] or "%E6%9C%AA%E8%84%B1%E6%95%8F" in response["Content-Disposition"]
    )
    first = Beneficiary.objects.get(name="溧东0")
    row = next(row for row in cells(response.content, "发放名册") if row[1] == "溧东0")
    assert row[2] == first.id_number and row[4] == first.bank_account
    log = AccessLog.objects.get()
    assert (log.user, log.unit, log.kind, log.ip_address) == (office, county, AccessKind.EXPORT_UNMASKED, "10.1.2.3")
    assert log.detail == "发放名册：2026年3月定期生活补助；共 5 人"


def test_without_full_the_permission_changes_nothing(client, office, cash_batch):
    grant_reveal(office)
    client.force_login(office)
    response = client.get(reverse("payments:batch_bank_file", args=[cash_batch.pk]))
    first = Beneficiary.objects.get(name="溧东0")
    assert first.id_number not in all_text(response.content)
    assert not AccessLog.objects.exists()


def test_returned_rows_are_not_in_the_bank_file(client, office, county, township):
    batch = make_batch(county, PaymentKind.LIVING, MARCH, created_by=office, status=BatchStatus.PAID)
    rows = pay(batch, make_people(township, 2), category=Category.ILL_RETURNED, amount=365)
    rows[0].returned_on, rows[0].returned_reason = datetime.date(2026, 3, 25), "账号错误"
    rows[0].save()
    client.force_login(office)
    lines = cells(client.get(reverse("payments:batch_bank_file", args=[batch.pk])).content, "发放名册")[1:]
    assert [line[1] for line in lines] == ["对象1", "合计"]


# 签领表


def test_the_sign_sheet_lists_each_township_with_totals_in_capitals(client, office, cash_batch):
    client.force_login(office)

    response = client.get(reverse("payments:batch_sign_sheet", args=[cash_batch.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pages = pdf_pages(response.content)
    assert len(pages) == 2
    lidong, yahui = (re.sub(r"\s+", "", page) for page in pages)
    assert "2026年3月定期生活补助签领表" in lidong
    assert "溧东镇第1/1页" in lidong and "雅灰乡第1/1页" in yahui
    first = Beneficiary.objects.get(name="溧东0")
    assert mask_id_number(first.id_number) in lidong and first.id_number not in lidong
    assert "溧东0" in lidong and "带病回乡退役军人" in lidong and "叁佰陆拾伍元整" in lidong
    assert "本页小计（3人）1,095.00壹仟零玖拾伍元整" in lidong
    assert "溧东镇合计（3人）1,095.00壹仟零玖拾伍元整" in lidong
    assert "1—3月" in yahui and "2,017.50贰仟零壹拾柒元伍角" in yahui
    assert "雅灰乡合计（2人）2,690.00贰仟陆佰玖拾元整" in yahui
    assert "总计：5人，3,785.00元，大写：叁仟柒佰捌拾伍元整" in yahui
    assert "总计" not in lidong
    assert "签名" in lidong and "经办人" in lidong
    assert "草稿" not in lidong


def test_a_long_township_runs_over_pages_with_a_subtotal_on_each(client, office, county, township):
    batch = make_batch(county, PaymentKind.LIVING, MARCH, created_by=office)
    per_page = payment_exporters.SIGN_ROWS_PER_PAGE
    pay(batch, make_people(township, per_page + 2), category=Category.ILL_RETURNED, amount=365)
    client.force_login(office)

    pages = [
        re.sub(r"\s+", "", page)
        for page in pdf_pages(client.get(reverse("payments:batch_sign_sheet", args=[batch.pk])).content)
    ]

    assert len(pages) == 2
    assert "草稿：未经审批，不得据此发放" in pages[0]
    assert f"本页小计（{per_page}人）{365 * per_page:,}.00" in pages[0]
    assert "溧东镇合计" not in pages[0]
    assert "本页小计（2人）730.00柒佰叁拾元整" in pages[1]
    assert f"溧东镇合计（{per_page + 2}人）{365 * (per_page + 2):,}.00" in pages[1]


def test_the_sign_sheet_of_an_empty_batch_says_so(client, office, county):
    batch = make_batch(county, PaymentKind.LIVING, MARCH, created_by=office)
    client.force_login(office)
    pages = pdf_pages(client.get(reverse("payments:batch_sign_sheet", args=[batch.pk])).content)
    assert "本批次没有发放记录" in pages[0]


def test_an_annual_amount_reads_as_the_whole_year(client, office, county, township):
    from beneficiaries.constants import Basis
    from beneficiaries.models import Standard

    standard = Standard.objects.create(
        unit=county,
        kind=PaymentKind.CONSCRIPT,
        category=Category.CONSCRIPT_FAMILY,
        basis=Basis.YEAR,
        amount=1546,
        payment_month=8,
        effective_from=datetime.date(2026, 1, 1),
    )
    batch = make_batch(
        county, PaymentKind.CONSCRIPT, datetime.date(2026, 7, 1), datetime.date(2026, 12, 1), created_by=office
    )
    pay(
        batch,
        make_people(township, 1),
        category=Category.CONSCRIPT_FAMILY,
        amount=1546,
        months=[datetime.date(2026, 1, 1)],
        standard=standard,
    )
    client.force_login(office)
    text = re.sub(r"\s+", "", pdf_pages(client.get(reverse("payments:batch_sign_sheet", args=[batch.pk])).content)[0])
    assert "全年1,546.00壹仟伍佰肆拾陆元整" in text
    lines = cells(client.get(reverse("payments:batch_bank_file", args=[batch.pk])).content, "发放名册")
    assert lines[1][8] == "2026年度"


# The ledger and the summary as workbooks


def test_the_ledger_export_holds_the_filtered_rows_masked_with_a_total(client, office, cash_batch):
    cash_batch.status, cash_batch.paid_on, cash_batch.method = (
        BatchStatus.PAID,
        datetime.date(2026, 3, 20),
        PayMethod.CASH,
    )
    cash_batch.save()
    cash_batch.payments.update(paid_on=datetime.date(2026, 3, 20), method=PayMethod.CASH)
    client.force_login(office)

    response = client.get(
        reverse("payments:ledger"),
        {"category": Category.DEMOBILIZED, "month_from": "2026-01", "month_to": "2026-12", "format": "xlsx"},
    )

    assert response.status_code == 200
    rows = cells(response.content, "发放台账")
    assert rows[0] == LEDGER_HEADER
    data = [dict(zip(LEDGER_HEADER, row, strict=False)) for row in rows[1:-1]]
    assert len(data) == 4 and {row["姓名"] for row in data} == {"雅灰100", "雅灰101"}
    assert data[0]["所属月份"] == "2026-03" and data[-1]["所属月份"] == "2026-01"
    assert (data[0]["发放类别"], data[0]["优抚类别"], data[0]["金额（元）"], data[0]["发放方式"]) == (
        "定期生活补助",
        "在乡复员军人",
        672.5,
        "现金",
    )
    person = Beneficiary.objects.get(name="雅灰100")
    assert mask_id_number(person.id_number) in {row["身份证号"] for row in data}
    assert person.id_number not in all_text(response.content)
    assert rows[-1][0] == "合计（不含退回）" and rows[-1][8] == pytest.approx(2690) and rows[-1][10] == "4笔"
    summary = cells(response.content, "汇总")
    assert ["筛选条件", "所属月份=2026-01至2026-12；状态=已发放；优抚类别=在乡复员军人"] in summary
    # Over more than one month the totals state rows (笔数) and money, not people.
    assert ["合计", None, 4, 2690] in summary


def test_a_ledger_export_over_the_limit_is_refused_with_a_message(client, office, cash_batch, monkeypatch):
    monkeypatch.setattr(payment_exporters, "LEDGER_EXPORT_MAX_ROWS", 3)
    client.force_login(office)
    query = {"state": "all", "month_from": "2026-01", "month_to": "2026-12"}
    response = client.get(reverse("payments:ledger"), {**query, "format": "xlsx"}, follow=True)
    html = response.content.decode()
    assert "符合条件的发放记录有 7 条，超过单次导出上限 3 条，请缩小月份或乡镇范围后再导出。" in html
    expected = reverse("payments:ledger") + "?state=all&month_from=2026-01&month_to=2026-12"
    assert response.redirect_chain[-1][0] == expected


def test_the_summary_workbook_matches_the_page(client, office, county, township):
    batch = make_batch(
        county,
        PaymentKind.LIVING,
        MARCH,
        created_by=office,
        status=BatchStatus.PAID,
        paid_on=datetime.date(2026, 3, 20),
        method=PayMethod.CARD,
    )
    pay(batch, make_people(township, 229), category=Category.ILL_RETURNED, amount=365)
    client.force_login(office)

    response = client.get(reverse("payments:summary"), {"year": "2026", "format": "xlsx"})

    assert response.status_code == 200
    rows = cells(response.content, "2026年度汇总")
    assert rows[1] == ["带病回乡退役军人", "定期生活补助", 229, 229, 83585, 0, 0, 83585]
    assert ["总计", None, 229, 229, 83585] in rows
    assert ["标题", "示例县2026年度抚恤补助发放汇总"] in cells(response.content, "说明")


def test_outsiders_get_404_on_the_exports(client, outsider, cash_batch):
    client.force_login(outsider)
    assert client.get(reverse("payments:batch_bank_file", args=[cash_batch.pk])).status_code == 404
    assert client.get(reverse("payments:batch_sign_sheet", args=[cash_batch.pk])).status_code == 404
    rows = cells(client.get(reverse("payments:ledger"), {"state": "all", "format": "xlsx"}).content, "发放台账")
    assert rows[1:] == [["合计（不含退回）", None, None, None, None, None, None, None, 0, None, "0笔"]]


def test_the_ledger_export_names_an_open_month_range(client, office, person):
    client.force_login(office)
    response = client.get("/payments/ledger/", {"month_from": "2026-01", "format": "xlsx"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["汇总"]
    assert ("筛选条件", "所属月份=2026-01至不限；状态=已发放") == next(sheet.iter_rows(values_only=True))[:2]
