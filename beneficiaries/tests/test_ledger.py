import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from beneficiaries import selectors
from beneficiaries.constants import BatchStatus, Category, PaymentKind, PayMethod
from beneficiaries.models import Payment
from beneficiaries.tests.test_payment_views import make_batch, make_people, pay, text_of
from conftest import make_user
from units.constants import Role

MARCH = datetime.date(2026, 3, 1)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 6, 20, 10, 0), tick=False):
        yield


def paid_batch(unit, kind, first, last=None, *, by, method=PayMethod.CARD, **fields):
    batch = make_batch(unit, kind, first, last, created_by=by, status=BatchStatus.PAID, **fields)
    batch.paid_on, batch.method = (last or first) + datetime.timedelta(days=19), method
    batch.save()
    return batch


def one_off(person, kind, month, amount, reference, **fields):
    return Payment.objects.create(
        beneficiary=person,
        township_id=person.township_id,
        kind=kind,
        month=month,
        amount=Decimal(amount),
        reference=reference,
        paid_on=month + datetime.timedelta(days=5),
        method=PayMethod.CASH,
        **fields,
    )


@pytest.fixture
def ledger_world(office, county, township, other_township, other_county, other_township_far):
    """溧东镇 and 雅灰乡 of the county, a paid March and a draft April, and a row of the other county."""
    ill = make_people(township, 3, name="溧东")
    demob = make_people(other_township, 2, start=100, name="雅灰")
    march_living = paid_batch(county, PaymentKind.LIVING, MARCH, by=office)
    pay(march_living, ill, category=Category.ILL_RETURNED, amount=365)
    returned = pay(march_living, demob, category=Category.DEMOBILIZED, amount=672)[0]
    returned.returned_on, returned.returned_reason = datetime.date(2026, 3, 25), "账号错误"
    returned.save()
    april = make_batch(county, PaymentKind.LIVING, datetime.date(2026, 4, 1), created_by=office)
    pay(april, ill, category=Category.ILL_RETURNED, amount=365)
    raise_batch = paid_batch(
        county,
        PaymentKind.LIVING,
        datetime.date(2026, 1, 1),
        datetime.date(2026, 2, 1),
        by=office,
        cause=_raised(county),
        title="2026年1—2月在乡复员军人定期生活补助补发",
    )
    pay(raise_batch, demob, category=Category.DEMOBILIZED, amount=50, rate=672)
    one_off(ill[0], PaymentKind.CONDOLENCE, datetime.date(2026, 1, 1), "500", "activity:1", purpose="春节慰问")
    last_year = paid_batch(county, PaymentKind.LIVING, datetime.date(2025, 12, 1), by=office)
    pay(last_year, ill, category=Category.ILL_RETURNED, amount=350)
    far = make_people(other_township_far, 1, start=200, name="邻县")
    pay(paid_batch(other_county, PaymentKind.LIVING, MARCH, by=office), far, category=Category.ILL_RETURNED, amount=999)
    return {"ill": ill, "demob": demob, "march": march_living, "april": april, "raise": raise_batch}


def _raised(county):
    from beneficiaries.models import Standard

    return Standard.objects.create(
        unit=county,
        kind=PaymentKind.LIVING,
        category=Category.DEMOBILIZED,
        amount=Decimal("672"),
        effective_from=datetime.date(2026, 1, 1),
    )


def ledger(client, **params):
    response = client.get(reverse("payments:ledger"), params)
    assert response.status_code == 200
    return response.content.decode()


