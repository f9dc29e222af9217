import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.urls import reverse

from activities.constants import ActivityType, Occasion
from activities.models import Activity, Gift, Photo, RecipientGroup
from beneficiaries.constants import PaymentKind
from beneficiaries.models import Payment

from .log_data import make_person, photo, record

D = datetime.date
CREATE = reverse("activities:create")
VISIT_DAY = D(2026, 7, 28)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 8, 10, 10, 0), tick=False):
        yield


def visit(unit, by, *, title="八一慰问", on=VISIT_DAY, occasion="", **fields):
    """A visit recorded through the service (on the form's date, no occasion, unless told otherwise)."""
    return record(unit, by, title=title, on=on, occasion=occasion, **fields)


def formset(prefix, rows, initial=0):
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial)}
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


def form_data(unit, *, gifts=(), groups=(), recipients=(), **fields):
    data = {
        "unit": unit.pk,
        "type": ActivityType.VISIT,
        "occasion": Occasion.ARMY_DAY,
        "start_date": "2026-07-28",
        "title": "八一走访慰问",
        "place": "溧东镇",
        "participants": "12",
        **fields,
    }
    data.update(formset("gifts", list(gifts)))
    data.update(formset("groups", list(groups)))
    data.update(formset("recipients", list(recipients)))
    return data


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def counts():
    return Activity.objects.count(), Payment.objects.count(), Photo.objects.count(), Gift.objects.count()


@pytest.fixture
def people(township, other_township):
    return [
        make_person(township, 1, "李大海", "ldh"),
        make_person(township, 2, "陈桂英", "cgy"),
        make_person(other_township, 3, "赵德明", "zdm"),
    ]


@pytest.fixture
def county_condolence(office, county, people):
    """The county's 八一 visit gave the first person 1,000 元 on 2026-07-25."""
    return visit(
        county,
        office,
        title="县领导八一走访",
        on=D(2026, 7, 25),
        occasion=Occasion.ARMY_DAY,
        recipients=[{"beneficiary": people[0], "amount": "1000"}],
    )


# Recording a visit


def test_a_liaison_records_a_visit_with_recipients_a_gift_a_group_and_photos(
    client, liaison, township, military_unit, pairing, people
):
    client.force_login(liaison)
    data = form_data(
        township,
        military_units=[military_unit.pk],
        pairings=[pairing.pk],
        gifts=[{"recipient_unit": military_unit.pk, "money": "5000", "goods": "西瓜 20 箱", "goods_value": "800"}],
        groups=[{"description": "困难群众", "people": "4", "money": "800"}],
        recipients=[{"beneficiary": p.pk, "amount": "500", "goods": "米油"} for p in people],
        photos=[photo("一.png"), photo("二.png")],
    )
    response = client.post(CREATE, data)
    activity = Activity.objects.get()
    assert response.status_code == 302
    assert response.url == activity.get_absolute_url()

    payments = Payment.objects.filter(reference=f"activity:{activity.pk}", kind=PaymentKind.CONDOLENCE)
    assert sorted(payments.values_list("beneficiary_id", flat=True)) == sorted(p.pk for p in people)
    assert payments.aggregate(total=Sum("amount"))["total"] == Decimal("1500.00")

    page = text(client.get(response.url))
    assert "已登记活动“八一走访慰问”。" in page
    assert "示例县人武部" in page
    assert "合计 1 个单位" in page
    assert "合计 3 人" in page
    assert ">1,500.00<" in page
    # Money: 5000 (gift) + 800 (group) + 1500 (recipients); goods 800.
    assert "7,300.00 元" in page
    assert "800.00 元" in page
    assert "8,100.00 元" in page
    assert "7 人" in page  # 3 registry people + 4 in the group
    assert '照片 <span class="text-muted small">2 张</span>' in page
    assert '参加人数</dt><dd class="col-sm-9">12 人' in page
    # The liaison sees their own township's people by name, the other township's masked.
    assert ">李大海</a>" in page
    assert "赵*明" in page
    assert "赵德明" not in page


