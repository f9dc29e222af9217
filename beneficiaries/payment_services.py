"""Writes for payments: batches and their generation, 补发, approval, payment, returned transfers, stops.

Generation reads a jurisdiction with a few set-based queries, applies payment_rules in memory and writes the rows
at once (one COPY on PostgreSQL). The database guards (Payment's unique constraints, the batch key) make double payment
impossible; the row locks taken here make concurrent generation and 异动 wait for each other instead of failing.
"""

import datetime
import io
import re
from collections import defaultdict, namedtuple
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from shuangyong.lib.jobs import job_start
from shuangyong.lib.money import ZERO, MoneyField, to_fen
from units import permissions
from units.constants import TOP_KINDS, JobStatus, Role, UnitKind
from units.models import Job, Unit

from . import payment_rules as rules
from .constants import (
    CATEGORY_KIND,
    REGULAR_KINDS,
    Basis,
    BatchStatus,
    Category,
    ChangeKind,
    DisabilityGrade,
    ExceptionReason,
    PayMethod,
    TransferStatus,
)
from .models import BatchException, Beneficiary, Entitlement, Payment, PaymentBatch, Standard, StatusChange, Transfer
from .standard_services import choose_standard

GENERATE_KIND = "payment_generate"
WRITE_CHUNK = 2000
PROGRESS_STEP = 2000
# 异动 that never change whether a month is paid; the rest are loaded for the people of a batch.
NEUTRAL_CHANGES = [ChangeKind.ADD, ChangeKind.CONFIRM, ChangeKind.REGRADE]

REASON_OF = {
    rules.HOLD: ExceptionReason.HELD,
    rules.SUSPEND: ExceptionReason.SUSPENDED,
    rules.DEAD: ExceptionReason.DIED,
    rules.CANCELLED: ExceptionReason.CANCELLED,
    rules.TRANSFERRED: ExceptionReason.TRANSFERRED,
}
# Reasons that end pay: listed only when the person is paid no month of the span.
ENDING_REASONS = {ExceptionReason.DIED, ExceptionReason.CANCELLED}

# Light rows for the in-memory pass.
Ent = namedtuple("Ent", "pk beneficiary_id category grade nature service_area service_years start_on end_on")
Change = namedtuple("Change", "pk kind effective_on corrects_id")
Move = namedtuple("Move", "out_on from_township_id")
Existing = namedtuple("Existing", "pk batch_id returned amount rate standard_id entitlement_id township_id category")
# The fields of a Payment in the order of its columns, for the positional (fast) constructor.
PAYMENT_FIELDS = [field.attname for field in Payment._meta.concrete_fields]
PAYMENT_DEFAULTS = {field.attname: field.get_default() for field in Payment._meta.concrete_fields}


def new_payment(**values):
    """Build an unsaved Payment through the model's positional fast path: a batch may hold 150,000 of them."""
    values = {**PAYMENT_DEFAULTS, **values}
    return Payment(*(values[name] for name in PAYMENT_FIELDS))


def _copy_format(field):
    """How COPY ... FROM STDIN spells a value of the field: NULL as \\N, money in fen, dates in ISO."""
    if isinstance(field, MoneyField):
        return lambda value: r"\N" if value is None else str(to_fen(value))
    if isinstance(field, models.BooleanField):
        return lambda value: "t" if value else "f"
    if isinstance(field, models.DateField | models.IntegerField | models.ForeignKey):
        return lambda value: (
            r"\N" if value is None else (value.isoformat() if hasattr(value, "isoformat") else str(value))
        )
    return lambda value: r"\N" if value is None else COPY_ESCAPES.sub(lambda m: COPY_ESCAPE[m[0]], str(value))


COPY_ESCAPE = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
COPY_ESCAPES = re.compile(r"[\\\t\n\r]")


def insert_payments(rows, *, constant, progress=None):
    """Insert new rows: each a dict of the fields that vary, `constant` the fields every row shares.

    On PostgreSQL the rows go through one COPY, several times faster than INSERTs for a province's batch; the
    database checks every constraint (the once-only guards too) as for any INSERT. Elsewhere bulk_create.
    """
    if not rows:
        return
    constant = {"created_at": timezone.now(), **constant}
    with connection.cursor() as cursor:
        copy = getattr(cursor.cursor, "copy_expert", None) if connection.vendor == "postgresql" else None
        if copy is None:
            for start in range(0, len(rows), WRITE_CHUNK):
                Payment.objects.bulk_create(
                    [new_payment(**constant, **row) for row in rows[start : start + WRITE_CHUNK]]
                )
                if progress:
                    progress(min(start + WRITE_CHUNK, len(rows)), len(rows))
            return
        fields = {field.attname: field for field in Payment._meta.concrete_fields if not field.primary_key}
        varying = list(rows[0])
        fixed = [name for name in fields if name not in varying]
        formats = [_copy_format(fields[name]) for name in varying]
        values = {**PAYMENT_DEFAULTS, **constant}
        suffix = "".join("\t" + _copy_format(fields[name])(values[name]) for name in fixed) + "\n"
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join([fmt(value) for fmt, value in zip(formats, row.values(), strict=True)]) + suffix)
        buffer.seek(0)
        columns = ", ".join(connection.ops.quote_name(fields[name].column) for name in varying + fixed)
        copy(f"COPY {connection.ops.quote_name(Payment._meta.db_table)} ({columns}) FROM STDIN", buffer)
        if progress:
            progress(len(rows), len(rows))


