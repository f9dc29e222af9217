import datetime
import threading

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from beneficiaries.constants import AccessKind, AwardLevel, Category, ChangeKind, DisabilityNature, ServiceArea, Status
from beneficiaries.models import AccessLog, Award, Beneficiary, Entitlement, StatusChange
from beneficiaries.services import (
    RowErrors,
    award_add,
    beneficiaries_create_many,
    beneficiary_check,
    beneficiary_create,
    beneficiary_update,
    entitlement_add,
    entitlement_check,
    id_number_lookup,
    name_initials,
)
from conftest import make_user, valid_id_number
from units.constants import Role, UnitKind
from units.models import Unit

TODAY = datetime.date(2026, 3, 10)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 3, 10, 10, 0), tick=False):
        yield


def new_id(body="32048119580301002"):
    return valid_id_number(body)


def wrong_check_digit(number):
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def disabled(**extra):
    return {
        "category": Category.DISABLED,
        "grade": 5,
        "nature": DisabilityNature.WAR,
        "start_on": datetime.date(2020, 1, 1),
        **extra,
    }


def test_it_creates_a_person_with_derived_fields_entitlement_and_add_event(township, village, office):
    person = beneficiary_create(
        name="李秀英",
        id_number=new_id("32048119580301002").lower(),
        township=township,
        village=village,
        bank_account="6228 4804 0256 4890",
        entitlements=[disabled()],
        created_by=office,
    )
    person.refresh_from_db()
    assert person.sex == "女"
    assert person.birth_date == datetime.date(1958, 3, 1)
    assert person.name_initials == "lxy"
    assert person.bank_account == "6228480402564890"
    assert person.status == Status.ACTIVE and person.status_since == TODAY
    assert person.entitlements.get().grade == 5
    add = person.changes.get()
    assert (add.kind, add.effective_on, add.recorded_by) == (ChangeKind.ADD, TODAY, office)


def test_it_normalises_a_lower_case_x(township, office):
    number = valid_id_number("11010519491231002")
    assert number.endswith("X")
    person = beneficiary_create(name="赵大", id_number=number.lower(), township=township, created_by=office)
    assert Beneficiary.objects.get(pk=person.pk).id_number == number


def test_name_initials_follow_pinyin():
    assert name_initials("王建国") == "wjg"
    assert name_initials("欧阳 明") == "oym"


@pytest.mark.parametrize(
    "number, message",
    [
        (wrong_check_digit(valid_id_number("32048119580301002")), "校验码"),
        (valid_id_number("32048119580230002"), "不是有效日期"),
        (valid_id_number("32048120270101002"), "晚于今天"),
    ],
)
def test_it_refuses_a_bad_id_number_naming_the_field(township, office, number, message):
    with pytest.raises(ValidationError) as error:
        beneficiary_create(name="李秀英", id_number=number, township=township, created_by=office)
    assert message in " ".join(error.value.message_dict["id_number"])
    assert not Beneficiary.objects.exists()


def test_it_refuses_a_second_person_with_the_same_id_number(person, township, office):
    with pytest.raises(ValidationError) as error:
        beneficiary_create(name="另一人", id_number=person.id_number, township=township, created_by=office)
    assert "已登记" in error.value.message_dict["id_number"][0]
    assert Beneficiary.objects.count() == 1


def test_it_refuses_a_village_of_another_township(township, other_township, office):
    far_village = Unit.objects.create(name="西村", kind=UnitKind.VILLAGE, parent=other_township)
    with pytest.raises(ValidationError) as error:
        beneficiary_check(name="李秀英", id_number=new_id(), township=township, village=far_village)
    assert "不属于溧东镇" in error.value.message_dict["village"][0]


def test_it_refuses_a_township_that_is_not_a_township(county, office):
    with pytest.raises(ValidationError) as error:
        beneficiary_check(name="李秀英", id_number=new_id(), township=county)
    assert "不是乡镇" in error.value.message_dict["township"][0]


