"""Standards and a paid ledger for the scale profiles of seed_scale, inserted in bulk.

For every county of the tree: a paid batch per regular kind and month (优待金 once a year, before 八一), a row per
person, kind and month at the standard in force, a raise of 带病回乡 on 1 August entered in October with its 补发
batch, 立功奖励 for the awards and a 春节慰问金 each January. The rows obey the ledger's guards, which are built
again after the load and so check every row. PostgreSQL takes the rows by COPY, SQLite by executemany.
"""

import bisect
import datetime
import io
import itertools
import time
from collections import Counter
from contextlib import contextmanager

from django.db import connection, transaction
from django.utils import timezone

from shuangyong.lib.money import to_fen
from units.constants import Role, UnitKind
from units.models import Membership, Unit

from . import payment_rules as rules
from .constants import (
    CATEGORY_KIND,
    ILLNESS_MAX_PENSION_GRADE,
    AwardLevel,
    Basis,
    BatchStatus,
    Category,
    DisabilityNature,
    PaymentKind,
    PayMethod,
)
from .models import Award, Entitlement, Payment, PaymentBatch, Standard
from .payment_demo import (
    CONSCRIPT_PAYMENT_MONTH,
    CONSCRIPT_VARIANTS,
    NURSING_MAX_GRADE,
    RAISE_BY,
    RAISE_ENTERED_MONTH,
    RAISE_ON,
    RAISED,
)
from .payment_demo import STANDARDS as STANDARD_TABLE
from .payment_services import batch_key

CONDOLENCE_FEN = 500_00
BULK_CHUNK = 2_000
INSERT_CHUNK = 20_000
# Every third city of a province adds this much (yuan a month) to the province's 定期生活补助.
CITY_TOP_UP = {Category.WAR_VETERAN: 50, Category.DEMOBILIZED: 80, Category.RURAL_VETERAN_60: 5}
# What varies from row to row first, then what the rows of a batch share (from `month` on).
COLUMNS = [
    "beneficiary_id", "township_id", "category", "rate", "amount", "entitlement_id", "standard_id",
    "month", "kind", "months", "batch_id", "is_backpay", "cause_id", "reference", "purpose", "award_id", "method",
    "paid_on", "returned_reason", "imported", "created_at", "created_by_id",
]  # fmt: skip


def aware(day, hour=9):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def save_history(objects, when):
    """Write a "created" history row for each object, dated when(object)."""
    if not objects:
        return
    model = type(objects[0]).history.model
    fields = [f.attname for f in model.tracked_fields]
    rows = [
        model(history_date=when(obj), history_type="+", **{name: getattr(obj, name) for name in fields})
        for obj in objects
    ]
    model.objects.bulk_create(rows, batch_size=BULK_CHUNK)


@contextmanager
def loading(model):
    """Drop the table's secondary indexes (on PostgreSQL also its foreign keys) for a bulk load, then rebuild them.

    Rebuilding checks the whole table at once: the once-only guards and the keys hold for every loaded row.
    """
    table = model._meta.db_table
    quote = connection.ops.quote_name
    keys = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
                "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                [table, table],
            )
            indexes = cursor.fetchall()
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f'",
                [table],
            )
            keys = cursor.fetchall()
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            )
            indexes = cursor.fetchall()
        if keys:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # run the checks still pending; ALTER refuses otherwise
        for name, _ in keys:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
        if keys:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    yield
    with connection.cursor() as cursor:
        for _, definition in indexes:
            cursor.execute(definition)
        for name, definition in keys:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")


