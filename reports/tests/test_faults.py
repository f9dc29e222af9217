import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reports.models import ReportAttachment
from shuangyong.tests.pages import form_as_loaded
from shuangyong.tests.storage_faults import STORAGE_FAILED, STORAGE_FULL, disk_full, media_files, row_save_fails

from .report_data import TEXTS, draft, frozen

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"%" * 4000


@pytest.fixture(autouse=True)
def _today():
    with frozen():
        yield


def post_attachment(client, report):
    return client.post(
        reverse("reports:attachment_add", args=[report.pk]), {"file": SimpleUploadedFile("活动照片.pdf", PDF_BYTES)}
    )


# Uploads on a full disk or failing storage


def test_an_attachment_uploaded_onto_a_full_disk_is_refused_with_a_message_and_leaves_nothing(
    client, township, liaison, monkeypatch
):
    report = draft(township, liaison)
    disk_full(monkeypatch)
    client.force_login(liaison)

    response = post_attachment(client, report)

    assert response.status_code == 200
    assert STORAGE_FULL in response.content.decode()
    assert not ReportAttachment.objects.exists()
    assert media_files() == []


def test_an_attachment_whose_row_cannot_be_saved_is_refused_and_its_file_removed(
    client, township, liaison, monkeypatch
):
    report = draft(township, liaison)
    row_save_fails(monkeypatch, ReportAttachment)
    client.force_login(liaison)

    response = post_attachment(client, report)

    assert response.status_code == 200
    assert STORAGE_FAILED in response.content.decode()
    assert not ReportAttachment.objects.exists()
    assert media_files() == []


# Two people editing the same report draft


def test_the_second_of_two_people_saving_the_same_report_draft_is_told_who_changed_it_and_keeps_nothing(
    township, liaison, office
):
    report = draft(township, liaison)
    url = reverse("reports:report_edit", args=[report.pk])
    first, second = Client(), Client()
    first.force_login(liaison)
    second.force_login(office)
    first_form, second_form = form_as_loaded(first.get(url)), form_as_loaded(second.get(url))
    changes_before = report.history.count()

    assert first.post(url, {**first_form, "plan_text": "四季度走访驻地部队。"}).status_code == 302
    response = second.post(url, {**second_form, "problems_text": "经费不足。"})

    saved = report.history.first()
    when = timezone.localtime(saved.history_date)
    assert response.status_code == 200
    assert f"该记录已被张联络员于 {when:%Y-%m-%d %H:%M} 修改，您的修改没有保存" in response.content.decode()
    report.refresh_from_db()
    assert report.plan_text == "四季度走访驻地部队。" and report.problems_text == TEXTS["problems_text"]
    assert report.history.count() == changes_before + 1 and saved.history_user == liaison
