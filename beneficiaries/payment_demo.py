"""Demo standards and payments for 示例县: a year and more of paid batches, a raise with its 补发, a death.

`STANDARDS` is also the table the scale profiles use (beneficiaries/scale.py).
"""

import datetime
from decimal import Decimal

from .constants import AwardLevel, Basis, Category, DisabilityNature, PaymentKind, ServiceArea

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
RAISE_ENTERED = datetime.date(2025, 10, 20)  # the 1 August raise was announced in October
DIED_ON = datetime.date(2025, 10, 18)  # a 三属 recipient; reported after the fourth quarter was paid
DEATH_REPORTED = datetime.date(2025, 11, 5)
DEATH_SETTLED = datetime.date(2025, 11, 12)
RETURNED_MONTH = datetime.date(2026, 3, 1)  # a card transfer of this month's 定期生活补助 comes back
RETURNED_ON = datetime.date(2026, 3, 17)
ACCOUNT_FIXED = datetime.date(2026, 3, 24)
QUARTERLY_KINDS = [PaymentKind.PENSION, PaymentKind.DISABILITY, PaymentKind.NURSING]
FESTIVALS = [(datetime.date(2025, 1, 20), "2025春节慰问"), (datetime.date(2026, 2, 10), "2026春节慰问")]
FESTIVAL_AMOUNT = Decimal(500)
# Days of the month: the 干事 prepares and generates, the 主任 approves, the bank pays.
PREPARED, APPROVED, PAID = 3, 6, 10


