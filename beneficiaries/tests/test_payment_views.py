import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from beneficiaries.constants import (
    Basis,
    BatchStatus,
    Category,
    ExceptionReason,
    PaymentKind,
    PayMethod,
)
from beneficiaries.models import BatchException, Beneficiary, Payment, PaymentBatch, Standard
from conftest import make_user, valid_id_number
from units.constants import Role

MARCH = datetime.date(2026, 3, 1)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 6, 20, 10, 0), tick=False):
        yield


def make_people(township, n, *, start=0, name="对象", **fields):
    """Create n people of a township in one query; ID numbers differ by `start + i`."""
    people = []
    for i in range(start, start + n):
        born = datetime.date(1950, 1, 1) + datetime.timedelta(days=i)
        people.append(
            Beneficiary(
                name=f"{name}{i}",
                id_number=valid_id_number(f"320481{born:%Y%m%d}{i % 1000:03d}"),
                sex="男",
                birth_date=born,
                township=township,
                bank_name=fields.get("bank_name", "示例县农村商业银行"),
                bank_account=fields.get("bank_account", f"62284804{i:011d}"),
            )
        )
    return Beneficiary.objects.bulk_create(people)


def make_batch(unit, kind, first, last=None, *, created_by, status=BatchStatus.DRAFT, generated_by=None, **fields):
    last = last or first
    now = timezone.now()
    if status != BatchStatus.DRAFT:
        fields.setdefault("approved_at", now)
    return PaymentBatch.objects.create(
        unit=unit,
        kind=kind,
        first_month=first,
        last_month=last,
        key=f"{unit.pk}:{kind}:{first:%Y%m}-{last:%Y%m}"
        + (f":backpay:{fields['cause'].pk}" if "cause" in fields else ""),
        title=fields.pop("title", f"{first.year}年{first.month}月{PaymentKind(kind).label}"),
        status=status,
        created_by=created_by,
        generated_by=generated_by or created_by,
        generated_at=fields.pop("generated_at", now),
        is_backpay="cause" in fields,
        **fields,
    )


def months_of(first, last):
    months, month = [], first
    while month <= last:
        months.append(month)
        month = datetime.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def pay(batch, people, *, category, amount, months=None, **fields):
    """Write a batch's rows for the people: one per month of the span (or the given months)."""
    amount = Decimal(str(amount))
    rate = Decimal(str(fields.pop("rate", amount)))
    months = months or months_of(batch.first_month, batch.last_month)
    rows = [
        Payment(
            beneficiary=person,
            township_id=person.township_id,
            kind=batch.kind,
            category=category,
            month=month,
            rate=rate,
            amount=amount,
            batch=batch,
            paid_on=batch.paid_on,
            method=batch.method,
            cause=batch.cause,
            is_backpay=batch.is_backpay,
            **fields,
        )
        for person in people
        for month in months
    ]
    return Payment.objects.bulk_create(rows)


def page(client, batch, **params):
    response = client.get(reverse("payments:batch", args=[batch.pk]), params)
    assert response.status_code == 200
    return response.content.decode()


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def totals_block(html):
    return re.search(r'id="batch-totals">(.*?)id="batch-grand-total"', html, re.S)[1]


def totals_lines(html):
    """The per-rate lines of the batch totals, as the page states them."""
    lines = re.findall(r"<li data-line[^>]*>(.*?)</li>", totals_block(html), re.S)
    return [re.sub(r"<[^>]+>", "", item).strip() for item in lines]


def totals_subtotals(html):
    """The category subtotals shown above a category's several rates."""
    found = re.findall(r"<li data-subtotal[^>]*><span[^>]*>(.*?)</span>", totals_block(html), re.S)
    return [item.strip() for item in found]


# The batch page


def test_the_batch_page_states_totals_per_category_as_summaries_do(client, office, county, township):
    batch = make_batch(county, PaymentKind.LIVING, MARCH, created_by=office)
    pay(batch, make_people(township, 229), category=Category.ILL_RETURNED, amount=365)
    pay(batch, make_people(township, 7, start=300), category=Category.DEMOBILIZED, amount=672)
    pay(batch, make_people(township, 27, start=400), category=Category.WAR_VETERAN, amount=365)
    client.force_login(office)

    html = page(client, batch)

    assert totals_lines(html) == [
        "带病回乡退役军人 229人 × 365元 = 83,585.00 元",
        "参战参试退役人员 27人 × 365元 = 9,855.00 元",
        "在乡复员军人 7人 × 672元 = 4,704.00 元",
    ]
    assert "合计 263人 98,144.00 元" in text_of(html)
    assert "玖万捌仟壹佰肆拾肆元整" in html


