"""What a death leaves to pay: 《军人抚恤优待条例》 Arts. 22, 32, 61 and 62, as pure functions.

Regular pay covers the month of death and stops after it (the engine judges each month by the status at its
start). Then the survivors are due a 丧葬补助 of some months of what the person was paid, and for a death from
旧伤复发 the 因公牺牲 一次性抚恤金. Nothing here reads or writes the database.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from shuangyong.lib.money import round_fen

from .constants import Category, DeathCause, DisabilityNature, PaymentKind
from .payment_rules import month_end, month_start

FAMILY_CATEGORIES = (Category.MARTYR_FAMILY, Category.DUTY_DEATH_FAMILY, Category.ILLNESS_DEATH_FAMILY)
FAMILY_FUNERAL_MONTHS = 6  # Art. 22
DISABLED_FUNERAL_MONTHS = 12  # Art. 32
WAR_VETERAN_FUNERAL_MONTHS = 6  # Arts. 61, 62
SEVERE_GRADES = range(1, 5)  # 一级至四级
SERVICE_NATURES = (DisabilityNature.WAR, DisabilityNature.DUTY)


@dataclass(frozen=True)
class Grant:
    """One amount due to the survivors: `months` × `rate` for a 丧葬补助, or a standard amount paid once."""

    kind: str
    category: str
    months: int
    rate: Decimal
    amount: Decimal
    article: str
    basis: str
    entitlement: object = None

    @property
    def label(self):
        return PaymentKind(self.kind).label


@dataclass
class DeathGrants:
    """The grants of one death and the notes the office should act on (survivors' own entitlements)."""

    grants: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def funeral(self):
        """The 丧葬补助 paid: where several rules give one, the highest (one 丧葬补助 per death)."""
        funerals = [g for g in self.grants if g.kind == PaymentKind.FUNERAL]
        return max(funerals, key=lambda g: g.amount) if funerals else None

    @property
    def lump_sum(self):
        return next((g for g in self.grants if g.kind == PaymentKind.LUMP_SUM), None)

    @property
    def paid(self):
        """The grants actually written: the highest 丧葬补助 and the 一次性抚恤金, if any."""
        return [g for g in (self.funeral, self.lump_sum) if g is not None]

    @property
    def total(self):
        return sum((g.amount for g in self.paid), Decimal("0.00"))


def last_paid_month(death_on):
    """Return the last month regular pay covers after a death on `death_on`: the month of death itself."""
    return month_start(death_on)


def first_unpaid_month(death_on):
    """Return the first month that is overpaid if it was paid: the month after the month of death."""
    end = month_end(death_on)
    return end + datetime.timedelta(days=1)


def held_in_month(entitlement, day):
    first, last = month_start(day), month_end(day)
    return entitlement.start_on <= last and (entitlement.end_on is None or entitlement.end_on >= first)


def _months_grant(*, months, kind_paid, rate, entitlement, article, what):
    return Grant(
        kind=PaymentKind.FUNERAL,
        category=entitlement.category,
        months=months,
        rate=rate,
        amount=round_fen(rate * months),
        article=article,
        basis=f"{months}个月{PaymentKind(kind_paid).label}（{what}）",
        entitlement=entitlement,
    )


def family_funeral(*, entitlement, rate):
    """Art. 22: a 三属 receiving 定期抚恤金 dies — 6 months of that 定期抚恤金 as 丧葬补助."""
    if entitlement.category not in FAMILY_CATEGORIES or not rate:
        return None
    return _months_grant(
        months=FAMILY_FUNERAL_MONTHS,
        kind_paid=PaymentKind.PENSION,
        rate=rate,
        entitlement=entitlement,
        article="条例第二十二条",
        what=f"{entitlement.get_category_display()}去世",
    )


def disabled_funeral(*, entitlement, death_cause, rate, lump_sum_rate=None):
    """Art. 32: a discharged 残疾军人 dies. Return (grants, notes).

    Of illness: 12 months of 残疾抚恤金 as 丧葬补助; grade 1–4 因战/因公: survivors treated as 病故军人遗属.
    Of 旧伤复发 (因战/因公 only): treated as 因公牺牲 — the 因公牺牲 一次性抚恤金 to the survivors, who then
    receive 因公牺牲军人遗属 定期抚恤金; no 12 months. A 因病 disability's 旧伤复发 counts as illness.
    """
    if entitlement.category != Category.DISABLED:
        return [], []
    grade, nature = entitlement.grade, entitlement.nature
    label = f"{entitlement.get_nature_display()}{entitlement.get_grade_display()}残疾军人"
    if death_cause == DeathCause.OLD_WOUND and nature in SERVICE_NATURES:
        notes = [
            f"{label}因旧伤复发死亡，按因公牺牲对待：其遗属享受因公牺牲军人遗属定期抚恤金，"
            "请为遗属登记“因公牺牲军人遗属”待遇（条例第三十二条）。"
        ]
        if not lump_sum_rate:
            notes.append("未找到适用的因公牺牲军人一次性抚恤金标准，请先在标准表中录入后再结算。")
            return [], notes
        grant = Grant(
            kind=PaymentKind.LUMP_SUM,
            category=Category.DUTY_DEATH_FAMILY,
            months=1,
            rate=lump_sum_rate,
            amount=round_fen(lump_sum_rate),
            article="条例第三十二条",
            basis="按因公牺牲军人一次性抚恤金标准发给遗属",
            entitlement=entitlement,
        )
        return [grant], notes
    if death_cause in (DeathCause.ILLNESS, DeathCause.OLD_WOUND):
        notes = []
        if grade in SEVERE_GRADES and nature in SERVICE_NATURES:
            notes.append(
                f"{label}病故，其遗属享受病故军人遗属抚恤待遇，请为遗属登记“病故军人遗属”待遇（条例第三十二条）。"
            )
        if not rate:
            notes.append("死亡当月没有残疾抚恤金发放记录或适用标准，无法计算丧葬补助。")
            return [], notes
        grant = _months_grant(
            months=DISABLED_FUNERAL_MONTHS,
            kind_paid=PaymentKind.DISABILITY,
            rate=rate,
            entitlement=entitlement,
            article="条例第三十二条",
            what=f"{label}病故",
        )
        return [grant], notes
    return [], [f"{label}非因病、非因旧伤复发死亡，条例第三十二条未规定丧葬补助。"]


def war_veteran_funeral(*, entitlement, rate):
    """Arts. 61, 62: a 参战参试 recipient of 定期生活补助 dies — 6 more months of it as 丧葬补助."""
    if entitlement.category != Category.WAR_VETERAN or not rate:
        return None
    return _months_grant(
        months=WAR_VETERAN_FUNERAL_MONTHS,
        kind_paid=PaymentKind.LIVING,
        rate=rate,
        entitlement=entitlement,
        article="条例第六十一条、第六十二条",
        what="参战参试退役人员去世",
    )


def funeral_grants(*, entitlements, death_on, death_cause, rates):
    """Return the DeathGrants of a death on `death_on`.

    `entitlements` are the person's entitlements (those held in the month of death count); `rates` maps a
    payment kind to the monthly rate the person was paid in the month of death, and PaymentKind.LUMP_SUM to
    the 因公牺牲 一次性抚恤金 standard in force on the day of death.
    """
    result = DeathGrants()
    held = [e for e in entitlements if held_in_month(e, death_on)]
    for entitlement in held:
        if entitlement.category in FAMILY_CATEGORIES:
            grant = family_funeral(entitlement=entitlement, rate=rates.get(PaymentKind.PENSION))
            if grant is None:
                result.notes.append(f"{entitlement.get_category_display()}：死亡当月没有定期抚恤金发放记录或适用标准。")
            else:
                result.grants.append(grant)
        elif entitlement.category == Category.DISABLED:
            grants, notes = disabled_funeral(
                entitlement=entitlement,
                death_cause=death_cause,
                rate=rates.get(PaymentKind.DISABILITY),
                lump_sum_rate=rates.get(PaymentKind.LUMP_SUM),
            )
            result.grants.extend(grants)
            result.notes.extend(notes)
        elif entitlement.category == Category.WAR_VETERAN:
            grant = war_veteran_funeral(entitlement=entitlement, rate=rates.get(PaymentKind.LIVING))
            if grant is None:
                result.notes.append("参战参试退役人员：死亡当月没有定期生活补助发放记录或适用标准。")
            else:
                result.grants.append(grant)
    funerals = [g for g in result.grants if g.kind == PaymentKind.FUNERAL]
    if len(funerals) > 1:
        chosen = result.funeral
        result.notes.append(f"同时符合多项丧葬补助规定，按最高的一项发放：{chosen.basis}。")
    if not held:
        result.notes.append("死亡当月没有享受中的优抚待遇。")
    return result
