import datetime
import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from activities import services
from activities.constants import ActivityType
from activities.models import Photo
from shuangyong.tests.pages import form_as_loaded
from shuangyong.tests.storage_faults import STORAGE_FAILED, STORAGE_FULL, disk_full, media_files, row_save_fails


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 8, 10, 10, 0), tick=False):
        yield


@pytest.fixture
def activity(office, township):
    return services.activity_create(
        unit=township,
        created_by=office,
        type=ActivityType.JOINT,
        title="军民共建植树",
        start_date=datetime.date(2026, 3, 12),
    )


def jpeg(name):
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 200)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def post_photos(client, activity):
    return client.post(
        reverse("activities:photo_add", args=[activity.pk]),
        {"photos": [jpeg("合影1.jpg"), jpeg("合影2.jpg")], "caption": "植树现场"},
    )


# Uploads on a full disk or failing storage


def test_photos_uploaded_onto_a_full_disk_are_refused_with_a_message_and_leave_no_photo_or_file(
    client, office, activity, monkeypatch
):
    disk_full(monkeypatch)
    client.force_login(office)

    response = post_photos(client, activity)

    assert response.status_code == 200
    assert STORAGE_FULL in response.content.decode()
    assert not Photo.objects.exists()
    assert media_files() == []


def test_photos_whose_rows_cannot_be_saved_are_refused_and_their_files_removed(client, office, activity, monkeypatch):
    row_save_fails(monkeypatch, Photo)
    client.force_login(office)

    response = post_photos(client, activity)

    assert response.status_code == 200
    assert STORAGE_FAILED in response.content.decode()
    assert not Photo.objects.exists()
    assert media_files() == []


def test_photos_of_a_new_activity_on_a_full_disk_leave_neither_the_activity_nor_a_file(
    client, office, township, monkeypatch
):
    disk_full(monkeypatch)
    client.force_login(office)
    before = set(services.Activity.objects.values_list("pk", flat=True))

    data = {"unit": township.pk, "type": ActivityType.JOINT, "title": "八一共建", "start_date": "2026-08-01"}
    for prefix in ("gifts", "groups", "recipients"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})

    response = client.post(reverse("activities:create"), {**data, "photos": [jpeg("共建.jpg")]})

    assert response.status_code == 200
    assert STORAGE_FULL in response.content.decode()
    assert set(services.Activity.objects.values_list("pk", flat=True)) == before
    assert media_files() == []


# Two office staff editing the same activity


def test_the_second_of_two_staff_saving_the_same_activity_is_told_who_changed_it_and_keeps_nothing(
    office, director, activity
):
    url = reverse("activities:edit", args=[activity.pk])
    first, second = Client(), Client()
    first.force_login(office)
    second.force_login(director)
    first_form, second_form = form_as_loaded(first.get(url)), form_as_loaded(second.get(url))

    assert first.post(url, {**first_form, "title": "军民共建植树（补记）"}).status_code == 302
    response = second.post(url, {**second_form, "place": "东村林场"})

    saved = activity.history.first()
    when = timezone.localtime(saved.history_date)
    assert response.status_code == 200
    assert f"该记录已被李干事于 {when:%Y-%m-%d %H:%M} 修改，您的修改没有保存" in response.content.decode()
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