def test_a_bad_entitlement_saves_nothing(township, office):
    bad = disabled(nature=DisabilityNature.ILLNESS, grade=8)
    with pytest.raises(ValidationError) as error:
        beneficiary_create(name="李秀英", id_number=new_id(), township=township, entitlements=[bad], created_by=office)
    assert error.value.message_dict["grade"] == ["因病致残七至十级不享受残疾抚恤金。"]
    assert not Beneficiary.objects.exists()
    assert not StatusChange.objects.exists()


def test_two_overlapping_entitlements_in_one_create_save_nothing(township, office):
    with pytest.raises(ValidationError):
        beneficiary_create(
            name="李秀英",
            id_number=new_id(),
            township=township,
            entitlements=[disabled(), disabled(start_on=datetime.date(2021, 1, 1))],
            created_by=office,
        )
    assert not Beneficiary.objects.exists()


def test_a_batch_creates_people_entitlements_add_events_and_history_in_one_go(
    township, village, other_township, office, django_assert_max_num_queries
):
    rows = [
        {
            "name": "李秀英",
            "id_number": new_id("32048119580301002").lower(),
            "township": township,
            "village": village,
            "bank_account": "6228 4804 0256 4890",
            "entitlements": [disabled()],
        },
        {
            "name": "欧阳 明",
            "id_number": new_id("32048119500101001"),
            "township": other_township,
            "entitlements": [{"category": Category.DEMOBILIZED, "start_on": datetime.date(2012, 5, 1)}],
        },
    ]
    rows += [
        {"name": f"对象{n}", "id_number": new_id(f"32048119700101{n:03d}"), "township": township} for n in range(30)
    ]
    with django_assert_max_num_queries(12):
        people = beneficiaries_create_many(rows=rows, created_by=office)
    assert Beneficiary.objects.count() == 32
    first, second = (Beneficiary.objects.get(pk=p.pk) for p in people[:2])
    assert (first.sex, first.birth_date, first.name_initials) == ("女", datetime.date(1958, 3, 1), "lxy")
    assert (first.bank_account, first.village, first.status, first.status_since) == (
        "6228480402564890",
        village,
        Status.ACTIVE,
        TODAY,
    )
    assert (second.sex, second.name_initials, second.township) == ("男", "oym", other_township)
    assert first.entitlements.get().grade == 5
    assert second.entitlements.get().category == Category.DEMOBILIZED
    assert list(StatusChange.objects.values_list("beneficiary", "kind", "effective_on", "recorded_by")[:2]) == [
        (first.pk, ChangeKind.ADD, TODAY, office.pk),
        (second.pk, ChangeKind.ADD, TODAY, office.pk),
    ]
    assert StatusChange.objects.filter(kind=ChangeKind.ADD).count() == 32
    assert [(h.history_type, h.history_user) for h in first.history.all()] == [("+", office)]
    assert first.entitlements.get().history.get().history_user == office


def test_a_batch_with_bad_rows_names_each_and_saves_nothing(person, township, office):
    rows = [
        {"name": "李秀英", "id_number": new_id(), "township": township, "entitlements": [disabled()]},
        {"name": "另一人", "id_number": person.id_number, "township": township},
        {
            "name": "赵大",
            "id_number": new_id("32048119600101003"),
            "township": township,
            "entitlements": [disabled(nature=DisabilityNature.ILLNESS, grade=8)],
        },
        {
            "name": "钱二",
            "id_number": new_id("32048119600101004"),
            "township": township,
            "entitlements": [disabled(), disabled(start_on=datetime.date(2021, 1, 1))],
        },
    ]
    with pytest.raises(RowErrors) as error:
        beneficiaries_create_many(rows=rows, created_by=office)
    assert sorted(error.value.rows) == [1, 2, 3]
    assert "已登记" in error.value.rows[1].message_dict["id_number"][0]
    assert error.value.rows[2].message_dict["grade"] == ["因病致残七至十级不享受残疾抚恤金。"]
    assert "时间不能重叠" in error.value.rows[3].message_dict["start_on"][0]
    assert list(Beneficiary.objects.all()) == [person]
    assert not StatusChange.objects.exists()


