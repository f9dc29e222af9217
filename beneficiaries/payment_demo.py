"""Demo standards and payments for 示例县: a year and more of paid batches, a raise with its 补发, a death.

`STANDARDS` is also the table the scale profiles use (beneficiaries/scale.py).
"""

import datetime
import heapq
import itertools
from contextlib import contextmanager
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Max, Q
from django.utils import timezone

from .constants import (
    AwardLevel,
    Basis,
    Category,
    ChangeKind,
    DeathCause,
    DisabilityNature,
    PaymentKind,
    PayMethod,
    ServiceArea,
    Status,
)
from .models import Award, Beneficiary, Entitlement, Payment, PaymentBatch, Recovery, Standard, StatusChange
from .payment_rules import add_months
from .payment_services import (
    backpay_batch_create,
    backpay_generate,
    batch_approve,
    batch_create,
    batch_generate,
    batch_mark_paid,
    payment_return,
)
from .recovery_services import death_settle
from .services import beneficiary_update, change_record
from .standard_services import one_off_pay, standard_create, standard_raise

# National standards were last raised on 1 August; the demo's raise of 带病回乡 follows on 1 August 2025.
STANDARDS_FROM = datetime.date(2024, 8, 1)
CONSCRIPT_PAYMENT_MONTH = 8  # 优待金 is paid before 八一


def _row(kind, category, national, local=0, *, grade=None, nature="", variant="", basis=Basis.MONTH):
    row = {"kind": kind, "category": category, "grade": grade, "nature": nature, "variant": variant}
    row.update(basis=basis, national_part=Decimal(national), local_part=Decimal(local))
    row["payment_month"] = CONSCRIPT_PAYMENT_MONTH if basis == Basis.YEAR else None
    return row


# 残疾抚恤金 per month, 一级 to 十级; 因病 only 一级 to 六级 (Art. 27).
DISABILITY_MONTHLY = {
    DisabilityNature.WAR: [9060, 8190, 7260, 5890, 4700, 3760, 2820, 1830, 1440, 910],
    DisabilityNature.DUTY: [8830, 7960, 6980, 5620, 4430, 3560, 2660, 1700, 1330, 850],
    DisabilityNature.ILLNESS: [8460, 7600, 6530, 5240, 4180, 3330],
}
NURSING_MONTHLY = [6100, 4880, 3660, 3050]  # 护理费, 一级 to 四级
NURSING_MAX_GRADE = len(NURSING_MONTHLY)
CONSCRIPT_YEARLY = 15600  # 义务兵家庭优待金, local funds only
CONSCRIPT_VARIANTS = {ServiceArea.TIBET: 2}  # 进藏 at double; 新疆 and 艰苦 use the plain standard here
AWARDS = {AwardLevel.FIRST: 1000, AwardLevel.SECOND: 500, AwardLevel.THIRD: 200, AwardLevel.EXCELLENT: 100}


def _standards():
    rows = [
        _row(PaymentKind.PENSION, Category.MARTYR_FAMILY, 2300, 200),
        _row(PaymentKind.PENSION, Category.DUTY_DEATH_FAMILY, 2050, 150),
        _row(PaymentKind.PENSION, Category.ILLNESS_DEATH_FAMILY, 1980, 150),
    ]
    for nature, amounts in DISABILITY_MONTHLY.items():
        rows += [
            _row(PaymentKind.DISABILITY, Category.DISABLED, amount, 50, grade=grade, nature=nature)
            for grade, amount in enumerate(amounts, start=1)
        ]
    rows += [
        _row(PaymentKind.LIVING, Category.ILL_RETURNED, 640, 60),
        _row(PaymentKind.LIVING, Category.WAR_VETERAN, 780, 70),
        _row(PaymentKind.LIVING, Category.DEMOBILIZED, 1250, 100),
        _row(PaymentKind.LIVING, Category.RURAL_VETERAN_60, 40, 10, basis=Basis.SERVICE_YEAR),
        _row(PaymentKind.CONSCRIPT, Category.CONSCRIPT_FAMILY, 0, CONSCRIPT_YEARLY, basis=Basis.YEAR),
    ]
    rows += [
        _row(
            PaymentKind.CONSCRIPT,
            Category.CONSCRIPT_FAMILY,
            0,
            CONSCRIPT_YEARLY * factor,
            variant=area,
            basis=Basis.YEAR,
        )
        for area, factor in CONSCRIPT_VARIANTS.items()
    ]
    rows += [
        _row(PaymentKind.NURSING, Category.DISABLED, amount, 0, grade=grade)
        for grade, amount in enumerate(NURSING_MONTHLY, start=1)
    ]
    rows += [
        _row(PaymentKind.AWARD, "", 0, amount, variant=level, basis=Basis.ONCE) for level, amount in AWARDS.items()
    ]
    # 20 times the previous year's national urban per-capita disposable income (Art. 15); wages are added per case.
    rows.append(_row(PaymentKind.LUMP_SUM, Category.DUTY_DEATH_FAMILY, 1036420, 0, basis=Basis.ONCE))
    return rows


