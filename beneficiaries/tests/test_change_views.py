import datetime
import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from beneficiaries.constants import AccessKind, Category, ChangeKind, Status, TransferStatus
from beneficiaries.models import AccessLog, Award, Beneficiary, ConfirmationRound, Entitlement, StatusChange, Transfer
from beneficiaries.services import beneficiary_create, change_record, entitlement_add
from conftest import make_user, valid_id_number
from shuangyong.lib.idcard import mask_id_number
from units.constants import Role, UnitKind
from units.models import Unit

from .conftest import post_death

TODAY = datetime.date(2026, 3, 10)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NEW_ID = valid_id_number("32048119580301002")


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 3, 10, 10, 0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def stranger(other_township, office):
    """A person of 雅灰乡: same county as the liaison, another township."""
    return beneficiary_create(
        name="孙卫东",
        id_number=valid_id_number("32048119550505005"),
        township=other_township,
        effective_on=datetime.date(2025, 1, 2),
        created_by=office,
    )


def wrong_check_digit(number):
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def lookup(client, number):
    return client.post(reverse("beneficiaries:create"), {"step": "lookup", "id_number": number})


def full_form(township, village, **extra):
    return {
        "step": "save",
        "id_number": NEW_ID,
        "name": "李秀英",
        "township": township.pk,
        "village": village.pk,
        "phone": "13900000000",
        "category": Category.DISABLED,
        "grade": "5",
        "nature": "war",
        "start_on": "2020-01-01",
        "effective_on": "2026-03-01",
        **extra,
    }


# Registration


def test_the_first_step_asks_for_the_id_number(client, liaison):
    client.force_login(liaison)
    response = client.get(reverse("beneficiaries:create"))
    assert response.status_code == 200
    assert "第一步：输入居民身份证号" in response.content.decode()


@pytest.mark.parametrize(
    "number, message",
    [
        (wrong_check_digit(NEW_ID), "校验码不符"),
        (valid_id_number("32048119580230002"), "不是有效日期"),
        (valid_id_number("32048120260401002"), "晚于今天"),
    ],
)
def test_a_bad_id_number_is_refused_on_its_field(client, liaison, number, message):
    client.force_login(liaison)
    response = lookup(client, number)
    assert response.status_code == 200
    assert message in response.context["form"].errors["id_number"][0]
    assert message in response.content.decode()
    assert not Beneficiary.objects.exists()


def test_a_new_number_opens_the_full_form_with_sex_and_birth_date(client, liaison, township):
    client.force_login(liaison)
    response = lookup(client, NEW_ID.lower() if NEW_ID.endswith("X") else NEW_ID)
    page = response.content.decode()
    assert 'data-derived="sex">女<' in page
    assert 'data-derived="birth_date">1958-03-01<' in page
    assert response.context["form"].initial["township"] == township


def test_registering_creates_the_person_entitlement_and_add_event(client, liaison, township, village):
    client.force_login(liaison)
    response = client.post(reverse("beneficiaries:create"), full_form(township, village))
    person = Beneficiary.objects.get()
    assert response.status_code == 302 and response.url == person.get_absolute_url()
    assert (person.name, person.sex, person.birth_date, person.village) == (
        "李秀英",
        "女",
        datetime.date(1958, 3, 1),
        village,
    )
    assert person.entitlements.get().grade == 5
    assert person.changes.get().kind == ChangeKind.ADD


def test_illness_grade_8_is_refused_in_the_form_and_nothing_is_saved(client, liaison, township, village):
    client.force_login(liaison)
    response = client.post(reverse("beneficiaries:create"), full_form(township, village, nature="illness", grade="8"))
    assert response.status_code == 200
    assert response.context["form"].errors["grade"] == ["因病致残七至十级不享受残疾抚恤金。"]
    assert not Beneficiary.objects.exists()


def test_a_tampered_hidden_id_number_saves_nothing(client, liaison, township, village):
    client.force_login(liaison)
    response = client.post(
        reverse("beneficiaries:create"), full_form(township, village, id_number=wrong_check_digit(NEW_ID))
    )
    assert response.status_code == 200
    assert "校验码不符" in response.context["form"].errors["id_number"][0]
    assert not Beneficiary.objects.exists()


def test_a_village_of_another_township_is_refused(client, office, township, other_township):
    far = Unit.objects.create(name="西村", kind=UnitKind.VILLAGE, parent=other_township)
    client.force_login(office)
    response = client.post(reverse("beneficiaries:create"), full_form(township, far))
    assert "不属于溧东镇" in response.context["form"].errors["village"][0]
    assert not Beneficiary.objects.exists()


