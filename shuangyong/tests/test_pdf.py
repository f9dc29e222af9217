import base64
import io
from urllib.parse import quote

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from shuangyong.lib.pdf import PDF_BASE_URL, RefusedURL, StaticOnlyURLFetcher, pdf_response, render_pdf, static_path_for

SAMPLE = (
    "关于调整溧东镇双拥工作领导小组成员的通知：组长陈喆（党委书记），副组长王垚、李赟，成员周堃。"
    "拥军优属、拥政爱民！2025年“八一”慰问金1,302,300.00元"
)

ONE_PIXEL_PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()


@pytest.fixture
def pdf_templates(settings, tmp_path):
    """Let a test write its own PDF templates."""
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]

    def write(name, body):
        (tmp_path / name).write_text('{% extends "pdf/base.html" %}{% block content %}' + body + "{% endblock %}")
        return name

    return write


def pdf_text(pdf_bytes):
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes)).pages)


def embedded_fonts(pdf_bytes):
    """Yield (base font name, descendant font dict, parsed font program) for every embedded font."""
    for page in PdfReader(io.BytesIO(pdf_bytes)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descendant = descendant.get_object()
                descriptor = descendant["/FontDescriptor"].get_object()
                program = next(
                    descriptor[key] for key in ("/FontFile3", "/FontFile2", "/FontFile") if key in descriptor
                )
                yield str(font["/BaseFont"]), descendant, TTFont(io.BytesIO(program.get_object().get_data()))


def test_it_renders_chinese_text(pdf_templates):
    name = pdf_templates("sample.html", f"<h1>{SAMPLE}</h1><table><tr><th>姓名</th><td>陈喆</td></tr></table>")

    text = pdf_text(render_pdf(name, {}))

    assert SAMPLE.replace(" ", "") in text.replace(" ", "").replace("\n", "")
    assert "陈喆" in text


def test_it_embeds_a_cjk_font_with_a_glyph_for_every_character(pdf_templates):
    name = pdf_templates("glyphs.html", f"<p>{SAMPLE}</p><p class='serif'>{SAMPLE}</p><h1>{SAMPLE}</h1>")

    fonts = list(embedded_fonts(render_pdf(name, {})))

    assert fonts
    covered = set()
    for base_font, descendant, program in fonts:
        assert "CJK" in base_font and "Noto" in base_font, f"非中文字体被嵌入：{base_font}"
        covered |= set(program.getBestCmap())
        # CID 0 is .notdef, the empty box drawn for a missing glyph; it must never be used.
        widths = descendant.get("/W", [])
        first_cids = [int(item) for item in widths if not isinstance(item, list)]
        assert 0 not in first_cids, f"{base_font} 使用了缺字方框（.notdef）"
    missing = sorted({char for char in SAMPLE if not char.isspace()} - {chr(code) for code in covered})
    assert not missing, f"嵌入字体缺少这些字：{''.join(missing)}"


def test_it_fetches_nothing_from_files_or_the_network_and_still_renders(pdf_templates):
    name = pdf_templates(
        "hostile.html",
        """
        <style>@import url(http://169.254.169.254/latest/style.css);</style>
        <link rel="stylesheet" href="https://example.com/evil.css">
        <link rel="attachment" href="file:///etc/passwd">
        <p>仍然生成</p>
        <img src="file:///etc/passwd">
        <img src="http://169.254.169.254/latest/meta-data/">
        <img src="ftp://example.com/x.png">
        <img src="/static/../../../etc/passwd">
        <img src="/static/%2e%2e/%2e%2e/etc/passwd">
        """,
    )
    fetcher = StaticOnlyURLFetcher()

    pdf_bytes = render_pdf(name, {}, url_fetcher=fetcher)

    assert "仍然生成" in pdf_text(pdf_bytes)
    asked = " ".join(fetcher.requested)
    for url in (
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.169.254/latest/style.css",
    ):
        assert url in asked
    assert "ftp://example.com/x.png" in asked
    assert set(fetcher.refused) == set(fetcher.requested) - {f"{PDF_BASE_URL}static/css/pdf.css"}
    assert len(fetcher.refused) >= 7
    assert b"root:x:0:0" not in pdf_bytes
    assert b"/EmbeddedFile" not in pdf_bytes


def test_it_serves_data_urls_and_static_files(pdf_templates):
    name = pdf_templates(
        "allowed.html",
        '<link rel="stylesheet" href="/static/css/pdf.css"><p>图片</p>'
        f'<img src="data:image/png;base64,{ONE_PIXEL_PNG}">',
    )
    fetcher = StaticOnlyURLFetcher()

    pdf_bytes = render_pdf(name, {}, url_fetcher=fetcher)

    assert fetcher.refused == []
    assert any(url.startswith("data:image/png") for url in fetcher.requested)
    assert f"{PDF_BASE_URL}static/css/pdf.css" in fetcher.requested
    assert b"/Subtype /Image" in pdf_bytes


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://169.254.169.254/",
        f"{PDF_BASE_URL}static/../shuangyong/settings.py",
        f"{PDF_BASE_URL}static/%2e%2e/shuangyong/settings.py",
        f"{PDF_BASE_URL}static/css/..%2f..%2fshuangyong%2fsettings.py",
        f"{PDF_BASE_URL}static/css/app.css%00.png",
        f"{PDF_BASE_URL}static/css/missing.css",
        f"{PDF_BASE_URL}media/agreements/secret.pdf",
        "https://pdf-static.invalid.example.com/static/css/pdf.css",
    ],
)
def test_it_refuses_urls_outside_the_static_files(url):
    with pytest.raises(RefusedURL):
        static_path_for(url)


def test_it_refuses_once_the_fetch_budget_is_spent():
    fetcher = StaticOnlyURLFetcher(max_fetches=1)
    fetcher.fetch(f"{PDF_BASE_URL}static/css/pdf.css")

    with pytest.raises(BaseException, match="超时或引用的资源过多"):
        fetcher.fetch(f"{PDF_BASE_URL}static/css/pdf.css")


def test_it_sends_a_chinese_file_name():
    response = pdf_response(b"%PDF-1.7", "溧东镇双拥工作领导小组成员")

    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert f"filename*=UTF-8''{quote('溧东镇双拥工作领导小组成员.pdf')}" in disposition
    assert 'filename="document.pdf"' in disposition
    assert response.content == b"%PDF-1.7"