def test_several_rates_in_a_category_are_one_line_each(client, office, county, township):
    batch = make_batch(county, PaymentKind.DISABILITY, MARCH, created_by=office)
    people = make_people(township, 11)
    pay(batch, people[:3], category=Category.DISABLED, amount=1200)
    pay(batch, people[3:7], category=Category.DISABLED, amount=900)
    pay(batch, people[7:], category=Category.DISABLED, amount="928.25")
    client.force_login(office)

    html = page(client, batch)

    assert totals_lines(html) == [
        "残疾军人 3人 × 1200元 = 3,600.00 元",
        "残疾军人 4人 × 928.25元 = 3,713.00 元",
        "残疾军人 4人 × 900元 = 3,600.00 元",
    ]
    assert totals_subtotals(html) == ["残疾军人 11人，合计 10,913.00 元"]
    assert "合计 11人 10,913.00 元" in text_of(html)


def test_a_half_year_batch_states_the_months(client, office, county, other_township):
    batch = make_batch(
        county, PaymentKind.LIVING, datetime.date(2026, 1, 1), datetime.date(2026, 6, 1), created_by=office
    )
    people = make_people(other_township, 27)
    pay(batch, people[:26], category=Category.DEMOBILIZED, amount=90)
    # Died in March: paid January to March only.
    pay(batch, people[26:], category=Category.DEMOBILIZED, amount=90, months=months_of(batch.first_month, MARCH))
    client.force_login(office)

    lines = totals_lines(page(client, batch))

    assert lines == ["在乡复员军人 27人 共159笔 × 90元 = 14,310.00 元"]


def test_a_uniform_half_year_reads_people_times_rate_times_months(client, office, county, other_township):
    batch = make_batch(
        county, PaymentKind.LIVING, datetime.date(2026, 1, 1), datetime.date(2026, 6, 1), created_by=office
    )
    pay(batch, make_people(other_township, 26), category=Category.DEMOBILIZED, amount=90)
    client.force_login(office)

    assert totals_lines(page(client, batch)) == ["在乡复员军人 26人 × 90元 × 6个月 = 14,040.00 元"]


def test_backpay_and_held_months_have_lines_of_their_own(client, office, county, other_township):
    old = Standard.objects.create(
        unit=county,
        kind=PaymentKind.LIVING,
        category=Category.DEMOBILIZED,
        amount=90,
        effective_from=datetime.date(2025, 1, 1),
        effective_to=datetime.date(2026, 1, 31),
    )
    raised = Standard.objects.create(
        unit=county,
        kind=PaymentKind.LIVING,
        category=Category.DEMOBILIZED,
        amount=140,
        effective_from=datetime.date(2026, 2, 1),
        replaces=old,
    )
    backpay = make_batch(
        county,
        PaymentKind.LIVING,
        datetime.date(2026, 2, 1),
        datetime.date(2026, 5, 1),
        created_by=office,
        cause=raised,
        title="2026年2—5月在乡复员军人定期生活补助补发",
    )
    people = make_people(other_township, 26)
    pay(backpay, people, category=Category.DEMOBILIZED, amount=50, rate=140)
    regular = make_batch(county, PaymentKind.LIVING, datetime.date(2026, 6, 1), created_by=office)
    pay(regular, people, category=Category.DEMOBILIZED, amount=140)
    # Held in April and May, resumed in June: the held months come with June.
    pay(regular, people[:1], category=Category.DEMOBILIZED, amount=140, months=[datetime.date(2026, 4, 1)])
    client.force_login(office)

    assert totals_lines(page(client, backpay)) == ["在乡复员军人（补发） 26人 × 50元 × 4个月 = 5,200.00 元"]
    assert totals_lines(page(client, regular)) == [
        "在乡复员军人 26人 × 140元 = 3,640.00 元",
        "在乡复员军人（停发恢复后补发以前月份） 1人 × 140元 = 140.00 元",
    ]


