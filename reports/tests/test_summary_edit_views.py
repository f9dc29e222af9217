"""The summary edit page, 定稿 and the finalized PDFs: who gets them, and what they show."""

import datetime

import pytest
from django.urls import reverse

from reports.models import Summary, SummaryVersion
from reports.tests.report_data import frozen, visit

D = datetime.date


@pytest.fixture(autouse=True)
def today():
    with frozen():
        yield


@pytest.fixture
def logged(township, office):
    visit(township, office, D(2025, 7, 28), money="3000", people=30)


def edit_url(unit, year=2025, shape="annual"):
    return reverse("reports:summary_edit", args=[unit.pk, year, shape])


def finalize_url(unit, year=2025, shape="annual"):
    return reverse("reports:summary_finalize", args=[unit.pk, year, shape])


def test_the_edit_page_shows_the_generated_text_beside_the_textareas(client, logged, township, office):
    client.force_login(office)
    response = client.get(edit_url(township))
    assert response.status_code == 200
    page = response.content.decode()
    assert "自动生成" in page and 'name="edit-visits"' in page
    assert 'name="shortcomings"' in page and 'name="next_plan"' in page
    visits = next(s for s in response.context["sections"] if s["key"] == "visits")
    assert visits["generated"] and visits["generated"][0] in page
    assert not Summary.objects.exists()  # looking creates nothing

    response = client.post(
        edit_url(township),
        {"edit-visits": "补充一段。\n\n第二段。", "shortcomings": "宣传形式较为单一。", "next_plan": ""},
    )
    assert response.status_code == 302
    summary = Summary.objects.get()
    assert summary.edits == {"visits": ["补充一段。", "第二段。"]}
    page = client.get(edit_url(township)).content.decode()
    assert "补充一段。\n第二段。</textarea>" in page and "宣传形式较为单一。</textarea>" in page


def test_a_too_long_paragraph_is_shown_as_an_error(client, logged, township, office):
    client.force_login(office)
    response = client.post(edit_url(township), {"edit-visits": "字" * 2001, "shortcomings": "", "next_plan": ""})
    assert response.status_code == 200
    assert "每段最多2000字" in response.content.decode()
    assert not Summary.objects.exists()


@pytest.mark.parametrize(
    ("persona", "target", "status"),
    [
        ("liaison", "township", 200),
        ("liaison", "other_township", 404),
        ("liaison", "county", 404),
        ("office", "county", 200),
        ("leader", "township", 404),
        ("leader", "county", 404),
        ("outsider", "township", 404),
    ],
)
def test_who_may_edit(client, request, persona, target, status):
    client.force_login(request.getfixturevalue(persona))
    unit = request.getfixturevalue(target)
    assert client.get(edit_url(unit)).status_code == status
    response = client.post(edit_url(unit), {"shortcomings": "改写。", "next_plan": ""})
    assert response.status_code == (302 if status == 200 else 404)
    assert client.post(finalize_url(unit)).status_code == (302 if status == 200 else 404)


def test_a_bad_shape_is_404(client, township, office):
    client.force_login(office)
    assert client.get(edit_url(township, shape="winter")).status_code == 404


def test_finalize_then_the_data_change(client, logged, township, office, leader, outsider):
    client.force_login(office)
    response = client.post(finalize_url(township), follow=True)
    assert "已定稿（第1版）" in response.content.decode()
    version = SummaryVersion.objects.get()
    pdf_url = reverse("reports:version_pdf", args=[version.pk])
    first = b"".join(client.get(pdf_url).streaming_content)
    assert first.startswith(b"%PDF")

    visit(township, office, D(2025, 8, 1), title="八一慰问退役军人", money="5000", people=20)
    page = client.get(edit_url(township)).content.decode()
    assert "定稿后，数据有变化" in page and "重新打开" in page
    assert 'name="edit-visits" rows="6" disabled' in page
    assert b"".join(client.get(pdf_url).streaming_content) == first

    client.post(edit_url(township), {"reopen": "1", "reason": "补充新的慰问"})
    assert Summary.objects.get().status == "draft"
    client.post(finalize_url(township))
    assert list(SummaryVersion.objects.order_by("number").values_list("number", flat=True)) == [1, 2]
    assert b"".join(client.get(pdf_url).streaming_content) == first

    client.force_login(leader)
    assert client.get(pdf_url).status_code == 200
    assert client.get(edit_url(township)).status_code == 404
    client.force_login(outsider)
    assert client.get(pdf_url).status_code == 404
