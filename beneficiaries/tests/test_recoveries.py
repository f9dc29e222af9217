"""Deaths and stops after money went out: the 丧葬补助, the offset against it and the 追回, to the fen."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from beneficiaries.constants import (
    Basis,
    Category,
    ChangeKind,
    DeathCause,
    DisabilityNature,
    PaymentKind,
    PayMethod,
    RecoveryStatus,
    SettleMethod,
)
from beneficiaries.models import Payment, Recovery
from beneficiaries.recovery_services import (
    death_settle,
    overpayment_record,
    recovery_settle,
    recovery_totals,
    settlement_plan,
)
from beneficiaries.services import change_record

from .payment_helpers import d, generate, make_people, make_standard, mark_paid

PENSION, DISABILITY, LIVING = PaymentKind.PENSION, PaymentKind.DISABILITY, PaymentKind.LIVING


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 6, 20, 10, 0), tick=False):
        yield


def paid_half_year(county, kind, office, director):
    batch, _ = generate(county, kind, d(1), d(6), office)
    mark_paid(batch, approver=director, paid_on=d(1, 10))
    return batch


def die(person, user, on=None, cause=DeathCause.ILLNESS):
    on = on or d(3, 17)
    return change_record(
        beneficiary=person, kind=ChangeKind.DEATH, effective_on=on, death_cause=cause, recorded_by=user
    )


def funeral_of(person):
    return Payment.objects.get(beneficiary=person, kind=PaymentKind.FUNERAL)


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def table(html, table_id):
    """The text of one table of a page."""
    found = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    return text_of(found.group(0)) if found else ""


@pytest.fixture
def martyr_parent(county, township):
    make_standard(county, PENSION, Category.MARTYR_FAMILY, "200.00")
    return make_people(township, 1, Category.MARTYR_FAMILY, name="烈属")[0]


# A death after a paid half year (Art. 22)


def test_overpaid_pension_after_a_death_is_set_against_the_funeral_grant(
    county, office, director, liaison, martyr_parent
):
    paid_half_year(county, PENSION, office, director)
    change = die(martyr_parent, liaison)
    plan = settlement_plan(change=change)
    assert [row.month for row in plan.rows] == [d(4), d(5), d(6)]
    assert (plan.overpaid, plan.due, plan.offset, plan.funeral_amount, plan.recovery_amount) == (
        Decimal("600.00"),
        Decimal("1200.00"),
        Decimal("600.00"),
        Decimal("600.00"),
        Decimal("0.00"),
    )
    death_settle(change=change, settled_by=office, paid_on=d(6, 18), method=PayMethod.CASH)
    funeral = funeral_of(martyr_parent)
    assert (funeral.months, funeral.rate, funeral.amount, funeral.reference) == (
        6,
        Decimal("200.00"),
        Decimal("600.00"),
        f"death:{change.pk}",
    )
    assert (funeral.change, funeral.batch, funeral.paid_on, funeral.method) == (change, None, d(6, 18), "cash")
    assert funeral.month == d(6)
    assert "已抵扣" in funeral.purpose and "条例第二十二条" in funeral.purpose
    recovery = Recovery.objects.get(change=change)
    assert (recovery.overpaid, recovery.offset, recovery.amount) == (
        Decimal("600.00"),
        Decimal("600.00"),
        Decimal("0.00"),
    )
    assert (recovery.status, recovery.settle_method, recovery.settled_on) == (
        RecoveryStatus.SETTLED,
        SettleMethod.OFFSET,
        d(6, 18),
    )
    assert sorted(recovery.payments.values_list("month", flat=True)) == [d(4), d(5), d(6)]


def test_an_overpayment_larger_than_the_grant_leaves_the_rest_to_recover_to_the_fen(
    county, office, director, liaison, township
):
    make_standard(county, PENSION, Category.ILLNESS_DEATH_FAMILY, "333.33")
    person = make_people(township, 1, Category.ILLNESS_DEATH_FAMILY)[0]
    batch, _ = generate(county, PENSION, d(1, year=2025), d(12, year=2025), office)
    mark_paid(batch, approver=director, paid_on=d(1, 5, year=2025))
    change = die(person, liaison, on=d(2, 27, year=2025))
    plan = death_settle(change=change, settled_by=office, paid_on=d(3, 2), method=PayMethod.CARD)
    # 10 months overpaid (March–December) = 3,333.30; due 6 × 333.33 = 1,999.98, all of it set off.
    assert plan.overpaid == Decimal("3333.30")
    assert funeral_of(person).amount == Decimal("0.00")
    assert funeral_of(person).method == ""
    recovery = Recovery.objects.get(change=change)
    assert (recovery.overpaid, recovery.offset, recovery.amount, recovery.status) == (
        Decimal("3333.30"),
        Decimal("1999.98"),
        Decimal("1333.32"),
        RecoveryStatus.OPEN,
    )


def test_no_overpayment_pays_the_whole_grant_and_opens_no_recovery(county, office, director, liaison, martyr_parent):
    batch, _ = generate(county, PENSION, d(1), d(3), office)
    mark_paid(batch, approver=director, paid_on=d(1, 10))
    change = die(martyr_parent, liaison)
    death_settle(change=change, settled_by=office, paid_on=d(4, 1), method=PayMethod.CARD)
    assert funeral_of(martyr_parent).amount == Decimal("1200.00")
    assert not Recovery.objects.exists()


def test_draft_rows_after_the_death_are_dropped_not_counted_as_overpaid(county, office, liaison, martyr_parent):
    generate(county, PENSION, d(1), d(6), office)  # a draft
    change = die(martyr_parent, liaison)
    assert sorted(Payment.objects.filter(beneficiary=martyr_parent).values_list("month", flat=True)) == [
        d(1),
        d(2),
        d(3),
    ]
    assert settlement_plan(change=change).rows == []


def test_settling_twice_writes_nothing_more(county, office, director, liaison, martyr_parent):
    paid_half_year(county, PENSION, office, director)
    change = die(martyr_parent, liaison, on=d(5, 2))
    first = death_settle(change=change, settled_by=office, paid_on=d(6, 1), method=PayMethod.CASH)
    second = death_settle(change=change, settled_by=director, paid_on=d(6, 2), method=PayMethod.CARD)
    assert len(first.created) == 2 and second.created == []
    assert Payment.objects.filter(beneficiary=martyr_parent, kind=PaymentKind.FUNERAL).count() == 1
    assert Recovery.objects.filter(change=change).count() == 1
    assert funeral_of(martyr_parent).amount == Decimal("1000.00")  # 1,200 due less June's 200


def test_the_database_keeps_one_recovery_per_change_and_one_funeral_per_death(
    county, office, director, liaison, martyr_parent
):
    paid_half_year(county, PENSION, office, director)
    change = die(martyr_parent, liaison)
    death_settle(change=change, settled_by=office, paid_on=d(6, 1), method=PayMethod.CASH)
    with pytest.raises(IntegrityError), transaction.atomic():
        Recovery.objects.create(
            beneficiary=martyr_parent, township=martyr_parent.township, change=change, overpaid=1, amount=1
        )
    funeral = funeral_of(martyr_parent)
    funeral.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        funeral.save()


def test_the_grant_is_counted_from_the_rate_paid_in_the_month_of_death_with_its_backpay(
    county, office, director, liaison, martyr_parent
):
    batch = paid_half_year(county, PENSION, office, director)
    raise_ = make_standard(county, PENSION, Category.MARTYR_FAMILY, "250.00", effective_from=d(3))
    march = Payment.objects.get(batch=batch, beneficiary=martyr_parent, month=d(3))
    Payment.objects.create(
        beneficiary=martyr_parent,
        township=march.township,
        kind=PENSION,
        category=Category.MARTYR_FAMILY,
        month=d(3),
        rate=Decimal("250.00"),
        amount=Decimal("50.00"),
        is_backpay=True,
        cause=raise_,
        paid_on=d(5, 1),
    )
    change = die(martyr_parent, liaison)
    assert settlement_plan(change=change).due == Decimal("1500.00")  # 6 × (200 + 50)


def test_without_a_row_for_the_month_of_death_the_standard_in_force_gives_the_rate(county, office, liaison, township):
    make_standard(county, LIVING, Category.WAR_VETERAN, "365.00")
    person = make_people(township, 1, Category.WAR_VETERAN)[0]
    change = die(person, liaison, cause=DeathCause.OTHER)
    plan = death_settle(change=change, settled_by=office, paid_on=d(4, 2), method=PayMethod.CASH)
    assert plan.funeral.amount == Decimal("2190.00")  # Arts. 61, 62: 6 × 365
    assert plan.funeral.category == Category.WAR_VETERAN


# Art. 32


@pytest.fixture
def disabled(county, township):
    make_standard(county, DISABILITY, Category.DISABLED, "4321.09", grade=2, nature=DisabilityNature.WAR)
    return make_people(township, 1, Category.DISABLED, grade=2, nature=DisabilityNature.WAR, name="伤残")[0]


def test_a_disabled_veteran_dying_of_illness_leaves_twelve_months(county, office, director, liaison, disabled):
    paid_half_year(county, DISABILITY, office, director)
    change = die(disabled, liaison, on=d(6, 3))
    plan = death_settle(change=change, settled_by=office, paid_on=d(6, 19), method=PayMethod.CARD)
    assert plan.funeral.amount == Decimal("51853.08")  # 12 × 4,321.09
    assert plan.funeral.months == 12
    assert any("病故军人遗属" in note for note in plan.grants.notes)


def test_a_death_from_an_old_wound_pays_the_duty_death_lump_sum_and_no_twelve_months(
    county, office, director, liaison, disabled
):
    make_standard(county, PaymentKind.LUMP_SUM, Category.DUTY_DEATH_FAMILY, "1105880.00", basis=Basis.ONCE)
    paid_half_year(county, DISABILITY, office, director)
    change = die(disabled, liaison, on=d(4, 30), cause=DeathCause.OLD_WOUND)
    plan = death_settle(change=change, settled_by=office, paid_on=d(6, 19), method=PayMethod.CARD)
    assert plan.funeral is None
    lump_sum = Payment.objects.get(beneficiary=disabled, kind=PaymentKind.LUMP_SUM)
    assert (lump_sum.amount, lump_sum.category, lump_sum.reference) == (
        Decimal("1105880.00"),
        Category.DUTY_DEATH_FAMILY,
        f"death:{change.pk}",
    )
    # Nothing to set the overpaid May and June against: all of it is recovered.
    recovery = Recovery.objects.get(change=change)
    assert (recovery.overpaid, recovery.offset, recovery.amount) == (
        Decimal("8642.18"),
        Decimal("0.00"),
        Decimal("8642.18"),
    )


def test_a_disabled_veteran_with_no_recorded_cause_is_asked_for_it_at_settlement(county, office, liaison, disabled):
    change = change_record(beneficiary=disabled, kind=ChangeKind.DEATH, effective_on=d(3, 1), recorded_by=liaison)
    assert settlement_plan(change=change).grants.grants == []
    plan = death_settle(
        change=change, settled_by=office, paid_on=d(4, 1), method=PayMethod.CASH, death_cause=DeathCause.ILLNESS
    )
    change.refresh_from_db()
    assert change.death_cause == DeathCause.ILLNESS
    assert plan.funeral.amount == Decimal("51853.08")


# Loss of entitlement without a grant


def test_a_cancellation_after_payment_opens_a_recovery_of_the_months_after_it(
    county, office, director, liaison, martyr_parent
):
    paid_half_year(county, PENSION, office, director)
    change = change_record(
        beneficiary=martyr_parent, kind=ChangeKind.CANCEL, effective_on=d(3, 10), reason="骗取待遇", recorded_by=liaison
    )
    plan = overpayment_record(change=change, recorded_by=office)
    assert (plan.recovery.overpaid, plan.recovery.offset, plan.recovery.amount) == (
        Decimal("600.00"),
        Decimal("0.00"),
        Decimal("600.00"),
    )
    assert plan.recovery.status == RecoveryStatus.OPEN
    again = overpayment_record(change=change, recorded_by=office)
    assert again.created == [] and Recovery.objects.count() == 1


def test_a_suspension_later_resumed_recovers_only_the_suspended_months(
    county, office, director, liaison, martyr_parent
):
    paid_half_year(county, PENSION, office, director)
    change = change_record(
        beneficiary=martyr_parent, kind=ChangeKind.SUSPEND, effective_on=d(2, 10), reason="服刑", recorded_by=liaison
    )
    change_record(beneficiary=martyr_parent, kind=ChangeKind.RESUME, effective_on=d(4, 15), recorded_by=liaison)
    plan = overpayment_record(change=change, recorded_by=office)
    assert sorted(plan.recovery.payments.values_list("month", flat=True)) == [d(3), d(4)]
    assert plan.recovery.amount == Decimal("400.00")


def test_held_months_are_owed_not_overpaid(county, office, director, liaison, martyr_parent):
    paid_half_year(county, PENSION, office, director)
    change = change_record(
        beneficiary=martyr_parent, kind=ChangeKind.HOLD, effective_on=d(2, 10), reason="未年审", recorded_by=liaison
    )
    assert settlement_plan(change=change).rows == []


def test_overpayment_record_refuses_when_nothing_was_overpaid(county, office, liaison, martyr_parent):
    change = change_record(
        beneficiary=martyr_parent, kind=ChangeKind.CANCEL, effective_on=d(3, 10), reason="骗取待遇", recorded_by=liaison
    )
    with pytest.raises(ValidationError, match="没有多发"):
        overpayment_record(change=change, recorded_by=office)


# Settling a recovery


@pytest.fixture
def open_recovery(county, office, director, liaison, martyr_parent):
    paid_half_year(county, PENSION, office, director)
    change = change_record(
        beneficiary=martyr_parent, kind=ChangeKind.CANCEL, effective_on=d(3, 10), reason="骗取待遇", recorded_by=liaison
    )
    return overpayment_record(change=change, recorded_by=office).recovery


def test_partial_refunds_add_up_and_settle_when_nothing_is_owed(office, open_recovery):
    recovery = recovery_settle(
        recovery=open_recovery,
        recovered=Decimal("199.99"),
        settled_on=d(5, 1),
        settle_method=SettleMethod.REFUND,
        note="家属退回",
        user=office,
    )
    assert (recovery.recovered, recovery.outstanding, recovery.status) == (
        Decimal("199.99"),
        Decimal("400.01"),
        RecoveryStatus.OPEN,
    )
    with pytest.raises(ValidationError, match="不能超过待追回的 400.01 元"):
        recovery_settle(
            recovery=recovery, recovered=Decimal("400.02"), settled_on=d(5, 2), settle_method="refund", user=office
        )
    recovery = recovery_settle(
        recovery=recovery, recovered=Decimal("400.01"), settled_on=d(6, 1), settle_method="deduct", user=office
    )
    assert (recovery.recovered, recovery.status, recovery.settled_on, recovery.settle_method) == (
        Decimal("600.00"),
        RecoveryStatus.SETTLED,
        d(6, 1),
        SettleMethod.DEDUCT,
    )
    with pytest.raises(ValidationError, match="已结清"):
        recovery_settle(
            recovery=recovery, recovered=Decimal("1"), settled_on=d(6, 1), settle_method="refund", user=office
        )


def test_the_database_refuses_recovering_more_than_is_owed(open_recovery):
    with pytest.raises(IntegrityError), transaction.atomic():
        Recovery.objects.filter(pk=open_recovery.pk).update(recovered=Decimal("600.01"))


def test_a_write_off_needs_a_reason_and_closes_the_rest(office, open_recovery):
    with pytest.raises(ValidationError) as error:
        recovery_settle(
            recovery=open_recovery, recovered=None, settled_on=d(6, 1), settle_method="write_off", user=office
        )
    assert "批准文件" in str(error.value)
    recovery = recovery_settle(
        recovery=open_recovery,
        recovered=None,
        settled_on=d(6, 1),
        settle_method="write_off",
        note="县政府〔2026〕8号批准核销",
        user=office,
    )
    assert (recovery.status, recovery.recovered) == (RecoveryStatus.SETTLED, Decimal("0.00"))
    totals = recovery_totals(Recovery.objects.all())
    assert (totals["written_off"], totals["outstanding"]) == (Decimal("600.00"), Decimal("0.00"))


def test_bad_settle_input_changes_nothing(office, open_recovery):
    for kwargs, message in [
        ({"recovered": Decimal("0"), "settle_method": "refund"}, "请填写本次追回金额"),
        ({"recovered": Decimal("10"), "settle_method": "offset"}, "请选择追回方式"),
        ({"recovered": Decimal("10"), "settle_method": "refund", "settled_on": d(7, 1)}, "不能晚于今天"),
        ({"recovered": Decimal("10"), "settle_method": "refund", "settled_on": d(3, 1)}, "不能早于取消资格日期"),
    ]:
        params = {"settled_on": d(6, 1), **kwargs}
        with pytest.raises(ValidationError, match=message):
            recovery_settle(recovery=open_recovery, user=office, **params)
    open_recovery.refresh_from_db()
    assert open_recovery.recovered == Decimal("0.00")


# Pages


def test_the_settle_page_shows_the_figures_and_settles(client, county, office, director, liaison, martyr_parent):
    paid_half_year(county, PENSION, office, director)
    change = die(martyr_parent, liaison)
    client.force_login(office)
    url = reverse("payments:death_settle", args=[change.pk])
    page = text_of(client.get(url).content.decode())
    assert "6个月定期抚恤金" in page and "1,200.00 元" in page
    assert "多发合计 600.00 元" in page
    assert "丧葬补助实发 600.00 元" in page
    response = client.post(url, {"paid_on": "2026-06-18", "method": "cash"})
    assert response.status_code == 302
    assert funeral_of(martyr_parent).amount == Decimal("600.00")
    person_page = text_of(client.get(martyr_parent.get_absolute_url()).content.decode())
    assert "丧葬补助已于 2026-06-18 结算" in person_page and "实发 600.00 元" in person_page
    assert client.post(url, {"paid_on": "2026-06-19", "method": "card"}).status_code == 200
    assert Payment.objects.filter(kind=PaymentKind.FUNERAL).count() == 1


def test_the_settle_form_names_bad_fields_and_writes_nothing(client, county, office, director, liaison, martyr_parent):
    paid_half_year(county, PENSION, office, director)
    change = die(martyr_parent, liaison)
    client.force_login(office)
    url = reverse("payments:death_settle", args=[change.pk])
    form = client.post(url, {"paid_on": "2026-03-01", "method": ""}).context["form"]
    assert form.errors["method"] == ["请选择发放方式。"]
    form = client.post(url, {"paid_on": "2026-03-01", "method": "cash"}).context["form"]
    assert "不能早于死亡日期" in form.errors["paid_on"][0]
    assert not Payment.objects.filter(kind=PaymentKind.FUNERAL).exists()
    assert not Recovery.objects.exists()


def test_the_person_page_of_an_unsettled_death_offers_the_settlement_to_the_office_only(
    client, county, office, director, liaison, leader, martyr_parent
):
    paid_half_year(county, PENSION, office, director)
    change = die(martyr_parent, liaison)
    settle_url = reverse("payments:death_settle", args=[change.pk])
    client.force_login(office)
    html = client.get(martyr_parent.get_absolute_url()).content.decode()
    assert "应发丧葬补助 1,200.00 元" in text_of(html) and settle_url in html
    assert "多发定期待遇 3 笔，600.00 元" in text_of(html)
    client.force_login(leader)
    html = client.get(martyr_parent.get_absolute_url()).content.decode()
    assert "应发丧葬补助 1,200.00 元" in text_of(html) and settle_url not in html
    assert client.get(settle_url).status_code == 404
    client.force_login(liaison)
    assert client.post(settle_url, {"paid_on": "2026-06-18", "method": "cash"}).status_code == 404
    assert not Payment.objects.filter(kind=PaymentKind.FUNERAL).exists()


def test_a_settled_death_cannot_be_corrected(county, office, director, liaison, martyr_parent):
    paid_half_year(county, PENSION, office, director)
    change = die(martyr_parent, liaison)
    death_settle(change=change, settled_by=office, paid_on=d(6, 1), method=PayMethod.CASH)
    with pytest.raises(ValidationError, match="已结算丧葬补助"):
        change_record(
            beneficiary=martyr_parent,
            kind=ChangeKind.CORRECTION,
            effective_on=d(6, 2),
            reason="误报",
            corrects=change,
            recorded_by=office,
        )


def test_a_corrected_death_is_not_settled(client, county, office, director, liaison, martyr_parent):
    paid_half_year(county, PENSION, office, director)
    change = die(martyr_parent, liaison)
    change_record(
        beneficiary=martyr_parent,
        kind=ChangeKind.CORRECTION,
        effective_on=d(6, 2),
        reason="误报",
        corrects=change,
        recorded_by=office,
    )
    client.force_login(office)
    assert client.get(reverse("payments:death_settle", args=[change.pk])).status_code == 404
    with pytest.raises(ValidationError, match="已被更正"):
        death_settle(change=change, settled_by=office, paid_on=d(6, 3), method=PayMethod.CASH)


@pytest.fixture
def two_townships_of_recoveries(county, office, director, liaison, township, other_township):
    make_standard(county, PENSION, Category.MARTYR_FAMILY, "200.00")
    here = make_people(township, 1, Category.MARTYR_FAMILY, name="溧东")[0]
    there = make_people(other_township, 1, Category.MARTYR_FAMILY, name="雅灰")[0]
    paid_half_year(county, PENSION, office, director)
    for person, on in [(here, d(3, 17)), (there, d(1, 5))]:
        change = change_record(
            beneficiary=person, kind=ChangeKind.CANCEL, effective_on=on, reason="骗取待遇", recorded_by=office
        )
        overpayment_record(change=change, recorded_by=office)
    return here, there


def test_the_recoveries_page_totals_open_and_settled_and_filters_by_township(
    client, office, township, two_townships_of_recoveries
):
    here, there = two_townships_of_recoveries
    recovery_settle(
        recovery=there.recoveries.get(),
        recovered=Decimal("1000"),
        settled_on=d(6, 1),
        settle_method="refund",
        user=office,
    )
    client.force_login(office)
    html = client.get(reverse("payments:recoveries")).content.decode()
    assert 'data-total="overpaid">1,600.00 元' in html  # 600 + 1,000
    assert 'data-total="recovered">1,000.00 元' in html
    assert 'data-total="outstanding">600.00 元' in html
    rows = table(html, "recoveries")
    assert here.name in rows and there.name in rows
    html = client.get(reverse("payments:recoveries"), {"township": township.pk}).content.decode()
    assert 'data-total="overpaid">600.00 元' in html
    assert here.name in table(html, "recoveries") and there.name not in table(html, "recoveries")
    html = client.get(reverse("payments:recoveries"), {"status": "settled"}).content.decode()
    assert there.name in table(html, "recoveries") and here.name not in table(html, "recoveries")


def test_a_leader_reads_the_recoveries_and_a_liaison_sees_only_the_township(
    client, leader, liaison, two_townships_of_recoveries
):
    here, there = two_townships_of_recoveries
    client.force_login(leader)
    html = client.get(reverse("payments:recoveries")).content.decode()
    assert there.name in table(html, "recoveries") and "办理" not in html
    assert client.get(reverse("payments:recovery", args=[here.recoveries.get().pk])).status_code == 404
    client.force_login(liaison)
    html = client.get(reverse("payments:recoveries")).content.decode()
    assert here.name in table(html, "recoveries") and there.name not in table(html, "recoveries")


def test_an_outsider_gets_404_on_a_recovery_and_a_settlement(client, outsider, two_townships_of_recoveries):
    here, _ = two_townships_of_recoveries
    recovery = here.recoveries.get()
    client.force_login(outsider)
    assert client.get(reverse("payments:recovery", args=[recovery.pk])).status_code == 404
    assert client.get(reverse("payments:death_settle", args=[recovery.change_id])).status_code == 404
    assert here.name not in client.get(reverse("payments:recoveries")).content.decode()


def test_the_recovery_page_records_a_refund(client, office, two_townships_of_recoveries):
    here, _ = two_townships_of_recoveries
    recovery = here.recoveries.get()
    client.force_login(office)
    url = reverse("payments:recovery", args=[recovery.pk])
    response = client.post(
        url, {"settle_method": "refund", "recovered": "600.001", "settled_on": "2026-06-01", "note": ""}
    )
    assert response.context["form"].errors["recovered"] == ["金额最多保留两位小数（到分）。"]
    response = client.post(url, {"settle_method": "refund", "recovered": "250.5", "settled_on": "2026-06-01"})
    assert response.status_code == 302
    html = text_of(client.get(url).content.decode())
    assert "已追回 250.50 元" in html and "待追回 349.50 元" in html
    assert "本人或家属退回 250.50元" in html


def test_the_pending_tab_lists_deaths_to_settle(client, county, office, director, liaison, martyr_parent):
    paid_half_year(county, PENSION, office, director)
    change = die(martyr_parent, liaison)
    client.force_login(office)
    html = client.get(reverse("payments:recoveries"), {"tab": "pending"}).content.decode()
    assert martyr_parent.name in html and reverse("payments:death_settle", args=[change.pk]) in html
    death_settle(change=change, settled_by=office, paid_on=d(6, 1), method=PayMethod.CASH)
    html = client.get(reverse("payments:recoveries"), {"tab": "pending"}).content.decode()
    assert "没有待结算的对象" in html