def test_an_annual_amount_in_a_later_half_is_stated_once(client, office, county, township):
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
        make_people(township, 9),
        category=Category.CONSCRIPT_FAMILY,
        amount=1546,
        months=[datetime.date(2026, 1, 1)],
        standard=standard,
    )
    client.force_login(office)

    assert totals_lines(page(client, batch)) == ["义务兵家庭 9人 × 1546元 = 13,914.00 元"]


def test_returned_rows_leave_the_total_and_their_reissue_is_a_line(client, office, county, township):
    march = make_batch(county, PaymentKind.LIVING, MARCH, created_by=office, status=BatchStatus.PAID)
    march.paid_on, march.method = datetime.date(2026, 3, 20), PayMethod.CARD
    march.save()
    people = make_people(township, 3)
    rows = pay(march, people, category=Category.ILL_RETURNED, amount=365)
    returned = rows[0]
    returned.returned_on, returned.returned_reason = datetime.date(2026, 3, 25), "账号错误"
    returned.save()
    april = make_batch(county, PaymentKind.LIVING, datetime.date(2026, 4, 1), created_by=office)
    pay(april, people, category=Category.ILL_RETURNED, amount=365)
    pay(april, people[:1], category=Category.ILL_RETURNED, amount=365, months=[MARCH], reissue_of=returned)
    client.force_login(office)

    march_html = page(client, march)
    assert totals_lines(march_html) == ["带病回乡退役军人 2人 × 365元 = 730.00 元"]
    assert "银行退回 1 笔，365.00 元" in march_html
    assert "已退回" in march_html and "账号错误，已重发" in march_html
    assert totals_lines(page(client, april)) == [
        "带病回乡退役军人 3人 × 365元 = 1,095.00 元",
        "带病回乡退役军人（退回款重发） 1人 × 365元 = 365.00 元",
    ]


def test_the_exceptions_are_listed_by_reason_beside_the_draft(client, office, county, township):
    batch = make_batch(county, PaymentKind.LIVING, MARCH, created_by=office)
    no_account = make_people(township, 2, name="无账号")
    held = make_people(township, 1, start=50, name="停发者")
    for person in no_account:
        BatchException.objects.create(batch=batch, beneficiary=person, reason=ExceptionReason.NO_ACCOUNT)
    BatchException.objects.create(batch=batch, beneficiary=held[0], reason=ExceptionReason.HELD, detail="2026-02起停发")
    client.force_login(office)

    html = page(client, batch)

    block = text_of(re.search(r'id="batch-exceptions">(.*?)</div></div>', html, re.S)[1])
    assert "无银行账号（2人）" in block and "无账号0（溧东镇）" in block and "无账号1（溧东镇）" in block
    assert "停发（1人）" in block and "停发者50（溧东镇）：2026-02起停发" in block
    assert block.index("无银行账号") < block.index("停发（")


def test_the_rows_page_query_count_does_not_grow(client, office, county, township, django_assert_max_num_queries):
    batch = make_batch(county, PaymentKind.LIVING, MARCH, created_by=office)
    pay(batch, make_people(township, 3), category=Category.ILL_RETURNED, amount=365)
    BatchException.objects.create(
        batch=batch, beneficiary=make_people(township, 1, start=90)[0], reason=ExceptionReason.NO_ACCOUNT
    )
    client.force_login(office)
    with CaptureQueriesContext(connection) as few:
        page(client, batch)
    pay(batch, make_people(township, 80, start=100), category=Category.DEMOBILIZED, amount=672)
    for person in make_people(township, 40, start=300):
        BatchException.objects.create(batch=batch, beneficiary=person, reason=ExceptionReason.NO_ACCOUNT)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = page(client, batch)
    assert "第 1 / 2 页，共 83 条" in html
    assert "另有 11 人未列出" in html