def aware(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@contextmanager
def dated(day, hour=10):
    """Date what the block writes as of `day`: the demo replays the office's work of 2025 and 2026 at once."""
    started = timezone.now()
    yield
    when = aware(day, hour)
    for model in (Beneficiary, Entitlement, Standard, PaymentBatch, Recovery):
        model.history.filter(history_date__gte=started).update(history_date=when)
    for model, field in STAMPED:
        model.objects.filter(**{f"{field}__gte": started}).update(**{field: when})


STAMPED = [
    (Standard, "created_at"),
    (PaymentBatch, "created_at"),
    (PaymentBatch, "generated_at"),
    (PaymentBatch, "approved_at"),
    (Payment, "created_at"),
    (StatusChange, "recorded_at"),
    (Recovery, "created_at"),
]


class DemoPayments:
    """Replay the county office's payments day by day, through the services the pages use."""

    def __init__(self, county, *, today):
        self.county, self.today = county, today
        users = {u.username: u for u in get_user_model().objects.filter(username__in=["ganshi", "zhuren"])}
        self.clerk, self.director = users["ganshi"], users["zhuren"]
        self.steps = []  # (day, order, action)

    def at(self, day, action, order=0):
        if day <= self.today:
            self.steps.append((day, order, len(self.steps), action))

    def run(self):
        self.at(STANDARDS_ENTERED, self.enter_standards)
        this_month = self.today.replace(day=1)
        month = DEMO_FIRST_MONTH
        while month <= this_month:
            if month.month in (1, 4, 7, 10):
                last = add_months(month, 2)
                for kind in QUARTERLY_KINDS:
                    self.batch(kind, month, last)
            if month.month == CONSCRIPT_PAYMENT_MONTH - 1:
                first = month.replace(month=1)
                self.batch(PaymentKind.CONSCRIPT, first, first.replace(month=12), paid=month.replace(day=25))
            self.batch(PaymentKind.LIVING, month, month, pay=month < this_month)
            month = add_months(month, 1)
        # Next month's list is prepared ahead and waits in draft.
        self.batch(PaymentKind.LIVING, month, month, prepared=self.today, approve=False)
        self.at(RAISE_ENTERED, self.raise_and_backpay, order=1)
        self.at(DEATH_REPORTED, self.death)
        self.at(DEATH_SETTLED, self.settle_death)
        self.at(RETURNED_ON, self.bank_return)
        self.at(ACCOUNT_FIXED, self.fix_account)
        for day, reference in FESTIVALS:
            self.at(day, lambda reference=reference, day=day: self.festival(day, reference))
        for award in Award.objects.filter(entitlement__beneficiary__township__parent=self.county):
            self.at(award.awarded_on + datetime.timedelta(days=25), lambda award=award: self.award(award))
        created = 0
        for day, _, _, action in sorted(self.steps, key=lambda step: step[:3]):
            with dated(day):
                created += action(day) or 0
        return created

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
        """Prepare, generate, approve and pay one batch on its days; steps after today wait."""
        prepared = prepared or first.replace(day=PREPARED)
        approved = min(prepared.replace(day=APPROVED) if prepared.day < APPROVED else prepared, self.today)
        paid = paid or first.replace(day=PAID)
        holder = {}

        def generate(day):
            holder["batch"] = batch_create(
                unit=self.county, kind=kind, first_month=first, last_month=last, created_by=self.clerk
            )
            return batch_generate(batch=holder["batch"], generated_by=self.clerk)["created"]

        self.at(min(prepared, self.today), generate)
        if approve:
            self.at(approved, lambda day: batch_approve(batch=holder["batch"], approved_by=self.director) and 0)
        if approve and pay:
            self.at(paid, lambda day: self._paid(holder["batch"], day))

    def _paid(self, batch, day):
        batch_mark_paid(batch=batch, paid_on=day, method=PayMethod.CARD, paid_by=self.clerk)

    def raise_and_backpay(self, day):
        """Raise 带病回乡 from 1 August, then pay the difference for the months already paid."""
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
        created = backpay_generate(batch=batch, generated_by=self.clerk)["created"]
        approved = day + datetime.timedelta(days=2)
        paid = day + datetime.timedelta(days=8)
        self.at(approved, lambda day: batch_approve(batch=batch, approved_by=self.director) and 0)
        self.at(paid, lambda day: self._paid(batch, day))
        return created

    def _dying(self):
        """The 三属 recipient who dies: the first, by ID number, with no 异动 after the day of death."""
        later = StatusChange.objects.filter(effective_on__gt=DIED_ON).values("beneficiary")
        return (
            Beneficiary.objects.filter(
                township__parent=self.county,
                status=Status.ACTIVE,
                entitlements__category__in=[c for c, k in CATEGORY_KIND.items() if k == PaymentKind.PENSION],
                entitlements__start_on__lt=DEMO_FIRST_MONTH,
            )
            .exclude(pk__in=later)
            .order_by("id_number")
            .first()
        )

    def death(self, day):
        person = self._dying()
        change_record(
            beneficiary=person,
            kind=ChangeKind.DEATH,
            effective_on=DIED_ON,
            death_cause=DeathCause.ILLNESS,
            reason="因病去世，家属报告并提供死亡证明",
            recorded_by=self.clerk,
        )

    def settle_death(self, day):
        change = StatusChange.objects.get(
            kind=ChangeKind.DEATH, effective_on=DIED_ON, beneficiary__township__parent=self.county
        )
        plan = death_settle(change=change, settled_by=self.clerk, paid_on=day, method=PayMethod.CARD)
        return len(plan.created)

    def bank_return(self, day):
        row = (
            Payment.objects.filter(
                batch__unit=self.county, kind=PaymentKind.LIVING, month=RETURNED_MONTH, beneficiary__status=Status.ACTIVE
            )
            .order_by("beneficiary__id_number")
            .first()
        )
        payment_return(payment=row, returned_on=day, reason="账户已销户，银行退回", user=self.clerk)

    def fix_account(self, day):
        person = Payment.objects.get(batch__unit=self.county, returned_on__isnull=False).beneficiary
        beneficiary_update(
            beneficiary=person,
            version=person.version,
            updated_by=self.clerk,
            bank_account=f"{person.bank_account[:-4]}{int(person.bank_account[-4:]) + 1:04d}",
        )

    def festival(self, day, reference):
        """A 春节慰问金 for the 三属 and the 一至四级 disabled veterans, in cash."""
        people = Beneficiary.objects.filter(township__parent=self.county, status=Status.ACTIVE).filter(
            Q(entitlements__category__in=PENSION_CATEGORIES)
            | Q(entitlements__category=Category.DISABLED, entitlements__grade__lte=NURSING_MAX_GRADE)
        )
        people = [p for p in people.distinct().order_by("id_number") if p.effective_on_or_before(day)]
        for person in people:
            one_off_pay(
                beneficiary=person,
                kind=PaymentKind.CONDOLENCE,
                amount=FESTIVAL_AMOUNT,
                purpose=f"{reference[:4]}年春节走访慰问",
                reference=reference,
                paid_on=day,
                method=PayMethod.CASH,
                created_by=self.clerk,
            )
        return len(people)

    def award(self, award):
        pass
