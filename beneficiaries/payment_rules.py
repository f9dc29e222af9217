"""The payment rules as pure functions: which months a person is paid, at which standard, how a batch is named.

Nothing here touches the database; payment_services.py loads the rows, applies these rules and writes.
"""

import datetime
from decimal import Decimal
from functools import lru_cache

from shuangyong.lib.money import round_fen

from . import services as registry
from .constants import Basis, ChangeKind, PaymentKind, ServiceArea, Status

# What month_payable answers.
PAY = "pay"
HOLD = "hold"
SUSPEND = "suspend"
DEAD = "dead"
CANCELLED = "cancelled"
TRANSFERRED = "transferred"
NONE = "none"

STATUS_RESULT = {
    Status.ACTIVE: PAY,
    Status.HELD: HOLD,
    Status.SUSPENDED: SUSPEND,
    Status.DECEASED: DEAD,
    Status.CANCELLED: CANCELLED,
    Status.TRANSFERRED: TRANSFERRED,
}
# Service areas that have a standard of their own (a variant); 一般地区 uses the plain standard.
AREA_VARIANTS = {ServiceArea.TIBET, ServiceArea.XINJIANG, ServiceArea.HARDSHIP}
# Month an annual standard is paid when it names none: before 八一.
DEFAULT_PAYMENT_MONTH = 8
# Span shapes a regular batch may have: (first month, last month) within one year.
SPAN_SHAPES = {(m, m) for m in range(1, 13)} | {(1, 3), (4, 6), (7, 9), (10, 12), (1, 6), (7, 12), (1, 12)}


# Months


def month_start(day):
    return day.replace(day=1)


month_end = lru_cache(maxsize=4096)(registry.last_day_of_month)


def add_months(month, count):
    index = month.year * 12 + month.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def months_between(first, last):
    """Return the first days of the months from `first` to `last`, both included."""
    months, month, last = [], month_start(first), month_start(last)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def months_after(day, until):
    """Return the months whose first day is after `day` and not after `until`."""
    first = add_months(month_start(day), 1)
    return months_between(first, until) if first <= until else []


def is_regular_span(first, last):
    """Tell whether a span is a month, a quarter, a half year or a whole year of one year."""
    return first.year == last.year and (first.month, last.month) in SPAN_SHAPES


def span_text(first, last):
    """'2026年3月', '2026年1—6月', '2026年度', '2025年8月—2026年2月'."""
    if first == last:
        return f"{first.year}年{first.month}月"
    if first.year == last.year:
        if (first.month, last.month) == (1, 12):
            return f"{first.year}年度"
        return f"{first.year}年{first.month}—{last.month}月"
    return f"{first.year}年{first.month}月—{last.year}年{last.month}月"


def span_title(kind, first, last, *, backpay=False, category_label=""):
    """Name a batch as the office does: '2026年3月定期抚恤金', '2026年1—4月在乡复员军人定期生活补助补发'."""
    return f"{span_text(first, last)}{category_label}{PaymentKind(kind).label}{'补发' if backpay else ''}"


# Standards


def entitlement_key(entitlement):
    """What of an entitlement picks its standard: (category, grade, nature, variant)."""
    area = getattr(entitlement, "service_area", "") or ""
    return (
        entitlement.category,
        entitlement.grade or None,
        entitlement.nature or "",
        area if area in AREA_VARIANTS else "",
    )


def rate_for(standard, entitlement):
    """The amount a standard gives a person per period: per year of service it is amount × years, per month."""
    if standard.basis == Basis.SERVICE_YEAR:
        return round_fen(standard.amount * (getattr(entitlement, "service_years", None) or 0))
    return standard.amount


def combine_rates(candidates):
    """Pay the highest standard of several paying one kind, plus those marked cumulative.

    `candidates` holds (rate, standard, entitlement); returns (rate, standard, entitlement) of the row, where the
    standard and entitlement are those of the highest rate, or None when there is nothing to pay.
    """
    if not candidates:
        return None
    plain = [c for c in candidates if not c[1].cumulative]
    extra = [c for c in candidates if c[1].cumulative]
    head = max(plain or extra, key=lambda c: (c[0], c[1].pk or 0))
    rate = head[0] + sum((c[0] for c in extra if c is not head), Decimal("0.00"))
    return rate, head[1], head[2]


def annual_due_month(standard, year, entitlement_start):
    """The month an annual standard is due for a year: its payment month, or the month the entitlement began."""
    due = datetime.date(year, standard.payment_month or DEFAULT_PAYMENT_MONTH, 1)
    return max(due, month_start(entitlement_start)) if entitlement_start.year == year else due


def annual_amount(standard, rate, *, entitled_months):
    """An annual standard is paid whole, unless it says it is pro-rated for the months entitled."""
    if standard.prorate and entitled_months < 12:
        return round_fen(rate * entitled_months / 12)
    return rate


# Status by month


class Timeline:
    """A person's 异动 that change their status, to judge each month by the status at its start."""

    def __init__(self, changes):
        """`changes` in time order (effective date, then recording time), as derive_status takes them."""
        self.events = [c for c in registry.effective_changes(list(changes)) if c.kind in registry.STATUS_AFTER]

    def _index_before(self, month):
        index = -1
        for position, event in enumerate(self.events):
            if event.effective_on >= month:
                break
            index = position
        return index

    def _next_kind(self, index):
        return self.events[index + 1].kind if index + 1 < len(self.events) else None

    def _result(self, index, month):
        if index < 0:
            return PAY
        event = self.events[index]
        status = registry.STATUS_AFTER[event.kind]
        if status == Status.HELD:
            return PAY if self._next_kind(index) == ChangeKind.RESUME else HOLD
        if status == Status.TRANSFERRED:
            if month.year <= event.effective_on.year:
                # Art. 30: the sending county pays through December of the year of the 迁出.
                return self._result(index - 1, month)
            return PAY if self._next_kind(index) == ChangeKind.TRANSFER_IN else TRANSFERRED
        return STATUS_RESULT[status]

    def payable(self, month):
        return self._result(self._index_before(month_start(month)), month_start(month))

    def event_for(self, month):
        """The 异动 that set the status at the start of the month, or None."""
        index = self._index_before(month_start(month))
        return self.events[index] if index >= 0 else None

    def owed_months(self, until):
        """Months not paid when they came but owed now, up to `until`: 停发 months a 恢复 released, and the months
        between the Art. 30 switch and a 迁入 (the receiving county pays them once the person arrives)."""
        owed = []
        for index, event in enumerate(self.events[:-1]):
            following = self.events[index + 1]
            status = registry.STATUS_AFTER[event.kind]
            if status == Status.HELD and following.kind == ChangeKind.RESUME:
                owed += months_after(event.effective_on, min(following.effective_on, until))
            elif status == Status.TRANSFERRED and following.kind == ChangeKind.TRANSFER_IN:
                owed += [
                    m
                    for m in months_after(event.effective_on, min(following.effective_on, until))
                    if m.year > event.effective_on.year
                ]
        return owed


def month_payable(changes, month):
    """Judge a month by the person's status at its start: "pay", "hold" (停发, not yet released by 恢复),
    "suspend" (中止: never paid), "dead", "cancelled" or "transferred" (after the Art. 30 switch, not yet arrived).

    A death, hold or suspension in a month leaves that month payable; 停发 months count as "pay" once a 恢复
    follows; after a 迁出 the months through December are judged by the status before it.
    """
    return Timeline(changes).payable(month)
