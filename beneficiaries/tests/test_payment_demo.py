import datetime
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from beneficiaries import selectors
from beneficiaries.constants import REGULAR_KINDS, BatchStatus, ChangeKind, PaymentKind, RecoveryStatus
from beneficiaries.models import Payment, PaymentBatch, Recovery, Standard, StatusChange
from beneficiaries.payment_demo import RAISE_BY
from shuangyong.lib.money import format_yuan

TODAY = datetime.datetime(2026, 6, 20, 10, 0)


@pytest.fixture(scope="module")
def demo(module_db):
    with time_machine.travel(TODAY):
        call_command("seed_demo")


def test_the_demo_figures_add_up(demo, client):
    """Every batch total is the sum of its rows, no regular month is paid twice, the 补发 is the raise × months."""
    batches = list(PaymentBatch.objects.filter(unit__name="示例县"))
    assert len(batches) > 30
    for batch in batches:
        rows = list(Payment.objects.filter(batch=batch, returned_on__isnull=True))
        totals = selectors.batch_totals(batch=batch)
        assert rows, batch.title
        assert totals["amount"] == sum((row.amount for row in rows), Decimal(0)), batch.title
        assert sum((line["amount"] for line in totals["rows"]), Decimal(0)) == totals["amount"], batch.title
        for line in totals["rows"]:
            assert line["count"] * line["rate"] == line["amount"], line["text"]
    client.force_login(batches[0].created_by)
    paid = next(b for b in batches if b.kind == PaymentKind.LIVING and b.status == BatchStatus.PAID)
    page = client.get(reverse("payments:batch", args=[paid.pk])).content.decode()
    assert format_yuan(selectors.batch_totals(batch=paid)["amount"]) in page

    regular = Payment.objects.counted().filter(kind__in=REGULAR_KINDS, is_backpay=False, reference="")
    paid = Counter(regular.values_list("beneficiary_id", "kind", "month"))
    assert paid and max(paid.values()) == 1
    # Every paid month of a person's regular kind comes from one batch, whatever span the batches use.
    assert regular.filter(batch__isnull=True).count() == 0

    raised = Standard.objects.get(replaces__isnull=False, unit__name="示例县")
    assert raised.effective_from == datetime.date(2025, 8, 1)
    assert raised.amount - raised.replaces.amount == RAISE_BY
    # Months of the raise's key paid at the old standard: before the raise was entered in October.
    paid_before = Counter(
        Payment.objects.counted()
        .filter(standard=raised.replaces, month__gte=raised.effective_from, is_backpay=False)
        .values_list("beneficiary_id", flat=True)
    )
    backpay = defaultdict(Decimal)
    for person, amount in Payment.objects.counted().filter(cause=raised).values_list("beneficiary_id", "amount"):
        backpay[person] += amount
    assert paid_before and set(backpay) == set(paid_before)
    assert all(backpay[person] == RAISE_BY * months for person, months in paid_before.items())
    batch = PaymentBatch.objects.get(cause=raised)
    assert batch.title == "2025年8—10月带病回乡退役军人定期生活补助补发"
    assert batch.status == BatchStatus.PAID and batch.approved_by.username == "zhuren"
    # From November on the new standard is paid.
    assert Payment.objects.filter(standard=raised, month=datetime.date(2025, 11, 1), is_backpay=False).exists()


def test_the_demo_shows_every_state_a_settled_death_and_a_reissued_return(demo):
    batches = PaymentBatch.objects.filter(unit__name="示例县")
    assert set(batches.values_list("status", flat=True)) == set(BatchStatus.values)
    assert batches.get(status=BatchStatus.DRAFT).title == "2026年7月定期生活补助"
    assert batches.get(status=BatchStatus.APPROVED).title == "2026年6月定期生活补助"
    assert set(batches.values_list("created_by__username", flat=True)) == {"ganshi"}
    assert set(batches.exclude(status=BatchStatus.DRAFT).values_list("approved_by__username", flat=True)) == {"zhuren"}
    for batch in batches.filter(status=BatchStatus.PAID):
        assert batch.generated_at.date() <= batch.approved_at.date() <= batch.paid_on <= TODAY.date()

    death = StatusChange.objects.get(kind=ChangeKind.DEATH, effective_on=datetime.date(2025, 10, 18))
    funeral = Payment.objects.get(change=death, kind=PaymentKind.FUNERAL)
    recovery = Recovery.objects.get(change=death)
    monthly = Payment.objects.get(beneficiary=death.beneficiary, month=datetime.date(2025, 10, 1)).rate
    assert funeral.months == 6
    assert recovery.overpaid == 2 * monthly  # November and December were paid with the fourth quarter
    assert funeral.amount == 6 * monthly - recovery.offset
    assert recovery.amount == 0 and recovery.status == RecoveryStatus.SETTLED

    returned = Payment.objects.get(returned_on__isnull=False)
    assert returned.month == datetime.date(2026, 3, 1)
    assert returned.reissue.amount == returned.amount
    assert returned.reissue.batch.title == "2026年4月定期生活补助"


def test_a_second_seed_demo_adds_no_payment(demo):
    counts = [model.objects.count() for model in (Standard, PaymentBatch, Payment, Recovery)]
    with time_machine.travel(TODAY):
        call_command("seed_demo")
    assert [model.objects.count() for model in (Standard, PaymentBatch, Payment, Recovery)] == counts