def test_the_create_form_offers_the_user_s_units_and_shows_counts_only_for_their_types(client, liaison, township):
    client.force_login(liaison)
    page = client.get(CREATE).content.decode()
    units = re.search(r'<select name="unit".*?</select>', page, re.S).group(0)
    assert "溧东镇" in units
    assert "示例县" not in units.replace("溧东镇", "")
    assert 'data-show-when="type:publicity,defense_edu"' in page  # 板报
    assert 'data-show-when="type:conscription"' in page  # 报名
    assert 'accept="image/jpeg,image/png"' in page
    assert "multiple" in re.search(r'<input type="file"[^>]*>', page).group(0)
    # One unit to choose from: the cursor starts on the type.
    assert re.search(r'<select name="type"[^>]*autofocus', page)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"start_date": "2026-07-28", "end_date": "2026-07-27"}, "结束日期 2026-07-27 早于开始日期 2026-07-28。"),
        ({"start_date": "2026-08-11"}, "活动日期 2026-08-11 晚于今天"),
        ({"participants": "-5"}, "参加人数不能为负数。"),
        ({"boards": "-1", "type": ActivityType.PUBLICITY}, "板报（期）不能为负数。"),
        ({"cost": "-100"}, "活动经费（元）不能为负数。"),
        ({"start_date": ""}, "请填写活动日期。"),
        ({"type": ""}, "请选择活动类型。"),
    ],
)
def test_bad_input_is_refused_with_its_message_and_nothing_saved(client, office, township, people, fields, message):
    client.force_login(office)
    data = form_data(
        township,
        recipients=[{"beneficiary": people[0].pk, "amount": "500"}],
        gifts=[{"recipient_name": "某连队", "money": "1000"}],
        photos=[photo()],
        **fields,
    )
    response = client.post(CREATE, data)
    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert "本次未保存任何内容" in page
    assert counts() == (0, 0, 0, 0)


def test_negative_money_in_a_row_is_refused(client, office, township, people):
    client.force_login(office)
    data = form_data(
        township,
        recipients=[{"beneficiary": people[0].pk, "amount": "-500"}],
        groups=[{"description": "困难群众", "people": "3", "money": "-1"}],
    )
    page = text(client.post(CREATE, data))
    assert page.count("慰问金（元）不能为负数。") == 2
    assert counts() == (0, 0, 0, 0)
    assert RecipientGroup.objects.count() == 0


def test_a_recipient_from_another_county_is_refused(client, office, township, other_township_far):
    stranger = make_person(other_township_far, 7, "钱远山")
    client.force_login(office)
    page = text(client.post(CREATE, form_data(township, recipients=[{"beneficiary": stranger.pk, "amount": "500"}])))
    assert "所选对象不在本县（区）优抚对象名册中。" in page
    assert counts() == (0, 0, 0, 0)


def test_a_photo_that_is_not_an_image_is_refused(client, office, township, people):
    client.force_login(office)
    fake = SimpleUploadedFile("现场.jpg", b"<html>not a photo</html>\n" * 10, content_type="image/jpeg")
    data = form_data(township, recipients=[{"beneficiary": people[0].pk, "amount": "500"}], photos=[photo(), fake])
    page = text(client.post(CREATE, data))
    assert "照片：文件“现场.jpg”不是图片（JPEG/PNG）。" in page
    assert "照片需重新选择" in page
    assert counts() == (0, 0, 0, 0)


def test_a_photo_over_the_size_limit_is_refused(client, office, township, settings):
    settings.PHOTO_MAX_BYTES = 100
    client.force_login(office)
    page = text(client.post(CREATE, form_data(township, photos=[photo("大图.png", size=(60, 40))])))
    assert "照片：文件“大图.png”超过 100 字节 上限。" in page
    assert counts() == (0, 0, 0, 0)


def test_copying_an_activity_one_cannot_see_is_not_found(client, office, liaison, other_township):
    hidden = visit(other_township, office, title="雅灰乡八一")
    client.force_login(liaison)
    assert client.get(f"{CREATE}?copy={hidden.pk}").status_code == 404


