"""Benchmarks of payments on the scale profile, each beside its anchor.

Called by bench/measure.py (Django already set up for the database under test):
- `prepare(root, profile)`: adds the profile's ledger when the data was generated before payments existed;
- `pages(root)`: the ledger and the yearly summary pages for the office of the top unit, of a county and a township
  liaison (timed like the other pages);
- `batch_results(root)`: one monthly batch per regular kind for the whole profile through the engine
  (batch_create + batch_generate), beside a bare Payment.objects.bulk_create of the same rows; the bench deletes
  what it wrote, so that the next run starts from the same ledger;
- `summary_results(root)`: the yearly summary selector and a bare query for the ledger's first page, as anchors.
"""

import datetime
import math
import sys
import time
from urllib.parse import urlencode

from django.core.management import call_command
from django.db import connection
from django.db.models import Max, Sum
from django.urls import reverse
from django.utils import timezone
from registry import count_queries, county_of, log, office_user, once, township_liaison

from beneficiaries import selectors
from beneficiaries.constants import REGULAR_KINDS, BatchStatus, PaymentKind
from beneficiaries.models import BatchException, Beneficiary, Payment, PaymentBatch
from beneficiaries.payment_rules import add_months
from beneficiaries.payment_services import batch_create, batch_generate, batch_key
from units.constants import UnitKind

LIST_TARGET_MS = 300
SUMMARY_TARGET_MS = 2000
BATCH_TARGET_S = 30
DEEP_PAGE = 100
WRITE_CHUNK = 2000  # as payment_services writes


def prepare(root, profile):
    """Generate the profile's standards, batches and ledger when the tree has none yet."""
    if Payment.objects.filter(township__path__startswith=root.path).exists():
        return
    log(f"[{connection.vendor}] 生成规模发放数据 {profile} ……")
    call_command("seed_scale", profile=profile, payments_only=True, stdout=sys.stderr)


def _last_paid_month(root):
    """The last month of 定期生活补助 paid (the bench's own batches stay drafts)."""
    return Payment.objects.filter(
        township__path__startswith=root.path, kind=PaymentKind.LIVING, is_backpay=False, batch__status=BatchStatus.PAID
    ).aggregate(last=Max("month"))["last"]


def pages(root):
    """Return [(label, user, url, target ms, POST data or None)] for the ledger and the yearly summary."""
    office = office_user(root)
    ledger = reverse("payments:ledger")
    summary = reverse("payments:summary")
    month = f"{_last_paid_month(root):%Y-%m}"
    last_year = timezone.localdate().year - 1
    top = "省" if root.kind == UnitKind.PROVINCE else "县"
    rows = [
        (f"发放台账 首页（{top}双拥办）", office, ledger, LIST_TARGET_MS, None),
        (
            f"发放台账 定期生活补助 {month}（{top}双拥办）",
            office,
            f"{ledger}?{urlencode({'kind': PaymentKind.LIVING, 'month_from': month, 'month_to': month})}",
            LIST_TARGET_MS,
            None,
        ),
        (f"发放台账 第 {DEEP_PAGE} 页（{top}双拥办）", office, f"{ledger}?page={DEEP_PAGE}", LIST_TARGET_MS, None),
        (f"年度汇总 {last_year} 年（{top}双拥办）", office, f"{summary}?year={last_year}", SUMMARY_TARGET_MS, None),
    ]
    county = county_of(root)
    if county is not None:
        county_office = office_user(county)
        rows += [
            ("发放台账 首页（县双拥办）", county_office, ledger, LIST_TARGET_MS, None),
            (
                f"年度汇总 {last_year} 年（县双拥办）",
                county_office,
                f"{summary}?year={last_year}",
                SUMMARY_TARGET_MS,
                None,
            ),
        ]
    rows.append(("发放台账 首页（乡镇联络员）", township_liaison(root), ledger, LIST_TARGET_MS, None))
    return rows


# ---- selectors and anchors timed in-process --------------------------------------------------------------
def _percentile(values, share):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _timed(label, call, *, requests, warmup, target, note=None):
    for _ in range(warmup):
        call()
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    with count_queries() as queries:
        call()
    row = {
        "page": label,
        "kind": "page",
        "status": 200,
        "p50": _percentile(times, 0.5),
        "p95": _percentile(times, 0.95),
        "queries": queries["n"],
        "target": target,
        "note": note,
    }
    log(f"  {label}: p95 {row['p95']:.1f} ms, {row['queries']} 次查询")
    return row