def test_who_may_approve_is_explained(client, director, office, leader, county, township):
    batch = make_batch(county, PaymentKind.LIVING, MARCH, created_by=office)
    pay(batch, make_people(township, 2), category=Category.ILL_RETURNED, amount=365)
    approve_url = reverse("payments:batch_approve", args=[batch.pk])

    client.force_login(office)
    html = page(client, batch)
    assert "批次须由双拥办主任审批。" in html and approve_url not in html
    assert "重新生成" in html

    client.force_login(director)
    assert approve_url in page(client, batch)

    batch.generated_by = director
    batch.save()
    html = page(client, batch)
    assert "您是本批次的制表人，须由另一位双拥办主任审批。" in html and approve_url not in html

    client.force_login(leader)
    html = page(client, batch)
    assert 'id="batch-actions"' not in html and approve_url not in html
    assert reverse("payments:batch_generate", args=[batch.pk]) not in html


def test_a_draft_not_yet_generated_cannot_be_approved(client, director, office, county):
    batch = make_batch(county, PaymentKind.LIVING, MARCH, created_by=office, generated_at=None)
    batch.generated_by = None
    batch.save()
    client.force_login(director)
    html = page(client, batch)
    assert "批次尚未生成，生成发放名单后才能审批。" in html
    assert "生成发放名单</button>" in html
    assert "草稿（未生成）" in html


def test_the_steps_show_who_did_what_and_when(client, director, office, county, township):
    batch = make_batch(county, PaymentKind.LIVING, MARCH, created_by=office, status=BatchStatus.PAID)
    batch.approved_by, batch.paid_by = director, office
    batch.paid_on, batch.method = datetime.date(2026, 3, 20), PayMethod.CASH
    batch.save()
    client.force_login(office)

    steps = text_of(
        re.search(
            r'<ol class="list-inline small text-muted mb-3" id="batch-steps">(.*?)</ol>', page(client, batch), re.S
        )[1]
    )

    assert "建立：李干事" in steps and "生成：李干事" in steps
    assert "审批：王主任" in steps
    assert "发放：2026-03-20 现金（李干事 登记）" in steps


def test_an_approved_batch_offers_the_paid_form_and_a_paid_card_batch_the_return_link(client, office, county, township):
    batch = make_batch(county, PaymentKind.LIVING, MARCH, created_by=office, status=BatchStatus.APPROVED)
    rows = pay(batch, make_people(township, 1), category=Category.ILL_RETURNED, amount=365)
    client.force_login(office)
    html = page(client, batch)
    assert reverse("payments:batch_paid", args=[batch.pk]) in html and 'name="method"' in html
    assert reverse("payments:payment_return", args=[rows[0].pk]) not in html

    batch.status, batch.paid_on, batch.method = BatchStatus.PAID, datetime.date(2026, 3, 20), PayMethod.CARD
    batch.save()
    html = page(client, batch)
    assert reverse("payments:payment_return", args=[rows[0].pk]) in html
    assert reverse("payments:batch_paid", args=[batch.pk]) not in html

    batch.method = PayMethod.CASH
    batch.save()
    assert reverse("payments:payment_return", args=[rows[0].pk]) not in page(client, batch)


def test_people_outside_the_county_and_liaisons_get_404_on_a_batch(client, office, liaison, outsider, county):
    batch = make_batch(county, PaymentKind.LIVING, MARCH, created_by=office)
    for user in (liaison, outsider):
        client.force_login(user)
        for name in ("batch", "batch_bank_file", "batch_sign_sheet", "batch_paid"):
            assert client.get(reverse(f"payments:{name}", args=[batch.pk])).status_code == 404, (user, name)
        for name in ("batch_generate", "batch_approve"):
            assert client.post(reverse(f"payments:{name}", args=[batch.pk])).status_code == 404, (user, name)


def test_a_leader_reads_but_cannot_act(client, leader, office, county):
    batch = make_batch(county, PaymentKind.LIVING, MARCH, created_by=office, status=BatchStatus.APPROVED)
    client.force_login(leader)
    assert client.get(reverse("payments:batch", args=[batch.pk])).status_code == 200
    assert client.get(reverse("payments:batch_paid", args=[batch.pk])).status_code == 404
    assert client.post(reverse("payments:batch_approve", args=[batch.pk])).status_code == 404
    assert client.get(reverse("payments:batch_add")).status_code == 404


# The batch list