def test_a_known_number_in_scope_opens_that_person(client, liaison, person):
    client.force_login(liaison)
    response = lookup(client, person.id_number)
    assert response.status_code == 302 and response.url == person.get_absolute_url()
    followed = client.get(response.url)
    assert "已为您打开其档案" in followed.content.decode()


def test_a_number_of_another_township_asks_for_the_office_and_shows_no_one(client, liaison, stranger):
    client.force_login(liaison)
    response = lookup(client, stranger.id_number)
    page = response.content.decode()
    assert "请联系县（区）双拥办" in page
    assert "孙卫东" not in page and "雅灰乡" not in page
    assert not AccessLog.objects.exists()


def test_a_number_of_another_county_says_only_that_and_is_logged(client, outsider, other_township_far, person):
    client.force_login(outsider)
    response = lookup(client, person.id_number)
    page = response.content.decode()
    assert "该身份证号已在其他县（区）登记，需由原登记地办理迁出" in page
    for secret in ("王建国", "溧东镇", "东村", "残疾"):
        assert secret not in page
    row = AccessLog.objects.get()
    assert (row.kind, row.user, row.unit, row.beneficiary) == (AccessKind.FOREIGN_ID, outsider, person.township, person)
    assert person.id_number not in row.detail
    assert Beneficiary.objects.count() == 1


def test_a_second_step_with_a_foreign_number_is_refused_and_logged(client, outsider, other_township_far, person):
    client.force_login(outsider)
    data = full_form(other_township_far, other_township_far, id_number=person.id_number)
    data.pop("village")
    response = client.post(reverse("beneficiaries:create"), data)
    assert "其他县（区）登记" in response.content.decode()
    assert Beneficiary.objects.count() == 1
    assert AccessLog.objects.filter(kind=AccessKind.FOREIGN_ID).count() == 1


# Editing


def edit_data(person, **extra):
    return {
        "name": person.name,
        "township": person.township_id,
        "village": person.village_id or "",
        "phone": person.phone,
        "version": person.version,
        **extra,
    }


def test_a_liaison_edits_a_person_without_the_id_number_field(client, liaison, person):
    client.force_login(liaison)
    assert "id_number" not in client.get(reverse("beneficiaries:edit", args=[person.pk])).context["form"].fields
    response = client.post(reverse("beneficiaries:edit", args=[person.pk]), edit_data(person, phone="13712345678"))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.phone == "13712345678" and person.version == 2


def test_the_edit_page_never_sends_the_full_id_number_or_bank_account(client, office, person):
    client.force_login(office)
    page = client.get(reverse("beneficiaries:edit", args=[person.pk])).content.decode()
    assert person.id_number not in page and person.bank_account not in page
    assert mask_id_number(person.id_number) in page
    assert "**** **** **** 0018" in page


def test_blank_id_number_and_bank_account_keep_the_stored_ones(client, office, person):
    client.force_login(office)
    data = edit_data(person, phone="139", id_number="", bank_account="")
    assert client.post(reverse("beneficiaries:edit", args=[person.pk]), data).status_code == 302
    person.refresh_from_db()
    assert (person.phone, person.bank_account) == ("139", "6228480402564890018")
    assert person.id_number == valid_id_number("32048119620517001")


def test_a_stale_edit_is_refused_with_a_message(client, liaison, office, person):
    client.force_login(office)
    client.post(
        reverse("beneficiaries:edit", args=[person.pk]), edit_data(person, phone="111", id_number=person.id_number)
    )
    client.force_login(liaison)
    response = client.post(reverse("beneficiaries:edit", args=[person.pk]), edit_data(person, phone="222"))
    assert response.status_code == 200
    assert "该记录已被李干事于" in response.content.decode()
    person.refresh_from_db()
    assert person.phone == "111"


def test_office_staff_fix_an_id_number(client, office, person):
    fixed = valid_id_number("32048119620517003")
    client.force_login(office)
    response = client.post(reverse("beneficiaries:edit", args=[person.pk]), edit_data(person, id_number=fixed))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.id_number == fixed


# Entitlements and awards