STANDARDS = _standards()
# The raise: 带病回乡退役军人 定期生活补助 640 → 680 (national part) from 1 August, entered in October.
RAISED = {"kind": PaymentKind.LIVING, "category": Category.ILL_RETURNED, "grade": None, "nature": "", "variant": ""}
RAISE_BY = Decimal(40)
RAISE_ON = (8, 1)
RAISE_ENTERED_MONTH = 10


# ---- seed_demo ----------------------------------------------------------------------------------------
DEMO_FIRST_MONTH = datetime.date(2025, 1, 1)
STANDARDS_ENTERED = datetime.date(2024, 12, 16)
RAISE_ENTERED = datetime.date(2025, RAISE_ENTERED_MONTH, 20)
DIED_ON = datetime.date(2025, 10, 18)  # a 三属 recipient, reported after the fourth quarter was paid
DEATH_REPORTED = datetime.date(2025, 11, 5)
DEATH_SETTLED = datetime.date(2025, 11, 12)
RETURNED_MONTH = datetime.date(2026, 3, 1)  # a card transfer of this month's 定期生活补助 comes back
RETURNED_ON = datetime.date(2026, 3, 17)
ACCOUNT_FIXED = datetime.date(2026, 3, 24)
QUARTERLY_KINDS = [PaymentKind.PENSION, PaymentKind.DISABILITY, PaymentKind.NURSING]
PENSION_CATEGORIES = [Category.MARTYR_FAMILY, Category.DUTY_DEATH_FAMILY, Category.ILLNESS_DEATH_FAMILY]
FESTIVALS = [(datetime.date(2025, 1, 20), "2025春节慰问"), (datetime.date(2026, 2, 10), "2026春节慰问")]
FESTIVAL_AMOUNT = Decimal(500)
# Days of the month: the 干事 prepares and generates a batch, the 主任 approves it, the bank pays it.
PREPARED, APPROVED, PAID = 3, 6, 10
SEPTEMBER_INTAKE = 9