def _bare_ledger_page(user):
    """What the ledger's first page needs at the least: the count, 50 rows with their names, the sum."""
    payments = Payment.objects.visible_to(user).filter(month__gte=datetime.date(timezone.localdate().year, 1, 1))
    total = payments.count()
    rows = list(payments.select_related("beneficiary", "township").order_by("-month", "township__path", "pk")[:50])
    amount = payments.aggregate(amount=Sum("amount"))["amount"]
    return total, rows, amount


def summary_results(root, *, requests, warmup):
    office = office_user(root)
    last_year = timezone.localdate().year - 1
    top = "省" if root.kind == UnitKind.PROVINCE else "县"
    log(f"[{connection.vendor}] 年度汇总选择器 ……")
    return [
        _timed(
            f"yearly_summary 选择器 {last_year} 年（{top}）",
            lambda: selectors.yearly_summary(user=office, year=last_year),
            requests=max(3, requests // 3),
            warmup=1,
            target=SUMMARY_TARGET_MS,
        ),
        _timed(
            f"  对照：台账首页的裸查询（{top}，计数+50 行+合计）",
            lambda: _bare_ledger_page(office),
            requests=max(3, requests // 3),
            warmup=1,
            target=None,
        ),
    ]


# ---- a monthly batch for the whole profile ------------------------------------------------------------------
def _remove_batch(batch_id):
    """Delete a batch the bench made, with its rows, exceptions and history rows."""
    Payment.objects.filter(batch_id=batch_id)._raw_delete(Payment.objects.db)
    BatchException.objects.filter(batch_id=batch_id)._raw_delete(BatchException.objects.db)
    PaymentBatch.history.filter(id=batch_id)._raw_delete(PaymentBatch.history.db)
    PaymentBatch.objects.filter(pk=batch_id)._raw_delete(PaymentBatch.objects.db)


def _bench_month(root):
    return add_months(_last_paid_month(root), 1)


def batch_results(root):
    """Generate the month after the ledger's last for every regular kind at the top unit, then the anchor."""
    office = office_user(root)
    month = _bench_month(root)
    people = Beneficiary.objects.filter(township__path__startswith=root.path).count()
    for kind in REGULAR_KINDS:
        key = batch_key(unit=root, kind=kind, first_month=month, last_month=month)
        for leftover in PaymentBatch.objects.filter(key=key).values_list("pk", flat=True):
            _remove_batch(leftover)
    results, totals = [], {"seconds": 0.0, "queries": 0, "rows": 0, "anchor": 0.0}
    for kind in REGULAR_KINDS:
        label = PaymentKind(kind).label
        log(f"[{connection.vendor}] 生成 {month:%Y年%-m月}{label}（{people:,} 人）……")
        started = time.perf_counter()
        with count_queries() as queries:
            batch = batch_create(unit=root, kind=kind, first_month=month, last_month=month, created_by=office)
            counts = batch_generate(batch=batch, generated_by=office)
        seconds = time.perf_counter() - started
        try:
            anchor = _anchor(batch)
        finally:
            _remove_batch(batch.pk)
        note = f"写入 {counts['created']:,} 行，{counts['exceptions']:,} 人列为例外"
        results.append(once(f"  {month:%Y年%-m月}{label}", seconds, None, queries=queries["n"], status="（分项）"))
        results[-1]["note"] = note
        log(f"  {label}: {seconds:.1f} s（{note}）；对照 bulk_create {anchor:.1f} s")
        totals["seconds"] += seconds
        totals["queries"] += queries["n"]
        totals["rows"] += counts["created"]
        totals["anchor"] += anchor
    title = f"月度发放批次 {month:%Y年%-m月}，5 个类别（{people:,} 人）"
    results.insert(0, once(title, totals["seconds"], BATCH_TARGET_S, queries=totals["queries"]))
    results[0]["note"] = f"batch_create + batch_generate，写入 {totals['rows']:,} 行"
    results.append(
        once(
            f"  对照：Payment.objects.bulk_create 同样的 {totals['rows']:,} 行",
            totals["anchor"],
            None,
            note=f"每次 {WRITE_CHUNK} 行，不含计算",
        )
    )
    return results


def _anchor(batch):
    """Time a bare bulk_create of the rows the engine wrote for the batch (the rows are built beforehand)."""
    fields = [f.attname for f in Payment._meta.concrete_fields if f.attname != "id"]
    values = list(Payment.objects.filter(batch=batch).values(*fields))
    Payment.objects.filter(batch=batch)._raw_delete(Payment.objects.db)
    rows = [Payment(**row) for row in values]
    started = time.perf_counter()
    Payment.objects.bulk_create(rows, batch_size=WRITE_CHUNK)
    return time.perf_counter() - started