def test_illness_grade_8_is_refused_when_adding_an_entitlement(client, liaison, person):
    client.force_login(liaison)
    response = client.post(
        reverse("beneficiaries:entitlement_add", args=[person.pk]),
        {"category": Category.DISABLED, "grade": "8", "nature": "illness", "start_on": "2025-01-01"},
    )
    assert response.context["form"].errors["grade"] == ["因病致残七至十级不享受残疾抚恤金。"]
    assert person.entitlements.count() == 1


def test_an_entitlement_is_added_with_its_document(client, liaison, person):
    client.force_login(liaison)
    response = client.post(
        reverse("beneficiaries:entitlement_add", args=[person.pk]),
        {
            "category": Category.WAR_VETERAN,
            "start_on": "2025-01-01",
            "document": SimpleUploadedFile("批复.pdf", PDF),
        },
    )
    assert response.status_code == 302
    assert person.entitlements.get(category=Category.WAR_VETERAN).document


def test_an_award_is_recorded_for_a_conscript_family(client, liaison, person):
    family = entitlement_add(
        beneficiary=person,
        category=Category.CONSCRIPT_FAMILY,
        start_on=datetime.date(2025, 9, 1),
        serving_member_name="王小军",
        enlistment_date=datetime.date(2025, 9, 10),
        recorded_by=liaison,
    )
    client.force_login(liaison)
    response = client.post(
        reverse("beneficiaries:award_add", args=[family.pk]), {"level": "third", "awarded_on": "2026-01-15"}
    )
    assert response.status_code == 302
    assert Award.objects.get().entitlement == family


def test_the_award_page_of_a_disabled_entitlement_explains_and_offers_no_form(client, liaison, person):
    client.force_login(liaison)
    url = reverse("beneficiaries:award_add", args=[person.entitlements.get().pk])
    assert "只有义务兵家庭、现役军人家属" in client.get(url).content.decode()
    client.post(url, {"level": "third", "awarded_on": "2026-01-15"})
    assert not Award.objects.exists()


# 异动


def test_the_kind_page_offers_what_the_status_allows(client, liaison, person):
    client.force_login(liaison)
    page = client.get(reverse("beneficiaries:change_add", args=[person.pk])).content.decode()
    assert "?kind=death" in page and "?kind=resume" not in page and "?kind=add" not in page


def test_recording_a_death_in_march_shows_the_new_status(client, liaison, person):
    client.force_login(liaison)
    response = post_death(client, person, PDF)
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.status == Status.DECEASED
    assert person.entitlements.get().end_on == datetime.date(2026, 3, 31)
    detail = client.get(person.get_absolute_url()).content.decode()
    assert "死亡" in detail


def test_a_future_effective_date_is_refused_in_the_form(client, liaison, person):
    client.force_login(liaison)
    response = client.post(
        reverse("beneficiaries:change_add", args=[person.pk]),
        {"kind": "hold", "effective_on": "2026-03-11", "reason": "未年审"},
    )
    assert "晚于今天" in response.context["form"].errors["effective_on"][0]
    assert not person.changes.exists()