def aware(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@contextmanager
def dated(day):
    """Date what the block writes as of `day`: the demo replays a year and more of the office's work at once."""
    histories = [model.history.model for model in (Beneficiary, Entitlement, Standard, PaymentBatch, Recovery)]
    marks = {model: model.objects.aggregate(last=Max("pk"))["last"] or 0 for model in histories + list(STAMPED)}
    yield
    when = aware(day)
    for model in histories:
        model.objects.filter(pk__gt=marks[model]).update(history_date=when)
    for model, fields in STAMPED.items():
        model.objects.filter(pk__gt=marks[model]).update(**dict.fromkeys(fields, when))
    # Batches generated and approved on this day were created earlier.
    PaymentBatch.objects.filter(generated_at__gt=when).update(generated_at=when)
    PaymentBatch.objects.filter(approved_at__gt=when).update(approved_at=when)


# What the services stamp with the time of writing: the rows made on a day get that day.
STAMPED = {
    Standard: ["created_at"],
    PaymentBatch: ["created_at"],
    Payment: ["created_at"],
    StatusChange: ["recorded_at"],
    Recovery: ["created_at"],
}


class DemoPayments:
    """Replay the county office's payments day by day through the services the pages use.

    The 干事 (ganshi) enters the standards and prepares every batch, the 主任 (zhuren) approves it, and it is paid
    by card: 定期生活补助 monthly, 定期抚恤金, 残疾抚恤金 and 护理费 by the quarter (in advance, up to the last
    quarter ended), 优待金 once a year before 八一. This month's 定期生活补助 stays approved and next month's in
    draft, so that the pages show every state.
    """

    def __init__(self, county, *, today):
        self.county, self.today = county, today
        users = {u.username: u for u in get_user_model().objects.filter(username__in=["ganshi", "zhuren"])}
        self.clerk, self.director = users["ganshi"], users["zhuren"]
        self.queue = []  # (day, sequence, action)
        self.sequence = itertools.count()

    def at(self, day, action):
        """Run action(day) on `day`, unless that is after today; steps of one day run in the order given."""
        if day <= self.today:
            heapq.heappush(self.queue, (day, next(self.sequence), action))

    def run(self):
        done = 0
        self.at(STANDARDS_ENTERED, self.enter_standards)
        this_month = self.today.replace(day=1)
        month = DEMO_FIRST_MONTH
        while month <= this_month:
            if month.month in (1, 4, 7, 10) and add_months(month, 2) < this_month:
                for kind in QUARTERLY_KINDS:
                    self.batch(kind, month, add_months(month, 2))
            if month.month == CONSCRIPT_PAYMENT_MONTH:
                # Paid before 八一; families of the September intake in a batch of their own.
                prepared = add_months(month, -1).replace(day=PREPARED)
                self.batch(PaymentKind.CONSCRIPT, month, month, prepared=prepared, paid=prepared.replace(day=25))
            if month.month == SEPTEMBER_INTAKE and self.intake(month):
                self.batch(PaymentKind.CONSCRIPT, month, month, prepared=month.replace(day=20))
            self.batch(PaymentKind.LIVING, month, month, pay=month < this_month)
            month = add_months(month, 1)
        self.batch(PaymentKind.LIVING, month, month, prepared=self.today, approve=False)
        self.at(RAISE_ENTERED, self.raise_and_backpay)
        self.at(DEATH_REPORTED, self.death)
        self.at(DEATH_SETTLED, self.settle_death)
        self.at(RETURNED_ON, self.bank_return)
        self.at(ACCOUNT_FIXED, self.fix_account)
        for day, reference in FESTIVALS:
            self.at(day, lambda day, reference=reference: self.festival(day, reference))
        awards = Award.objects.filter(
            entitlement__beneficiary__township__parent=self.county, awarded_on__gte=STANDARDS_FROM
        ).order_by("awarded_on", "pk")
        for award in awards:
            day = max(award.awarded_on + datetime.timedelta(days=25), DEMO_FIRST_MONTH.replace(day=15))
            self.at(day, lambda day, award=award: self.award(award, day))
        while self.queue:
            day = self.queue[0][0]
            with dated(day):
                while self.queue and self.queue[0][0] == day:
                    heapq.heappop(self.queue)[-1](day)
                    done += 1
        return done

    # ---- steps -------------------------------------------------------------------------------------
    def enter_standards(self, day):
        for spec in STANDARDS:
            standard_create(
                unit=self.county,
                amount=spec["national_part"] + spec["local_part"],
                effective_from=STANDARDS_FROM,
                document="示民〔2024〕91号",
                created_by=self.clerk,
                **spec,
            )

    def batch(self, kind, first, last, *, paid=None, pay=True, approve=True, prepared=None):
        """Prepare and generate a batch, approve it three days later, pay it on the 10th (steps after today wait)."""
        prepared = min(prepared or first.replace(day=PREPARED), self.today)
        approved = min(prepared + datetime.timedelta(days=APPROVED - PREPARED), self.today)
        paid = paid or max(first.replace(day=PAID), prepared + datetime.timedelta(days=PAID - PREPARED))
        made = {}

        def generate(day):
            made["batch"] = batch_create(
                unit=self.county, kind=kind, first_month=first, last_month=last, created_by=self.clerk
            )
            batch_generate(batch=made["batch"], generated_by=self.clerk)

        self.at(prepared, generate)
        if approve:
            self.at(approved, lambda day: batch_approve(batch=made["batch"], approved_by=self.director))
        if approve and pay:
            self.at(paid, lambda day: self.mark_paid(made["batch"], day))

    def intake(self, month):
        """Tell whether families of servicemen who enlisted in that month are registered."""
        return Entitlement.objects.filter(
            beneficiary__township__parent=self.county,
            category=Category.CONSCRIPT_FAMILY,
            start_on__gte=month,
            start_on__lt=add_months(month, 1),
        ).exists()

    def mark_paid(self, batch, day):
        batch_mark_paid(batch=batch, paid_on=day, method=PayMethod.CARD, paid_by=self.clerk)

    def raise_and_backpay(self, day):
        """Raise 带病回乡 from 1 August, then pay the difference for the months already paid at the old rate."""
        old = Standard.objects.get(unit=self.county, effective_to__isnull=True, **RAISED)
        raised = standard_raise(
            standard=old,
            amount=old.amount + RAISE_BY,
            national_part=old.national_part + RAISE_BY,
            local_part=old.local_part,
            effective_from=datetime.date(day.year, *RAISE_ON),
            document=f"示民〔{day.year}〕58号",
            created_by=self.clerk,
        )
        batch = backpay_batch_create(unit=self.county, standard=raised, created_by=self.clerk)
        backpay_generate(batch=batch, generated_by=self.clerk)
        self.at(day + datetime.timedelta(days=2), lambda day: batch_approve(batch=batch, approved_by=self.director))
        self.at(day + datetime.timedelta(days=8), lambda day: self.mark_paid(batch, day))

    def dying(self):
        """The 三属 recipient who dies: the first by ID number with no 异动 after the day of death."""
        later = StatusChange.objects.filter(effective_on__gt=DIED_ON).values("beneficiary")
        return (
            Beneficiary.objects.filter(
                township__parent=self.county,
                status=Status.ACTIVE,
                entitlements__category__in=PENSION_CATEGORIES,
                entitlements__start_on__lt=DEMO_FIRST_MONTH,
            )
            .exclude(pk__in=later)
            .order_by("id_number")
            .first()
        )

    def death(self, day):
        change_record(
            beneficiary=self.dying(),
            kind=ChangeKind.DEATH,
            effective_on=DIED_ON,
            death_cause=DeathCause.ILLNESS,
            reason="因病去世，家属报告并提供死亡证明",
            recorded_by=self.clerk,
        )

    def settle_death(self, day):
        """The 丧葬补助 (6 months of 定期抚恤金), less the two months paid after the death."""
        change = StatusChange.objects.get(
            kind=ChangeKind.DEATH, effective_on=DIED_ON, beneficiary__township__parent=self.county
        )
        death_settle(change=change, settled_by=self.clerk, paid_on=day, method=PayMethod.CARD)

    def bank_return(self, day):
        row = (
            Payment.objects.filter(
                batch__unit=self.county,
                kind=PaymentKind.LIVING,
                month=RETURNED_MONTH,
                beneficiary__status=Status.ACTIVE,
            )
            .order_by("beneficiary__id_number")
            .first()
        )
        payment_return(payment=row, returned_on=day, reason="账户已销户，银行退回", user=self.clerk)

    def fix_account(self, day):
        """The family brings the new card; the next 定期生活补助 batch re-issues the returned month."""
        person = Payment.objects.get(batch__unit=self.county, returned_on__isnull=False).beneficiary
        number = person.bank_account
        beneficiary_update(
            beneficiary=person,
            version=person.version,
            updated_by=self.clerk,
            bank_account=f"{number[:-4]}{(int(number[-4:]) + 1) % 10000:04d}",
        )

    def festival(self, day, reference):
        """A 春节慰问金 in cash for the 三属 and the 一至四级 disabled veterans."""
        entitled = Q(entitlements__category__in=PENSION_CATEGORIES) | Q(
            entitlements__category=Category.DISABLED, entitlements__grade__lte=NURSING_MAX_GRADE
        )
        people = (
            Beneficiary.objects.filter(entitled, township__parent=self.county, entitlements__start_on__lte=day)
            .exclude(status=Status.DECEASED, status_since__lte=day)
            .distinct()
            .order_by("id_number")
        )
        for person in people:
            one_off_pay(
                beneficiary=person,
                kind=PaymentKind.CONDOLENCE,
                amount=FESTIVAL_AMOUNT,
                purpose=f"{day.year}年春节走访慰问",
                reference=reference,
                paid_on=day,
                method=PayMethod.CASH,
                created_by=self.clerk,
            )

    def award(self, award, day):
        """The 立功奖励 for a serving member's award, paid to the family by card."""
        one_off_pay(
            beneficiary=award.entitlement.beneficiary,
            kind=PaymentKind.AWARD,
            award=award,
            paid_on=day,
            method=PayMethod.CARD,
            created_by=self.clerk,
        )


def build_payments(units, *, today):
    """Add the county's standards and its 2025–2026 payments; a county that has batches is left as it is."""
    county = units["示例县"]
    if PaymentBatch.objects.filter(unit=county).exists():
        return 0
    return DemoPayments(county, today=today).run()