def test_the_list_shows_status_people_and_amount_and_filters(client, office, county, township, other_county):
    march = make_batch(county, PaymentKind.LIVING, MARCH, created_by=office, status=BatchStatus.PAID)
    pay(march, make_people(township, 3), category=Category.ILL_RETURNED, amount=365)
    conscript = make_batch(
        county,
        PaymentKind.CONSCRIPT,
        datetime.date(2025, 1, 1),
        datetime.date(2025, 12, 1),
        created_by=office,
        title="2025年度义务兵家庭优待金",
    )
    make_batch(other_county, PaymentKind.LIVING, MARCH, created_by=office, title="邻县2026年3月定期生活补助")
    client.force_login(office)

    html = client.get(reverse("payments:batches")).content.decode()
    assert "2026年3月定期生活补助" in html and "2025年度义务兵家庭优待金" in html
    assert "邻县" not in html
    row = text_of(re.search(rf'<tr>\s*<td><a href="{march.get_absolute_url()}">.*?</tr>', html, re.S)[0])
    assert "已发放" in row and " 3 " in row and "1,095.00 元" in row
    assert "新建批次" in html

    html = client.get(reverse("payments:batches"), {"status": "paid"}).content.decode()
    assert march.title in html and conscript.title not in html
    html = client.get(reverse("payments:batches"), {"year": "2025", "kind": PaymentKind.CONSCRIPT}).content.decode()
    assert conscript.title in html and march.title not in html


def test_a_bad_filter_is_named_and_ignored(client, office, county):
    make_batch(county, PaymentKind.LIVING, MARCH, created_by=office)
    client.force_login(office)
    html = client.get(reverse("payments:batches"), {"year": "1999"}).content.decode()
    assert "年度：所选年度没有发放批次。" in html
    assert "2026年3月定期生活补助" in html
    html = client.get(reverse("payments:batches"), {"year": "1999", "kind": PaymentKind.PENSION}).content.decode()
    assert "年度：所选年度没有发放批次。" in html
    assert "2026年3月定期生活补助" not in html


def test_a_leader_sees_the_list_without_the_new_button(client, leader, office, county):
    make_batch(county, PaymentKind.LIVING, MARCH, created_by=office)
    client.force_login(leader)
    html = client.get(reverse("payments:batches")).content.decode()
    assert "2026年3月定期生活补助" in html and "新建批次" not in html


# The new-batch form


def test_the_new_batch_form_offers_regular_kinds_and_periods(client, office):
    client.force_login(office)
    html = client.get(reverse("payments:batch_add")).content.decode()
    assert "定期生活补助" in html and "义务兵家庭优待金" in html and "慰问金" not in html
    assert 'value="q2"' in html and 'value="h1"' in html and 'value="y"' in html
    # One county: no choice to make.
    assert 'type="hidden" name="unit"' in html


def test_an_office_of_two_counties_chooses_the_unit(client, county, other_county):
    user = make_user("two", county, Role.OFFICE)
    from units.models import Membership

    Membership.objects.create(user=user, unit=other_county, role=Role.OFFICE)
    client.force_login(user)
    html = client.get(reverse("payments:batch_add")).content.decode()
    assert '<select name="unit"' in html and "邻县" in html and "示例县" in html


def test_a_bad_period_is_named_and_nothing_is_created(client, office):
    client.force_login(office)
    response = client.post(reverse("payments:batch_add"), {"kind": PaymentKind.LIVING, "year": "2026", "period": "q5"})
    assert response.status_code == 200
    assert "请选择列出的发放期间。" in response.content.decode()
    assert not PaymentBatch.objects.exists()


def test_period_codes_give_the_span():
    from beneficiaries.payment_forms import period_months

    assert period_months(2026, "m3") == (datetime.date(2026, 3, 1), datetime.date(2026, 3, 1))
    assert period_months(2026, "q2") == (datetime.date(2026, 4, 1), datetime.date(2026, 6, 1))
    assert period_months(2026, "h2") == (datetime.date(2026, 7, 1), datetime.date(2026, 12, 1))
    assert period_months(2026, "y") == (datetime.date(2026, 1, 1), datetime.date(2026, 12, 1))


# The person page