class LedgerBuilder:
    """Build the standards, batches and payments of one scale tree."""

    def __init__(self, root, *, months, today=None, log=None):
        today = today or timezone.localdate()
        self.root = root
        self.last = rules.add_months(today.replace(day=1), -1)
        self.months = [rules.add_months(self.last, -i) for i in range(months - 1, -1, -1)]
        self.month_ends = [rules.add_months(m, 1) - datetime.timedelta(days=1) for m in self.months]
        self.index_of = {month: i for i, month in enumerate(self.months)}
        self.years = sorted({month.year for month in self.months})
        year = self.last.year if self.last.month >= RAISE_ENTERED_MONTH else self.last.year - 1
        self.raise_on = datetime.date(year, *RAISE_ON)
        self.raise_entered = datetime.date(year, RAISE_ENTERED_MONTH, 1)
        self.log = log or (lambda message: None)
        self.counts = Counter()
        self.postgres = connection.vendor == "postgresql"
        self.offices = dict(
            Membership.objects.filter(unit__path__startswith=root.path, role=Role.OFFICE).values_list("unit", "user")
        )
        self.by_unit = {}  # unit id -> {key: [standards by effective_from]}
        self.schedules = {}  # (county id, key) -> what schedule() returns

    def build(self):
        started = time.perf_counter()
        counties = list(Unit.objects.filter(path__startswith=self.root.path, kind=UnitKind.COUNTY).order_by("path"))
        with transaction.atomic(), loading(Payment):
            self.build_standards()
            for n, county in enumerate(counties, start=1):
                self.build_county(county)
                if n % 10 == 0 or n == len(counties):
                    elapsed = time.perf_counter() - started
                    self.log(f"  发放记录：{n} 个县，{self.counts['发放记录']:,} 行，{elapsed:.0f} 秒")
            self.log("  重建发放记录的索引与约束 ……")
        if self.postgres:
            with connection.cursor() as cursor:
                # Batches write a month at a time, so in a real table a month's rows lie together; the bulk load
                # writes county by county, so order the table by month as years of batches would have left it.
                index = next(i.name for i in Payment._meta.indexes if i.fields == ["month", "township"])
                cursor.execute(f"CLUSTER {Payment._meta.db_table} USING {index}")
                cursor.execute("ANALYZE")  # fresh statistics, or the planner misjudges the tree and the ledger
        return self.counts

    # ---- standards -------------------------------------------------------------------------------
    def build_standards(self):
        effective_from = datetime.date(self.months[0].year - 1, *RAISE_ON)
        created_by = self.offices.get(self.root.pk)

        def standard(unit, spec, **changes):
            fields = {"effective_from": effective_from, "document": "规模测试〔标准〕1号", **spec, **changes}
            amount = fields["national_part"] + fields["local_part"]
            return Standard(unit=unit, amount=amount, created_by_id=created_by, **fields)

        rows = [standard(self.root, spec) for spec in STANDARD_TABLE]
        if self.root.kind == UnitKind.PROVINCE:
            cities = Unit.objects.filter(parent=self.root, kind=UnitKind.CITY).order_by("path")
            for city in list(cities)[::3]:
                rows += [
                    standard(city, spec, local_part=spec["local_part"] + CITY_TOP_UP[spec["category"]])
                    for spec in STANDARD_TABLE
                    if spec["kind"] == PaymentKind.LIVING and spec["category"] in CITY_TOP_UP
                ]
        raised_key = tuple(RAISED.values())
        old = next(row for row in rows if row.unit == self.root and row.key == raised_key)
        old.effective_to = self.raise_on - datetime.timedelta(days=1)
        Standard.objects.bulk_create(rows)
        spec = next(spec for spec in STANDARD_TABLE if tuple(spec[name] for name in RAISED) == raised_key)
        self.raised = standard(
            self.root,
            spec,
            national_part=spec["national_part"] + RAISE_BY,
            effective_from=self.raise_on,
            replaces=old,
            document=f"规模测试〔{self.raise_on.year}〕调标",
        )
        self.raised.save()
        self.raised_fen = to_fen(self.raised.amount)
        # As backpay_span() names it: from the raise to the last month paid when the 补发 is made (October).
        self.backpay_span = (self.raised.kind, self.raise_on, self.raise_entered, self.raised)
        save_history(rows, lambda row: aware(effective_from - datetime.timedelta(days=20)))
        save_history([self.raised], lambda row: aware(self.raise_entered + datetime.timedelta(days=4)))
        for row in [*rows, self.raised]:
            self.by_unit.setdefault(row.unit_id, {}).setdefault(row.key, []).append(row)
        for standards in (s for unit in self.by_unit.values() for s in unit.values()):
            standards.sort(key=lambda s: s.effective_from)
        self.counts["抚恤补助标准"] = len(rows) + 1

    def standard_for(self, chain, key, on):
        """The standard paid on a day (a month's first): the deepest unit's in force; a raise only once entered."""
        timeline = next((self.by_unit[u][key] for u in chain if key in self.by_unit.get(u, {})), [])
        found = None
        for standard in timeline:
            if standard.effective_from <= on and (standard.effective_to is None or standard.effective_to >= on):
                found = standard
        if found is not None and found.replaces_id and on < self.raise_entered:
            return found.replaces  # paid at the old rate; the difference follows in the 补发 batch
        return found

    def schedule(self, chain, key):
        """For each month of the span: (standard id, amount in fen, per year of service) or None."""
        found = self.schedules.get((chain[0], key))
        if found is None:
            found = []
            for month in self.months:
                standard = self.standard_for(chain, key, month)
                if standard is None:
                    found.append(None)
                else:
                    found.append((standard.pk, to_fen(standard.amount), standard.basis == Basis.SERVICE_YEAR))
            self.schedules[(chain[0], key)] = found
        return found

    def annual_due(self, start_on, end_on):
        """Indexes of the months in which an annual standard falls due for an entitlement, one per year."""
        due = []
        for year in self.years:
            if start_on.year > year or (end_on is not None and end_on.year < year):
                continue
            month = datetime.date(year, CONSCRIPT_PAYMENT_MONTH, 1)
            if start_on.year == year:
                month = max(month, start_on.replace(day=1))
            if month in self.index_of:
                due.append(self.index_of[month])
        return due

    @staticmethod
    def paid_by(category, grade, nature, service_area):
        """(kind, standard key) pairs that an entitlement is paid by."""
        kind = CATEGORY_KIND.get(category)
        if kind is None:
            return []
        if kind == PaymentKind.DISABILITY:
            if nature == DisabilityNature.ILLNESS and grade > ILLNESS_MAX_PENSION_GRADE:
                return []
            keys = [(kind, (kind, category, grade, nature, ""))]
            if grade <= NURSING_MAX_GRADE:
                keys.append((PaymentKind.NURSING, (PaymentKind.NURSING, category, grade, "", "")))
            return keys
        variant = service_area if kind == PaymentKind.CONSCRIPT and service_area in CONSCRIPT_VARIANTS else ""
        return [(kind, (kind, category, None, "", variant))]

    # ---- batches and payments ----------------------------------------------------------------------
    def build_county(self, county):
        chain = [int(pk) for pk in county.path.strip("/").split("/")][::-1]
        office = self.offices.get(county.pk)
        approver = next((self.offices[u] for u in chain[1:] if u in self.offices), office)
        entitlements = list(
            Entitlement.objects.filter(beneficiary__township__parent=county)
            .order_by("beneficiary_id", "pk")
            .values_list(
                "beneficiary_id",
                "pk",
                "beneficiary__township_id",
                "category",
                "grade",
                "nature",
                "start_on",
                "end_on",
                "service_years",
                "service_area",
            )
        )
        batches = self._save_batches(county, self._spans(chain, entitlements), office, approver)
        tails = {span: self._tails(batch, office) for span, batch in batches.items()}
        regular, backpay, welcomed = [], [], {}
        for person, held in itertools.groupby(entitlements, key=lambda row: row[0]):
            self._person_rows(chain, person, list(held), tails, regular, backpay, welcomed)
        self.counts["发放记录：定期待遇"] += len(regular)
        self.counts["发放记录：补发"] += len(backpay)
        out = regular + backpay + self._awards(county, chain, office) + self._condolences(welcomed, office)
        self.write(out)
        self.counts["发放记录"] += len(out)
        self.counts["发放批次"] += len(batches)

    def _months(self, kind, start_on, end_on):
        """Indexes of the months an entitlement is paid for: each month it overlaps; 优待金 once a year."""
        if kind == PaymentKind.CONSCRIPT:
            return self.annual_due(start_on, end_on)
        first = bisect.bisect_left(self.month_ends, start_on)
        last = len(self.months) if end_on is None else bisect.bisect_right(self.months, end_on)
        return range(first, last)

    def _span(self, kind, i):
        """The batch of a kind's row for month i: (kind, first month, last month, cause)."""
        month = self.months[i]
        if kind == PaymentKind.CONSCRIPT:
            return (kind, month.replace(month=1), month.replace(month=12), None)
        return (kind, month, month, None)

    def _backpay_due(self, standard_id, i):
        """Month i was paid at the standard the raise replaced before the raise was entered: 补发 follows."""
        return standard_id == self.raised.replaces_id and self.raise_on <= self.months[i] < self.raise_entered

    def _spans(self, chain, entitlements):
        """The batches the county's rows go in. Every month has a standard: the builder's own start before it."""
        spans = set()
        for _, _, _, category, grade, nature, start_on, end_on, _, area in entitlements:
            for kind, key in self.paid_by(category, grade, nature, area):
                schedule = self.schedule(chain, key)
                for i in self._months(kind, start_on, end_on):
                    spans.add(self._span(kind, i))
                    if self._backpay_due(schedule[i][0], i):
                        spans.add(self.backpay_span)
        return spans

    def _tails(self, batch, office):
        """{month index: the columns from `month` on}, which every row of the batch for that month shares."""
        cause = batch.cause_id
        purpose = f"{self.raised}调标补发" if cause else ""
        shared = (batch.kind, 1, batch.pk, cause is not None, cause, "", purpose, None, PayMethod.CARD)
        shared += (batch.paid_on, "", False, batch.generated_at, office)
        tails = {}
        for i, month in enumerate(self.months):
            if batch.first_month <= month <= batch.last_month:
                tails[i] = self._format((batch.first_month if batch.kind == PaymentKind.CONSCRIPT else month, *shared))
        return tails

    def _person_rows(self, chain, person, held, tails, regular, backpay, welcomed):
        """Add one person's rows: per kind and month the highest rate among their entitlements, and the 补发."""
        by_kind = {}
        for _, pk, township, category, grade, nature, start_on, end_on, years, area in held:
            if category in CATEGORY_KIND:
                welcomed.setdefault(person, (township, start_on, end_on))
            for kind, key in self.paid_by(category, grade, nature, area):
                by_kind.setdefault(kind, []).append((pk, township, category, start_on, end_on, years, key))
        for kind, items in by_kind.items():
            best = {}  # month index -> (rate, entitlement, township, category, standard id)
            for pk, township, category, start_on, end_on, years, key in items:
                schedule = self.schedule(chain, key)
                for i in self._months(kind, start_on, end_on):
                    standard_id, fen, per_year_of_service = schedule[i]
                    rate = fen * (years or 0) if per_year_of_service else fen
                    if i not in best or best[i][0] < rate:
                        best[i] = (rate, pk, township, category, standard_id)
            for i, (rate, pk, township, category, standard_id) in best.items():
                row = (person, township, category, rate, rate, pk, standard_id)
                regular.append(self._row(row, tails[self._span(kind, i)][i]))
                if self._backpay_due(standard_id, i):
                    difference = self.raised_fen - rate
                    row = (person, township, category, difference, difference, pk, self.raised.pk)
                    backpay.append(self._row(row, tails[self.backpay_span][i]))

    def _save_batches(self, county, spans, office, approver):
        batches = {}
        for span in sorted(spans, key=lambda span: (span[1], span[0], span[3] is not None)):
            kind, first, last, cause = span
            if cause is not None:
                paid_on = self.raise_entered.replace(day=25)
            elif kind == PaymentKind.CONSCRIPT:
                paid_on = first.replace(month=7, day=25)
            else:
                paid_on = first.replace(day=10)
            generated = aware(paid_on - datetime.timedelta(days=7))
            label = Category(cause.category).label if cause else ""
            batches[span] = PaymentBatch(
                unit=county,
                kind=kind,
                first_month=first,
                last_month=last,
                is_backpay=cause is not None,
                cause=cause,
                key=batch_key(unit=county, kind=kind, first_month=first, last_month=last, cause=cause),
                title=rules.span_title(kind, first, last, backpay=cause is not None, category_label=label),
                status=BatchStatus.PAID,
                generated_at=generated,
                generated_by_id=office,
                approved_at=aware(paid_on - datetime.timedelta(days=3)),
                approved_by_id=approver,
                paid_on=paid_on,
                method=PayMethod.CARD,
                paid_by_id=office,
                created_by_id=office,
                created_at=generated - datetime.timedelta(hours=1),
            )
        PaymentBatch.objects.bulk_create(batches.values(), batch_size=BULK_CHUNK)
        save_history(list(batches.values()), lambda batch: aware(batch.paid_on, 16))
        return batches

    def _awards(self, county, chain, office):
        """立功奖励 at the standard in force on the award date, paid the month after."""
        awards = Award.objects.filter(entitlement__beneficiary__township__parent=county).values_list(
            "pk",
            "entitlement_id",
            "entitlement__beneficiary_id",
            "entitlement__beneficiary__township_id",
            "entitlement__category",
            "entitlement__serving_member_name",
            "level",
            "awarded_on",
        )
        out = []
        for pk, entitlement, person, township, category, member, level, awarded_on in awards:
            month = rules.add_months(awarded_on.replace(day=1), 1)
            standard = self.standard_for(chain, (PaymentKind.AWARD, "", None, "", level), awarded_on)
            if month not in self.index_of or standard is None:
                continue
            amount = to_fen(standard.amount)
            paid_on = month.replace(day=15)
            purpose = f"{member}{AwardLevel(level).label}奖励"
            tail = (month, PaymentKind.AWARD, 1, None, False, None, f"award:{pk}", purpose, pk, PayMethod.CARD)
            tail += (paid_on, "", False, aware(paid_on), office)
            out.append(
                self._row((person, township, category, amount, amount, entitlement, standard.pk), self._format(tail))
            )
        self.counts["发放记录：立功奖励"] += len(out)
        return out

    def _condolences(self, people, office):
        """A 春节慰问金 each January in cash to everyone entitled by then, recorded as imported history."""
        out = []
        for january in (m for m in self.months if m.month == 1):
            paid_on = january.replace(day=20)
            reference = f"import:{january.year}年春节慰问金"
            tail = (january, PaymentKind.CONDOLENCE, 1, None, False, None, reference, f"{january.year}年春节慰问")
            tail = self._format((*tail, None, PayMethod.CASH, paid_on, "", True, aware(paid_on), office))
            for person, (township, start_on, end_on) in people.items():
                if start_on > paid_on or (end_on and end_on < january):
                    continue
                head = (person, township, "", None, CONDOLENCE_FEN, None, None)
                out.append(self._row(self._format(head), tail))
        self.counts["发放记录：春节慰问金"] += len(out)
        return out

    # ---- writing -----------------------------------------------------------------------------------
    def _format(self, values):
        """Values as the load takes them: a line's cells for COPY, adapted parameters for executemany."""
        if self.postgres:
            return "\t".join(["\\N" if value is None else str(value) for value in values])
        ops = connection.ops
        return tuple(
            ops.adapt_datetimefield_value(value)
            if isinstance(value, datetime.datetime)
            else ops.adapt_datefield_value(value)
            if isinstance(value, datetime.date)
            else value
            for value in values
        )

    def _row(self, head, tail):
        """One row: its own values (never None, or already formatted) and the shared tail."""
        if self.postgres:
            return (head if isinstance(head, str) else "\t".join(map(str, head))) + "\t" + tail + "\n"
        return head + tail

    def write(self, rows):
        table = Payment._meta.db_table
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.copy_expert(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN", io.StringIO("".join(rows)))
                return
            marks = ", ".join(["%s"] * len(COLUMNS))
            sql = f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608 (names are constants)
            for start in range(0, len(rows), INSERT_CHUNK):
                cursor.executemany(sql, rows[start : start + INSERT_CHUNK])


def build_payments(root, *, months, today=None, log=None):
    """Add standards, paid batches and the ledger to the scale tree under `root`; return the counts."""
    return LedgerBuilder(root, months=months, today=today, log=log).build()
