import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from beneficiaries.constants import Basis, ChangeKind, PaymentKind
from beneficiaries.payment_rules import (
    Timeline,
    annual_amount,
    annual_due_month,
    combine_rates,
    is_regular_span,
    month_payable,
    months_between,
    rate_for,
    span_title,
)

K = ChangeKind


def d(month, day=1, year=2026):
    return datetime.date(year, month, day)


def events(*items):
    """异动 as (kind, effective date[, pk of the corrected one]), numbered from 1 in order."""
    return [
        SimpleNamespace(pk=index, kind=item[0], effective_on=item[1], corrects_id=item[2] if len(item) > 2 else None)
        for index, item in enumerate(items, start=1)
    ]


def standard(amount, basis=Basis.MONTH, *, pk=1, cumulative=False, payment_month=None, prorate=False):
    return SimpleNamespace(
        pk=pk,
        amount=Decimal(amount),
        basis=basis,
        cumulative=cumulative,
        payment_month=payment_month,
        prorate=prorate,
    )


def test_months_between_lists_the_first_days_across_a_new_year():
    assert months_between(d(11, 15, 2025), d(2, 28)) == [d(11, year=2025), d(12, year=2025), d(1), d(2)]
    assert months_between(d(3), d(3)) == [d(3)]
    assert months_between(d(4), d(3)) == []


@pytest.mark.parametrize(
    ("kind", "first", "last", "backpay", "label", "title"),
    [
        (PaymentKind.PENSION, d(3), d(3), False, "", "2026年3月定期抚恤金"),
        (PaymentKind.DISABILITY, d(1), d(6), False, "", "2026年1—6月残疾抚恤金"),
        (PaymentKind.CONSCRIPT, d(1), d(12), False, "", "2026年度义务兵家庭优待金"),
        (PaymentKind.LIVING, d(1), d(4), True, "在乡复员军人", "2026年1—4月在乡复员军人定期生活补助补发"),
        (PaymentKind.LIVING, d(8, year=2025), d(2), True, "", "2025年8月—2026年2月定期生活补助补发"),
    ],
)
def test_span_title_names_a_batch_as_the_office_does(kind, first, last, backpay, label, title):
    assert span_title(kind, first, last, backpay=backpay, category_label=label) == title


def test_regular_spans_are_a_month_a_quarter_a_half_or_a_year():
    assert all(is_regular_span(d(m), d(m)) for m in range(1, 13))
    assert is_regular_span(d(4), d(6)) and is_regular_span(d(7), d(12)) and is_regular_span(d(1), d(12))
    assert not is_regular_span(d(2), d(4))
    assert not is_regular_span(d(1), d(8))
    assert not is_regular_span(d(12, year=2025), d(2))


def test_rate_for_multiplies_a_standard_per_year_of_service_by_the_years():
    entitlement = SimpleNamespace(service_years=4)
    assert rate_for(standard("15.5", Basis.SERVICE_YEAR), entitlement) == Decimal("62.00")
    assert rate_for(standard("672"), entitlement) == Decimal("672")
    assert rate_for(standard("15", Basis.SERVICE_YEAR), SimpleNamespace(service_years=None)) == Decimal("0.00")


def test_the_higher_standard_is_paid_and_cumulative_ones_added_on_top():
    low, high = standard("365", pk=1), standard("672", pk=2)
    top_up = standard("100", pk=3, cumulative=True)
    assert combine_rates([]) is None
    assert combine_rates([(Decimal("365"), low, "a"), (Decimal("672"), high, "b")]) == (Decimal("672"), high, "b")
    assert combine_rates([(Decimal("365"), low, "a"), (Decimal("100"), top_up, "c")]) == (Decimal("465.00"), low, "a")
    assert combine_rates([(Decimal("100"), top_up, "c")]) == (Decimal("100"), top_up, "c")


def test_an_annual_standard_is_due_in_its_month_or_when_the_entitlement_begins_later():
    yearly = standard("1546", Basis.YEAR, payment_month=6)
    assert annual_due_month(yearly, 2026, d(9, year=2024)) == d(6)
    assert annual_due_month(yearly, 2026, d(9, 10)) == d(9)
    assert annual_due_month(standard("1546", Basis.YEAR), 2026, d(1, year=2020)) == d(8)