def table(html, table_id):
    """Return a table's rows as text, cells joined by one space (empty cells left out)."""
    block = re.search(rf'id="{table_id}">(.*?)</table>', html, re.S)[1]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", block, re.S):
        cells = [text_of(cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        rows.append(" ".join(cell for cell in cells if cell))
    return rows


# The selectors


def test_totals_leave_out_returned_rows_and_count_by_kind_and_category(office, ledger_world):
    payments = selectors.ledger_filter(
        user=office, month_from=datetime.date(2026, 1, 1), month_to=datetime.date(2026, 12, 1)
    )

    totals = selectors.payment_totals(payments=payments)

    # March: 3 × 365 + 1 × 672 (one returned); 补发 2 people × 2 months × 50; one 慰问金 of 500.
    assert totals["amount"] == Decimal("1095") + Decimal("672") + Decimal("200") + Decimal("500")
    assert totals["count"] == 3 + 1 + 4 + 1
    assert totals["people"] == 5
    assert [(r["label"], r["people"], r["count"], r["amount"]) for r in totals["by_kind"]] == [
        ("定期生活补助", 5, 8, Decimal("1967.00")),
        ("慰问金", 1, 1, Decimal("500.00")),
    ]
    assert [(r["label"], r["amount"]) for r in totals["by_category"]] == [
        ("带病回乡退役军人", Decimal("1095.00")),
        ("在乡复员军人", Decimal("872.00")),
        ("未分类", Decimal("500.00")),
    ]


def test_the_ledger_counts_money_paid_out_unless_asked_for_pending_rows(office, ledger_world):
    year = {"month_from": datetime.date(2026, 1, 1), "month_to": datetime.date(2026, 12, 1)}
    pending = selectors.ledger_filter(user=office, state="pending", **year)
    everything = selectors.ledger_filter(user=office, state="all", **year)
    assert set(pending.values_list("batch", flat=True)) == {ledger_world["april"].pk}
    assert selectors.payment_totals(payments=pending)["amount"] == Decimal("1095.00")
    assert selectors.payment_totals(payments=everything)["amount"] == Decimal("3562.00")


def test_a_liaison_sees_only_the_rows_of_their_township(liaison, ledger_world):
    payments = selectors.ledger_filter(user=liaison, state="all")
    assert {p.township.name for p in payments} == {"溧东镇"}
    assert selectors.payment_totals(payments=payments)["amount"] == Decimal("1095") * 2 + Decimal("500") + 1050


def copy_payments(*, months, count):
    """Add the rows test:<months> … test:<count - 1>, each a copy of the row test:<n % months>, in one statement.

    100 000 rows built as models and inserted by the ORM take seconds; INSERT … SELECT over a counter does not.
    """
    quote = connection.ops.quote_name
    table = quote(Payment._meta.db_table)
    columns = [field.column for field in Payment._meta.concrete_fields if not field.primary_key]
    values = ["'test:' || n.i" if column == "reference" else f"t.{quote(column)}" for column in columns]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE n(i) AS (SELECT %s UNION ALL SELECT i + 1 FROM n WHERE i < %s) "
            f"INSERT INTO {table} ({', '.join(map(quote, columns))}) SELECT {', '.join(values)} "
            f"FROM n JOIN {table} t ON t.reference = 'test:' || (n.i %% %s)",
            [months, count - 1, months],
        )


def test_exactly_to_the_fen_for_100000_amounts_of_0_29(office, township):
    person = make_people(township, 1)[0]
    rows = [
        Payment(
            beneficiary=person,
            township=township,
            kind=PaymentKind.OTHER,
            month=datetime.date(2026, 1 + n, 1),
            amount=Decimal("0.29"),
            reference=f"test:{n}",
        )
        for n in range(12)
    ]
    Payment.objects.bulk_create(rows)
    copy_payments(months=12, count=100_000)
    assert Payment.objects.filter(amount=Decimal("0.29"), month__year=2026, kind=PaymentKind.OTHER).count() == 100_000

    totals = selectors.payment_totals(payments=selectors.ledger_filter(user=office))

    assert totals["count"] == 100_000
    assert totals["amount"] == Decimal("29000.00")
    assert isinstance(totals["amount"], Decimal)
    assert str(totals["amount"]) == "29000.00"


# The ledger page


def test_the_page_opens_on_the_latest_month_paid_and_widens_to_the_year(client, office, ledger_world):
    client.force_login(office)

    # Without months: the latest month with paid rows (March; April's batch is still a draft), with its people.
    html = ledger(client)

    kinds = table(html, "totals-by-kind")
    assert kinds[1:] == ["定期生活补助 4 4 1,767.00 元", "合计 4 4 1,767.00 元"]
    assert "带病回乡退役军人 3 3 1,095.00 元" in table(html, "totals-by-category")
    rows = table(html, "ledger-rows")
    assert len(rows) == 1 + 4 + 1  # header, counted rows, the returned row
    assert all("2026-03" in row for row in rows[1:])
    assert not any("邻县" in row for row in rows)
    assert any("已退回" in row and "雅灰" in row for row in rows)
    assert "未选择月份时显示有发放记录的最近一个月（2026年3月）" in html

    # The whole year: rows and amounts; people are counted for one month only.
    html = ledger(client, month_from="2026-01", month_to="2026-12")
    kinds = table(html, "totals-by-kind")
    assert "定期生活补助 — 8 1,967.00 元" in kinds and "慰问金 — 1 500.00 元" in kinds
    assert "合计 — 9 2,467.00 元" in kinds
    assert "带病回乡退役军人 — 3 1,095.00 元" in table(html, "totals-by-category")
    rows = table(html, "ledger-rows")
    assert len(rows) == 1 + 9 + 1
    assert not any("2025-12" in row or "邻县" in row for row in rows)
    assert [row[:7] for row in rows[1:]] == sorted((row[:7] for row in rows[1:]), reverse=True)
    assert "人数只在查看一个月时统计" in html


def test_the_default_month_follows_the_filters_and_falls_back_to_this_month(office, ledger_world):
    today = datetime.date(2026, 6, 20)
    assert selectors.ledger_default_month(user=office, today=today) == MARCH
    assert selectors.ledger_default_month(user=office, today=today, state="pending") == datetime.date(2026, 4, 1)
    assert selectors.ledger_default_month(user=office, today=today, kind=PaymentKind.CONDOLENCE) == datetime.date(
        2026, 1, 1
    )
    assert selectors.ledger_default_month(user=office, today=today, kind=PaymentKind.PENSION) == datetime.date(
        2026, 6, 1
    )


def test_the_filters_narrow_rows_and_totals(client, office, township, ledger_world):
    client.force_login(office)

    html = ledger(client, kind=PaymentKind.LIVING, month_from="2026-03", month_to="2026-03", category="05")
    assert table(html, "totals-by-kind")[-1] == "合计 3 3 1,095.00 元"

    year = {"month_from": "2026-01", "month_to": "2026-12"}
    html = ledger(client, township=township.pk, state="all", **year)
    assert table(html, "totals-by-kind")[-1] == "合计 — 7 2,690.00 元"

    html = ledger(client, backpay_only="on", **year)
    rows = table(html, "ledger-rows")[1:]
    assert len(rows) == 4 and all("补发" in row for row in rows)
    assert table(html, "totals-by-kind")[-1] == "合计 — 4 200.00 元"

    # Without months the filters choose the month too: the latest with 补发 is February.
    html = ledger(client, backpay_only="on")
    assert table(html, "totals-by-kind")[-1] == "合计 2 2 100.00 元"

    html = ledger(client, batch=ledger_world["april"].pk, state="all")
    assert table(html, "totals-by-kind")[-1] == "合计 3 3 1,095.00 元"

    html = ledger(client, month_from="2025-01", month_to="2025-12")
    assert table(html, "totals-by-kind")[-1] == "合计 — 3 1,050.00 元"
    html = ledger(client, month_from="2025-12", month_to="2025-12")
    assert table(html, "totals-by-kind")[-1] == "合计 3 3 1,050.00 元"


def test_bad_filters_are_named(client, office, other_county, ledger_world):
    client.force_login(office)
    html = ledger(client, month_from="2026-13", month_to="2026-02")
    assert "起始月份：“2026-13”不是有效的月份，请写成 2026-03 的形式。" in html
    html = ledger(client, month_from="2026-05", month_to="2026-02")
    assert "截止月份：截止月份不能早于起始月份。" in html
    far_batch = ledger_world["march"].__class__.objects.get(unit=other_county)
    html = ledger(client, batch=far_batch.pk)
    assert "批次：所选批次不存在或不在您的管辖范围内。" in html
    assert "999" not in text_of(html)


def test_the_ledger_query_count_does_not_grow(client, office, county, township, django_assert_max_num_queries):
    batch = paid_batch(county, PaymentKind.LIVING, MARCH, by=office)
    pay(batch, make_people(township, 3), category=Category.ILL_RETURNED, amount=365)
    client.force_login(office)
    with CaptureQueriesContext(connection) as few:
        ledger(client)
    pay(batch, make_people(township, 70, start=100), category=Category.DEMOBILIZED, amount=672)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = ledger(client)
    assert "第 1 / 2 页，共 73 条" in html


def test_the_page_count_lists_a_returned_row_that_the_totals_leave_out(client, office, county, township):
    batch = paid_batch(county, PaymentKind.LIVING, MARCH, by=office)
    rows = pay(batch, make_people(township, 51), category=Category.ILL_RETURNED, amount=365)
    rows[0].returned_on, rows[0].returned_reason = datetime.date(2026, 3, 25), "账号错误"
    rows[0].save()
    client.force_login(office)
    html = ledger(client)
    assert "第 1 / 2 页，共 51 条" in html
    assert "18,250.00 元" in text_of(html)  # 50 × 365: the returned row is listed, not counted


def test_a_bureau_liaison_sees_an_empty_ledger(client, bureau_liaison, ledger_world):
    client.force_login(bureau_liaison)
    html = ledger(client, state="all")
    assert "没有符合条件的发放记录。" in html


# The yearly summary


def test_the_summary_states_each_category_and_kind_with_backpay_apart(office, ledger_world):
    summary = selectors.yearly_summary(user=office, year=2026)

    assert [
        (r["category_label"], r["kind_label"], r["people"], r["amount"], r["backpay_people"], r["backpay_amount"])
        for r in summary["regular"]
    ] == [
        ("带病回乡退役军人", "定期生活补助", 3, Decimal("1095.00"), 0, Decimal("0.00")),
        ("在乡复员军人", "定期生活补助", 1, Decimal("672.00"), 2, Decimal("200.00")),
    ]
    assert [
        (k["label"], k["people"], k["amount"], k["backpay_amount"], k["total"]) for k in summary["regular_kinds"]
    ] == [("定期生活补助", 4, Decimal("1767.00"), Decimal("200.00"), Decimal("1967.00"))]
    assert [(o["label"], o["people"], o["count"], o["amount"]) for o in summary["one_offs"]] == [
        ("慰问金", 1, 1, Decimal("500.00"))
    ]
    assert summary["amount"] == Decimal("2467.00")
    assert summary["regular_amount"] + summary["backpay_amount"] + summary["one_off_amount"] == summary["amount"]


def test_the_summary_of_a_township_and_of_last_year(office, township, ledger_world):
    assert selectors.yearly_summary(user=office, year=2026, unit=township)["amount"] == Decimal("1595.00")
    assert selectors.yearly_summary(user=office, year=2025)["amount"] == Decimal("1050.00")


def test_the_summary_page_and_its_bad_input(client, office, ledger_world):
    client.force_login(office)
    html = client.get(reverse("payments:summary")).content.decode()
    assert "示例县2026年度抚恤补助发放汇总" in html
    assert "全年合计 5人，2,467.00 元（2467元）" in text_of(html)
    rows = table(html, "summary-regular")
    assert "在乡复员军人 定期生活补助 1 1 672.00 元 2 200.00 元 872.00 元" in rows

    html = client.get(reverse("payments:summary"), {"year": "1990"}).content.decode()
    assert "年度：请选择列出的年度。" in html
    assert "2026年度" in html


def test_the_summary_of_a_liaison_is_their_township(client, township, ledger_world):
    client.force_login(make_user("liaison2", township, Role.LIAISON))
    html = client.get(reverse("payments:summary")).content.decode()
    assert "溧东镇2026年度抚恤补助发放汇总" in html
    assert "全年合计 3人，1,595.00 元" in text_of(html)


def test_a_liaison_reads_batch_titles_without_links_to_county_pages(client, liaison, office, ledger_world):
    client.force_login(liaison)
    html = ledger(client)
    assert "2026年3月定期生活补助" in html and ledger_world["march"].get_absolute_url() not in html
    assert table(html, "totals-by-kind")[-1] == "合计 3 3 1,095.00 元"
    html = ledger(client, month_from="2026-01", month_to="2026-12")
    assert table(html, "totals-by-kind")[-1] == "合计 — 4 1,595.00 元"
    client.force_login(office)
    assert ledger_world["march"].get_absolute_url() in ledger(client)
