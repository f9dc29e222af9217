import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from beneficiaries.constants import (
    AwardLevel,
    Basis,
    Category,
    DisabilityNature,
    PaymentKind,
    ServiceArea,
)
from beneficiaries.models import Payment, Standard
from beneficiaries.standard_services import (
    backpay_preview,
    standard_create,
    standard_for,
    standard_raise,
    standards_in_force,
)

D = datetime.date


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 3, 10, 10, 0), tick=False):
        yield


def demobilized(county, office, **extra):
    """在乡复员军人 定期生活补助: 90 元/月 from 2025-01-01 (the 雅灰乡 scenario)."""
    fields = {
        "unit": county,
        "kind": PaymentKind.LIVING,
        "category": Category.DEMOBILIZED,
        "amount": Decimal("90"),
        "national_part": Decimal("60"),
        "effective_from": D(2025, 1, 1),
        "document": "苏退役〔2024〕9号",
        "created_by": office,
        **extra,
    }
    return standard_create(**fields)


def disability(county, office, *, grade=6, nature=DisabilityNature.WAR, amount="3000", **extra):
    return standard_create(
        unit=county,
        kind=PaymentKind.DISABILITY,
        category=Category.DISABLED,
        grade=grade,
        nature=nature,
        amount=Decimal(amount),
        national_part=Decimal(amount),
        local_part=None,
        effective_from=D(2025, 1, 1),
        created_by=office,
        **extra,
    )


def message_of(error):
    return " ".join(error.value.messages)


# Creating


def test_local_part_defaults_to_the_rest_of_the_amount(county, office):
    standard = demobilized(county, office)
    standard.refresh_from_db()
    assert (standard.amount, standard.national_part, standard.local_part) == (
        Decimal("90.00"),
        Decimal("60.00"),
        Decimal("30.00"),
    )


def test_parts_that_do_not_add_up_are_refused(county, office):
    with pytest.raises(ValidationError) as error:
        demobilized(county, office, local_part=Decimal("20"))
    assert "与标准金额 90.00 元不符" in message_of(error)
    assert not Standard.objects.exists()


def test_an_overlapping_standard_for_the_same_key_is_refused_and_names_the_existing_one(county, office):
    demobilized(county, office)
    with pytest.raises(ValidationError) as error:
        demobilized(county, office, amount=Decimal("100"), effective_from=D(2025, 8, 1))
    assert "定期生活补助 在乡复员军人 90.00元每月" in message_of(error)
    assert "2025-01-01 至 今" in message_of(error)
    assert Standard.objects.count() == 1


def test_a_standard_after_the_existing_one_ends_is_allowed(county, office):
    demobilized(county, office, effective_to=D(2025, 7, 31))
    later = demobilized(county, office, amount=Decimal("140"), effective_from=D(2025, 8, 1))
    assert later.amount == Decimal("140.00")


def test_another_grade_or_variant_does_not_overlap(county, office):
    disability(county, office, grade=6)
    disability(county, office, grade=5, amount="3600")
    disability(county, office, grade=6, nature=DisabilityNature.DUTY, amount="2800")
    for variant, amount in [("", "1546"), (ServiceArea.TIBET, "3092")]:
        standard_create(
            unit=county,
            kind=PaymentKind.CONSCRIPT,
            category=Category.CONSCRIPT_FAMILY,
            variant=variant,
            basis=Basis.YEAR,
            payment_month=8,
            amount=Decimal(amount),
            national_part=Decimal("0"),
            effective_from=D(2025, 1, 1),
            created_by=office,
        )
    assert Standard.objects.count() == 5


def test_another_unit_may_keep_the_same_key(county, other_county, office, outsider):
    demobilized(county, office)
    demobilized(other_county, outsider, amount=Decimal("95"))
    assert Standard.objects.count() == 2


def test_illness_grade_8_cannot_get_a_disability_pension_standard(county, office):
    with pytest.raises(ValidationError) as error:
        disability(county, office, grade=8, nature=DisabilityNature.ILLNESS)
    assert "因病致残8级不享受残疾抚恤金" in message_of(error)
    assert "grade" in error.value.message_dict
    assert not Standard.objects.exists()


