"""The summary PDF fetches nothing but the portal's static files: not file:// and not the network."""

import io

import pytest
from pypdf import PdfReader

from reports.summary import Document, Section, Table
from reports.summary_render import render_summary_pdf
from shuangyong.lib.pdf import PDF_BASE_URL, StaticOnlyURLFetcher

HOSTILE = [
    '<img src="file:///etc/passwd">',
    '<link rel="stylesheet" href="http://169.254.169.254/latest/meta-data/">',
    "<style>@import url(http://169.254.169.254/x.css);</style>",
]


def text_of(pdf):
    return "".join("".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def hostile_document():
    return Document(
        title="溧东镇2025年度双拥工作总结" + HOSTILE[0],
        issuer="溧东镇双拥工作领导小组办公室",
        date="2025年12月31日",
        opening="现将工作总结如下：" + HOSTILE[1],
        sections=[
            Section(
                key="visits",
                heading="三、走访慰问",
                paragraphs=[HOSTILE[2]],
                tables=[Table(title="表", headers=["项目", HOSTILE[0]], rows=[["file:///etc/passwd", "1"]])],
                edited=['<a href="http://169.254.169.254/">链接</a>'],
            )
        ],
        charts={"money_by_category": [("残疾军人<img src='file:///etc/passwd'>", 100)], "activities_by_month": []},
        appendix=[],
        is_draft=False,
        figures={},
    )


@pytest.mark.django_db
def test_text_in_the_document_is_text_and_nothing_is_fetched():
    fetcher = StaticOnlyURLFetcher()

    pdf = render_summary_pdf(hostile_document(), url_fetcher=fetcher)

    assert fetcher.requested == []
    assert fetcher.refused == []
    text = text_of(pdf)
    assert "file:///etc/passwd" in text and "溧东镇2025年度双拥工作总结" in text
    assert b"root:x:0:0" not in pdf


@pytest.mark.django_db
def test_a_template_that_references_files_and_the_network_fetches_nothing_and_still_renders(settings, tmp_path):
    (tmp_path / "pdf").mkdir()
    (tmp_path / "pdf" / "summary.html").write_text(
        '{% extends "pdf/base.html" %}{% block content %}'
        '<link rel="stylesheet" href="http://169.254.169.254/latest/style.css">'
        '<link rel="attachment" href="file:///etc/passwd">'
        '<img src="file:///etc/passwd"><img src="http://169.254.169.254/latest/meta-data/">'
        '<img src="/static/../../../../etc/passwd">'
        "<h1>{{ doc.issuer }}</h1>{% endblock %}"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    fetcher = StaticOnlyURLFetcher()

    pdf = render_summary_pdf(hostile_document(), url_fetcher=fetcher)

    assert "溧东镇双拥工作领导小组办公室" in text_of(pdf)
    asked = " ".join(fetcher.requested)
    assert "file:///etc/passwd" in asked and "http://169.254.169.254/latest/meta-data/" in asked
    assert set(fetcher.refused) == set(fetcher.requested) - {f"{PDF_BASE_URL}static/css/pdf.css"}
    assert len(fetcher.refused) >= 4
    assert b"root:x:0:0" not in pdf and b"/EmbeddedFile" not in pdf