def test_it_refuses_a_future_effective_date(township, office):
    with pytest.raises(ValidationError) as error:
        beneficiary_create(
            name="李秀英", id_number=new_id(), township=township, effective_on=TODAY.replace(day=11), created_by=office
        )
    assert "晚于今天" in error.value.message_dict["effective_on"][0]


# Editing


def test_it_updates_and_bumps_the_version(person, liaison):
    updated = beneficiary_update(
        beneficiary=person, version=person.version, updated_by=liaison, name="王建华", phone="139"
    )
    updated.refresh_from_db()
    assert (updated.name, updated.name_initials, updated.phone) == ("王建华", "wjh", "139")
    assert updated.version == person.version + 1
    assert updated.history.first().history_user == liaison


def test_a_stale_version_is_refused_and_changes_nothing(person, liaison, office):
    loaded = person.version
    beneficiary_update(beneficiary=person, version=loaded, updated_by=office, phone="13911111111")
    with pytest.raises(ValidationError) as error:
        beneficiary_update(beneficiary=person, version=loaded, updated_by=liaison, phone="13722222222")
    assert error.value.code == "stale" and "已被李干事于" in error.value.messages[0]
    person.refresh_from_db()
    assert person.phone == "13911111111"
    assert person.version == loaded + 1


def test_a_bank_account_typed_in_full_width_digits_is_kept_in_ascii_and_other_digits_are_refused(person, liaison):
    updated = beneficiary_update(
        beneficiary=person, version=person.version, updated_by=liaison, bank_account="６２２８ ４８０４-０２５６"
    )
    assert updated.bank_account == "622848040256"
    with pytest.raises(ValidationError) as error:
        beneficiary_update(beneficiary=person, version=updated.version, updated_by=liaison, bank_account="62١8")
    assert error.value.message_dict["bank_account"] == ["银行账号只能由数字组成。"]


def test_a_failed_edit_does_not_use_up_the_version(person, liaison):
    with pytest.raises(ValidationError):
        beneficiary_update(beneficiary=person, version=person.version, updated_by=liaison, name=" ")
    person.refresh_from_db()
    assert person.version == 1
    beneficiary_update(beneficiary=person, version=1, updated_by=liaison, phone="139")


def test_a_liaison_cannot_change_the_id_number(person, liaison):
    with pytest.raises(ValidationError) as error:
        beneficiary_update(beneficiary=person, version=person.version, updated_by=liaison, id_number=new_id())
    assert "双拥办" in error.value.message_dict["id_number"][0]
    person.refresh_from_db()
    assert person.id_number == valid_id_number("32048119620517001")


def test_office_staff_can_fix_an_id_number_typo_and_sex_follows(person, office):
    fixed = valid_id_number("32048119620517002")
    beneficiary_update(beneficiary=person, version=person.version, updated_by=office, id_number=fixed)
    person.refresh_from_db()
    assert (person.id_number, person.sex) == (fixed, "女")


def test_a_fixed_id_number_must_stay_unique(person, office, township):
    other = beneficiary_create(name="李秀英", id_number=new_id(), township=township, created_by=office)
    with pytest.raises(ValidationError) as error:
        beneficiary_update(beneficiary=person, version=person.version, updated_by=office, id_number=other.id_number)
    assert "另一人" in error.value.message_dict["id_number"][0]


def test_a_liaison_cannot_move_a_person_to_another_township(person, liaison, other_township):
    with pytest.raises(ValidationError) as error:
        beneficiary_update(beneficiary=person, version=person.version, updated_by=liaison, township=other_township)
    assert "负责范围" in error.value.message_dict["township"][0]


def test_office_staff_move_a_person_within_the_county(person, office, other_township):
    beneficiary_update(beneficiary=person, version=person.version, updated_by=office, township=other_township)
    person.refresh_from_db()
    assert (person.township, person.village) == (other_township, None)


# ID number lookup


def test_lookup_of_a_new_number(liaison):
    assert id_number_lookup(user=liaison, id_number=new_id()) == ("new", None)


