"""After a death or a loss of entitlement: the 丧葬补助 due, the rows paid for months no longer payable, 追回."""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from shuangyong.lib.money import ZERO, format_yuan, round_fen, to_yuan

from . import death_rules, payment_rules
from .constants import (
    CATEGORY_KIND,
    REGULAR_KINDS,
    Basis,
    BatchStatus,
    Category,
    ChangeKind,
    DeathCause,
    PaymentKind,
    PayMethod,
    RecoveryStatus,
    SettleMethod,
)
from .models import Beneficiary, Payment, Recovery, StatusChange
from .services import effective_changes

# 异动 after which rows already paid for later months are overpaid.
STOP_KINDS = (ChangeKind.DEATH, ChangeKind.CANCEL, ChangeKind.SUSPEND)
# What month_payable answers for a month that must not have been paid (停发 months are paid on release).
NOT_PAYABLE = (payment_rules.SUSPEND, payment_rules.DEAD, payment_rules.CANCELLED)
# Regular kinds a death's 丧葬补助 is counted from.
FUNERAL_BASE_KINDS = (PaymentKind.PENSION, PaymentKind.DISABILITY, PaymentKind.LIVING)
MANUAL_SETTLE_METHODS = (SettleMethod.REFUND, SettleMethod.DEDUCT, SettleMethod.WRITE_OFF)
PAID_BATCH = Q(batch__isnull=True) | Q(batch__status__in=[BatchStatus.APPROVED, BatchStatus.PAID])


def death_reference(change):
    return f"death:{change.pk}"


# Reads


def paid_rows(person):
    """Regular rows of a person that went out (or will, once approved): not drafts, not returned."""
    return Payment.objects.counted().filter(PAID_BATCH, beneficiary=person, kind__in=REGULAR_KINDS)


def judged_month(row):
    """The month a row is judged by: its own, or for an annual standard the month it falls due."""
    if row.standard is not None and row.standard.basis == Basis.YEAR:
        start = row.entitlement.start_on if row.entitlement else row.month
        return payment_rules.annual_due_month(row.standard, row.month.year, start)
    return row.month


def overpaid_rows(*, change):
    """Return the rows paid for months this 异动 makes not payable and that no recovery holds yet.

    A month belongs to the 异动 that set the status at its start (a later 恢复 or death takes over the months
    after it); 停发 months are owed, never overpaid.
    """
    person = change.beneficiary
    timeline = payment_rules.Timeline(person.changes.order_by("effective_on", "recorded_at", "pk"))
    rows = (
        paid_rows(person)
        .filter(month__gte=datetime.date(change.effective_on.year, 1, 1), recoveries__isnull=True)
        .select_related("batch", "standard", "entitlement")
        .order_by("month", "kind", "pk")
    )
    found = []
    for row in rows:
        month = judged_month(row)
        event = timeline.event_for(month)
        if event is not None and event.pk == change.pk and timeline.payable(month) in NOT_PAYABLE:
            found.append(row)
    return found


def _monthly_rate(standard, entitlement):
    if standard.basis == Basis.SERVICE_YEAR:
        return round_fen(standard.amount * ((entitlement.service_years or 0) if entitlement else 0))
    if standard.basis == Basis.YEAR:
        return round_fen(standard.amount / 12)
    if standard.basis == Basis.MONTH:
        return standard.amount
    return None


