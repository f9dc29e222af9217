import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from reports import figures as report_figures
from reports import services

from .report_data import TEXTS, accepted, draft, frozen, meeting, submitted, visit


@pytest.fixture(autouse=True)
def _today():
    with frozen():
        yield


def pdf_text(content):
    """The PDF's text with white space removed: lines of a table or a paragraph may break anywhere."""
    return "".join("".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages)


def fonts(content):
    names = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_the_pdf_holds_the_title_figures_activities_and_texts(client, township, liaison, office):
    visit(township, liaison, money="3000", people=30)
    meeting(township, liaison)
    report = accepted(township, liaison, office)
    client.force_login(office)

    response = client.get(reverse("reports:report_pdf", args=[report.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    text = pdf_text(response.content)
    assert "示例县溧东镇2026年第三季度双拥工作报告" in text
    lines = report_figures.figure_lines(report.accepted_figures)
    assert lines
    for _, label, value in lines:
        assert "".join(label.split()) in text
        assert "".join(value.split()) in text
    assert "八一走访慰问驻地部队" in text and "双拥工作领导小组会议" in text
    for section in ("工作开展情况", "存在的问题", "下季度工作计划"):
        assert section in text
    for body in TEXTS.values():
        assert body in text
    assert "状态：已通过" in text
    assert all("Noto" in name and "CJK" in name for name in fonts(response.content))


def test_a_draft_pdf_says_it_is_a_draft(client, township, liaison):
    report = draft(township, liaison, texts=False)
    client.force_login(liaison)

    text = pdf_text(client.get(reverse("reports:report_pdf", args=[report.pk])).content)

    assert "状态：草稿，尚未报送" in text
    assert "（未填写）" in text


def test_a_submitted_pdf_keeps_the_submitted_figures(client, township, liaison, leader):
    visit(township, liaison, money="3000")
    report = submitted(township, liaison)
    visit(township, liaison, title="报送后的走访", money="999")
    client.force_login(leader)

    text = pdf_text(client.get(reverse("reports:report_pdf", args=[report.pk])).content)

    assert "状态：已报送，待审核" in text
    assert "报送后的走访（未列入报告）" in text
    for _, _label, value in report_figures.figure_lines(report.figures):
        assert "".join(value.split()) in text
    live = report_figures.figures(unit=township, period=services.period_of(report))
    assert live != report.figures