def test_lookup_finds_a_person_in_scope(liaison, person):
    assert id_number_lookup(user=liaison, id_number=person.id_number.lower()) == ("in_scope", person)


def test_lookup_in_another_township_of_the_county_shows_no_one(other_township, person):
    other_liaison = make_user("yahui", other_township, Role.LIAISON)
    assert id_number_lookup(user=other_liaison, id_number=person.id_number) == ("same_county", None)
    assert not AccessLog.objects.exists()


def test_lookup_from_another_county_is_logged_for_the_owning_county(outsider, person, township, office):
    assert id_number_lookup(user=outsider, id_number=person.id_number, ip_address="10.0.0.9") == (
        "other_county",
        None,
    )
    row = AccessLog.objects.get()
    assert (row.user, row.unit, row.beneficiary, row.kind) == (outsider, township, person, AccessKind.FOREIGN_ID)
    assert "邻县" in row.detail and person.id_number not in row.detail
    assert list(AccessLog.objects.visible_to(office)) == [row]
    assert not AccessLog.objects.visible_to(outsider).exists()


# Entitlements


def entitlement(person, **fields):
    return entitlement_add(beneficiary=person, recorded_by=None, **fields)


def test_illness_grade_8_is_refused(person):
    with pytest.raises(ValidationError) as error:
        entitlement_check(
            beneficiary=person,
            category=Category.DISABLED,
            grade=8,
            nature=DisabilityNature.ILLNESS,
            start_on=datetime.date(2024, 1, 1),
        )
    assert error.value.message_dict["grade"] == ["因病致残七至十级不享受残疾抚恤金。"]


def test_illness_grade_6_is_accepted(township, office):
    person = beneficiary_create(
        name="李秀英",
        id_number=new_id(),
        township=township,
        entitlements=[disabled(grade=6, nature=DisabilityNature.ILLNESS)],
        created_by=office,
    )
    assert person.entitlements.get().grade == 6


def test_disabled_needs_grade_and_nature(person):
    with pytest.raises(ValidationError) as error:
        entitlement_check(beneficiary=person, category=Category.DISABLED, start_on=datetime.date(2024, 1, 1))
    assert set(error.value.message_dict) == {"grade", "nature"}


def test_grade_is_refused_for_other_categories(person):
    with pytest.raises(ValidationError) as error:
        entitlement_check(
            beneficiary=person, category=Category.WAR_VETERAN, grade=3, start_on=datetime.date(2024, 1, 1)
        )
    assert "只有残疾军人" in error.value.message_dict["grade"][0]


def test_rural_veteran_needs_service_years_and_age_60(person):
    with pytest.raises(ValidationError) as error:
        entitlement_check(beneficiary=person, category=Category.RURAL_VETERAN_60, start_on=datetime.date(2021, 1, 1))
    assert "义务兵役年数" in error.value.message_dict["service_years"][0]
    assert "未满60周岁" in error.value.message_dict["start_on"][0]
    added = entitlement(
        person, category=Category.RURAL_VETERAN_60, start_on=datetime.date(2022, 5, 17), service_years=3
    )
    assert added.service_years == 3


def test_serving_member_fields_are_required_and_area_defaults(person):
    with pytest.raises(ValidationError) as error:
        entitlement_check(beneficiary=person, category=Category.CONSCRIPT_FAMILY, start_on=datetime.date(2025, 9, 1))
    assert set(error.value.message_dict) == {"serving_member_name", "enlistment_date"}
    added = entitlement(
        person,
        category=Category.CONSCRIPT_FAMILY,
        start_on=datetime.date(2025, 9, 1),
        serving_member_name="王小军",
        enlistment_date=datetime.date(2025, 9, 10),
    )
    assert added.service_area == ServiceArea.ORDINARY


def test_end_before_start_is_refused(person):
    with pytest.raises(ValidationError) as error:
        entitlement_check(
            beneficiary=person,
            category=Category.WAR_VETERAN,
            start_on=datetime.date(2024, 1, 1),
            end_on=datetime.date(2023, 12, 31),
        )
    assert "不能早于起始日期" in error.value.message_dict["end_on"][0]