def death_month_rates(*, person, death_on, entitlements):
    """Return {kind: monthly rate} the person was paid in the month of death, and the 一次性抚恤金 standard.

    The rate is that of the month's regular row plus any 补发 paid for the month; without a row, the standard
    in force on the day of death for the person's entitlement.
    """
    from .standard_services import standard_for

    month = death_rules.month_start(death_on)
    rows = list(Payment.objects.counted().filter(beneficiary=person, month=month, kind__in=FUNERAL_BASE_KINDS))
    held = [e for e in entitlements if death_rules.held_in_month(e, death_on)]
    rates = {}
    for kind in FUNERAL_BASE_KINDS:
        regular = [r for r in rows if r.kind == kind and not r.is_backpay and not r.reference]
        if regular:
            row = regular[0]
            backpay = sum((r.amount for r in rows if r.kind == kind and r.is_backpay), ZERO)
            rates[kind] = (row.rate if row.rate is not None else row.amount) + backpay
            continue
        found = []
        for entitlement in held:
            if CATEGORY_KIND.get(entitlement.category) != kind:
                continue
            standard = standard_for(
                township=person.township,
                kind=kind,
                category=entitlement.category,
                grade=entitlement.grade,
                nature=entitlement.nature,
                on=death_on,
            )
            rate = _monthly_rate(standard, entitlement) if standard else None
            if rate:
                found.append(rate)
        if found:
            rates[kind] = max(found)
    if any(e.category == Category.DISABLED for e in held):
        standard = standard_for(
            township=person.township, kind=PaymentKind.LUMP_SUM, category=Category.DUTY_DEATH_FAMILY, on=death_on
        )
        if standard is not None:
            rates[PaymentKind.LUMP_SUM] = standard.amount
            rates["lump_sum_standard"] = standard
    return rates


@dataclass
class Settlement:
    """What a stop 异动 leaves to settle, and what has been settled already."""

    change: StatusChange
    rows: list = field(default_factory=list)
    grants: death_rules.DeathGrants = None
    rates: dict = field(default_factory=dict)
    funeral: Payment = None
    lump_sum: Payment = None
    recovery: Recovery = None

    @property
    def is_death(self):
        return self.change.kind == ChangeKind.DEATH

    @property
    def overpaid(self):
        if self.recovery is not None:
            return self.recovery.overpaid
        return sum((row.amount for row in self.rows), ZERO)

    @property
    def due(self):
        """The 丧葬补助 due before anything is set against it."""
        grant = self.grants.funeral if self.grants else None
        return grant.amount if grant else ZERO

    @property
    def offset(self):
        if self.recovery is not None:
            return self.recovery.offset
        if self.funeral is not None:
            return ZERO  # the 丧葬补助 went out before any overpayment was known
        return min(self.overpaid, self.due)

    @property
    def recovery_amount(self):
        return self.overpaid - self.offset

    @property
    def funeral_amount(self):
        return self.funeral.amount if self.funeral else self.due - self.offset

    @property
    def lump_sum_grant(self):
        return self.grants.lump_sum if self.grants else None

    @property
    def to_write(self):
        """The records death_settle or overpayment_record would write now."""
        items = []
        if self.grants and self.grants.funeral and self.funeral is None:
            items.append("funeral")
        if self.lump_sum_grant and self.lump_sum is None:
            items.append("lump_sum")
        if self.recovery is None and self.rows:
            items.append("recovery")
        return items

    @property
    def done(self):
        return not self.to_write


def settlement_plan(*, change):
    """Return the Settlement of a stop 异动: for a death, the grants and the offset against them."""
    person = change.beneficiary
    plan = Settlement(change=change)
    plan.recovery = Recovery.objects.filter(change=change).prefetch_related("payments").first()
    plan.rows = (
        list(plan.recovery.payments.order_by("month", "kind", "pk")) if plan.recovery else overpaid_rows(change=change)
    )
    if change.kind != ChangeKind.DEATH:
        return plan
    written = {p.kind: p for p in Payment.objects.filter(beneficiary=person, reference=death_reference(change))}
    plan.funeral = written.get(PaymentKind.FUNERAL)
    plan.lump_sum = written.get(PaymentKind.LUMP_SUM)
    entitlements = list(person.entitlements.all())
    plan.rates = death_month_rates(person=person, death_on=change.effective_on, entitlements=entitlements)
    plan.grants = death_rules.funeral_grants(
        entitlements=entitlements,
        death_on=change.effective_on,
        death_cause=change.death_cause,
        rates=plan.rates,
    )
    if not change.death_cause and any(e.category == Category.DISABLED for e in entitlements):
        plan.grants.notes.insert(0, "未登记死亡原因：残疾军人的丧葬补助取决于死亡原因，请在结算时选择。")
    return plan


