import datetime
import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from activities import services
from activities.constants import ActivityType
from activities.models import Photo
from shuangyong.tests.pages import form_as_loaded
from shuangyong.tests.storage_faults import (
    assert_refused_as_changed,
    edit_on_stale_form,
    upload_onto_full_disk,
    upload_whose_row_fails,
)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 8, 10, 10, 0), tick=False):
        yield


def jpeg(name):
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 200)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def post_photos(client, activity):
    return client.post(
        reverse("activities:photo_add", args=[activity.pk]),
        {"photos": [jpeg("合影1.jpg"), jpeg("合影2.jpg")], "caption": "植树现场"},
    )


def post_new_activity(client, unit):
    data = {"unit": unit.pk, "type": ActivityType.JOINT, "title": "八一共建", "start_date": "2026-08-01"}
    for prefix in ("gifts", "groups", "recipients"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return client.post(reverse("activities:create"), {**data, "photos": [jpeg("共建.jpg")]})


# Uploads on a full disk or failing storage


def test_photos_uploaded_onto_a_full_disk_are_refused_with_a_message_and_leave_no_photo_or_file(
    client, office, activity, monkeypatch
):
    upload_onto_full_disk(monkeypatch, client, office, post_photos, activity)

    assert not Photo.objects.exists()


def test_photos_whose_rows_cannot_be_saved_are_refused_and_their_files_removed(client, office, activity, monkeypatch):
    upload_whose_row_fails(monkeypatch, client, office, Photo, post_photos, activity)

    assert not Photo.objects.exists()


def test_photos_of_a_new_activity_on_a_full_disk_leave_neither_the_activity_nor_a_file(
    client, office, township, monkeypatch
):
    before = set(services.Activity.objects.values_list("pk", flat=True))

    upload_onto_full_disk(monkeypatch, client, office, post_new_activity, township)

    assert set(services.Activity.objects.values_list("pk", flat=True)) == before


# Two office staff editing the same activity


def test_the_second_of_two_staff_saving_the_same_activity_is_told_who_changed_it_and_keeps_nothing(
    office, director, activity
):
    url = reverse("activities:edit", args=[activity.pk])

    response = edit_on_stale_form(url, office, {"title": "军民共建植树（补记）"}, director, {"place": "东村林场"})

    saved = assert_refused_as_changed(response, activity, "李干事")
    activity.refresh_from_db()
    assert (activity.title, activity.place) == ("军民共建植树（补记）", "")
    assert activity.history.count() == 2 and saved.history_user == office


def test_an_activity_saved_again_on_a_fresh_form_after_a_refusal_is_kept(office, director, activity):
    url = reverse("activities:edit", args=[activity.pk])
    first, second = Client(), Client()
    first.force_login(office)
    second.force_login(director)
    stale = form_as_loaded(second.get(url))
    first.post(url, {**form_as_loaded(first.get(url)), "title": "军民共建植树（补记）"})
    assert second.post(url, {**stale, "place": "东村林场"}).status_code == 200

    response = second.post(url, form_as_loaded(second.get(url), place="东村林场"))

    assert response.status_code == 302
    activity.refresh_from_db()
    assert (activity.title, activity.place) == ("军民共建植树（补记）", "东村林场")