def test_illness_grade_6_gets_a_disability_pension_standard(county, office):
    assert disability(county, office, grade=6, nature=DisabilityNature.ILLNESS).grade == 6


@pytest.mark.parametrize(
    "fields, field, text",
    [
        ({"kind": PaymentKind.LIVING, "category": Category.DEMOBILIZED, "grade": 3}, "grade", "请清空残疾等级"),
        ({"kind": PaymentKind.DISABILITY, "category": Category.ILL_RETURNED, "grade": 3}, "category", "残疾军人"),
        ({"kind": PaymentKind.DISABILITY, "category": Category.DISABLED, "nature": "war"}, "grade", "请选择残疾等级"),
        (
            {"kind": PaymentKind.CONSCRIPT, "variant": AwardLevel.FIRST, "basis": Basis.YEAR, "payment_month": 8},
            "variant",
            "进藏",
        ),
        ({"kind": PaymentKind.AWARD, "variant": ServiceArea.TIBET, "basis": Basis.ONCE}, "variant", "奖励等级"),
        ({"kind": PaymentKind.AWARD, "variant": "", "basis": Basis.ONCE}, "variant", "奖励等级"),
        (
            {"kind": PaymentKind.PENSION, "category": Category.MARTYR_FAMILY, "variant": ServiceArea.TIBET},
            "variant",
            "不分细分",
        ),
        ({"kind": PaymentKind.CONSCRIPT, "basis": Basis.YEAR}, "payment_month", "年度发放月份"),
        ({"kind": PaymentKind.LIVING, "category": Category.DEMOBILIZED, "payment_month": 8}, "payment_month", "请清空"),
        ({"kind": PaymentKind.LIVING, "category": Category.DEMOBILIZED, "prorate": True}, "prorate", "按月折算"),
        ({"kind": PaymentKind.LIVING, "category": ""}, "category", "请选择优抚类别"),
        ({"kind": PaymentKind.AWARD, "variant": AwardLevel.FIRST, "basis": Basis.MONTH}, "basis", "一次性"),
        (
            {"kind": PaymentKind.LIVING, "category": Category.DEMOBILIZED, "effective_from": D(2025, 8, 15)},
            "effective_from",
            "某月1日",
        ),
    ],
)
def test_a_key_that_does_not_fit_the_kind_is_refused(county, office, fields, field, text):
    base = {
        "unit": county,
        "amount": Decimal("100"),
        "national_part": Decimal("0"),
        "effective_from": D(2025, 1, 1),
        "created_by": office,
    }
    with pytest.raises(ValidationError) as error:
        standard_create(**{**base, **fields})
    assert field in error.value.message_dict
    assert text in message_of(error)


def test_only_office_of_a_county_or_above_keeps_standards(county, township, office, leader, outsider):
    with pytest.raises(ValidationError) as error:
        demobilized(township, office)
    assert "不是县（区）及以上单位" in message_of(error)
    for user in (leader, outsider):
        with pytest.raises(ValidationError) as error:
            demobilized(county, user)
        assert "不能制定其标准" in message_of(error)
    assert not Standard.objects.exists()


# Raising


def test_a_raise_ends_the_old_standard_the_day_before(county, office):
    old = demobilized(county, office)
    new = standard_raise(
        standard=old,
        amount=Decimal("140"),
        national_part=Decimal("60"),
        local_part=None,
        effective_from=D(2025, 11, 1),
        document="苏退役〔2026〕2号",
        created_by=office,
    )
    old.refresh_from_db()
    assert old.effective_to == D(2025, 10, 31)
    assert new.replaces == old
    assert (new.amount, new.local_part, new.effective_from, new.effective_to) == (
        Decimal("140.00"),
        Decimal("80.00"),
        D(2025, 11, 1),
        None,
    )
    assert (new.kind, new.category, new.basis) == (old.kind, old.category, old.basis)