def test_a_correction_of_a_wrong_death_restores_active(client, liaison, person):
    death = change_record(beneficiary=person, kind=ChangeKind.DEATH, effective_on=TODAY, recorded_by=liaison)
    client.force_login(liaison)
    url = reverse("beneficiaries:change_add", args=[person.pk])
    assert "?kind=correction" in client.get(url).content.decode()
    response = client.post(
        url, {"kind": "correction", "effective_on": "2026-03-10", "reason": "误报死亡", "corrects": death.pk}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.status == Status.ACTIVE
    assert person.entitlements.get().end_on is None


def test_regrade_through_the_form(client, office, person):
    client.force_login(office)
    response = client.post(
        reverse("beneficiaries:change_add", args=[person.pk]),
        {
            "kind": "regrade",
            "effective_on": "2026-03-01",
            "reason": "评残〔2026〕1号",
            "entitlement": person.entitlements.get().pk,
            "new_grade": "4",
        },
    )
    assert response.status_code == 302
    assert list(person.entitlements.order_by("start_on").values_list("grade", flat=True)) == [6, 4]


def test_the_document_is_served_to_those_who_see_the_person(client, liaison, leader, outsider, person):
    change = change_record(
        beneficiary=person,
        kind=ChangeKind.HOLD,
        effective_on=TODAY,
        reason="未年审",
        document=SimpleUploadedFile("通知.pdf", PDF),
        recorded_by=liaison,
    )
    url = reverse("beneficiaries:change_document", args=[change.pk])
    client.force_login(leader)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert "attachment" in response["Content-Disposition"]
    client.force_login(outsider)
    assert client.get(url).status_code == 404


# Who may act


@pytest.mark.parametrize("name", ["edit", "entitlement_add", "change_add"])
def test_a_liaison_gets_404_on_another_townships_person(client, liaison, stranger, name):
    client.force_login(liaison)
    url = reverse(f"beneficiaries:{name}", args=[stranger.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"kind": "death", "effective_on": "2026-03-01"}).status_code == 404
    stranger.refresh_from_db()
    assert stranger.status == Status.ACTIVE


@pytest.mark.parametrize("name", ["edit", "entitlement_add", "change_add"])
def test_a_leader_post_gets_404_and_changes_nothing(client, leader, person, name):
    client.force_login(leader)
    response = client.post(
        reverse(f"beneficiaries:{name}", args=[person.pk]),
        {"kind": "death", "effective_on": "2026-03-01", "name": "改名", "version": person.version},
    )
    assert response.status_code == 404
    person.refresh_from_db()
    assert (person.name, person.status) == ("王建国", Status.ACTIVE)


def test_a_leader_cannot_register(client, leader, township, village):
    client.force_login(leader)
    assert client.post(reverse("beneficiaries:create"), full_form(township, village)).status_code == 404
    assert not Beneficiary.objects.exists()


@pytest.mark.parametrize("name", ["edit", "entitlement_add", "change_add"])
def test_an_outsider_gets_404(client, outsider, person, name):
    client.force_login(outsider)
    assert client.get(reverse(f"beneficiaries:{name}", args=[person.pk])).status_code == 404


def test_an_outsider_gets_404_on_the_notice_pdf(client, outsider, person):
    client.force_login(outsider)
    assert client.get(reverse("beneficiaries:notice_pdf", args=[person.village_id])).status_code == 404


# Transfers


def test_a_transfer_from_form_to_acceptance(client, office, outsider, person, other_county, other_township_far):
    client.force_login(office)
    url = reverse("beneficiaries:change_add", args=[person.pk])
    form_page = client.get(url + "?kind=transfer_out").content.decode()
    assert "邻县" in form_page
    response = client.post(
        url,
        {"kind": "transfer_out", "effective_on": "2026-03-01", "reason": "随子女迁居", "to_county": other_county.pk},
    )
    assert response.status_code == 302
    transfer = Transfer.objects.get()

    client.force_login(outsider)
    page = client.get(reverse("beneficiaries:transfers")).content.decode()
    assert "王建国" in page and person.id_number not in page
    accept = reverse("beneficiaries:transfer_accept", args=[transfer.pk])
    assert "自 2027年1月 起发放" in client.get(accept).content.decode()
    response = client.post(accept, {"township": other_township_far.pk, "effective_on": "2026-03-05"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.township, person.status) == (other_township_far, Status.ACTIVE)
    assert client.get(person.get_absolute_url()).status_code == 200
    client.force_login(office)
    assert client.get(person.get_absolute_url()).status_code == 404


def test_the_sender_withdraws_from_the_transfers_page(client, office, person, other_county):
    change_record(
        beneficiary=person,
        kind=ChangeKind.TRANSFER_OUT,
        effective_on=TODAY,
        to_county=other_county,
        recorded_by=office,
    )
    transfer = Transfer.objects.get()
    client.force_login(office)
    response = client.post(reverse("beneficiaries:transfers"), {"withdraw": transfer.pk})
    assert response.status_code == 302
    transfer.refresh_from_db()
    person.refresh_from_db()
    assert (transfer.status, person.status) == (TransferStatus.WITHDRAWN, Status.ACTIVE)


def test_the_receiver_cannot_withdraw_and_the_sender_cannot_accept(client, office, outsider, person, other_county):
    change_record(
        beneficiary=person, kind=ChangeKind.TRANSFER_OUT, effective_on=TODAY, to_county=other_county, recorded_by=office
    )
    transfer = Transfer.objects.get()
    client.force_login(outsider)
    assert client.post(reverse("beneficiaries:transfers"), {"withdraw": transfer.pk}).status_code == 404
    client.force_login(office)
    assert client.get(reverse("beneficiaries:transfer_accept", args=[transfer.pk])).status_code == 404
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.PENDING


# Annual confirmation


def test_the_office_runs_the_annual_confirmation(client, office, person, township, _today):
    other = beneficiary_create(
        name="李秀英", id_number=NEW_ID, township=township, effective_on=datetime.date(2025, 1, 2), created_by=office
    )
    client.force_login(office)
    url = reverse("beneficiaries:confirmation")
    client.post(url, {"action": "deadline", "year": "2026", "deadline": "2026-03-31"})
    assert ConfirmationRound.objects.get().deadline == datetime.date(2026, 3, 31)

    client.post(url, {"action": "confirm", "year": "2026", "people": [person.pk]})
    page = client.get(url + "?year=2026").content.decode()
    assert 'data-count="confirmed">1<' in page and 'data-count="unconfirmed">1<' in page

    client.post(url, {"action": "apply", "year": "2026"})
    other.refresh_from_db()
    assert other.status == Status.ACTIVE

    _today.move_to(datetime.datetime(2026, 4, 1, 9, 0))
    client.force_login(office)  # the idle session expired meanwhile
    response = client.post(url, {"action": "apply", "year": "2026"}, follow=True)
    assert "已将 1 名未按期完成2026年度确认的对象停发" in response.content.decode()
    other.refresh_from_db()
    person.refresh_from_db()
    assert (other.status, person.status) == (Status.HELD, Status.ACTIVE)
    page = client.get(url + "?year=2026").content.decode()
    assert "因未按期完成2026年度确认而停发的对象" in page and "李秀英" in page
    changes = StatusChange.objects.count()
    client.post(url, {"action": "apply", "year": "2026"})
    assert StatusChange.objects.count() == changes


def test_a_liaison_confirms_one_person_from_the_person_page(client, liaison, person):
    client.force_login(liaison)
    response = client.post(
        reverse("beneficiaries:change_add", args=[person.pk]),
        {"kind": "confirm", "effective_on": "2026-03-10", "year": "2026"},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.confirmed_year == 2026


def test_the_liaison_has_no_confirmation_page(client, liaison):
    client.force_login(liaison)
    assert client.get(reverse("beneficiaries:confirmation")).status_code == 404


# 公示


def pdf_text(content):
    return "".join("".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages)


def test_the_notice_pdf_lists_the_village_masked(client, leader, person, township, village, office):
    change_record(beneficiary=person, kind=ChangeKind.HOLD, effective_on=TODAY, reason="未年审", recorded_by=office)
    gone = beneficiary_create(
        name="已故者",
        id_number=NEW_ID,
        township=township,
        village=village,
        created_by=office,
        effective_on=datetime.date(2025, 1, 2),
    )
    change_record(beneficiary=gone, kind=ChangeKind.DEATH, effective_on=TODAY, recorded_by=office)
    client.force_login(leader)
    response = client.get(reverse("beneficiaries:notice_pdf", args=[village.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "东村优抚对象公示名单（2026年）" in text
    assert "王建国" in text and "残疾军人（因战六级）" in text and "停发" in text
    assert person.id_number[:4] + "*" * 10 + person.id_number[-4:] in text
    assert person.id_number not in text
    assert "已故者" not in text
    assert "如有异议" in text


def test_a_village_liaison_of_another_village_gets_404(client, township, person):
    west = Unit.objects.create(name="西村", kind=UnitKind.VILLAGE, parent=township)
    user = make_user("west", west, Role.LIAISON)
    client.force_login(user)
    assert client.get(reverse("beneficiaries:notice_pdf", args=[person.village_id])).status_code == 404
    assert Entitlement.objects.count() == 1


def test_the_notice_pdf_states_the_standard_each_person_is_paid_at(client, leader, person, county, village):
    from beneficiaries.constants import DisabilityNature, PaymentKind
    from beneficiaries.models import Standard

    Standard.objects.create(
        unit=county,
        kind=PaymentKind.DISABILITY,
        category=Category.DISABLED,
        grade=6,
        nature=DisabilityNature.WAR,
        amount="3000.00",
        national_part="3000.00",
        effective_from=datetime.date(2025, 1, 1),
        effective_to=datetime.date(2025, 12, 31),
    )
    Standard.objects.create(
        unit=county,
        kind=PaymentKind.DISABILITY,
        category=Category.DISABLED,
        grade=6,
        nature=DisabilityNature.WAR,
        amount="3180.50",
        national_part="3180.50",
        effective_from=datetime.date(2026, 1, 1),
    )
    client.force_login(leader)
    text = pdf_text(client.get(reverse("beneficiaries:notice_pdf", args=[village.pk])).content)
    assert "享受标准" in text and "残疾抚恤金每月3180.50元" in text
    assert "3000元" not in text