# Batches


def batch_key(*, unit, kind, first_month, last_month, cause=None):
    key = f"{unit.pk}:{kind}:{first_month:%Y%m}-{last_month:%Y%m}"
    return f"{key}:backpay:{cause.pk}" if cause is not None else key


def _check_batch(*, unit, kind, first, last, created_by, cause):
    if kind not in REGULAR_KINDS:
        raise ValidationError(
            {"kind": "请选择按月（年）发放的类别：定期抚恤金、残疾抚恤金、定期生活补助、优待金或护理费。"}
        )
    if unit is None or unit.kind not in TOP_KINDS or not unit.is_active:
        raise ValidationError({"unit": "发放批次须由县（区）或以上的在用单位建立。"})
    if created_by is None or not permissions.in_scope(created_by, unit, roles=[Role.OFFICE]):
        raise ValidationError(f"只有{unit.name}或上级双拥办的工作人员可以建立发放批次。")
    if first is None or last is None:
        raise ValidationError({"first_month": "请填写起止月份。"})
    if last < first:
        raise ValidationError({"last_month": "截止月份不能早于起始月份。"})
    if cause is None:
        if not rules.is_regular_span(first, last):
            raise ValidationError({"last_month": "发放期间须为同一年内的一个月、一个季度、半年或全年。"})
        return
    if cause.kind != kind:
        raise ValidationError({"kind": f"补发类别须与调标的类别（{cause.get_kind_display()}）一致。"})
    if not (unit.path.startswith(cause.unit.path) or cause.unit.path.startswith(unit.path)):
        raise ValidationError({"cause": f"该标准由{cause.unit.name}制定，不适用于{unit.name}。"})
    if first < rules.month_start(cause.effective_from):
        start = rules.span_text(cause.effective_from, cause.effective_from)
        raise ValidationError({"first_month": f"补发起始月份不能早于调标生效月份（{start}）。"})
    if last > rules.month_start(timezone.localdate()):
        raise ValidationError({"last_month": "补发只补已经过去的月份，截止月份不能晚于本月。"})


@transaction.atomic
def batch_create(*, unit, kind, first_month, last_month, created_by, cause=None):
    """Create the batch of a kind for a span of months in a jurisdiction, or return the one that exists.

    The key (unit, kind, span, and the raise for a 补发 batch) is unique in the database: of two requests at the
    same moment one inserts, the other meets the constraint and returns the first one's batch.
    """
    first = rules.month_start(first_month) if first_month else None
    last = rules.month_start(last_month) if last_month else None
    _check_batch(unit=unit, kind=kind, first=first, last=last, created_by=created_by, cause=cause)
    key = batch_key(unit=unit, kind=kind, first_month=first, last_month=last, cause=cause)
    existing = PaymentBatch.objects.filter(key=key).first()
    if existing is not None:
        return existing
    label = Category(cause.category).label if cause is not None and cause.category else ""
    batch = PaymentBatch(
        unit=unit,
        kind=kind,
        first_month=first,
        last_month=last,
        is_backpay=cause is not None,
        cause=cause,
        key=key,
        title=rules.span_title(kind, first, last, backpay=cause is not None, category_label=label),
        created_by=created_by,
    )
    batch._history_user = created_by
    try:
        with transaction.atomic():
            batch.save()
    except IntegrityError:
        existing = PaymentBatch.objects.filter(key=key).first()
        if existing is None:
            raise
        return existing
    return batch


def _paid_backpay_rows(*, unit, standard):
    """Regular rows of the raise's key paid (or approved) in the jurisdiction from the raise's first month."""
    return (
        Payment.objects.counted()
        .filter(
            kind=standard.kind,
            is_backpay=False,
            reference="",
            township__path__startswith=unit.path,
            month__gte=rules.month_start(standard.effective_from),
            standard__category=standard.category,
            standard__nature=standard.nature,
            standard__variant=standard.variant,
        )
        .filter(Q(standard__grade=standard.grade) if standard.grade else Q(standard__grade__isnull=True))
        .filter(Q(batch__isnull=True) | Q(batch__status__in=[BatchStatus.APPROVED, BatchStatus.PAID]))
    )


def backpay_span(*, unit, standard):
    """Return (first, last) month of the 补发 a raise calls for: from its effective month to the last month paid."""
    last = _paid_backpay_rows(unit=unit, standard=standard).aggregate(last=Max("month"))["last"]
    if last is None:
        raise ValidationError(f"{standard}生效以来，{unit.name}还没有已审批或已发放的月份，不需要补发。")
    return rules.month_start(standard.effective_from), min(last, rules.month_start(timezone.localdate()))