@pytest.mark.parametrize("effective_from", [D(2025, 1, 1), D(2024, 8, 1)])
def test_a_raise_must_start_after_the_old_standard(county, office, effective_from):
    old = demobilized(county, office)
    with pytest.raises(ValidationError) as error:
        standard_raise(
            standard=old,
            amount=Decimal("140"),
            national_part=Decimal("60"),
            effective_from=effective_from,
            document="",
            created_by=office,
        )
    assert "须晚于原标准的起始日期（2025-01-01）" in message_of(error)
    old.refresh_from_db()
    assert old.effective_to is None
    assert Standard.objects.count() == 1


def test_a_standard_is_raised_once_then_the_new_one_is_raised(county, office):
    old = demobilized(county, office)
    raise_args = {"amount": Decimal("140"), "national_part": Decimal("60"), "document": "", "created_by": office}
    standard_raise(standard=old, effective_from=D(2025, 8, 1), **raise_args)
    with pytest.raises(ValidationError) as error:
        standard_raise(standard=old, effective_from=D(2025, 10, 1), **raise_args)
    assert "请在现行标准上调标" in message_of(error)


def test_a_leader_cannot_raise(county, office, leader):
    old = demobilized(county, office)
    with pytest.raises(ValidationError):
        standard_raise(
            standard=old,
            amount=Decimal("140"),
            national_part=Decimal("60"),
            effective_from=D(2025, 8, 1),
            document="",
            created_by=leader,
        )
    assert Standard.objects.count() == 1


# Which standard applies


def test_the_deepest_unit_on_the_path_wins(city, county, township, office):
    from conftest import make_user
    from units.constants import Role

    city_office = make_user("city_office", city, Role.OFFICE)
    demobilized(city, city_office, amount=Decimal("80"))
    assert standard_for(
        township=township, kind=PaymentKind.LIVING, category=Category.DEMOBILIZED, on=D(2025, 6, 1)
    ).amount == Decimal("80.00")
    demobilized(county, office, amount=Decimal("90"))
    found = standard_for(township=township, kind=PaymentKind.LIVING, category=Category.DEMOBILIZED, on=D(2025, 6, 1))
    assert (found.unit, found.amount) == (county, Decimal("90.00"))


def test_an_exact_variant_wins_over_the_blank_one(county, township, office):
    for variant, amount in [("", "1546"), (ServiceArea.TIBET, "3092")]:
        standard_create(
            unit=county,
            kind=PaymentKind.CONSCRIPT,
            category=Category.CONSCRIPT_FAMILY,
            variant=variant,
            basis=Basis.YEAR,
            payment_month=8,
            amount=Decimal(amount),
            national_part=Decimal("0"),
            effective_from=D(2025, 1, 1),
            created_by=office,
        )
    on = D(2025, 8, 1)
    key = {"township": township, "kind": PaymentKind.CONSCRIPT, "category": Category.CONSCRIPT_FAMILY, "on": on}
    assert standard_for(**key, variant=ServiceArea.TIBET).amount == Decimal("3092.00")
    assert standard_for(**key, variant=ServiceArea.XINJIANG).amount == Decimal("1546.00")
    assert standard_for(**key, variant="").amount == Decimal("1546.00")


def test_the_grade_and_nature_choose_the_disability_standard(county, township, office):
    disability(county, office, grade=6, amount="3000")
    disability(county, office, grade=5, amount="3600")
    key = {"township": township, "kind": PaymentKind.DISABILITY, "category": Category.DISABLED, "on": D(2025, 6, 1)}
    assert standard_for(**key, grade=5, nature=DisabilityNature.WAR).amount == Decimal("3600.00")
    assert standard_for(**key, grade=6, nature=DisabilityNature.WAR).amount == Decimal("3000.00")
    assert standard_for(**key, grade=7, nature=DisabilityNature.WAR) is None
    assert standard_for(**key, grade=6, nature=DisabilityNature.DUTY) is None


