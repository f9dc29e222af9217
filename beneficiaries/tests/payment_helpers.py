"""Cheap people, standards and batches for the payment engine's tests."""

import datetime
import itertools
from decimal import Decimal

from beneficiaries.constants import BatchStatus, Category
from beneficiaries.models import Beneficiary, Entitlement, Payment, Standard
from beneficiaries.payment_services import batch_create, batch_generate
from conftest import valid_id_number

_serial = itertools.count(1)
BIRTH = datetime.date(1950, 1, 1)


def d(month, day=1, year=2026):
    return datetime.date(year, month, day)


def make_people(township, count, category, *, start=datetime.date(2020, 1, 1), bank=True, name="对象", **entitlement):
    """Create `count` people of one category in a township with bulk INSERTs; return them in creation order."""
    people = []
    for _ in range(count):
        serial = next(_serial)
        birth = BIRTH + datetime.timedelta(days=serial // 900)
        body = f"320481{birth:%Y%m%d}{serial % 900 + 100:03d}"
        people.append(
            Beneficiary(
                name=f"{name}{serial}",
                id_number=valid_id_number(body),
                sex="男",
                birth_date=birth,
                township=township,
                bank_name="示例县农村商业银行" if bank else "",
                bank_account=f"62284804{serial:011d}" if bank else "",
            )
        )
    people = Beneficiary.objects.bulk_create(people)
    defaults = {"service_years": 3} if category == Category.RURAL_VETERAN_60 else {}
    Entitlement.objects.bulk_create(
        [
            Entitlement(beneficiary=person, category=category, start_on=start, **{**defaults, **entitlement})
            for person in people
        ]
    )
    return people


def make_standard(unit, kind, category, amount, *, effective_from=datetime.date(2020, 1, 1), **fields):
    amount = Decimal(amount)
    return Standard.objects.create(
        unit=unit,
        kind=kind,
        category=category,
        amount=amount,
        national_part=amount,
        effective_from=effective_from,
        **fields,
    )


def generate(unit, kind, first, last, user, cause=None):
    batch = batch_create(unit=unit, kind=kind, first_month=first, last_month=last, created_by=user, cause=cause)
    counts = batch_generate(batch=batch, generated_by=user)
    return batch, counts


def mark_paid(batch, *, approver, paid_on, payer=None):
    """Approve and pay a batch without the service checks, as history is: the rows are stamped too."""
    Payment.objects.filter(batch=batch).update(paid_on=paid_on, method="card")
    batch.status, batch.approved_by, batch.paid_on, batch.method = BatchStatus.PAID, approver, paid_on, "card"
    batch.paid_by = payer or approver
    batch.save()
    return batch


def amounts(batch):
    return sorted(Payment.objects.filter(batch=batch).values_list("beneficiary__name", "month", "amount"))