def last_stop_change(person):
    """Return the effective 死亡、取消资格 or 中止 that put the person in their current status, if any."""
    changes = effective_changes(list(person.changes.order_by("effective_on", "recorded_at", "pk")))
    stops = [c for c in changes if c.kind in STOP_KINDS]
    return stops[-1] if stops else None


def recovery_totals(recoveries):
    """Return the totals of a recovery queryset, exact to the fen (sums of whole fen in the database)."""
    open_ = Q(status=RecoveryStatus.OPEN)
    written_off = Q(status=RecoveryStatus.SETTLED, settle_method=SettleMethod.WRITE_OFF)
    sums = recoveries.aggregate(
        total_overpaid=Sum("overpaid"),
        total_offset=Sum("offset"),
        total_amount=Sum("amount"),
        total_recovered=Sum("recovered"),
        open_amount=Sum("amount", filter=open_),
        open_recovered=Sum("recovered", filter=open_),
        written_off_amount=Sum("amount", filter=written_off),
        written_off_recovered=Sum("recovered", filter=written_off),
        rows=Count("pk"),
        open_rows=Count("pk", filter=open_),
    )
    money = {key: to_yuan(value or 0) for key, value in sums.items() if not key.endswith("rows")}
    return {
        "overpaid": money["total_overpaid"],
        "offset": money["total_offset"],
        "amount": money["total_amount"],
        "recovered": money["total_recovered"],
        "outstanding": money["open_amount"] - money["open_recovered"],
        "written_off": money["written_off_amount"] - money["written_off_recovered"],
        "count": sums["rows"],
        "open": sums["open_rows"],
    }


PENDING_LIMIT = 50


def pending_settlements(*, people):
    """Return the Settlements still to do for stop 异动 of these people (a queryset already scoped).

    Deaths with nothing written yet and 取消资格/中止 whose person has rows paid after the status began.
    """
    deaths = (
        StatusChange.objects.filter(
            beneficiary__in=people,
            kind=ChangeKind.DEATH,
            beneficiary__status="deceased",
            corrections__isnull=True,
            payments__isnull=True,
            recoveries__isnull=True,
        )
        .select_related("beneficiary__township")
        .order_by("-effective_on", "-pk")[:PENDING_LIMIT]
    )
    stopped = (
        Payment.objects.counted()
        .filter(
            PAID_BATCH,
            beneficiary__in=people.filter(status__in=["suspended", "cancelled"]),
            kind__in=REGULAR_KINDS,
            recoveries__isnull=True,
            month__gt=F("beneficiary__status_since"),
        )
        .values_list("beneficiary_id", flat=True)
        .distinct()[:PENDING_LIMIT]
    )
    plans = []
    for change in deaths:
        plan = settlement_plan(change=change)
        if not plan.done:
            plans.append(plan)
    for person in Beneficiary.objects.filter(pk__in=list(stopped)).select_related("township"):
        change = last_stop_change(person)
        if change is not None and change.kind != ChangeKind.DEATH:
            plan = settlement_plan(change=change)
            if not plan.done:
                plans.append(plan)
    return plans


# Writes


def _check_paid_on(paid_on, change):
    if paid_on is None:
        raise ValidationError({"paid_on": "请填写发放日期。"})
    if paid_on > timezone.localdate():
        raise ValidationError({"paid_on": "发放日期不能晚于今天。"})
    if paid_on < change.effective_on:
        raise ValidationError({"paid_on": f"发放日期不能早于死亡日期（{change.effective_on:%Y-%m-%d}）。"})


def _lock(change):
    Beneficiary.objects.select_for_update().get(pk=change.beneficiary_id)
    change = StatusChange.objects.select_related("beneficiary__township").get(pk=change.pk)
    if change.corrections.exists():
        raise ValidationError("该异动已被更正，不需要结算。")
    return change


def _recovery(plan, *, offset, created_by, settled_on, note):
    amount = plan.overpaid - offset
    person = plan.change.beneficiary
    recovery = Recovery(
        beneficiary=person,
        township=person.township,
        change=plan.change,
        overpaid=plan.overpaid,
        offset=offset,
        amount=amount,
        note=note[:300],
        created_by=created_by,
    )
    if amount == 0:
        recovery.status, recovery.settled_on, recovery.settle_method = (
            RecoveryStatus.SETTLED,
            settled_on,
            SettleMethod.OFFSET,
        )
    recovery._history_user = created_by
    recovery.save()
    recovery.payments.set(plan.rows)
    return recovery


