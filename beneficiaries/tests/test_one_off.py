import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse

from beneficiaries import standard_services
from beneficiaries.constants import AwardLevel, Basis, Category, PaymentKind, PayMethod
from beneficiaries.models import Award, Entitlement, Payment
from beneficiaries.standard_services import one_off_pay, standard_create, standard_raise

D = datetime.date
AWARD_AMOUNTS = {
    AwardLevel.FIRST: "1000",
    AwardLevel.SECOND: "500",
    AwardLevel.THIRD: "200",
    AwardLevel.EXCELLENT: "100",
}


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 3, 10, 10, 0), tick=False):
        yield


@pytest.fixture
def award_standards(county, office):
    """The county's 立功奖励 table: standard rows, not code."""
    return {
        level: standard_create(
            unit=county,
            kind=PaymentKind.AWARD,
            variant=level,
            basis=Basis.ONCE,
            amount=Decimal(amount),
            national_part=Decimal("0"),
            effective_from=D(2024, 1, 1),
            document="示例县双拥〔2024〕1号",
            created_by=office,
        )
        for level, amount in AWARD_AMOUNTS.items()
    }


@pytest.fixture
def family(person):
    """王建国 is also the father of a serving 义务兵 with two awards."""
    entitlement = Entitlement.objects.create(
        beneficiary=person,
        category=Category.CONSCRIPT_FAMILY,
        start_on=D(2024, 9, 1),
        serving_member_name="王小军",
        enlistment_date=D(2024, 9, 1),
    )
    return {
        "entitlement": entitlement,
        "second": Award.objects.create(entitlement=entitlement, level=AwardLevel.SECOND, awarded_on=D(2025, 6, 1)),
        "excellent": Award.objects.create(
            entitlement=entitlement, level=AwardLevel.EXCELLENT, awarded_on=D(2025, 12, 1)
        ),
    }


def pay_award(person, award, office, **extra):
    fields = {"paid_on": D(2026, 3, 1), "method": PayMethod.CARD, **extra}
    return one_off_pay(beneficiary=person, kind=PaymentKind.AWARD, award=award, created_by=office, **fields)


def message_of(error):
    return " ".join(error.value.messages)


# Awards


def test_an_award_is_paid_at_the_standard_for_its_level(person, family, award_standards, office, township):
    payment = pay_award(person, family["second"], office)
    payment.refresh_from_db()
    assert payment.amount == Decimal("500.00")
    assert payment.rate == Decimal("500.00")
    assert payment.reference == f"award:{family['second'].pk}"
    assert payment.award == family["second"]
    assert payment.standard == award_standards[AwardLevel.SECOND]
    assert (payment.category, payment.entitlement) == (Category.CONSCRIPT_FAMILY, family["entitlement"])
    assert (payment.township, payment.month, payment.batch) == (township, D(2026, 3, 1), None)
    assert payment.purpose == "王小军二等功奖励"


@pytest.mark.parametrize("level, amount", [(level, Decimal(a)) for level, a in AWARD_AMOUNTS.items()])
def test_every_award_level_pays_its_standard(person, family, award_standards, office, level, amount):
    award = Award.objects.create(entitlement=family["entitlement"], level=level, awarded_on=D(2025, 7, 1))
    assert pay_award(person, award, office).amount == amount


def test_the_standard_on_the_award_date_applies_not_todays(person, family, award_standards, office):
    standard_raise(
        standard=award_standards[AwardLevel.SECOND],
        amount=Decimal("800"),
        national_part=Decimal("0"),
        effective_from=D(2025, 7, 1),
        document="",
        created_by=office,
    )
    assert pay_award(person, family["second"], office).amount == Decimal("500.00")  # awarded 2025-06-01
    later = Award.objects.create(entitlement=family["entitlement"], level=AwardLevel.SECOND, awarded_on=D(2025, 7, 1))
    assert pay_award(person, later, office).amount == Decimal("800.00")


def test_an_award_is_paid_once(person, family, award_standards, office):
    pay_award(person, family["second"], office)
    with pytest.raises(ValidationError) as error:
        pay_award(person, family["second"], office, paid_on=D(2026, 3, 5))
    assert message_of(error) == "该立功奖励已于 2026-03-01 发放（500.00 元），不能重复发放。"
    assert Payment.objects.count() == 1