def test_an_annual_amount_is_paid_whole_unless_the_standard_prorates():
    assert annual_amount(standard("1546", Basis.YEAR), Decimal("1546"), entitled_months=4) == Decimal("1546")
    prorated = standard("1546", Basis.YEAR, prorate=True)
    assert annual_amount(prorated, Decimal("1546"), entitled_months=4) == Decimal("515.33")
    assert annual_amount(prorated, Decimal("1546"), entitled_months=12) == Decimal("1546")


# Status at the start of each month


def test_a_person_without_events_is_paid_every_month():
    assert month_payable([], d(3)) == "pay"
    assert month_payable(events((K.ADD, d(3, 20)), (K.CONFIRM, d(4, 1))), d(5)) == "pay"


def test_a_death_leaves_its_month_payable_and_nothing_after():
    changes = events((K.ADD, d(1, 1, 2020)), (K.DEATH, d(3, 1)))
    assert [month_payable(changes, d(m)) for m in (2, 3, 4)] == ["pay", "pay", "dead"]
    changes = events((K.DEATH, d(3, 31)))
    assert [month_payable(changes, d(m)) for m in (3, 4)] == ["pay", "dead"]


def test_suspended_months_are_never_payable_even_after_resumption():
    changes = events((K.SUSPEND, d(2, 10)), (K.RESUME, d(5, 3)))
    assert [month_payable(changes, d(m)) for m in range(2, 7)] == ["pay", "suspend", "suspend", "suspend", "pay"]


def test_held_months_stay_held_until_a_resumption_releases_them():
    held = events((K.HOLD, d(2, 10)))
    assert [month_payable(held, d(m)) for m in (2, 3, 4)] == ["pay", "hold", "hold"]
    released = events((K.HOLD, d(2, 10)), (K.RESUME, d(5, 3)))
    assert [month_payable(released, d(m)) for m in (3, 4, 5, 6)] == ["pay"] * 4
    assert Timeline(released).owed_months(d(12)) == [d(3), d(4), d(5)]
    assert Timeline(released).owed_months(d(3)) == [d(3)]
    suspended_after = events((K.HOLD, d(2, 10)), (K.SUSPEND, d(4, 3)), (K.RESUME, d(6, 1)))
    assert [month_payable(suspended_after, d(m)) for m in (3, 4, 5, 6, 7)] == [
        "hold",
        "hold",
        "suspend",
        "suspend",
        "pay",
    ]
    assert Timeline(suspended_after).owed_months(d(12)) == []


def test_cancellation_stops_pay_from_the_next_month():
    changes = events((K.CANCEL, d(2, 10)))
    assert [month_payable(changes, d(m)) for m in (2, 3)] == ["pay", "cancelled"]


def test_a_transfer_out_is_paid_by_the_sender_through_december_then_by_the_receiver():
    pending = events((K.TRANSFER_OUT, d(4, 15, 2025)))
    assert month_payable(pending, d(5, year=2025)) == "pay"
    assert month_payable(pending, d(12, year=2025)) == "pay"
    assert month_payable(pending, d(1)) == "transferred"
    arrived = events((K.TRANSFER_OUT, d(11, 15, 2025)), (K.TRANSFER_IN, d(3, 2)))
    assert [month_payable(arrived, d(m)) for m in (1, 2, 3, 4)] == ["pay"] * 4
    assert Timeline(arrived).owed_months(d(12)) == [d(1), d(2), d(3)]
    held_then_moved = events((K.HOLD, d(2, 10, 2025)), (K.TRANSFER_OUT, d(5, 1, 2025)))
    assert month_payable(held_then_moved, d(8, year=2025)) == "hold"


def test_a_corrected_event_no_longer_counts():
    changes = events((K.DEATH, d(2, 10)), (K.CORRECTION, d(3, 1), 1))
    assert month_payable(changes, d(4)) == "pay"
    changes = events((K.HOLD, d(2, 10)), (K.CORRECTION, d(3, 1), 1))
    assert Timeline(changes).owed_months(d(12)) == []
    assert month_payable(changes, d(3)) == "pay"
