"""Sex and birth date are those of the 身份证号: derived when saved, not editable, and a disagreement is flagged."""

import datetime

import time_machine
from django.urls import reverse

from beneficiaries.models import Beneficiary
from beneficiaries.services import beneficiary_create, beneficiary_update
from conftest import valid_id_number
from shuangyong.lib.idcard import id_number_mismatch, validate_id_number

WOMAN_1958 = valid_id_number("32048119580301002")


def test_registration_stores_the_sex_and_birth_date_of_the_id_number(township, office):
    with time_machine.travel(datetime.datetime(2026, 3, 10, 10, 0), tick=False):
        person = beneficiary_create(name="李秀英", id_number=WOMAN_1958, township=township, created_by=office)
    parsed = validate_id_number(WOMAN_1958)
    assert (person.sex, person.birth_date) == (parsed.sex, parsed.birth_date) == ("女", datetime.date(1958, 3, 1))
    assert id_number_mismatch(person.id_number, sex=person.sex, birth_date=person.birth_date) == []


def test_a_posted_sex_or_birth_date_is_ignored(client, office, person):
    client.force_login(office)
    data = {"name": person.name, "township": person.township_id, "village": person.village_id, "version": 1}
    response = client.post(
        reverse("beneficiaries:edit", args=[person.pk]), {**data, "sex": "女", "birth_date": "2000-01-01"}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.sex, person.birth_date) == ("男", datetime.date(1962, 5, 17))


def test_a_corrected_id_number_carries_its_sex_and_birth_date(person, office):
    beneficiary_update(beneficiary=person, version=person.version, updated_by=office, id_number=WOMAN_1958)
    person.refresh_from_db()
    assert (person.sex, person.birth_date) == ("女", datetime.date(1958, 3, 1))


def test_a_sex_or_birth_date_changed_behind_the_portal_is_flagged(person):
    Beneficiary.objects.filter(pk=person.pk).update(sex="女", birth_date=datetime.date(1962, 5, 18))
    person.refresh_from_db()
    assert id_number_mismatch(person.id_number, sex=person.sex, birth_date=person.birth_date) == [
        "性别登记为“女”，但身份证号第 17 位表示“男”。",
        "出生日期登记为 1962-05-18，但身份证号中为 1962-05-17。",
    ]
