import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reports.models import ReportAttachment
from shuangyong.tests.storage_faults import (
    assert_refused_as_changed,
    edit_on_stale_form,
    upload_onto_full_disk,
    upload_whose_row_fails,
)

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

    upload_onto_full_disk(monkeypatch, client, liaison, post_attachment, report)

    assert not ReportAttachment.objects.exists()


def test_an_attachment_whose_row_cannot_be_saved_is_refused_and_its_file_removed(
    client, township, liaison, monkeypatch
):
    report = draft(township, liaison)

    upload_whose_row_fails(monkeypatch, client, liaison, ReportAttachment, post_attachment, report)

    assert not ReportAttachment.objects.exists()


# Two people editing the same report draft


def test_the_second_of_two_people_saving_the_same_report_draft_is_told_who_changed_it_and_keeps_nothing(
    township, liaison, office
):
    report = draft(township, liaison)
    url = reverse("reports:report_edit", args=[report.pk])
    changes_before = report.history.count()

    response = edit_on_stale_form(
        url, liaison, {"plan_text": "四季度走访驻地部队。"}, office, {"problems_text": "经费不足。"}
    )

    saved = assert_refused_as_changed(response, report, "张联络员")
    report.refresh_from_db()
    assert report.plan_text == "四季度走访驻地部队。" and report.problems_text == TEXTS["problems_text"]
    assert report.history.count() == changes_before + 1 and saved.history_user == liaison