def test_the_person_page_lists_every_payment_newest_first_with_totals_per_year(client, office, county, person):
    older = make_batch(
        county, PaymentKind.DISABILITY, datetime.date(2025, 12, 1), created_by=office, status=BatchStatus.PAID
    )
    older.paid_on, older.method = datetime.date(2025, 12, 15), PayMethod.CARD
    older.save()
    returned = pay(older, [person], category=Category.DISABLED, amount=1200)[0]
    returned.returned_on, returned.returned_reason = datetime.date(2025, 12, 20), "账号错误"
    returned.save()
    march = make_batch(county, PaymentKind.DISABILITY, MARCH, created_by=office)
    pay(march, [person], category=Category.DISABLED, amount=1250)
    pay(
        march,
        [person],
        category=Category.DISABLED,
        amount=1200,
        months=[datetime.date(2025, 12, 1)],
        reissue_of=returned,
    )
    Payment.objects.create(
        beneficiary=person,
        township=person.township,
        kind=PaymentKind.CONDOLENCE,
        month=datetime.date(2026, 1, 1),
        amount=500,
        reference="activity:5",
        purpose="春节慰问",
        paid_on=datetime.date(2026, 1, 20),
        method=PayMethod.CASH,
    )
    client.force_login(office)

    html = client.get(person.get_absolute_url()).content.decode()

    table = re.search(r'<table class="table table-sm align-middle" id="person-payments">.*?</table>', html, re.S)[0]
    rows = [text_of(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)[1:]]
    assert [row.split()[0] for row in rows] == ["2026-03", "2026-01", "2025-12", "2025-12"]
    assert "残疾抚恤金" in rows[0] and "1,250.00 元" in rows[0] and "草稿" in rows[0]
    assert "慰问金" in rows[1] and "500.00 元" in rows[1] and "春节慰问" in rows[1] and "2026-01-20 现金" in rows[1]
    assert any("退回重发" in row for row in rows[2:])
    assert any("已退回 2025-12-20 账号错误，已重发" in row for row in rows[2:])
    years = text_of(re.search(r'id="payment-years"[^>]*>(.*?)</ul>', html, re.S)[1]).strip()
    assert years == "2026年已发放 1笔 500.00 元"
    assert "2025年" not in years  # returned, and its re-issue not yet paid


def test_a_liaison_sees_only_the_payments_made_in_their_township(
    client, office, county, person, liaison, other_township
):
    batch = make_batch(county, PaymentKind.DISABILITY, MARCH, created_by=office)
    pay(batch, [person], category=Category.DISABLED, amount=1250)
    Payment.objects.filter(beneficiary=person).update(township=other_township)
    client.force_login(liaison)
    html = client.get(person.get_absolute_url()).content.decode()
    assert "暂无发放记录。" in html


# Through the services: create, generate, approve, pay, return


@pytest.fixture
def disability_standard(county):
    from beneficiaries.constants import DisabilityNature

    return Standard.objects.create(
        unit=county,
        kind=PaymentKind.DISABILITY,
        category=Category.DISABLED,
        grade=6,
        nature=DisabilityNature.WAR,
        amount=Decimal("1250"),
        national_part=Decimal("1250"),
        effective_from=datetime.date(2020, 1, 1),
    )


def create_march(client, county, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            reverse("payments:batch_add"),
            {"unit": county.pk, "kind": PaymentKind.DISABILITY, "year": "2026", "period": "m3"},
        )


def test_the_office_creates_a_batch_and_it_is_generated(
    client, office, county, person, disability_standard, django_capture_on_commit_callbacks
):
    client.force_login(office)

    response = create_march(client, county, django_capture_on_commit_callbacks)

    batch = PaymentBatch.objects.get()
    assert response.status_code == 302 and response.url == batch.get_absolute_url()
    assert batch.title == "2026年3月残疾抚恤金" and batch.generated_by == office
    html = page(client, batch)
    assert totals_lines(html) == ["残疾军人 1人 × 1250元 = 1,250.00 元"]
    assert "王建国" in html
    assert "已建立“2026年3月残疾抚恤金”，正在生成发放名单。" in html


def test_the_same_span_twice_opens_the_first_batch(
    client, office, county, person, disability_standard, django_capture_on_commit_callbacks
):
    client.force_login(office)
    create_march(client, county, django_capture_on_commit_callbacks)

    response = create_march(client, county, django_capture_on_commit_callbacks)

    batch = PaymentBatch.objects.get()
    assert response.url == batch.get_absolute_url()
    assert Payment.objects.count() == 1
    assert "“2026年3月残疾抚恤金”已经建立，没有重复建立。" in page(client, batch)


