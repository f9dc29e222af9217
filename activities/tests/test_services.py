import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum

from activities import services
from activities.constants import ActivityType, Occasion
from activities.models import Activity, Gift, Photo, Recipient, RecipientGroup
from beneficiaries.constants import PaymentKind, PayMethod
from beneficiaries.models import Payment
from units.constants import UnitKind
from units.models import Pairing, Unit

from .log_data import make_person
from .log_data import photo as png

D = datetime.date
ARMY_DAY_VISIT = D(2026, 7, 28)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 8, 10, 10, 0), tick=False):
        yield


def visit(unit, by, *, on=ARMY_DAY_VISIT, occasion=Occasion.ARMY_DAY, **extra):
    fields = {"type": ActivityType.VISIT, "title": "八一走访慰问", "start_date": on, "occasion": occasion, **extra}
    return services.activity_create(unit=unit, created_by=by, **fields)


def nothing_saved():
    return (Activity.objects.count(), Payment.objects.count(), Photo.objects.count(), Gift.objects.count()) == (
        0,
        0,
        0,
        0,
    )


@pytest.fixture
def people(township, other_township):
    return [
        make_person(township, 1, "李大海"),
        make_person(township, 2, "陈桂英"),
        make_person(other_township, 3, "赵德明"),
    ]


@pytest.fixture
def far_person(other_township_far):
    return make_person(other_township_far, 9, "钱远山")


# Visits and the ledger


def test_each_registry_recipient_gets_one_condolence_payment_in_the_ledger(liaison, township, people):
    amounts = [Decimal("500"), Decimal("500"), Decimal("800.50")]
    activity = visit(
        township,
        liaison,
        recipients=[{"beneficiary": p, "amount": a, "goods": "米油"} for p, a in zip(people, amounts, strict=True)],
    )
    payments = Payment.objects.filter(reference=f"activity:{activity.pk}").order_by("pk")
    assert [(p.beneficiary, p.amount) for p in payments] == list(zip(people, amounts, strict=True))
    for payment in payments:
        assert payment.kind == PaymentKind.CONDOLENCE
        assert payment.method == PayMethod.CASH
        assert payment.paid_on == D(2026, 7, 28)
        assert payment.month == D(2026, 7, 1)
        assert payment.purpose == "2026年八一走访慰问"
        assert payment.township == payment.beneficiary.township
        assert payment.batch is None
    # A person of another township of the county is visited and paid in their own township's ledger.
    assert payments[2].township.name == "雅灰乡"
    assert all(r.payment.amount == r.amount for r in activity.recipients.all())


def test_the_activity_adds_gifts_recipients_and_groups_each_yuan_once(office, township, military_unit, people):
    activity = visit(
        township,
        office,
        recipients=[{"beneficiary": people[0], "amount": "600", "goods_value": "80"}],
        gifts=[{"recipient_unit": military_unit, "money": "5000", "goods": "西瓜", "goods_value": "1200.40"}],
        groups=[{"description": "军退干部", "people": 12, "money": "2400", "goods_value": "0"}],
    )
    activity.refresh_from_db()
    assert activity.money == Decimal("8000.00")
    assert activity.goods_value == Decimal("1280.40")
    assert activity.recipient_count == 13
    assert Payment.objects.aggregate(total=Sum("amount"))["total"] == Decimal("600.00")


def test_a_goods_only_visit_writes_no_payment(office, township, people):
    activity = visit(township, office, recipients=[{"beneficiary": people[0], "amount": "0", "goods": "慰问品"}])
    assert activity.recipients.get().payment is None
    assert Payment.objects.count() == 0


def test_the_occasion_year_of_a_december_spring_festival_visit_is_the_next_year(office, township):
    spring = visit(township, office, on=D(2025, 12, 28), occasion=Occasion.SPRING_FESTIVAL)
    national = visit(township, office, on=D(2025, 12, 28), occasion=Occasion.NATIONAL_DAY)
    none = visit(township, office, on=D(2025, 12, 28), occasion="")
    assert (spring.occasion_year, national.occasion_year, none.occasion_year) == (2026, 2025, 2025)


# Corrections


