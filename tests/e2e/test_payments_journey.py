"""The payments journey: the 干事 prepares a batch, the 主任 approves it, it is paid, a transfer comes back."""

import io
import re

import openpyxl
from django.db.models import Sum
from django.utils import timezone

from beneficiaries.constants import BatchStatus, PaymentKind
from beneficiaries.models import Payment, PaymentBatch
from shuangyong.lib.money import format_yuan

from .conftest import shot


def _accept_dialogs(page):
    page.on("dialog", lambda dialog: dialog.accept())


def _free_month(kind):
    """The latest month of this year that no demo batch of this kind covers yet."""
    today = timezone.localdate()
    taken = {
        (b.first_month, b.last_month) for b in PaymentBatch.objects.filter(kind=kind, first_month__year=today.year)
    }
    for month in range(today.month, 0, -1):
        if not any(first.month <= month <= last.month for first, last in taken):
            return today.year, month
    raise AssertionError("no free month left in the demo year")


def test_office_prepares_director_approves_and_a_transfer_comes_back(open_as):
    year, month = _free_month(PaymentKind.DISABILITY)
    clerk = open_as("ganshi")
    _accept_dialogs(clerk)
    clerk.click("text=抚恤发放")
    clerk.click("text=新建批次")
    clerk.select_option("select[name=kind]", PaymentKind.DISABILITY)
    clerk.select_option("select[name=year]", str(year))
    clerk.select_option("select[name=period]", f"m{month}")
    shot(clerk, "payments-batch-add")
    clerk.click("button:has-text('建立并生成')")
    clerk.wait_for_selector("#batch-grand-total")
    batch = PaymentBatch.objects.get(kind=PaymentKind.DISABILITY, first_month__year=year, first_month__month=month)
    assert clerk.locator("h1").inner_text().startswith(f"{year}年{month}月残疾抚恤金")

    # The page states the totals the database holds: each category line and the grand total.
    rows = Payment.objects.filter(batch=batch)
    total = rows.aggregate(total=Sum("amount"))["total"]
    people = rows.values("beneficiary").distinct().count()
    assert people > 0
    assert clerk.locator("#batch-grand-total").inner_text() == f"合计 {people}人 {format_yuan(total)}"
    assert "残疾军人" in clerk.locator("#batch-totals").inner_text()
    # Only the 主任 approves.
    assert "主任" in clerk.locator("#approval-block").inner_text()
    shot(clerk, "payments-batch-draft")

    director = open_as("zhuren")
    _accept_dialogs(director)
    director.goto(batch.get_absolute_url())
    director.click("#batch-actions button:has-text('审批')")
    director.wait_for_selector("text=已审批")
    batch.refresh_from_db()
    assert batch.status == BatchStatus.APPROVED

    clerk.reload()
    clerk.fill("#id_paid_on", timezone.localdate().isoformat())
    clerk.select_option("#id_method", "card")
    clerk.click("button:has-text('标记已发放')")
    clerk.wait_for_selector("text=已发放")
    batch.refresh_from_db()
    assert batch.status == BatchStatus.PAID

    # The bank file adds up to the batch total.
    with clerk.expect_download() as download:
        clerk.click("text=发放名册（Excel）")
    sheet = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    values = [row for row in sheet.iter_rows(values_only=True) if row and any(row)]
    amounts = [row[5] for row in values[1:] if isinstance(row[0], int)]
    assert len(amounts) == people
    assert sum(amounts) == float(total)
    assert not any(re.fullmatch(r"\d{17}[\dX]", str(cell)) for row in values for cell in row if cell)

    # The bank returns one transfer: it leaves the total and is waiting to be re-issued.
    first = rows.order_by("beneficiary__township__path", "beneficiary__name", "pk").first()
    clerk.goto(f"/payments/{first.pk}/return/")
    clerk.fill("input[name=returned_on]", timezone.localdate().isoformat())
    clerk.fill("input[name=reason]", "账户已销户")
    clerk.click("button:has-text('登记退回')")
    clerk.wait_for_selector("#batch-returned")
    assert f"银行退回 1 笔，{format_yuan(first.amount)}" in clerk.locator("#batch-returned").inner_text()
    assert format_yuan(total - first.amount) in clerk.locator("#batch-grand-total").inner_text()
    shot(clerk, "payments-batch-returned")

    # The person's page lists the payment as returned.
    clerk.goto(first.beneficiary.get_absolute_url())
    listing = clerk.locator("#person-payments").inner_text()
    assert batch.title in listing and "已退回" in listing

    # A leader reads the batch but has no actions.
    leader = open_as("xianzhang")
    leader.goto(batch.get_absolute_url())
    assert leader.locator("#batch-grand-total").is_visible()
    assert leader.locator("#batch-actions button").count() == 0