def test_the_same_category_cannot_overlap(person):
    with pytest.raises(ValidationError) as error:
        entitlement(person, category=Category.DISABLED, grade=4, nature="war", start_on=datetime.date(2024, 1, 1))
    assert "不能重叠" in error.value.message_dict["start_on"][0]
    assert person.entitlements.count() == 1


def test_a_later_period_of_the_same_category_is_fine(person):
    person.entitlements.update(end_on=datetime.date(2023, 12, 31))
    entitlement(person, category=Category.DISABLED, grade=4, nature="war", start_on=datetime.date(2024, 1, 1))
    assert person.entitlements.count() == 2


def test_an_entitlement_document_is_stored_by_content(person):
    added = entitlement(
        person,
        category=Category.WAR_VETERAN,
        start_on=datetime.date(2024, 1, 1),
        document=SimpleUploadedFile("批复.pdf", PDF),
    )
    assert added.document.name.endswith(".pdf") and "批复" not in added.document.name
    with pytest.raises(ValidationError) as error:
        entitlement(
            person,
            category=Category.DEMOBILIZED,
            start_on=datetime.date(2024, 1, 1),
            document=SimpleUploadedFile("批复.pdf", b"MZ not a pdf"),
        )
    assert "document" in error.value.message_dict
    assert not Entitlement.objects.filter(category=Category.DEMOBILIZED).exists()


def test_no_entitlement_is_added_to_a_deceased_person(person, office):
    from beneficiaries.services import change_record

    change_record(beneficiary=person, kind=ChangeKind.DEATH, effective_on=TODAY, recorded_by=office)
    with pytest.raises(ValidationError) as error:
        entitlement(person, category=Category.WAR_VETERAN, start_on=datetime.date(2024, 1, 1))
    assert "死亡" in error.value.messages[0]


# Awards


def test_an_award_is_recorded_on_a_conscript_family(person):
    family = entitlement(
        person,
        category=Category.CONSCRIPT_FAMILY,
        start_on=datetime.date(2024, 9, 1),
        serving_member_name="王小军",
        enlistment_date=datetime.date(2024, 9, 10),
    )
    award = award_add(
        entitlement=family, level=AwardLevel.THIRD, awarded_on=datetime.date(2025, 8, 1), recorded_by=None
    )
    assert list(family.awards.all()) == [award]


def test_an_award_is_refused_on_other_categories(person):
    with pytest.raises(ValidationError) as error:
        award_add(
            entitlement=person.entitlements.get(),
            level=AwardLevel.THIRD,
            awarded_on=datetime.date(2025, 8, 1),
            recorded_by=None,
        )
    assert "义务兵家庭" in error.value.messages[0]
    assert not Award.objects.exists()


def test_an_award_before_enlistment_is_refused(person):
    family = entitlement(
        person,
        category=Category.SERVING_FAMILY,
        start_on=datetime.date(2024, 9, 1),
        serving_member_name="王小军",
        enlistment_date=datetime.date(2024, 9, 10),
    )
    with pytest.raises(ValidationError) as error:
        award_add(entitlement=family, level=AwardLevel.FIRST, awarded_on=datetime.date(2024, 9, 1), recorded_by=None)
    assert "入伍日期" in error.value.message_dict["awarded_on"][0]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_saves_of_one_version_let_exactly_one_through(person, office, liaison):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite 不支持行锁，此并发测试在 PostgreSQL 上运行。")
    barrier = threading.Barrier(2)
    errors = []

    def save(user, phone):
        try:
            barrier.wait()
            beneficiary_update(beneficiary=person, version=1, updated_by=user, phone=phone)
        except ValidationError as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=args) for args in ((office, "111"), (liaison, "222"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    person.refresh_from_db()
    assert [error.code for error in errors] == ["stale"]
    assert person.version == 2 and person.phone in {"111", "222"}