def test_generation_shows_its_progress_to_who_started_it(client, office, county, person, disability_standard):
    client.force_login(office)
    client.post(
        reverse("payments:batch_add"),
        {"unit": county.pk, "kind": PaymentKind.DISABILITY, "year": "2026", "period": "m3"},
    )
    batch = PaymentBatch.objects.get()
    html = page(client, batch)
    assert "正在生成发放名单" in html and "job-" in html


def test_the_director_approves_and_the_office_marks_paid_and_records_a_return(
    client, director, office, county, person, disability_standard, django_capture_on_commit_callbacks
):
    client.force_login(office)
    create_march(client, county, django_capture_on_commit_callbacks)
    batch = PaymentBatch.objects.get()

    response = client.post(reverse("payments:batch_approve", args=[batch.pk]), follow=True)
    assert "只有本级或上级双拥办主任可以审批发放批次。" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DRAFT

    client.force_login(director)
    response = client.post(reverse("payments:batch_approve", args=[batch.pk]), follow=True)
    assert "已审批“2026年3月残疾抚恤金”。" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == BatchStatus.APPROVED and batch.approved_by == director

    client.force_login(office)
    url = reverse("payments:batch_paid", args=[batch.pk])
    response = client.post(url, {"paid_on": "2026-07-01", "method": PayMethod.CARD})
    assert response.status_code == 200 and "发放日期不能晚于今天。" in response.content.decode()
    response = client.post(url, {"paid_on": "2026-06-20", "method": PayMethod.CARD}, follow=True)
    assert "已标记为已发放，批次已锁定。" in response.content.decode()
    batch.refresh_from_db()
    assert (batch.status, batch.paid_on, batch.method) == (BatchStatus.PAID, datetime.date(2026, 6, 20), "card")

    response = client.post(reverse("payments:batch_generate", args=[batch.pk]), follow=True)
    assert "已发放，已锁定，不能再生成。" in response.content.decode()

    row = Payment.objects.get()
    url = reverse("payments:payment_return", args=[row.pk])
    assert "王建国" in client.get(url).content.decode()
    response = client.post(url, {"returned_on": "2026-06-10", "reason": "账号错误"})
    assert "退回日期不能早于发放日期（2026-06-20）。" in response.content.decode()
    response = client.post(url, {"returned_on": "2026-06-20", "reason": "   "})
    assert "请填写退回原因。" in response.content.decode()
    response = client.post(url, {"returned_on": "2026-06-20", "reason": "账号错误"}, follow=True)
    assert "已登记王建国的退回款，将在下一批同类发放中重发。" in response.content.decode()
    row.refresh_from_db()
    assert (row.returned_on, row.returned_reason) == (datetime.date(2026, 6, 20), "账号错误")
    assert "银行退回 1 笔，1,250.00 元" in page(client, batch)


def test_a_leader_or_liaison_cannot_record_a_return(client, office, leader, liaison, county, person):
    batch = make_batch(county, PaymentKind.DISABILITY, MARCH, created_by=office, status=BatchStatus.PAID)
    row = pay(batch, [person], category=Category.DISABLED, amount=1250)[0]
    for user in (leader, liaison):
        client.force_login(user)
        response = client.post(
            reverse("payments:payment_return", args=[row.pk]), {"returned_on": "2026-06-19", "reason": "账号错误"}
        )
        assert response.status_code == 404
    row.refresh_from_db()
    assert row.returned_on is None


def test_the_home_page_tells_the_director_of_batches_to_approve(client, director, office, county):
    draft = make_batch(county, PaymentKind.LIVING, MARCH, created_by=office)
    make_batch(county, PaymentKind.PENSION, MARCH, created_by=office, generated_at=None)
    own = make_batch(county, PaymentKind.DISABILITY, MARCH, created_by=director)
    make_batch(county, PaymentKind.NURSING, MARCH, created_by=office, status=BatchStatus.APPROVED)

    client.force_login(director)
    html = client.get(reverse("home")).content.decode()
    block = re.search(r'id="batches-to-approve">(.*?)</div>', html, re.S)[1]
    assert draft.title in block and own.title not in block
    assert "定期抚恤金" not in block and "护理费" not in block

    client.force_login(office)
    assert 'id="batches-to-approve"' not in client.get(reverse("home")).content.decode()
