"""A township or unit changed by hand in a posted form to one outside the user's area is refused; nothing is saved."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from activities.models import Activity
from beneficiaries.constants import Category
from beneficiaries.models import Beneficiary
from conftest import valid_id_number

NEW_ID = valid_id_number("32048119580301002")


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 3, 10, 10, 0), tick=False):
        yield


def edit_data(person, **changes):
    return {
        "name": person.name,
        "township": person.township_id,
        "village": "",
        "phone": person.phone,
        "version": person.version,
        **changes,
    }


def test_a_liaison_moving_a_person_to_another_township_is_refused(client, liaison, person, other_township):
    client.force_login(liaison)
    response = client.post(
        reverse("beneficiaries:edit", args=[person.pk]), edit_data(person, township=other_township.pk, phone="1")
    )
    assert response.status_code == 200
    assert "township" in response.context["form"].errors
    person.refresh_from_db()
    assert person.township.name == "溧东镇" and person.phone == "13800000001"


def test_office_moving_a_person_into_another_county_is_refused(client, office, person, township, other_township_far):
    client.force_login(office)
    response = client.post(
        reverse("beneficiaries:edit", args=[person.pk]), edit_data(person, township=other_township_far.pk)
    )
    assert response.status_code == 200
    assert "township" in response.context["form"].errors
    person.refresh_from_db()
    assert person.township == township


def test_registering_a_person_in_a_township_outside_the_scope_saves_nothing(
    client, liaison, township, village, other_township
):
    client.force_login(liaison)
    response = client.post(
        reverse("beneficiaries:create"),
        {
            "step": "save",
            "id_number": NEW_ID,
            "name": "李秀英",
            "township": other_township.pk,
            "village": "",
            "category": Category.DEMOBILIZED,
            "start_on": "2020-01-01",
            "effective_on": "2026-03-01",
        },
    )
    assert response.status_code == 200
    assert "township" in response.context["form"].errors
    assert not Beneficiary.objects.filter(id_number=NEW_ID).exists()


def test_an_activity_posted_for_a_unit_outside_the_scope_saves_nothing(client, liaison, township, other_township):
    client.force_login(liaison)
    response = client.post(
        reverse("activities:create"),
        {"unit": other_township.pk, "type": "visit", "title": "越权活动", "start_date": "2026-03-01"},
    )
    assert response.status_code == 200
    assert "unit" in response.context["form"].errors
    assert not Activity.objects.filter(title="越权活动").exists()