def test_a_second_payment_that_slips_past_the_check_meets_the_database(
    person, family, award_standards, office, monkeypatch
):
    pay_award(person, family["second"], office)
    # Two clerks at once: both pass the check before either has written.
    monkeypatch.setattr(standard_services, "_already_paid", lambda *args: None)
    with pytest.raises(ValidationError) as error:
        pay_award(person, family["second"], office)
    assert "该立功奖励已" in message_of(error)
    assert Payment.objects.count() == 1


def test_the_database_refuses_a_one_off_reference_twice(person, township):
    fields = {
        "beneficiary": person,
        "township": township,
        "kind": PaymentKind.AWARD,
        "month": D(2026, 3, 1),
        "amount": Decimal("500"),
        "reference": "award:1",
    }
    Payment.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(**{**fields, "month": D(2026, 4, 1)})
    # A returned row drops out of the guard, so its re-issue can be written.
    Payment.objects.update(returned_on=D(2026, 3, 20))
    Payment.objects.create(**fields)
    assert Payment.objects.count() == 2


def test_an_award_without_a_standard_is_refused_with_its_level_and_date(person, family, office):
    with pytest.raises(ValidationError) as error:
        pay_award(person, family["second"], office)
    assert "未找到 2025-06-01 时执行的“二等功”立功奖励标准" in message_of(error)
    assert not Payment.objects.exists()


def test_an_award_amount_is_not_typed(person, family, award_standards, office):
    with pytest.raises(ValidationError) as error:
        pay_award(person, family["second"], office, amount=Decimal("600"))
    assert "按标准计发 500.00 元" in message_of(error)


def test_another_persons_award_is_refused(person, family, award_standards, office, other_township):
    from beneficiaries.services import beneficiary_create
    from conftest import valid_id_number

    other = beneficiary_create(
        name="孙卫东",
        id_number=valid_id_number("32048119550505005"),
        township=other_township,
        effective_on=D(2025, 1, 2),
        created_by=office,
    )
    with pytest.raises(ValidationError) as error:
        pay_award(other, family["second"], office)
    assert "不属于该对象" in message_of(error)


# Other one-offs


def condolence(person, office, **extra):
    fields = {
        "beneficiary": person,
        "kind": PaymentKind.CONDOLENCE,
        "amount": Decimal("800"),
        "purpose": "2026年春节走访慰问",
        "reference": "2026春节慰问",
        "paid_on": D(2026, 2, 10),
        "method": PayMethod.CASH,
        "created_by": office,
        **extra,
    }
    return one_off_pay(**fields)


def test_a_condolence_payment_is_recorded_with_its_purpose(person, office, township):
    payment = condolence(person, office)
    payment.refresh_from_db()
    assert (payment.amount, payment.purpose, payment.reference) == (
        Decimal("800.00"),
        "2026年春节走访慰问",
        "2026春节慰问",
    )
    assert (payment.category, payment.award, payment.township, payment.method) == ("", None, township, "cash")


def test_the_same_reference_is_paid_once_another_is_not_blocked(person, office):
    condolence(person, office)
    with pytest.raises(ValidationError) as error:
        condolence(person, office, amount=Decimal("500"))
    assert message_of(error) == "“2026春节慰问”的慰问金已于 2026-02-10 发放（800.00 元），不能重复发放。"
    condolence(person, office, reference="2026八一慰问", paid_on=D(2026, 3, 1))
    assert Payment.objects.count() == 2


def test_one_off_amounts_add_up_exactly(person, office):
    for index in range(10):
        condolence(person, office, amount=Decimal("0.29"), reference=f"慰问{index}")
    total = Payment.objects.filter(kind=PaymentKind.CONDOLENCE).aggregate(total=Sum("amount"))["total"]
    assert total == Decimal("2.90")


@pytest.mark.parametrize(
    "extra, field, text",
    [
        ({"amount": None}, "amount", "请填写金额"),
        ({"amount": Decimal("0")}, "amount", "大于 0"),
        ({"amount": "12.345"}, "amount", "到分"),
        ({"purpose": ""}, "purpose", "请填写用途"),
        ({"reference": ""}, "reference", "请填写关联事项"),
        ({"kind": PaymentKind.PENSION}, "kind", "一次性发放的类别"),
        ({"paid_on": D(2026, 3, 11)}, "paid_on", "不能晚于今天"),
        ({"method": ""}, "method", "发放方式"),
    ],
)
def test_bad_one_off_input_is_refused_by_field(person, office, extra, field, text):
    with pytest.raises(ValidationError) as error:
        condolence(person, office, **extra)
    assert field in error.value.message_dict
    assert text in message_of(error)
    assert not Payment.objects.exists()