def test_the_standard_in_force_follows_the_raise(county, township, office):
    old = demobilized(county, office)
    standard_raise(
        standard=old,
        amount=Decimal("140"),
        national_part=Decimal("60"),
        effective_from=D(2025, 8, 1),
        document="",
        created_by=office,
    )
    key = {"township": township, "kind": PaymentKind.LIVING, "category": Category.DEMOBILIZED}
    assert standard_for(**key, on=D(2025, 7, 31)).amount == Decimal("90.00")
    assert standard_for(**key, on=D(2025, 8, 1)).amount == Decimal("140.00")
    assert [s.amount for s in standards_in_force(user=office, on=D(2025, 7, 31))] == [Decimal("90.00")]


# The page


@pytest.fixture
def raised(county, office):
    old = demobilized(county, office)
    return standard_raise(
        standard=old,
        amount=Decimal("140"),
        national_part=Decimal("60"),
        effective_from=D(2025, 8, 1),
        document="苏退役〔2026〕2号",
        created_by=office,
    )


def test_the_page_shows_the_standard_in_force_today(client, office, raised):
    client.force_login(office)
    page = client.get(reverse("payments:standards")).content.decode()
    assert "定期生活补助" in page
    assert "140.00" in page and "80.00" in page  # amount and local top-up
    assert "苏退役〔2026〕2号" in page
    assert "90.00" not in page.split("<tbody>")[1].split("原 ")[0]
    assert reverse("payments:standard_raise", args=[raised.pk]) in page
    assert reverse("payments:backpay_add", args=[raised.pk]) in page


def test_the_page_for_a_date_before_the_raise_shows_the_old_standard(client, office, raised):
    client.force_login(office)
    page = client.get(reverse("payments:standards"), {"on": "2025-07-31"}).content.decode()
    assert "2025-07-31 执行" in page
    assert "90.00" in page and "30.00" in page
    assert "140.00" not in page
    assert "2025-01-01 至 2025-07-31" in page


def test_the_history_lists_ended_standards_too(client, leader, raised):
    client.force_login(leader)
    page = client.get(reverse("payments:standards"), {"history": "on"}).content.decode()
    assert "90.00" in page and "140.00" in page
    assert "已停止" in page and "执行中" in page
    assert "调标</a>" not in page and "补发</a>" not in page  # a leader reads only
    assert "新增标准" not in page


def test_a_bad_date_is_answered_in_chinese_and_today_is_shown(client, office, raised):
    client.force_login(office)
    page = client.get(reverse("payments:standards"), {"on": "2025-02-30"}).content.decode()
    assert "执行日期格式不正确" in page
    assert "140.00" in page


def test_a_standard_is_added_in_the_browser(client, office, county):
    client.force_login(office)
    response = client.post(
        reverse("payments:standard_add"),
        {
            "unit": county.pk,
            "kind": PaymentKind.LIVING,
            "category": Category.ILL_RETURNED,
            "basis": Basis.MONTH,
            "amount": "365",
            "national_part": "300",
            "local_part": "",
            "effective_from": "2025-08-01",
        },
    )
    assert response.status_code == 302
    standard = Standard.objects.get()
    assert (standard.amount, standard.local_part, standard.created_by) == (Decimal("365.00"), Decimal("65.00"), office)
    page = client.get(response.url).content.decode()
    assert "带病回乡退役军人" in page and "365.00" in page


def test_an_overlap_in_the_browser_shows_the_message_and_saves_nothing(client, office, county, raised):
    client.force_login(office)
    response = client.post(
        reverse("payments:standard_add"),
        {
            "unit": county.pk,
            "kind": PaymentKind.LIVING,
            "category": Category.DEMOBILIZED,
            "basis": Basis.MONTH,
            "amount": "150",
            "national_part": "60",
            "effective_from": "2026-01-01",
        },
    )
    assert response.status_code == 200
    assert "执行期间重叠" in response.content.decode()
    assert Standard.objects.count() == 2


