"""The summary PDF: the ledger's and the activity log's totals in its text, embedded CJK fonts, scope, Excel."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from pypdf import PdfReader

from activities.models import Activity
from beneficiaries.constants import BatchStatus
from beneficiaries.models import Payment
from reports.figures import Period
from reports.summary import build_document
from reports.summary_render import render_summary_pdf, summary_workbook
from reports.tests.figure_data import _today  # noqa: F401  (today is 2026-01-20)
from shuangyong.lib.money import plain_yuan

pytestmark = pytest.mark.django_db
YEAR = Period.year_of(2025)


def pdf_text(pdf_bytes):
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes)).pages)


def flat(text):
    return "".join(text.split())


def ledger_total(unit, year):
    """The ledger's money paid in the year under the unit: paid rows, not returned, not in an unpaid batch."""
    rows = Payment.objects.filter(
        township__path__startswith=unit.path, paid_on__year=year, returned_on__isnull=True
    ).exclude(batch__status=BatchStatus.DRAFT)
    return rows.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def activity_money(unit, year):
    """The activity log's 慰问金 given in the year under the unit."""
    rows = Activity.objects.filter(unit__path__startswith=unit.path, start_date__year=year)
    return rows.aggregate(total=Sum("money"))["total"] or Decimal(0)


def fonts_of(resources, seen):
    """Yield every font dict of a resources dict, including those of form XObjects (the charts)."""
    if resources is None:
        return
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        yield font.get_object()
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if id(xobject) in seen or "/Resources" not in xobject:
            continue
        seen.add(id(xobject))
        yield from fonts_of(xobject["/Resources"], seen)


def test_county_and_township_pdf_state_the_ledger_and_activity_totals(county, township, world, ledger):
    for unit, name in ((county, "示例县"), (township, "溧东镇")):
        paid, given = ledger_total(unit, 2025), activity_money(unit, 2025)
        assert paid > 0 and given > 0
        text = flat(pdf_text(render_summary_pdf(build_document(unit=unit, period=YEAR))))
        assert f"{name}2025年度双拥工作总结" in text
        assert f"全年累计发放各项优抚资金{plain_yuan(paid)}" in text, (unit, paid)
        assert f"发放慰问金{plain_yuan(given)}" in text, (unit, given)
    assert ledger_total(county, 2025) != ledger_total(township, 2025)


def test_every_glyph_is_in_an_embedded_cjk_font(county, world, ledger):
    from fontTools.ttLib import TTFont

    pdf = render_summary_pdf(build_document(unit=county, period=YEAR))
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "\ufffd" not in text
    covered, names = set(), set()
    for page in reader.pages:
        for font in fonts_of(page.get("/Resources"), set()):
            for descendant in font.get("/DescendantFonts", [font]):
                descendant = descendant.get_object()
                descriptor = descendant["/FontDescriptor"].get_object()
                files = [key for key in ("/FontFile2", "/FontFile3") if key in descriptor]
                assert files, f"字体未嵌入：{font['/BaseFont']}"
                names.add(str(font["/BaseFont"]))
                program = TTFont(io.BytesIO(descriptor[files[0]].get_object().get_data()))
                covered |= {chr(code) for code in program.getBestCmap()}
                first_cids = [int(item) for item in descendant.get("/W", []) if not isinstance(item, list)]
                assert 0 not in first_cids, f"{font['/BaseFont']} 使用了缺字方框（.notdef）"
    assert names and all("CJK" in name for name in names), names
    missing = sorted({char for char in text if not char.isspace()} - covered)
    assert not missing, f"嵌入字体缺少这些字：{''.join(missing)}"


def test_a_cover_with_draft_mark_contents_and_page_numbers(township, world, ledger):
    draft = build_document(unit=township, period=Period.year_of(2026))
    assert draft.is_draft
    pages = [flat(page.extract_text()) for page in PdfReader(io.BytesIO(render_summary_pdf(draft))).pages]
    assert "草稿" in pages[0] and "溧东镇2026年度双拥工作总结" in pages[0] and draft.issuer in pages[0]
    final = build_document(unit=township, period=YEAR)
    pages = [flat(page.extract_text()) for page in PdfReader(io.BytesIO(render_summary_pdf(final))).pages]
    assert "草稿" not in pages[0] and "2025年12月31日" in pages[0]
    assert "目录" in pages[1] and "四、" in pages[1]
    assert "—2—" in pages[1] and "—3—" in pages[2]
    assert "附件" in "".join(pages)


def test_a_township_pdf_holds_nothing_of_another_township(township, other_township, world, ledger):
    text = flat(pdf_text(render_summary_pdf(build_document(unit=township, period=YEAR))))
    assert "溧东镇" in text and "李大海" in text
    assert other_township.name not in text and "赵德明" not in text and "700.00" not in text


def test_the_workbook_has_a_sheet_per_table_and_the_appendix(county, world, ledger):
    doc = build_document(unit=county, period=YEAR)
    book = openpyxl.load_workbook(io.BytesIO(summary_workbook(doc)))
    tables = [t for s in doc.sections for t in s.tables] + doc.appendix
    assert len(book.sheetnames) == 1 + len(tables)
    assert book.worksheets[0]["B1"].value == doc.title
    appendix = book.worksheets[-1]
    assert [c.value for c in appendix[1]] == doc.appendix[-1].headers
    values = " ".join(str(c.value) for row in book.worksheets[1].iter_rows() for c in row)
    assert tables[0].rows[0][0] in values


def test_the_command_writes_the_pdf(county, township, world, ledger, tmp_path):
    out = tmp_path / "army.pdf"
    call_command(
        "render_summary",
        "--unit",
        township.region_code or township.name,
        "--year",
        "2025",
        "--occasion",
        "八一",
        "--out",
        str(out),
    )
    assert "溧东镇2025年“八一”走访慰问情况" in flat(pdf_text(out.read_bytes()))
    call_command("render_summary", "--unit", county.name, "--year", "2025", "--out", str(out))
    assert "示例县2025年度双拥工作总结" in flat(pdf_text(out.read_bytes()))
    with pytest.raises(CommandError):
        call_command("render_summary", "--unit", "没有的单位", "--year", "2025", "--out", str(out))
    with pytest.raises(CommandError):
        call_command("render_summary", "--unit", county.name, "--year", "2025", "--occasion", "端午", "--out", str(out))