def backpay_batch_create(*, unit, standard, created_by):
    """Create (or return) the 补发 batch of a raise for the months already paid."""
    first, last = backpay_span(unit=unit, standard=standard)
    return batch_create(
        unit=unit, kind=standard.kind, first_month=first, last_month=last, created_by=created_by, cause=standard
    )


def _locked_draft(batch, user):
    batch = PaymentBatch.objects.select_for_update(of=("self",)).select_related("unit", "cause__unit").get(pk=batch.pk)
    if batch.locked:
        raise ValidationError(f"“{batch.title}”{batch.get_status_display()}，已锁定，不能再生成。")
    if user is None or not permissions.in_scope(user, batch.unit, roles=[Role.OFFICE]):
        raise ValidationError(f"只有{batch.unit.name}或上级双拥办的工作人员可以生成发放名单。")
    return batch


def _finish_generation(batch, *, generated_by, created, removed, exceptions):
    batch.generated_at, batch.generated_by = timezone.now(), generated_by
    batch._history_user = generated_by
    batch.save(update_fields=["generated_at", "generated_by"])
    totals = (
        Payment.objects.counted()
        .filter(batch=batch)
        .aggregate(people=Count("beneficiary", distinct=True), amount=Sum("amount"))
    )
    return {
        "created": created,
        "removed": removed,
        "people": totals["people"],
        "exceptions": exceptions,
        "amount": totals["amount"] or ZERO,
    }