def test_illness_grade_8_in_the_browser_is_refused_on_the_grade(client, office, county):
    client.force_login(office)
    response = client.post(
        reverse("payments:standard_add"),
        {
            "unit": county.pk,
            "kind": PaymentKind.DISABILITY,
            "category": Category.DISABLED,
            "grade": "8",
            "nature": DisabilityNature.ILLNESS,
            "basis": Basis.MONTH,
            "amount": "1000",
            "national_part": "1000",
            "effective_from": "2025-08-01",
        },
    )
    assert response.status_code == 200
    assert "因病致残8级不享受残疾抚恤金" in response.content.decode()
    assert not Standard.objects.exists()


def test_a_raise_in_the_browser_goes_on_to_the_backpay(client, office, county):
    old = demobilized(county, office)
    client.force_login(office)
    response = client.post(
        reverse("payments:standard_raise", args=[old.pk]),
        {"amount": "140", "national_part": "60", "effective_from": "2025-11-01", "document": "苏退役〔2026〕2号"},
    )
    new = Standard.objects.get(replaces=old)
    assert response.status_code == 302
    assert response.url == reverse("payments:backpay_add", args=[new.pk])


@pytest.fixture
def yahui_paid(county, office, other_township):
    """雅灰乡: 26 在乡复员军人 paid 90 元/月 for 2025-11 … 2026-02; then 50 元/月 more from 2025-11-01."""
    from beneficiaries.constants import BatchStatus
    from beneficiaries.models import PaymentBatch
    from beneficiaries.services import beneficiary_create
    from conftest import valid_id_number

    old = demobilized(county, office)
    people = [
        beneficiary_create(
            name=f"复员{i}",
            id_number=valid_id_number(f"32048119400101{i:03d}"),
            township=other_township,
            bank_account=f"62284804025648{i:05d}",
            effective_on=D(2025, 1, 2),
            entitlements=[{"category": Category.DEMOBILIZED, "start_on": D(2020, 1, 1)}],
            created_by=office,
        )
        for i in range(1, 27)
    ]
    months = [D(2025, 11, 1), D(2025, 12, 1), D(2026, 1, 1), D(2026, 2, 1)]
    for number, month in enumerate(months):
        batch = PaymentBatch.objects.create(
            unit=county,
            kind=PaymentKind.LIVING,
            first_month=month,
            last_month=month,
            key=f"paid-{number}",
            title=f"{month:%Y年%-m月}定期生活补助",
            status=BatchStatus.PAID,
            paid_on=month,
            created_by=office,
        )
        Payment.objects.bulk_create(
            Payment(
                beneficiary=person,
                township=other_township,
                kind=PaymentKind.LIVING,
                category=Category.DEMOBILIZED,
                month=month,
                rate=old.amount,
                amount=old.amount,
                standard=old,
                entitlement=person.entitlements.get(),
                batch=batch,
                paid_on=month,
            )
            for person in people
        )
    # A draft for March at the old rate is not 补发: generating the draft again pays it at the new rate.
    draft = PaymentBatch.objects.create(
        unit=county,
        kind=PaymentKind.LIVING,
        first_month=D(2026, 3, 1),
        last_month=D(2026, 3, 1),
        key="draft",
        title="2026年3月定期生活补助",
        created_by=office,
    )
    Payment.objects.create(
        beneficiary=people[0],
        township=other_township,
        kind=PaymentKind.LIVING,
        category=Category.DEMOBILIZED,
        month=D(2026, 3, 1),
        rate=old.amount,
        amount=old.amount,
        standard=old,
        batch=draft,
    )
    return standard_raise(
        standard=old,
        amount=Decimal("140"),
        national_part=Decimal("60"),
        effective_from=D(2025, 11, 1),
        document="苏退役〔2026〕2号",
        created_by=office,
    )