def test_a_tampered_unit_id_is_refused_like_a_missing_choice(client, liaison, other_township, county):
    client.force_login(liaison)
    for unit in (other_township, county):
        page = text(client.post(CREATE, form_data(unit)))
        assert "所选单位不存在或不在您的管辖范围内。" in page
    assert counts() == (0, 0, 0, 0)


def test_a_liaison_cannot_open_another_township_s_activity_for_edit(client, office, liaison, other_township):
    activity = visit(other_township, office)
    client.force_login(liaison)
    assert client.get(activity.get_absolute_url()).status_code == 404
    assert client.get(reverse("activities:edit", args=[activity.pk])).status_code == 404
    assert client.post(reverse("activities:edit", args=[activity.pk]), form_data(other_township)).status_code == 404


def test_a_leader_reads_the_activity_without_edit_buttons_and_records_nothing(client, leader, office, township):
    activity = visit(township, office)
    client.force_login(leader)
    page = client.get(activity.get_absolute_url()).content.decode()
    assert "八一慰问" in page
    assert reverse("activities:edit", args=[activity.pk]) not in page
    assert reverse("activities:photo_add", args=[activity.pk]) not in page
    assert client.get(CREATE).status_code == 404
    assert client.post(CREATE, form_data(township)).status_code == 404
    assert client.get(reverse("activities:edit", args=[activity.pk])).status_code == 404


def test_a_repeat_condolence_for_the_same_occasion_saves_with_a_warning(
    client, liaison, township, people, county_condolence
):
    client.force_login(liaison)
    response = client.post(CREATE, form_data(township, recipients=[{"beneficiary": people[0].pk, "amount": "500"}]))
    assert response.status_code == 302
    page = text(client.get(response.url))
    assert "请核实：“李*海”已领取过2026年八一慰问金：2026-07-25 示例县慰问 1,000.00 元。" in page
    assert Payment.objects.filter(beneficiary=people[0]).count() == 2


# Copy and edit


def test_copy_prefills_unit_type_occasion_place_units_pairings_gifts_and_groups(
    client, office, township, military_unit, pairing, people
):
    source = visit(
        township,
        office,
        title="春节走访慰问",
        on=D(2026, 2, 10),
        occasion=Occasion.SPRING_FESTIVAL,
        place="镇敬老院",
        leaders="陈书记、周镇长",
        military_units=[military_unit],
        pairings=[pairing],
        gifts=[{"recipient_unit": military_unit, "money": "3000", "goods": "年货"}],
        groups=[{"description": "军退干部", "people": 6, "money": "1200"}],
        recipients=[{"beneficiary": people[0], "amount": "500"}],
        photos=[photo()],
    )
    client.force_login(office)
    page = client.get(f"{CREATE}?copy={source.pk}").content.decode()
    assert "复制“春节走访慰问”" in page
    assert re.search(rf'<option value="{township.pk}" selected>溧东镇</option>', page)
    assert '<option value="spring" selected>春节</option>' in page
    assert 'value="镇敬老院"' in page
    assert 'value="陈书记、周镇长"' in page
    assert re.search(rf'name="military_units" value="{military_unit.pk}"[^>]*checked', page)
    assert re.search(rf'name="pairings" value="{pairing.pk}"[^>]*checked', page)
    assert re.search(rf'<option value="{military_unit.pk}" selected>示例县人武部</option>', page)
    assert 'value="3000.00"' in page
    assert 'value="军退干部"' in page
    # The date and the people are this time's.
    assert re.search(r'name="start_date"(?![^>]*value=)[^>]*>', page)
    assert "李*海" not in page


def test_an_edit_adds_a_recipient_and_shows_in_the_history(client, office, liaison, township, people):
    activity = visit(
        township,
        liaison,
        title="八一走访慰问",
        occasion=Occasion.ARMY_DAY,
        recipients=[{"beneficiary": people[0], "amount": "500"}],
        gifts=[{"recipient_name": "某连队", "money": "1000"}],
    )
    client.force_login(liaison)
    url = reverse("activities:edit", args=[activity.pk])
    page = client.get(url).content.decode()
    assert "李大海" not in page and "李*海" in page  # existing recipients, read only
    data = form_data(
        township,
        title="八一走访慰问驻地部队",
        recipients=[{"beneficiary": people[1].pk, "amount": "300"}],
    )
    data.update(formset("gifts", [{"recipient_name": "某连队", "money": "1200"}], initial=1))
    response = client.post(url, data)
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.money == Decimal("2000.00")
    assert Payment.objects.filter(reference=f"activity:{activity.pk}").count() == 2
    page = text(client.get(activity.get_absolute_url()))
    assert "张联络员 修改：地点、标题、参加人数" in page
    assert "张联络员 登记" in page