def _write(batch, *, rows, constant, reissues=(), stale, exceptions, progress, done, total):
    for start in range(0, len(stale), WRITE_CHUNK):
        Payment.objects.filter(pk__in=stale[start : start + WRITE_CHUNK]).delete()
    batch.exceptions.all().delete()
    BatchException.objects.bulk_create(exceptions, batch_size=WRITE_CHUNK)
    Payment.objects.bulk_create(reissues, batch_size=WRITE_CHUNK)
    step = (lambda written, count: progress(done + (total - done) * written // count, total)) if progress else None
    insert_payments(rows, constant=constant, progress=step)
    if progress:
        progress(total, total)


@transaction.atomic
def batch_generate(*, batch, generated_by, progress=None):
    """Write the draft rows a batch is missing and list who is left out and why.

    Locks the batch (a second call waits, then adds nothing) and the people it pays (a 异动 recorded meanwhile
    waits for this to finish, or is seen by it). Rows of the batch that are no longer due are removed, rows at a
    changed standard replaced; rows other batches already hold are never written again. Returned transfers of the
    kind in the jurisdiction are re-issued once. Returns {"created", "removed", "people", "exceptions", "amount"}.
    """
    batch = _locked_draft(batch, generated_by)
    if batch.is_backpay:
        return _backpay(batch, generated_by=generated_by, progress=progress)
    plan = _RegularPlan(batch, generated_by=generated_by, progress=progress)
    plan.load()
    plan.compute()
    total = len(plan.persons) * 2 or 1
    _write(
        batch,
        rows=plan.new_rows,
        constant={"kind": batch.kind, "batch_id": batch.pk, "created_by_id": generated_by.pk},
        reissues=plan.reissues,
        stale=plan.stale,
        exceptions=plan.exceptions,
        progress=progress,
        done=total // 2,
        total=total,
    )
    return _finish_generation(
        batch,
        generated_by=generated_by,
        created=len(plan.new_rows) + len(plan.reissues),
        removed=len(plan.stale),
        exceptions=len(plan.exceptions),
    )


def backpay_generate(*, batch, generated_by, progress=None):
    """Generate a 补发 batch: the difference a raise makes for each month already paid, per person, once."""
    if not batch.is_backpay:
        raise ValidationError(f"“{batch.title}”不是补发批次。")
    return batch_generate(batch=batch, generated_by=generated_by, progress=progress)


@transaction.atomic
def batch_generate_start(*, batch, user):
    """Queue the generation as a background job, or return the one already queued or running for the batch."""
    batch = _locked_draft(batch, user)
    running = Job.objects.filter(
        kind=GENERATE_KIND, params__batch=batch.pk, status__in=[JobStatus.PENDING, JobStatus.RUNNING]
    ).first()
    if running is not None:
        return running
    return job_start(kind=GENERATE_KIND, created_by=user, params={"batch": batch.pk, "title": batch.title})


def _months_label(months):
    """'2026年5—6月、2026年9月' for a list of months."""
    months = sorted(set(months))
    runs, start = [], None
    for index, month in enumerate(months):
        start = start or month
        following = months[index + 1] if index + 1 < len(months) else None
        if following != rules.add_months(month, 1) or following.year != month.year:
            runs.append(rules.span_text(start, month))
            start = None
    text = "、".join(runs)
    return text if len(text) <= 120 else f"{runs[0]}等{len(months)}个月"


def _locked_people(people):
    """Return {pk: (township_id, bank_account)} of the people, each row locked FOR UPDATE on PostgreSQL.

    One statement in primary-key order: two generations lock their common people in the same order and a 异动
    (which locks one person) waits for, or is waited on by, the whole batch.
    """
    fields = ("pk", "township_id", "bank_account")
    if connection.features.has_select_for_update:
        people = people.order_by("pk").select_for_update(of=("self",))
    return {pk: rest for pk, *rest in people.values_list(*fields)}


class _Standards:
    """The standards of a kind that apply in a jurisdiction, picked with the standards table's own rule."""

    def __init__(self, kind, unit):
        self.kind = kind
        self.by_unit = defaultdict(list)
        for standard in Standard.objects.filter(kind=kind).select_related("unit"):
            if unit.path.startswith(standard.unit.path) or standard.unit.path.startswith(unit.path):
                self.by_unit[standard.unit_id].append(standard)
        every = [s for group in self.by_unit.values() for s in group]
        self.categories = {s.category for s in every if s.category}
        self.has_annual = any(s.basis == Basis.YEAR for s in every)
        self.paths, self.picked = {}, {}

    def pick(self, entitlement, township_path, month):
        """The standard in force on the first day of the month for the entitlement in that township, or None."""
        units = self.paths.get(township_path)
        if units is None:
            units = tuple(int(part) for part in township_path.strip("/").split("/") if int(part) in self.by_unit)
            self.paths[township_path] = units
        key = (units, rules.entitlement_key(entitlement), month)
        if key not in self.picked:
            category, grade, nature, variant = key[1]
            self.picked[key] = choose_standard(
                [s for unit_id in units for s in self.by_unit[unit_id]],
                unit_ids=list(units),
                kind=self.kind,
                category=category,
                grade=grade,
                nature=nature,
                variant=variant,
                on=month,
            )
        return self.picked[key]


class _RegularPlan:
    """The rows and exceptions of one regular batch, computed in memory."""

    def __init__(self, batch, *, generated_by, progress):
        self.batch, self.kind, self.user, self.progress = batch, batch.kind, generated_by, progress
        self.span = rules.months_between(batch.first_month, batch.last_month)
        self.year = batch.first_month.year
        self.new_rows, self.reissues, self.stale, self.exceptions = [], [], [], []

    # Loading

    def load(self):
        batch, kind = self.batch, self.kind
        unit = batch.unit
        self.standards = _Standards(kind, unit)
        self.categories = {c for c, k in CATEGORY_KIND.items() if k == kind} | self.standards.categories
        self.has_annual = self.standards.has_annual
        self.townships = dict(
            Unit.objects.filter(path__startswith=unit.path, kind=UnitKind.TOWNSHIP).values_list("pk", "path")
        )
        subtree = Unit.objects.filter(path__startswith=unit.path).values("pk")
        lower = rules.add_months(batch.first_month, -1)
        if self.has_annual:
            lower = min(lower, datetime.date(self.year, 1, 1))
        moved_out = set(
            Transfer.objects.filter(
                from_township__path__startswith=unit.path,
                out_change__effective_on__gte=datetime.date(self.year - 1, 1, 1),
            )
            .exclude(status=TransferStatus.WITHDRAWN)
            .values_list("beneficiary_id", flat=True)
        )
        last_day = rules.month_end(batch.last_month)
        entitled = Entitlement.objects.filter(category__in=self.categories, start_on__lte=last_day)
        people = Beneficiary.objects.filter(Q(township__in=subtree) | Q(pk__in=moved_out)).filter(
            pk__in=entitled.filter(Q(end_on__isnull=True) | Q(end_on__gte=lower)).values("beneficiary_id")
        )
        self.persons = _locked_people(people)
        ids = people.values("pk")

        self.timelines = {}
        changes = defaultdict(list)
        rows = (
            StatusChange.objects.filter(beneficiary__in=ids)
            .exclude(kind__in=NEUTRAL_CHANGES)
            .order_by("beneficiary_id", "effective_on", "recorded_at", "pk")
            .values_list("beneficiary_id", "pk", "kind", "effective_on", "corrects_id")
        )
        for person_id, *rest in rows:
            changes[person_id].append(Change(*rest))
        owed_start = batch.first_month
        self.owed = {}
        for person_id, items in changes.items():
            timeline = rules.Timeline(items)
            self.timelines[person_id] = timeline
            owed = [m for m in timeline.owed_months(rules.add_months(batch.first_month, -1)) if m < batch.first_month]
            if owed:
                self.owed[person_id] = owed
                owed_start = min(owed_start, owed[0])
        self.window_start = min(lower, owed_start)

        self.moves = defaultdict(list)
        transfers = (
            Transfer.objects.filter(beneficiary__in=ids)
            .exclude(status=TransferStatus.WITHDRAWN)
            .order_by("out_change__effective_on", "pk")
            .values_list("beneficiary_id", "out_change__effective_on", "from_township_id")
        )
        for person_id, out_on, from_township_id in transfers:
            self.moves[person_id].append(Move(out_on, from_township_id))

        self.entitlements = defaultdict(list)
        for row in (
            entitled.filter(beneficiary__in=ids)
            .filter(Q(end_on__isnull=True) | Q(end_on__gte=self.window_start))
            .order_by("beneficiary_id", "start_on", "pk")
            .values_list(*Ent._fields)
        ):
            self.entitlements[row[1]].append(Ent(*row))

        # Every regular row of the kind for these people and months, returned ones too: a returned month is
        # re-issued from the returned row, never generated afresh.
        self.existing = {}
        self.own = {}
        for pk, person_id, month, batch_id, returned_on, amount, rate, standard_id, ent_id, township_id, cat in (
            Payment.objects.filter(
                kind=kind,
                is_backpay=False,
                reference="",
                beneficiary__in=ids,
                month__gte=self.window_start,
                month__lte=batch.last_month,
            )
            .order_by()
            .values_list(
                "pk",
                "beneficiary_id",
                "month",
                "batch_id",
                "returned_on",
                "amount",
                "rate",
                "standard_id",
                "entitlement_id",
                "township_id",
                "category",
            )
        ):
            held = Existing(pk, batch_id, returned_on, amount, rate, standard_id, ent_id, township_id, cat)
            if batch_id == batch.pk and returned_on is None:
                self.own[(person_id, month)] = held
            elif (person_id, month) not in self.existing or returned_on is None:
                self.existing[(person_id, month)] = held
        self.returned = list(
            Payment.objects.filter(kind=kind, returned_on__isnull=False, reissue__isnull=True, township__in=subtree)
            .exclude(batch=batch)
            .select_related("beneficiary")
            .order_by("pk")
        )

    # Rules applied

    def payer_township(self, person_id, township_id, month):
        """Art. 30: the township of the county that pays the month."""
        for move in self.moves.get(person_id, ()):
            if month.year <= move.out_on.year:
                return move.from_township_id
        return township_id

    def standard_for(self, entitlement, township_id, month):
        return self.standards.pick(entitlement, self.townships[township_id], month)

    def month_row(self, person_id, township_id, month, missing):
        """Return (rate, standard, entitlement) of the monthly row due, or None; note entitlements with no standard."""
        candidates = []
        for ent in self.entitlements.get(person_id, ()):
            if ent.start_on > rules.month_end(month) or (ent.end_on is not None and ent.end_on < month):
                continue
            standard = self.standard_for(ent, township_id, month)
            if standard is None:
                if CATEGORY_KIND.get(ent.category) == self.kind:
                    missing.append(ent)
                continue
            if standard.basis in (Basis.MONTH, Basis.SERVICE_YEAR):
                candidates.append((rules.rate_for(standard, ent), standard, ent))
        return rules.combine_rates(candidates)

    def annual_row(self, person_id, township_id, judge):
        """Return (rate, amount, standard, entitlement) of the year's annual row if due in this batch, or None."""
        year_start = datetime.date(self.year, 1, 1)
        year_end = datetime.date(self.year, 12, 31)
        candidates = []
        for ent in self.entitlements.get(person_id, ()):
            if ent.start_on > year_end or (ent.end_on is not None and ent.end_on < year_start):
                continue
            first = max(year_start, rules.month_start(ent.start_on))
            payer = self.payer_township(person_id, township_id, first)
            if payer not in self.townships:
                continue
            standard = self.standard_for(ent, payer, first)
            if standard is None or standard.basis != Basis.YEAR:
                continue
            due = rules.annual_due_month(standard, self.year, ent.start_on)
            payer = self.payer_township(person_id, township_id, due)
            if due > self.batch.last_month or payer not in self.townships or judge(due) != rules.PAY:
                continue
            standard = self.standard_for(ent, payer, due)
            if standard is None or standard.basis != Basis.YEAR:
                continue
            rate = rules.rate_for(standard, ent)
            entitled = [
                m
                for m in rules.months_between(year_start, datetime.date(self.year, 12, 1))
                if ent.start_on <= rules.month_end(m) and (ent.end_on is None or ent.end_on >= m)
            ]
            amount = rules.annual_amount(standard, rate, entitled_months=len(entitled))
            candidates.append((amount, standard, ent, rate, payer))
        if not candidates:
            return None
        amount, standard, ent = rules.combine_rates([c[:3] for c in candidates])
        head = next(c for c in candidates if c[1] is standard and c[2] is ent)
        rate = head[3] + sum((c[3] for c in candidates if c[1].cumulative and c is not head), Decimal("0.00"))
        return rate, amount, standard, ent, head[4]

    def compute(self):
        span = self.span
        span_set = set(span)
        total = len(self.persons) * 2 or 1
        for index, (person_id, (township_id, account)) in enumerate(sorted(self.persons.items())):
            if self.progress and index % PROGRESS_STEP == 0:
                self.progress(index, total)
            timeline = self.timelines.get(person_id)
            judge = timeline.payable if timeline else (lambda month: rules.PAY)
            due = {}  # month → Payment to hold in this batch
            reasons = defaultdict(list)
            paid_any = False
            for month in self.owed.get(person_id, []) + span:
                payer = self.payer_township(person_id, township_id, month)
                if payer not in self.townships:
                    if month in span_set:
                        home = township_id in self.townships
                        reasons[ExceptionReason.PAID_BY_OTHER if home else ExceptionReason.TRANSFERRED].append(month)
                    continue
                verdict = judge(month)
                if verdict != rules.PAY:
                    if month in span_set:
                        reasons[REASON_OF[verdict]].append(month)
                    continue
                missing = []
                found = self.month_row(person_id, payer, month, missing)
                if found is None:
                    if missing and month in span_set:
                        reasons[ExceptionReason.NO_STANDARD].append(month)
                    continue
                paid_any = paid_any or month in span_set
                rate, standard, ent = found
                due[month] = (rate, rate, standard.pk, ent.pk, payer, ent.category)
            year_month = datetime.date(self.year, 1, 1)
            if self.has_annual and year_month not in due:
                found = self.annual_row(person_id, township_id, judge)
                if found is not None:
                    rate, amount, standard, ent, payer = found
                    paid_any = True
                    due[year_month] = (amount, rate, standard.pk, ent.pk, payer, ent.category)
            wanted = {month: row for month, row in due.items() if (person_id, month) not in self.existing}
            if wanted and not account:
                reasons[ExceptionReason.NO_ACCOUNT] = list(wanted)
                wanted = {}
            for month, row in wanted.items():
                kept = self.own.pop((person_id, month), None)
                if kept is not None and kept[3:] == row:
                    continue
                if kept is not None:
                    self.stale.append(kept.pk)
                amount, rate, standard_id, ent_id, payer, category = row
                self.new_rows.append(
                    {
                        "beneficiary_id": person_id,
                        "township_id": payer,
                        "category": category,
                        "month": month,
                        "rate": rate,
                        "amount": amount,
                        "entitlement_id": ent_id,
                        "standard_id": standard_id,
                    }
                )
            self._exceptions(person_id, reasons, paid_any=paid_any, timeline=timeline)
        self.stale += [held.pk for held in self.own.values()]
        self._reissues()

    def _exceptions(self, person_id, reasons, *, paid_any, timeline):
        for reason, months in reasons.items():
            if reason in ENDING_REASONS and paid_any:
                continue
            self.exceptions.append(
                BatchException(
                    batch=self.batch,
                    beneficiary_id=person_id,
                    reason=reason,
                    detail=self._detail(person_id, reason, months, timeline)[:200],
                )
            )

    def _detail(self, person_id, reason, months, timeline):
        when = _months_label(months)
        event = timeline.event_for(months[0]) if timeline else None
        since = f"{event.effective_on:%Y-%m-%d}{ChangeKind(event.kind).label}" if event else ""
        if reason == ExceptionReason.NO_ACCOUNT:
            return f"没有银行账号，{when}未纳入本批发放"
        if reason == ExceptionReason.NO_STANDARD:
            labels = {
                Category(ent.category).label + (DisabilityGrade(ent.grade).label if ent.grade else "")
                for ent in self.entitlements.get(person_id, ())
                if CATEGORY_KIND.get(ent.category) == self.kind
            }
            return f"{'、'.join(sorted(labels))}：{when}没有适用的标准"
        moves = self.moves.get(person_id)
        moved = f"{moves[-1].out_on:%Y-%m-%d}迁出" if moves else since
        if reason == ExceptionReason.PAID_BY_OTHER:
            return f"{moved}，{when}由迁出地县（区）发放（迁出当年）" if moved else f"{when}由迁出地县（区）发放"
        if reason == ExceptionReason.DIED:
            return f"{since}，不再发放" if since else "已死亡"
        if reason == ExceptionReason.TRANSFERRED:
            return f"{moved}，{when}由迁入地发放" if moved else f"已迁出，{when}由迁入地发放"
        return f"{since}：{when}不发放" if since else f"{when}不发放"

    def _reissues(self):
        """Re-issue each returned row of the kind once, when the person now has a bank account."""
        backpay_taken = set()
        returned_backpay = [r for r in self.returned if r.is_backpay]
        if returned_backpay:
            backpay_taken = set(
                Payment.objects.counted()
                .filter(
                    kind=self.kind,
                    is_backpay=True,
                    beneficiary__in=[r.beneficiary_id for r in returned_backpay],
                )
                .values_list("beneficiary_id", "month", "cause_id")
            )
        for row in self.returned:
            if not row.beneficiary.bank_account:
                continue
            if row.is_backpay:
                if (row.beneficiary_id, row.month, row.cause_id) in backpay_taken:
                    continue
            else:
                other = self.existing.get((row.beneficiary_id, row.month))
                if other is not None and other.pk != row.pk and other.returned is None:
                    continue
            self.reissues.append(
                Payment(
                    beneficiary_id=row.beneficiary_id,
                    township_id=row.township_id,
                    kind=row.kind,
                    category=row.category,
                    month=row.month,
                    months=row.months,
                    rate=row.rate,
                    amount=row.amount,
                    batch=self.batch,
                    entitlement_id=row.entitlement_id,
                    standard_id=row.standard_id,
                    is_backpay=row.is_backpay,
                    cause_id=row.cause_id,
                    reissue_of=row,
                    purpose=f"重发{row.returned_on:%Y-%m-%d}退回的款项",
                    created_by=self.user,
                )
            )


# 补发


def _backpay(batch, *, generated_by, progress):
    """The 补发 of a raise: for each paid month the raise supersedes, the new rate less what was paid, once."""
    raise_ = batch.cause
    unit = batch.unit
    standards = _Standards(raise_.kind, unit)
    by_pk = {s.pk: s for group in standards.by_unit.values() for s in group}
    paid = list(
        _paid_backpay_rows(unit=unit, standard=raise_)
        .filter(month__gte=batch.first_month, month__lte=batch.last_month)
        .exclude(batch=batch)
        .order_by("beneficiary_id", "month", "pk")
        .values_list(
            "pk",
            "beneficiary_id",
            "township_id",
            "township__path",
            "month",
            "rate",
            "amount",
            "standard_id",
            "entitlement_id",
            "entitlement__category",
            "entitlement__grade",
            "entitlement__nature",
            "entitlement__service_area",
            "entitlement__service_years",
            "category",
            "beneficiary__bank_account",
        )
    )
    total = len(paid) * 2 or 1
    if progress:
        progress(0, total)
    earlier = defaultdict(lambda: ZERO)
    taken = set()
    own = {}
    for pk, person_id, month, cause_id, amount, batch_id in (
        Payment.objects.counted()
        .filter(
            kind=raise_.kind,
            is_backpay=True,
            month__gte=batch.first_month,
            month__lte=batch.last_month,
            beneficiary__in=sorted({row[1] for row in paid}),
        )
        .values_list("pk", "beneficiary_id", "month", "cause_id", "amount", "batch_id")
    ):
        if cause_id == raise_.pk:
            if batch_id == batch.pk:
                own[(person_id, month)] = (pk, amount)
            else:
                taken.add((person_id, month))
        else:
            earlier[(person_id, month)] += amount
    rows, reasons = {}, defaultdict(list)
    for index, row in enumerate(paid):
        pk, person_id, township_id, path, month, rate, amount, standard_id, ent_id, *held, years, category, account = (
            row
        )
        if progress and index % PROGRESS_STEP == 0:
            progress(index, total)
        if (person_id, month) in taken or (person_id, month) in rows:
            continue
        if rate is None:
            continue
        if ent_id is None:  # imported history: judge by the standard the row was paid at
            held = [category, raise_.grade, raise_.nature, raise_.variant]
        ent = Ent(ent_id, person_id, *held, years, None, None)
        if standards.pick(ent, path, month) != raise_:
            continue
        old = by_pk.get(standard_id)
        new_rate = rate - (rules.rate_for(old, ent) if old else ZERO) + rules.rate_for(raise_, ent)
        if new_rate <= rate:
            continue
        new_amount = new_rate if amount == rate else rules.round_fen(amount * new_rate / rate)
        difference = new_amount - amount - earlier[(person_id, month)]
        if difference <= 0:
            continue
        if not account:
            reasons[person_id].append(month)
            continue
        rows[(person_id, month)] = {
            "beneficiary_id": person_id,
            "township_id": township_id,
            "category": category,
            "month": month,
            "rate": difference,
            "amount": difference,
            "entitlement_id": ent_id,
        }
    new_rows, stale = [], []
    for place, row in rows.items():
        kept = own.pop(place, None)
        if kept is not None and kept[1] == row["amount"]:
            continue
        if kept is not None:
            stale.append(kept[0])
        new_rows.append(row)
    stale += [pk for pk, _ in own.values()]
    exceptions = [
        BatchException(
            batch=batch,
            beneficiary_id=person_id,
            reason=ExceptionReason.NO_ACCOUNT,
            detail=f"没有银行账号，{_months_label(months)}的补发未纳入本批",
        )
        for person_id, months in reasons.items()
    ]
    constant = {
        "kind": raise_.kind,
        "batch_id": batch.pk,
        "standard_id": raise_.pk,
        "is_backpay": True,
        "cause_id": raise_.pk,
        "purpose": f"{raise_}调标补发"[:200],
        "created_by_id": generated_by.pk,
    }
    _write(
        batch,
        rows=new_rows,
        constant=constant,
        stale=stale,
        exceptions=exceptions,
        progress=progress,
        done=total // 2,
        total=total,
    )
    return _finish_generation(
        batch, generated_by=generated_by, created=len(new_rows), removed=len(stale), exceptions=len(exceptions)
    )


# Approval and payment


def is_director_for(user, unit):
    """Tell whether the user is a 双拥办主任 of the unit or of an office above it."""
    return any(
        role == Role.OFFICE and director and unit.path.startswith(path)
        for path, role, director in permissions.memberships(user)
    )


@transaction.atomic
def batch_approve(*, batch, approved_by):
    """Approve a generated draft: only a 双拥办主任 of the jurisdiction who neither created nor generated it."""
    batch = PaymentBatch.objects.select_for_update(of=("self",)).select_related("unit").get(pk=batch.pk)
    if batch.status != BatchStatus.DRAFT:
        raise ValidationError(f"“{batch.title}”{batch.get_status_display()}，不能再审批。")
    if approved_by is None or not is_director_for(approved_by, batch.unit):
        raise ValidationError("只有本级或上级双拥办主任可以审批发放批次。")
    if approved_by.pk in (batch.created_by_id, batch.generated_by_id):
        raise ValidationError("建立或生成批次的人不能审批本批次，请由另一位双拥办主任审批。")
    if batch.generated_at is None:
        raise ValidationError("该批次还没有生成发放名单，不能审批。")
    if not Payment.objects.filter(batch=batch).exists():
        raise ValidationError("该批次没有发放记录，不能审批。")
    batch.status, batch.approved_at, batch.approved_by = BatchStatus.APPROVED, timezone.now(), approved_by
    batch._history_user = approved_by
    batch.save(update_fields=["status", "approved_at", "approved_by"])
    return batch


@transaction.atomic
def batch_mark_paid(*, batch, paid_on, method, paid_by):
    """Record that an approved batch went out (date and method) on the batch and each row; it is locked from then."""
    batch = PaymentBatch.objects.select_for_update(of=("self",)).select_related("unit").get(pk=batch.pk)
    if batch.status != BatchStatus.APPROVED:
        if batch.status == BatchStatus.PAID:
            raise ValidationError(f"“{batch.title}”已于 {batch.paid_on:%Y-%m-%d} 发放，不能重复登记。")
        raise ValidationError(f"“{batch.title}”尚未审批，不能登记发放。")
    if paid_by is None or not permissions.in_scope(paid_by, batch.unit, roles=[Role.OFFICE]):
        raise ValidationError("只有本级或上级双拥办工作人员可以登记发放。")
    if paid_on is None:
        raise ValidationError({"paid_on": "请填写发放日期。"})
    if paid_on > timezone.localdate():
        raise ValidationError({"paid_on": "发放日期不能晚于今天。"})
    if batch.approved_at and paid_on < timezone.localdate(batch.approved_at):
        raise ValidationError(
            {"paid_on": f"发放日期不能早于审批日期（{timezone.localdate(batch.approved_at):%Y-%m-%d}）。"}
        )
    if method not in PayMethod.values:
        raise ValidationError({"method": "请选择发放方式：打卡、存折或现金。"})
    Payment.objects.filter(batch=batch).update(paid_on=paid_on, method=method)
    batch.status, batch.paid_on, batch.method, batch.paid_by = BatchStatus.PAID, paid_on, method, paid_by
    batch._history_user = paid_by
    batch.save(update_fields=["status", "paid_on", "method", "paid_by"])
    return batch


@transaction.atomic
def payment_return(*, payment, returned_on, reason, user):
    """Mark a paid card or passbook transfer as returned by the bank; the next batch of the kind re-issues it once."""
    payment = Payment.objects.select_for_update(of=("self",)).select_related("township", "batch").get(pk=payment.pk)
    if user is None or not permissions.in_scope(user, payment.township, roles=[Role.OFFICE]):
        raise ValidationError("只有双拥办工作人员可以登记退回。")
    if payment.returned_on is not None:
        raise ValidationError(f"该笔款项已于 {payment.returned_on:%Y-%m-%d} 登记退回。")
    if payment.paid_on is None or (payment.batch is not None and payment.batch.status != BatchStatus.PAID):
        raise ValidationError("只有已发放的款项才能登记退回。")
    if payment.method == PayMethod.CASH:
        raise ValidationError("现金发放的款项不能登记银行退回。")
    if returned_on is None:
        raise ValidationError({"returned_on": "请填写退回日期。"})
    if returned_on < payment.paid_on:
        raise ValidationError({"returned_on": f"退回日期不能早于发放日期（{payment.paid_on:%Y-%m-%d}）。"})
    if returned_on > timezone.localdate():
        raise ValidationError({"returned_on": "退回日期不能晚于今天。"})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写退回原因，如“账号错误”“账户已销户”。"})
    payment.returned_on, payment.returned_reason = returned_on, reason[:200]
    payment.save(update_fields=["returned_on", "returned_reason"])
    return payment


# Stops


def payments_after_stop(*, person, change):
    """After a 异动 that stops pay: delete the person's draft rows for months no longer payable and return the
    approved or paid rows for those months (overpaid). Months held by 停发 are owed, never overpaid."""
    changes = list(person.changes.order_by("effective_on", "recorded_at", "pk"))
    timeline = rules.Timeline(changes)
    rows = (
        Payment.objects.filter(
            beneficiary=person,
            kind__in=REGULAR_KINDS,
            reference="",
            returned_on__isnull=True,
            month__gte=datetime.date(change.effective_on.year, 1, 1),
        )
        .select_related("batch", "standard", "entitlement")
        .order_by("month", "kind", "pk")
    )
    drafts, overpaid = [], []
    for row in rows:
        month = row.month
        if row.standard is not None and row.standard.basis == Basis.YEAR:
            start = row.entitlement.start_on if row.entitlement else month
            month = rules.annual_due_month(row.standard, month.year, start)
        verdict = timeline.payable(month)
        if verdict == rules.PAY:
            continue
        if row.batch is not None and row.batch.status == BatchStatus.DRAFT:
            drafts.append(row.pk)
        elif verdict != rules.HOLD:
            overpaid.append(row)
    if drafts:
        Payment.objects.filter(pk__in=drafts).delete()
    return overpaid