@pytest.mark.parametrize("persona", ["liaison", "leader", "outsider"])
def test_only_the_office_pays_one_offs(request, person, persona):
    with pytest.raises(ValidationError):
        condolence(person, request.getfixturevalue(persona))
    assert not Payment.objects.exists()


# The page


def test_the_page_offers_the_awards_with_their_amounts(client, office, person, family, award_standards):
    pay_award(person, family["second"], office)
    client.force_login(office)
    page = client.get(reverse("payments:one_off_add", args=[person.pk])).content.decode()
    assert "二等功（2025-06-01，王小军）：已于 2026-03-01 发放 500.00 元" in page
    assert "优秀士兵（2025-12-01，王小军）：按标准 100.00 元" in page


def test_an_award_is_paid_in_the_browser_once(client, office, person, family, award_standards):
    client.force_login(office)
    url = reverse("payments:one_off_add", args=[person.pk])
    data = {"kind": PaymentKind.AWARD, "award": family["excellent"].pk, "paid_on": "2026-03-02", "method": "card"}
    response = client.post(url, data)
    assert response.status_code == 302
    assert response.url == person.get_absolute_url()
    assert Payment.objects.get().amount == Decimal("100.00")
    response = client.post(url, data)
    assert response.status_code == 200
    assert "该立功奖励已于 2026-03-02 发放（100.00 元），不能重复发放。" in response.content.decode()
    assert Payment.objects.count() == 1


def test_a_condolence_in_the_browser_needs_amount_purpose_and_reference(client, office, person):
    client.force_login(office)
    url = reverse("payments:one_off_add", args=[person.pk])
    response = client.post(url, {"kind": PaymentKind.CONDOLENCE, "paid_on": "2026-03-02", "method": "cash"})
    page = response.content.decode()
    assert "请填写金额" in page and "请填写用途" in page and "请填写关联事项" in page
    response = client.post(
        url,
        {
            "kind": PaymentKind.CONDOLENCE,
            "amount": "600.50",
            "purpose": "八一走访",
            "reference": "2025八一慰问",
            "paid_on": "2026-03-02",
            "method": "cash",
        },
    )
    assert response.status_code == 302
    assert Payment.objects.get().amount == Decimal("600.50")


def test_another_persons_award_cannot_be_posted(client, office, person, family, award_standards, other_township):
    from beneficiaries.services import beneficiary_create
    from conftest import valid_id_number

    other = beneficiary_create(
        name="孙卫东",
        id_number=valid_id_number("32048119550505005"),
        township=other_township,
        effective_on=D(2025, 1, 2),
        created_by=office,
    )
    client.force_login(office)
    response = client.post(
        reverse("payments:one_off_add", args=[other.pk]),
        {"kind": PaymentKind.AWARD, "award": family["second"].pk, "paid_on": "2026-03-02", "method": "card"},
    )
    assert response.status_code == 200
    assert "所选立功受奖记录不属于该对象" in response.content.decode()
    assert not Payment.objects.exists()


@pytest.mark.parametrize("persona", ["liaison", "leader", "outsider", "bureau_liaison"])
def test_who_is_not_office_in_scope_gets_404(client, request, person, persona):
    client.force_login(request.getfixturevalue(persona))
    url = reverse("payments:one_off_add", args=[person.pk])
    assert client.get(url).status_code == 404
    data = {"kind": PaymentKind.CONDOLENCE, "amount": "1", "purpose": "x", "reference": "x", "paid_on": "2026-03-01"}
    assert client.post(url, {**data, "method": "cash"}).status_code == 404
    assert not Payment.objects.exists()


def test_the_person_page_links_the_office_to_one_offs(client, office, liaison, person):
    url = reverse("payments:one_off_add", args=[person.pk])
    client.force_login(office)
    assert url in client.get(person.get_absolute_url()).content.decode()
    client.force_login(liaison)
    assert url not in client.get(person.get_absolute_url()).content.decode()
