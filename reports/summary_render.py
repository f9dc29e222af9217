"""The summary document as a PDF and as an Excel workbook, and the cache of a scope's current PDF.

The cache: the PDF of a document is stored under its data_key (a fingerprint of the data and the edits) and
reused until the key changes. When the scope has a Summary row (someone edited it), the PDF is kept on the row
(cached_pdf / cached_key). A reader (a leader) never creates a row: without one, the PDF goes to default_storage
under summaries/cache/<unit pk>/<year>-<shape>-<data_key>.pdf, where the key in the name decides reuse.
"""

import re

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.html import escape
from django.utils.safestring import mark_safe

from activities import charts
from shuangyong.lib import excel
from shuangyong.lib.pdf import render_pdf

from . import summary as writer

PDF_TEMPLATE = "pdf/summary.html"
CACHE_FOLDER = "summaries/cache"
SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")


def money_chart(rows):
    if not rows:
        return ""
    return charts.horizontal_bars(rows=[(label, value) for label, value in rows], title="优抚资金按类别", width=620)


def month_chart(rows):
    if not rows or not any(count for _, count in rows):
        return ""
    return charts.grouped_bars(
        categories=[str(month) for month, _ in rows],
        series=[("活动次数", [count for _, count in rows])],
        title="双拥活动按月统计",
        width=620,
        plot_height=160,
    )


def chart_markup(doc):
    """The document's charts as inline SVG: (caption, markup) pairs, empty ones left out."""
    found = doc.charts or {}
    pairs = [
        ("图1  优抚资金按类别（元）", money_chart(found.get("money_by_category") or [])),
        ("图2  双拥活动按月统计（次）", month_chart(found.get("activities_by_month") or [])),
    ]
    return [(caption, markup) for caption, markup in pairs if markup]


def render_summary_pdf(doc, *, url_fetcher=None) -> bytes:
    """A4: cover (title, issuer, date, 草稿), contents, sections with their tables, charts, appendix.

    Through shuangyong.lib.pdf.render_pdf, whose fetcher loads only static files and data: URLs."""
    # Charts ask for "sans-serif", which may be a font without Chinese: name the PDF's CJK font instead.
    font = escape(settings.PDF_FONT_FAMILY.replace('"', ""))
    charts_in_pdf = [
        (caption, mark_safe(markup.replace('font-family="sans-serif"', f'font-family="{font}"', 1)))  # noqa: S308  (format_html markup, escaped name)
        for caption, markup in chart_markup(doc)
    ]
    context = {"doc": doc, "charts": charts_in_pdf}
    return render_pdf(PDF_TEMPLATE, context, url_fetcher=url_fetcher)


def sheet_title(text, used):
    title = SHEET_TITLE_BAD.sub("", text).strip("'") or "表"
    title = title[:28]
    candidate, n = title, 2
    while candidate in used:
        candidate = f"{title[:26]}{n}"
        n += 1
    used.add(candidate)
    return candidate


def summary_workbook(doc) -> bytes:
    """One sheet per section table and per appendix table, after a sheet with the document's text."""
    used = set()
    text_rows = [["标题", doc.title], ["单位", doc.issuer], ["日期", doc.date]]
    if doc.is_draft:
        text_rows.append(["状态", "草稿（截至当日的数据）"])
    text_rows.append(["", doc.opening])
    for section in doc.sections:
        text_rows.append([section.heading, ""])
        for paragraph in section.paragraphs:
            text_rows.append(["", paragraph])
        for paragraph in section.edited:
            text_rows.append(["补充", paragraph])
    sheets = [excel.Sheet(title=sheet_title("总结正文", used), rows=text_rows, widths=[22, 100])]
    for prefix, tables in [("", [t for s in doc.sections for t in s.tables]), ("附", doc.appendix)]:
        for table in tables:
            rows = [list(row) for row in table.rows]
            if table.total:
                rows.append(list(table.total))
            sheets.append(
                excel.Sheet(
                    title=sheet_title(prefix + table.title, used),
                    header=list(table.headers),
                    rows=rows,
                    widths=[18] * len(table.headers),
                )
            )
    return excel.write_workbook(sheets)


def cache_name(*, unit, year, shape, key):
    return f"{CACHE_FOLDER}/{unit.pk}/{year}-{shape}-{key}.pdf"


def cached_summary_pdf(*, unit, year, shape, doc, summary=None):
    """Return (pdf bytes, rendered?) for the document, rendering only when its data_key has no PDF yet."""
    key = writer.data_key(doc)
    if summary is not None:
        if summary.cached_key == key and summary.cached_pdf:
            try:
                with summary.cached_pdf.open("rb") as file:
                    return file.read(), False
            except OSError:
                pass
        pdf = render_summary_pdf(doc)
        old = summary.cached_pdf.name if summary.cached_pdf else ""
        summary.cached_pdf.save(f"{unit.pk}-{year}-{shape}.pdf", ContentFile(pdf), save=False)
        summary.cached_key = key
        type(summary).objects.filter(pk=summary.pk).update(cached_pdf=summary.cached_pdf.name, cached_key=key)
        if old and old != summary.cached_pdf.name:
            default_storage.delete(old)
        return pdf, True
    name = cache_name(unit=unit, year=year, shape=shape, key=key)
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as file:
            return file.read(), False
    pdf = render_summary_pdf(doc)
    default_storage.save(name, ContentFile(pdf))
    _drop_outdated(name)
    return pdf, True


def _drop_outdated(name):
    """Delete the scope's PDFs cached under earlier data keys: the data have changed since."""
    folder, current = name.rsplit("/", 1)
    prefix = current.rsplit("-", 1)[0] + "-"
    for other in default_storage.listdir(folder)[1]:
        if other.startswith(prefix) and other != current:
            default_storage.delete(f"{folder}/{other}")


def has_cached_pdf(*, unit, year, shape, doc, summary=None):
    key = writer.data_key(doc)
    if summary is not None:
        return bool(summary.cached_key == key and summary.cached_pdf)
    return default_storage.exists(cache_name(unit=unit, year=year, shape=shape, key=key))