def test_a_correction_writes_the_difference_and_ledger_and_activity_agree(office, director, township, people):
    activity = visit(township, office, recipients=[{"beneficiary": p, "amount": "500"} for p in people[:2]])
    recipient = activity.recipients.get(beneficiary=people[0])
    first = recipient.payment
    services.recipient_correct(recipient=recipient, amount=Decimal("800"), reason="实发800元", corrected_by=director)
    services.recipient_correct(recipient=recipient, amount=Decimal("750"), reason="再核", corrected_by=director)

    rows = list(services.recipient_payments(recipient=recipient))
    assert [(r.reference, r.amount) for r in rows] == [
        (f"activity:{activity.pk}", Decimal("500.00")),
        (f"activity:{activity.pk}:更正1", Decimal("300.00")),
        (f"activity:{activity.pk}:更正2", Decimal("-50.00")),
    ]
    first.refresh_from_db()
    assert first.amount == Decimal("500.00")
    recipient.refresh_from_db()
    activity.refresh_from_db()
    assert recipient.amount == Decimal("750.00")
    ledger = services.activity_payments(activity).aggregate(total=Sum("amount"))["total"]
    assert activity.money == ledger == Decimal("1250.00")


def test_a_correction_of_a_goods_only_visit_writes_its_first_payment(office, township, people):
    activity = visit(township, office, recipients=[{"beneficiary": people[0], "amount": "0", "goods": "米"}])
    recipient = services.recipient_correct(
        recipient=activity.recipients.get(), amount="300", reason="另发现金", corrected_by=office
    )
    assert recipient.payment.reference == f"activity:{activity.pk}"
    assert recipient.payment.amount == Decimal("300.00")


def test_only_the_office_corrects_and_a_liaison_changes_nothing(office, liaison, township, people):
    activity = visit(township, liaison, recipients=[{"beneficiary": people[0], "amount": "500"}])
    with pytest.raises(ValidationError, match="只有双拥办工作人员"):
        services.recipient_correct(
            recipient=activity.recipients.get(), amount="800", reason="多发", corrected_by=liaison
        )
    assert Payment.objects.count() == 1
    assert activity.recipients.get().amount == Decimal("500.00")


@pytest.mark.parametrize(
    ("amount", "reason", "field", "message"),
    [
        ("500", "无变化", "amount", "与原金额"),
        ("-1", "退回", "amount", "不能为负数"),
        ("800", "", "reason", "请填写更正原因"),
    ],
)
def test_a_bad_correction_is_refused(office, township, people, amount, reason, field, message):
    activity = visit(township, office, recipients=[{"beneficiary": people[0], "amount": "500"}])
    with pytest.raises(ValidationError) as error:
        services.recipient_correct(
            recipient=activity.recipients.get(), amount=amount, reason=reason, corrected_by=office
        )
    assert message in " ".join(error.value.message_dict[field])
    assert Payment.objects.count() == 1


# Bad input: a clear message naming the field, and nothing saved


@pytest.fixture
def other_pairing(other_township, military_unit):
    return Pairing.objects.create(civil_unit=other_township, military_unit=military_unit, signed_on=D(2024, 1, 1))


@pytest.fixture
def far_garrison(other_county):
    return Unit.objects.create(name="邻县武警中队", kind=UnitKind.MILITARY, parent=other_county)


BAD_INPUT = [
    ({"start_date": D(2026, 7, 28), "end_date": D(2026, 7, 27)}, "end_date", "早于开始日期"),
    ({"start_date": D(2026, 8, 11)}, "start_date", "晚于今天"),
    ({"end_date": D(2026, 8, 11)}, "end_date", "晚于今天"),
    ({"boards": -1}, "boards", "板报不能为负数"),
    ({"participants": -3}, "participants", "参加人数不能为负数"),
    ({"cost": Decimal("-10")}, "cost", "活动经费不能为负数"),
    ({"cost": "12.345"}, "cost", "两位小数"),
    ({"title": "  "}, "title", "请填写标题"),
    ({"type": "party"}, "type", "请选择活动类型"),
]


@pytest.mark.parametrize(("fields", "field", "message"), BAD_INPUT)
def test_bad_fields_are_refused_by_name_and_nothing_is_saved(office, township, people, fields, field, message):
    with pytest.raises(ValidationError) as error:
        visit(township, office, recipients=[{"beneficiary": people[0], "amount": "500"}], photos=[png()], **fields)
    assert message in " ".join(error.value.message_dict[field])
    assert nothing_saved()


def test_a_recipient_outside_the_county_is_refused_by_name(office, township, people, far_person):
    with pytest.raises(ValidationError) as error:
        visit(
            township,
            office,
            recipients=[{"beneficiary": people[0], "amount": "500"}, {"beneficiary": far_person, "amount": "500"}],
            gifts=[{"recipient_name": "某连队", "money": "1000"}],
        )
    assert error.value.message_dict["recipients"] == [
        "慰问对象“钱*山”：不在示例县的优抚对象名册中，只能慰问组织单位所在县（区）的优抚对象。"
    ]
    assert nothing_saved()


