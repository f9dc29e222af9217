"""The summaries pages: the downloads page, preview, PDF (cached until the data change), Excel, scope, jobs."""

import datetime
import io

import openpyxl
import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from activities.constants import ActivityType
from reports import summary_render
from reports.models import Summary, SummaryVersion
from reports.tests.figure_data import _today, record  # noqa: F401  (today is 2026-01-20)
from units.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def renders(monkeypatch):
    """Count the PDF renders."""
    calls = []
    real = summary_render.render_summary_pdf

    def counting(doc, **kwargs):
        calls.append(doc.title)
        return real(doc, **kwargs)

    monkeypatch.setattr(summary_render, "render_summary_pdf", counting)
    return calls


def url(name, unit, year=2025, shape="annual"):
    return reverse(name, args=[unit.pk, year, shape])


def test_the_downloads_page_lists_the_scope_years_and_shapes(client, leader, county, township, bureau):
    client.force_login(leader)
    response = client.get(reverse("reports:summaries"))
    assert response.status_code == 200
    page = response.content.decode()
    for unit in (county, township, bureau):
        for year in (2025, 2026):
            for shape in ("annual", "half", "army_day"):
                assert url("reports:summary_pdf", unit, year, shape) in page
                assert url("reports:summary_xlsx", unit, year, shape) in page
                assert url("reports:summary", unit, year, shape) in page
    assert "草稿" in page
    assert "summaries/" in page and "/edit/" not in page  # a leader reads only


def test_the_downloads_page_narrows_to_a_year_and_a_kind(client, leader, county, township):
    client.force_login(leader)
    page = client.get(reverse("reports:summaries"), {"year": "2025", "shape": "annual"}).content.decode()
    for unit in (county, township):
        assert url("reports:summary_pdf", unit, 2025, "annual") in page
        assert url("reports:summary_pdf", unit, 2026, "annual") not in page
        assert url("reports:summary_pdf", unit, 2025, "half") not in page
    assert '<option value="2025" selected>' in page


def test_the_office_gets_edit_links_and_sees_finalized_versions(client, office, township):
    summary = Summary.objects.create(unit=township, year=2025, kind="annual", status="final")
    version = SummaryVersion.objects.create(summary=summary, number=1, document={}, figures={})
    client.force_login(office)
    page = client.get(reverse("reports:summaries")).content.decode()
    assert url("reports:summary_edit", township) in page
    assert reverse("reports:version_pdf", args=[version.pk]) in page
    preview = client.get(url("reports:summary", township)).content.decode()
    assert reverse("reports:version_pdf", args=[version.pk]) in preview


def test_preview_pdf_and_excel(client, leader, township, world, ledger, renders):
    client.force_login(leader)
    page = client.get(url("reports:summary", township)).content.decode()
    assert "溧东镇2025年度双拥工作总结" in page and "四、" in page and "<svg" in page
    assert "雅灰乡" not in page
    response = client.get(url("reports:summary_pdf", township))
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    response = client.get(url("reports:summary_xlsx", township))
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.worksheets[0]["B1"].value == "溧东镇2025年度双拥工作总结"
    assert not Summary.objects.exists()  # reading creates no row


def test_outsiders_bad_shapes_and_future_years_get_404(client, leader, outsider, township, other_township_far):
    client.force_login(outsider)
    for name in ("reports:summary", "reports:summary_pdf", "reports:summary_xlsx"):
        assert client.get(url(name, township)).status_code == 404
    client.force_login(leader)
    assert client.get(url("reports:summary", other_township_far)).status_code == 404
    assert client.get(url("reports:summary", township, shape="quarter")).status_code == 404
    assert client.get(url("reports:summary_pdf", township, shape="nonsense")).status_code == 404
    assert client.get(url("reports:summary", township, year=2031)).status_code == 404


def test_the_pdf_is_cached_until_the_data_change(client, leader, office, township, world, ledger, renders):
    client.force_login(leader)
    first = client.get(url("reports:summary_pdf", township)).content
    again = client.get(url("reports:summary_pdf", township)).content
    assert len(renders) == 1 and first == again
    record(township, office, type=ActivityType.MEETING, start_date=datetime.date(2025, 11, 3), title="领导小组会议")
    client.get(url("reports:summary_pdf", township))
    assert len(renders) == 2
    client.get(url("reports:summary_pdf", township))
    assert len(renders) == 2
    assert not Summary.objects.exists()
    # only the PDF of the current data is kept; the 2026 one stays beside it
    client.get(url("reports:summary_pdf", township, year=2026))
    kept = default_storage.listdir(f"summaries/cache/{township.pk}")[1]
    assert sorted(name.rsplit("-", 1)[0] for name in kept) == ["2025-annual", "2026-annual"]


def test_with_a_summary_row_the_pdf_is_kept_on_it_until_the_edits_change(
    client, office, township, world, ledger, renders
):
    summary = Summary.objects.create(unit=township, year=2025, kind="annual")
    client.force_login(office)
    client.get(url("reports:summary_pdf", township))
    client.get(url("reports:summary_pdf", township))
    summary.refresh_from_db()
    assert len(renders) == 1 and summary.cached_key and summary.cached_pdf
    Summary.objects.filter(pk=summary.pk).update(next_plan="明年继续做好优抚工作。")
    client.get(url("reports:summary_pdf", township))
    assert len(renders) == 2
    summary.refresh_from_db()
    old_key = summary.cached_key
    client.get(url("reports:summary_pdf", township))
    summary.refresh_from_db()
    assert len(renders) == 2 and summary.cached_key == old_key


def test_a_large_scope_renders_as_a_background_job(
    client, office, city, county, township, world, renders, django_capture_on_commit_callbacks
):
    from conftest import make_user
    from units.constants import Role

    provincial = make_user("city_leader", city, Role.LEADER)
    client.force_login(provincial)
    response = client.get(url("reports:summary_pdf", city))
    assert response.status_code == 200 and "后台生成" in response.content.decode() and not renders
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("reports:summary_pdf", city))
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("job", args=[job.pk])
    job.refresh_from_db()
    assert job.status == "done", job.error
    assert job.result["next_url"] == url("reports:summary_pdf", city)
    assert len(renders) == 1
    response = client.get(url("reports:summary_pdf", city))
    assert response["Content-Type"] == "application/pdf" and len(renders) == 1