def _months_text(rows):
    months = sorted({row.month for row in rows})
    if not months:
        return ""
    if len(months) == 1:
        return f"{months[0]:%Y年%-m月}"
    return f"{months[0]:%Y年%-m月}至{months[-1]:%Y年%-m月}"


@transaction.atomic
def death_settle(*, change, settled_by, paid_on=None, method="", death_cause=""):
    """Settle a death: write the 丧葬补助 (less the overpaid regular pay set against it), the 一次性抚恤金
    where due, and a recovery for the overpaid rest. Running it again writes nothing new.

    The 丧葬补助 is recorded as paid to the survivors on `paid_on` by `method`. Returns the Settlement.
    """
    change = _lock(change)
    if change.kind != ChangeKind.DEATH:
        raise ValidationError("只有“死亡”异动才结算丧葬补助。")
    if death_cause:
        if death_cause not in DeathCause.values:
            raise ValidationError({"death_cause": "请选择死亡原因。"})
        if change.death_cause and change.death_cause != death_cause:
            raise ValidationError({"death_cause": f"死亡原因已登记为“{change.get_death_cause_display()}”。"})
        if not change.death_cause:
            change.death_cause = death_cause
            change.save(update_fields=["death_cause"])
    plan = settlement_plan(change=change)
    if plan.done:
        plan.created = []
        return plan
    paid_on = paid_on or timezone.localdate()
    _check_paid_on(paid_on, change)
    person = change.beneficiary
    has_money = (plan.grants.funeral and plan.funeral is None and plan.funeral_amount > 0) or (
        plan.lump_sum_grant and plan.lump_sum is None
    )
    if has_money and method not in PayMethod.values:
        raise ValidationError({"method": "请选择发放方式。"})
    offset = plan.offset
    written = []
    try:
        with transaction.atomic():
            if "funeral" in plan.to_write:
                grant = plan.grants.funeral
                amount = grant.amount - offset
                purpose = f"丧葬补助：{grant.basis}，{grant.article}"
                if offset:
                    purpose += f"；已抵扣死亡后多发的{format_yuan(offset, '元')}"
                plan.funeral = Payment.objects.create(
                    beneficiary=person,
                    township=person.township,
                    kind=PaymentKind.FUNERAL,
                    category=grant.category,
                    month=paid_on.replace(day=1),
                    months=grant.months,
                    rate=grant.rate,
                    amount=amount,
                    entitlement=grant.entitlement,
                    reference=death_reference(change),
                    purpose=purpose[:200],
                    change=change,
                    method=method if amount else "",
                    paid_on=paid_on,
                    created_by=settled_by,
                )
                written.append(plan.funeral)
            if "lump_sum" in plan.to_write:
                grant = plan.lump_sum_grant
                plan.lump_sum = Payment.objects.create(
                    beneficiary=person,
                    township=person.township,
                    kind=PaymentKind.LUMP_SUM,
                    category=grant.category,
                    month=paid_on.replace(day=1),
                    months=1,
                    rate=grant.rate,
                    amount=grant.amount,
                    entitlement=grant.entitlement,
                    standard=plan.rates.get("lump_sum_standard"),
                    reference=death_reference(change),
                    purpose=f"一次性抚恤金：{grant.basis}，{grant.article}"[:200],
                    change=change,
                    method=method,
                    paid_on=paid_on,
                    created_by=settled_by,
                )
                written.append(plan.lump_sum)
            if "recovery" in plan.to_write:
                note = f"死亡（{change.effective_on:%Y-%m-%d}）后多发{_months_text(plan.rows)}的待遇"
                if offset:
                    note += f"，其中{format_yuan(offset, '元')}抵扣丧葬补助"
                plan.recovery = _recovery(plan, offset=offset, created_by=settled_by, settled_on=paid_on, note=note)
                written.append(plan.recovery)
    except IntegrityError as error:
        raise ValidationError("该死亡已由他人结算，请刷新页面查看。") from error
    plan.created = written
    return plan