@pytest.mark.parametrize(
    ("part", "message"),
    [
        ({"gifts": [{"recipient_name": "", "money": "100"}]}, "慰问单位第 1 行：请选择受赠单位或填写单位名称"),
        ({"gifts": [{"recipient_name": "某连队", "money": "-100"}]}, "慰问单位第 1 行：慰问金不能为负数"),
        ({"groups": [{"description": "困难群众", "people": 3, "money": "-1"}]}, "慰问群体第 1 行：慰问金不能为负数"),
        ({"groups": [{"description": "困难群众", "people": 0}]}, "慰问群体第 1 行：人数应大于 0"),
        ({"groups": [{"description": "困难群众", "people": -2}]}, "慰问群体第 1 行：人数不能为负数"),
    ],
)
def test_bad_rows_are_refused_with_their_row_and_nothing_is_saved(office, township, people, part, message):
    with pytest.raises(ValidationError) as error:
        visit(township, office, recipients=[{"beneficiary": people[0], "amount": "500"}], **part)
    assert message in " ".join(error.value.messages)
    assert nothing_saved()


def test_a_negative_recipient_amount_is_refused(office, township, people):
    with pytest.raises(ValidationError) as error:
        visit(township, office, recipients=[{"beneficiary": people[0], "amount": "-500"}])
    assert error.value.message_dict["recipients"] == ["慰问对象“李*海”：慰问金不能为负数。"]
    assert nothing_saved()


def test_the_same_person_twice_in_one_activity_is_refused(office, township, people):
    with pytest.raises(ValidationError, match="出现了两次"):
        visit(township, office, recipients=[{"beneficiary": people[0], "amount": "500"}] * 2)
    assert nothing_saved()


def test_a_military_unit_or_pairing_from_elsewhere_is_refused(office, township, far_garrison, other_pairing):
    with pytest.raises(ValidationError) as error:
        visit(township, office, military_units=[far_garrison], pairings=[other_pairing])
    assert error.value.message_dict["military_units"] == ["“邻县武警中队”不是示例县的部队或共建力量。"]
    assert "不属于溧东镇及其下属单位" in error.value.message_dict["pairings"][0]
    assert nothing_saved()


def test_the_county_garrison_and_the_unit_s_own_pairing_are_accepted(liaison, township, military_unit, pairing):
    activity = visit(township, liaison, military_units=[military_unit], pairings=[pairing])
    assert list(activity.military_units.all()) == [military_unit]
    assert list(activity.pairings.all()) == [pairing]


@pytest.mark.parametrize("who", ["liaison", "leader", "outsider", "bureau_liaison"])
def test_a_unit_outside_the_user_s_editable_scope_is_refused(personas, other_township, who):
    with pytest.raises(ValidationError) as error:
        visit(other_township, personas[who])
    assert error.value.message_dict["unit"] == ["所选单位不存在或不在您的管辖范围内。"]
    assert nothing_saved()


def test_a_leader_records_nothing_even_in_their_own_county(leader, county):
    with pytest.raises(ValidationError):
        visit(county, leader)
    assert nothing_saved()


def test_a_village_liaison_s_township_is_out_of_reach_but_the_village_is_not(village, township, make_village_liaison):
    with pytest.raises(ValidationError):
        visit(township, make_village_liaison)
    assert visit(village, make_village_liaison).unit == village


@pytest.fixture
def make_village_liaison(village):
    from conftest import make_user
    from units.constants import Role

    return make_user("village_liaison", village, Role.LIAISON)


def test_one_bad_photo_saves_no_activity_no_payment_and_no_file(office, township, people, settings):
    text = SimpleUploadedFile("现场.jpg", "这不是照片".encode() * 20, content_type="image/jpeg")
    with pytest.raises(ValidationError) as error:
        visit(township, office, recipients=[{"beneficiary": people[0], "amount": "500"}], photos=[png(), text])
    assert error.value.message_dict["photos"] == ["照片：文件“现场.jpg”不是图片（JPEG/PNG）。"]
    assert nothing_saved()
    media = settings.MEDIA_ROOT / "activity-photos"
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))


# Edits