def test_the_backpay_page_counts_what_the_old_rate_paid(client, office, county, yahui_paid):
    preview = backpay_preview(standard=yahui_paid, unit=county)
    assert (preview["people"], preview["rows"], preview["first"], preview["last"]) == (
        26,
        104,
        D(2025, 11, 1),
        D(2026, 2, 1),
    )
    assert preview["estimate"] == Decimal("5200.00")  # 26 people × 4 months × 50
    client.force_login(office)
    page = client.get(reverse("payments:backpay_add", args=[yahui_paid.pk])).content.decode()
    assert "26 人" in page and "104 人·月" in page
    assert "2025年11月—2026年2月" in page
    assert "预计补发 <strong>5,200.00 元</strong>" in page
    assert "+50.00 元（每月）" in page
    assert "生成补发批次" in page


def test_the_backpay_button_makes_one_batch_of_the_difference(
    client, office, county, yahui_paid, django_capture_on_commit_callbacks
):
    from beneficiaries.models import PaymentBatch
    from units.models import Job

    client.force_login(office)
    url = reverse("payments:backpay_add", args=[yahui_paid.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"unit": county.pk})
    assert response.status_code == 302
    assert response.url == Job.objects.get().get_absolute_url()
    batch = PaymentBatch.objects.get(is_backpay=True)
    assert (batch.cause, batch.first_month, batch.last_month) == (yahui_paid, D(2025, 11, 1), D(2026, 2, 1))
    rows = Payment.objects.filter(batch=batch)
    assert rows.count() == 104
    assert sum((row.amount for row in rows), Decimal("0")) == Decimal("5200.00")
    # Pressing the button again adds no batch and no row.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"unit": county.pk})
    assert PaymentBatch.objects.filter(is_backpay=True).count() == 1
    assert Payment.objects.filter(is_backpay=True).count() == 104
    page = client.get(url).content.decode()
    assert batch.title in page


def test_a_standard_that_was_not_raised_has_nothing_to_back_pay(client, office, county):
    standard = demobilized(county, office)
    client.force_login(office)
    page = client.get(reverse("payments:backpay_add", args=[standard.pk])).content.decode()
    assert "没有需要补发的差额" in page
    assert "生成补发批次" not in page


@pytest.mark.parametrize("persona", ["liaison", "leader", "outsider"])
def test_who_may_not_edit_gets_404_on_posts(client, request, persona, raised):
    client.force_login(request.getfixturevalue(persona))
    data = {"amount": "999", "national_part": "0", "effective_from": "2026-01-01", "document": "x"}
    assert client.post(reverse("payments:standard_raise", args=[raised.pk]), data).status_code == 404
    assert client.post(reverse("payments:backpay_add", args=[raised.pk]), {}).status_code == 404
    assert Standard.objects.count() == 2


def test_a_leader_cannot_add_a_standard(client, leader, county):
    client.force_login(leader)
    response = client.post(
        reverse("payments:standard_add"),
        {"unit": county.pk, "kind": PaymentKind.LIVING, "category": Category.DEMOBILIZED, "amount": "1"},
    )
    assert response.status_code == 404
    assert not Standard.objects.exists()


@pytest.mark.parametrize("persona", ["liaison", "bureau_liaison"])
def test_liaisons_do_not_see_the_standards(client, request, persona, raised):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("payments:standards")).status_code == 404


def test_an_outsider_does_not_see_another_countys_standards(client, outsider, raised):
    client.force_login(outsider)
    page = client.get(reverse("payments:standards"), {"history": "on"}).content.decode()
    assert "在乡复员军人" not in page
    assert client.get(reverse("payments:standard_raise", args=[raised.pk])).status_code == 404


def test_the_standards_page_query_count_does_not_grow(client, office, county):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(office)
    client.get(reverse("payments:standards"))
    disability(county, office, grade=1, amount="6000")
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("payments:standards"))
    for grade in range(2, 11):
        disability(county, office, grade=grade, amount=str(1000 + grade))
    with CaptureQueriesContext(connection) as ten:
        response = client.get(reverse("payments:standards"))
    assert response.content.decode().count("调标</a>") == 10
    assert len(ten) == len(one) <= 10