@transaction.atomic
def overpayment_record(*, change, recorded_by):
    """Open a recovery of the rows paid for months after a 取消资格 or 中止; once per 异动."""
    change = _lock(change)
    if change.kind not in (ChangeKind.CANCEL, ChangeKind.SUSPEND):
        raise ValidationError("只有“取消资格”“中止”异动在此登记追回；死亡请结算丧葬补助。")
    plan = settlement_plan(change=change)
    if plan.recovery is not None:
        plan.created = []
        return plan
    if not plan.rows:
        raise ValidationError("该异动之后没有多发的待遇，不需要追回。")
    note = f"{change.get_kind_display()}（{change.effective_on:%Y-%m-%d}）后多发{_months_text(plan.rows)}的待遇"
    try:
        with transaction.atomic():
            plan.recovery = _recovery(plan, offset=ZERO, created_by=recorded_by, settled_on=None, note=note)
    except IntegrityError as error:
        raise ValidationError("该异动的追回已由他人登记，请刷新页面查看。") from error
    plan.created = [plan.recovery]
    return plan


@transaction.atomic
def recovery_settle(*, recovery, recovered, settled_on, settle_method, note="", user):
    """Record money recovered (partial amounts add up) or write the rest off; settled when nothing is owed."""
    recovery = Recovery.objects.select_for_update(of=("self",)).select_related("change").get(pk=recovery.pk)
    if recovery.status != RecoveryStatus.OPEN:
        raise ValidationError("该追回已结清，不能再登记。")
    if settle_method not in MANUAL_SETTLE_METHODS:
        raise ValidationError({"settle_method": "请选择追回方式。"})
    if settled_on is None:
        raise ValidationError({"settled_on": "请填写日期。"})
    if settled_on > timezone.localdate():
        raise ValidationError({"settled_on": "日期不能晚于今天。"})
    change = recovery.change
    if change and settled_on < change.effective_on:
        label = change.get_kind_display()
        raise ValidationError({"settled_on": f"日期不能早于{label}日期（{change.effective_on:%Y-%m-%d}）。"})
    note = (note or "").strip()
    outstanding = recovery.outstanding
    if settle_method == SettleMethod.WRITE_OFF:
        if recovered:
            raise ValidationError({"recovered": "核销时不填写追回金额：未追回的余额全部核销。"})
        if not note:
            raise ValidationError({"note": "请在备注中写明核销的批准文件或理由。"})
        recovered = ZERO
        reason = f"核销 {format_yuan(outstanding, '元')}"
    else:
        if recovered is None or recovered <= 0:
            raise ValidationError({"recovered": "请填写本次追回金额。"})
        recovered = to_yuan(recovered)
        if recovered > outstanding:
            raise ValidationError({"recovered": f"本次追回金额不能超过待追回的 {format_yuan(outstanding)}。"})
        reason = f"{SettleMethod(settle_method).label} {format_yuan(recovered, '元')}"
    recovery.recovered += recovered
    if settle_method == SettleMethod.WRITE_OFF or recovery.recovered == recovery.amount:
        recovery.status, recovery.settled_on, recovery.settle_method = (
            RecoveryStatus.SETTLED,
            settled_on,
            settle_method,
        )
    if settle_method == SettleMethod.WRITE_OFF:
        recovery.note = f"{recovery.note}；核销：{note}".lstrip("；")[:300]
    recovery._history_user = user
    recovery._change_reason = f"{settled_on:%Y-%m-%d} {reason}{'：' + note if note else ''}"[:100]
    recovery.save()
    return recovery


def recovery_steps(*, recovery):
    """Return the history of a recovery as (date recorded, user, what) lines, oldest first."""
    steps = []
    for record in recovery.history.order_by("history_date", "history_id"):
        who = record.history_user
        name = (getattr(getattr(who, "profile", None), "full_name", "") or who.username) if who else "系统"
        what = record.history_change_reason or ("登记追回" if record.history_type == "+" else "修改")
        steps.append({"when": record.history_date, "who": name, "what": what, "recovered": record.recovered})
    return steps