def test_an_edit_adds_recipients_replaces_gifts_and_keeps_history(office, liaison, township, people):
    activity = visit(
        township,
        liaison,
        recipients=[{"beneficiary": people[0], "amount": "500"}],
        gifts=[{"recipient_name": "某连队", "money": "1000"}],
    )
    kept = {"beneficiary": people[0], "amount": Decimal("500"), "goods": "米油", "goods_value": Decimal("60")}
    services.activity_update(
        activity=activity,
        updated_by=office,
        title="八一走访慰问（补记）",
        recipients=[kept, {"beneficiary": people[1], "amount": "300"}],
        gifts=[{"recipient_name": "某连队", "money": "1500"}],
        groups=[],
    )
    activity.refresh_from_db()
    assert activity.title == "八一走访慰问（补记）"
    assert activity.money == Decimal("2300.00")
    assert activity.goods_value == Decimal("60.00")
    assert Payment.objects.filter(beneficiary=people[1], reference=f"activity:{activity.pk}").get().amount == Decimal(
        "300.00"
    )
    assert Payment.objects.count() == 2
    assert list(Gift.objects.values_list("money", flat=True)) == [Decimal("1500.00")]
    assert [h.history_type for h in activity.history.order_by("history_date")] == ["+", "~"]
    assert activity.history.latest().history_user == office


def test_an_edit_cannot_drop_a_paid_recipient_or_change_their_amount(office, township, people):
    activity = visit(township, office, recipients=[{"beneficiary": p, "amount": "500"} for p in people[:2]])
    with pytest.raises(ValidationError) as error:
        services.activity_update(
            activity=activity, updated_by=office, recipients=[{"beneficiary": people[0], "amount": "600"}]
        )
    messages = error.value.message_dict["recipients"]
    assert any("“陈*英”已登记，不能从活动中删除" in m for m in messages)
    assert any("“李*海”的慰问金 500.00 元已记入发放台账" in m for m in messages)
    assert Recipient.objects.count() == 2
    assert Payment.objects.aggregate(total=Sum("amount"))["total"] == Decimal("1000.00")


def test_the_date_of_a_paid_visit_cannot_move(office, township, people):
    activity = visit(township, office, recipients=[{"beneficiary": people[0], "amount": "500"}])
    with pytest.raises(ValidationError) as error:
        services.activity_update(activity=activity, updated_by=office, start_date=D(2026, 7, 30))
    assert "活动日期不能再改" in error.value.message_dict["start_date"][0]


def test_a_liaison_cannot_edit_another_township_s_activity(office, liaison, other_township):
    activity = visit(other_township, office)
    with pytest.raises(ValidationError):
        services.activity_update(activity=activity, updated_by=liaison, title="改")
    activity.refresh_from_db()
    assert activity.title == "八一走访慰问"


def test_groups_and_photos_keep_the_totals(office, township):
    activity = visit(township, office, groups=[{"description": "困难群众", "people": 5, "money": "1000"}])
    photo = services.photo_add(activity=activity, file=png(), uploaded_by=office)
    services.photo_add(activity=activity, file=png("二.png"), uploaded_by=office)
    activity.refresh_from_db()
    assert (activity.recipient_count, activity.photo_count, activity.money) == (5, 2, Decimal("1000.00"))
    services.photo_remove(photo=photo, removed_by=office)
    activity.refresh_from_db()
    assert activity.photo_count == 1
    assert RecipientGroup.objects.get().people == 5


# Earlier visits of the same occasion


def test_previous_condolence_finds_the_same_occasion_and_year_only(office, liaison, county, township, people):
    first = visit(county, office, on=D(2026, 7, 25), recipients=[{"beneficiary": people[0], "amount": "1000"}])
    visit(township, office, on=D(2025, 7, 25), recipients=[{"beneficiary": people[0], "amount": "300"}])
    visit(
        township,
        office,
        on=D(2026, 2, 1),
        occasion=Occasion.SPRING_FESTIVAL,
        recipients=[{"beneficiary": people[0], "amount": "300"}],
    )
    second = visit(township, liaison, recipients=[{"beneficiary": people[0], "amount": "500"}])

    earlier = services.previous_condolence(
        beneficiary=people[0], occasion=Occasion.ARMY_DAY, year=2026, exclude_activity=second
    )
    assert [v.activity for v in earlier] == [first]
    assert services.repeat_warnings(activity=second) == [
        "“李*海”已领取过2026年八一慰问金：2026-07-25 示例县慰问 1,000.00 元"
    ]
    assert services.previous_condolence(beneficiary=people[1], occasion=Occasion.ARMY_DAY, year=2026) == []


def test_county_of_finds_the_county_above_a_village(county, village, city):
    assert services.county_of(village) == county
    assert services.county_of(county) == county
    assert services.county_of(city) == city