def test_the_office_corrects_a_recipient_on_the_page(client, office, liaison, township, people):
    activity = visit(township, liaison, title="八一走访慰问", recipients=[{"beneficiary": people[0], "amount": "500"}])
    recipient = activity.recipients.get()
    url = reverse("activities:recipient_correct", args=[activity.pk, recipient.pk])
    client.force_login(liaison)
    assert client.get(url).status_code == 404
    assert "更正</a>" not in client.get(activity.get_absolute_url()).content.decode()
    client.force_login(office)
    assert client.post(url, {"amount": "800", "reason": "实发800元"}).status_code == 302
    page = text(client.get(activity.get_absolute_url()))
    assert "800.00 元" in page
    assert "500.00+300.00" in page
    assert Payment.objects.filter(beneficiary=people[0]).aggregate(total=Sum("amount"))["total"] == Decimal("800.00")


def test_the_detail_shows_counts_only_when_they_are_not_zero(client, office, township):
    activity = record(
        township,
        office,
        type=ActivityType.PUBLICITY,
        title="国防教育宣传",
        on=D(2026, 9, 1) - datetime.timedelta(days=30),
        occasion="",
        boards=6,
        slogans=0,
    )
    client.force_login(office)
    page = text(client.get(activity.get_absolute_url()))
    assert '板报</dt><dd class="col-sm-9">6 期' in page
    assert "标语" not in page
    assert "官兵人数" not in page


# The htmx helpers


def test_the_recipient_search_finds_the_county_s_people_masked_and_without_a_link(
    client, liaison, township, people, other_township_far
):
    make_person(other_township_far, 8, "李大山", "lds")
    client.force_login(liaison)
    url = reverse("activities:recipient_search")
    page = text(client.post(url, {"q": "李", "unit": township.pk}))
    assert "李*海" in page
    assert "李*山" not in page  # another county's registry
    assert "李大海" not in page
    assert people[0].id_number not in page
    assert "/beneficiaries/" not in page
    assert f'data-pk="{people[0].pk}"' in page
    # Pinyin initials find the other township's person of the same county.
    page = text(client.post(url, {"q": "zdm", "unit": township.pk}))
    assert "赵*明" in page and "雅灰乡" in page


def test_the_recipient_search_warns_of_an_earlier_condolence_for_the_same_occasion(
    client, liaison, township, people, county_condolence
):
    client.force_login(liaison)
    url = reverse("activities:recipient_search")
    params = {"q": "ldh", "unit": township.pk, "start_date": "2026-07-30"}
    page = text(client.post(url, {**params, "occasion": Occasion.ARMY_DAY}))
    assert "已领取过同一时机的慰问金：2026-07-25 示例县慰问 1,000.00 元" in page
    page = text(client.post(url, {**params, "occasion": Occasion.NATIONAL_DAY}))
    assert "已领取过" not in page


def test_a_full_id_number_is_not_searched(client, liaison, township, people):
    client.force_login(liaison)
    page = text(client.post(reverse("activities:recipient_search"), {"q": people[0].id_number, "unit": township.pk}))
    assert "不必输入完整号码" in page
    assert "李*海" not in page


def test_unit_options_offer_the_chosen_unit_s_pairings(client, office, county, township, other_township, pairing):
    client.force_login(office)
    url = reverse("activities:unit_options")
    page = client.get(url, {"unit": township.pk}).content.decode()
    assert f'value="{pairing.pk}"' in page
    assert "示例县人武部" in page
    page = client.get(url, {"unit": other_township.pk}).content.decode()
    assert "没有共建对子" in page
