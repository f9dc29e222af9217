"""Benchmarks of the year-end summaries (issue 8) on the scale profile.

Called by bench/measure.py (Django already set up for the database under test):
- `figures_results(root, requests)`: reports.figures.figures() for the top unit and a whole year, timed a few times
  (p50 / p95, the query count of one more call), and each section once, so that a miss shows what dominates;
- `pdf_results(requests)`: a summary PDF of about 30 pages through reports.summary_render.render_summary_pdf (the
  portal's helper: restricted fetcher, base stylesheet, CJK font), and the same HTML and stylesheets through plain
  WeasyPrint in the same run, each with its page count. The document is the county's annual summary
  (reports.summary.build_document) with its appendix padded by payment-table rows up to 30 pages; while those
  modules are not there, a document of the same shape is built here.
"""

import datetime
import math
import time
from decimal import Decimal
from io import BytesIO

from django.conf import settings
from django.db import connection
from django.template.loader import render_to_string
from registry import count_queries, county_of, log
from weasyprint import CSS, HTML

from reports import figures as report_figures
from shuangyong.lib import pdf
from units.constants import UnitKind

FIGURES_TARGET_S = 2
PDF_TARGET_S = 8
PDF_PAGES = 30
YEAR = 2025
PAYMENT_HEADERS = ["序号", "乡镇", "姓名", "身份证号", "类别", "项目", "月份", "标准（元）", "金额（元）"]


def _percentile(values, share):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _row(label, times, target, *, queries=None, note=None):
    """A timed row in seconds, shown in the table's p50 / p95 columns."""
    return {
        "page": label,
        "kind": "seconds",
        "status": 200,
        "p50": _percentile(times, 0.5),
        "p95": _percentile(times, 0.95),
        "queries": queries,
        "target": target,
        "note": note,
    }


# ---- figures() --------------------------------------------------------------------------------------------------
def figures_results(root, *, requests=5):
    period = report_figures.Period.year(YEAR)
    top = "省" if root.kind == UnitKind.PROVINCE else "县"
    log(f"[{connection.vendor}] figures() {YEAR} 年（{top}）……")
    report_figures.figures(unit=root, period=period)  # warm the caches once
    times = []
    for _ in range(max(3, requests)):
        started = time.perf_counter()
        report_figures.figures(unit=root, period=period)
        times.append(time.perf_counter() - started)
    with count_queries() as queries:
        report_figures.figures(unit=root, period=period)
    sections = _section_times(root, period)
    slowest = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in sections[:3])
    row = _row(
        f"figures() {YEAR} 年（{top}，{len(times)} 次）",
        times,
        FIGURES_TARGET_S,
        queries=queries["n"],
        note=f"最慢的部分：{slowest}",
    )
    log(f"  {row['page']}: p50 {row['p50']:.2f} s, p95 {row['p95']:.2f} s, {queries['n']} 次查询；{slowest}")
    return [row]


def _section_times(root, period):
    """Each section of figures() once, slowest first: [(name, seconds)]."""
    activities = period.activities(report_figures.subtree_activities(root))
    totals = report_figures.activity_totals(activities=activities)
    calls = {
        "activities": lambda: report_figures.activities_section(activities, totals, period),
        "leading_group": lambda: report_figures.leading_group_section(root, period, activities),
        "visits": lambda: report_figures.visits_section(activities),
        "pairings": lambda: report_figures.pairings_section(root, period, activities),
        "payments": lambda: report_figures.payments_section(root, period),
        "plans": lambda: report_figures.plans_section(root, period),
    }
    found = []
    for name, call in calls.items():
        started = time.perf_counter()
        call()
        found.append((name, time.perf_counter() - started))
    return sorted(found, key=lambda pair: -pair[1])


# ---- a 30-page summary PDF -------------------------------------------------------------------------------------
def page_count(pdf_bytes):
    from pypdf import PdfReader

    return len(PdfReader(BytesIO(pdf_bytes)).pages)


def payment_rows(count):
    """Rows of the payments appendix's shape (IDs masked as the appendix shows them)."""
    townships = ["溧东乡", "城关镇", "河西街道", "南山镇", "青石乡", "白沙镇"]
    categories = [
        ("烈士子女", "200.00"),
        ("伤残军人", "2500.00"),
        ("带病回乡退伍军人", "900.00"),
        ("老复员军人", "1350.00"),
    ]
    rows = []
    for n in range(count):
        category, rate = categories[n % len(categories)]
        month = n % 12 + 1
        rows.append(
            [
                str(n + 1),
                townships[n % len(townships)],
                f"张{'明华伟芳军强'[n % 6]}{'一二三四五六七八九'[n % 9]}",
                f"3201**********{n % 10000:04d}",
                category,
                "定期抚恤" if n % 3 else "生活补助",
                f"{YEAR}年{month}月",
                rate,
                rate,
            ]
        )
    return rows


def _synthetic_document():
    """A document of the agreed shape, for when reports.summary cannot build one."""
    from reports.summary import Document, Section, Table

    paragraph = "全年共开展走访慰问活动128次，慰问优抚对象1302人次，发放慰问金1302300元，物品折价20.39万元。" * 3
    sections = [
        Section(
            key=key,
            heading=heading,
            paragraphs=[paragraph] * 3,
            tables=[
                Table(
                    title=f"{heading}情况表", headers=["项目", "数量", "金额（元）"], rows=[["走访", "12", "1500"]] * 6
                )
            ],
            edited=[],
        )
        for key, heading in [
            ("organization", "一、加强组织领导"),
            ("visits", "三、走访慰问"),
            ("policy", "四、落实优抚政策"),
        ]
    ]
    return Document(
        title=f"示例县{YEAR}年度双拥工作总结",
        issuer="示例县双拥工作领导小组办公室",
        date=f"{YEAR}年12月31日",
        opening=paragraph,
        sections=sections,
        charts={
            "money_by_category": [("烈士子女", Decimal("12000")), ("伤残军人", Decimal("30000"))],
            "activities_by_month": [(month, month * 3) for month in range(1, 13)],
        },
        appendix=[],
        is_draft=False,
        figures={},
    )


def summary_document(root):
    """(document, note): the county's annual summary from build_document, else a document of the same shape."""
    from reports.summary import build_document

    county = county_of(root) or root
    try:
        started = time.perf_counter()
        doc = build_document(unit=county, period=report_figures.Period.year(YEAR), today=datetime.date(YEAR + 1, 1, 10))
        return doc, f"{county.name}年度总结（build_document {time.perf_counter() - started:.1f} s）"
    except Exception as error:  # noqa: BLE001 - the writer is being built alongside; measure the shape anyway
        log(f"  build_document 失败，改用同结构的文档：{error!r}")
        return _synthetic_document(), "同结构的文档（build_document 不可用）"


def pad_to_pages(doc, render, pages=PDF_PAGES):
    """Add a payments table to the appendix so that the PDF has about `pages` pages; return its row count."""
    from reports.summary import Table

    table = Table(title=f"附件：{YEAR}年优抚资金发放明细（基准测试）", headers=PAYMENT_HEADERS, rows=[])
    doc.appendix = [*doc.appendix, table]
    base = page_count(render(doc))
    table.rows = payment_rows(200)
    per_page = 200 / max(1, page_count(render(doc)) - base)
    table.rows = payment_rows(max(0, int((pages - base) * per_page)))
    return len(table.rows)


def _render_ours(doc):
    try:
        from reports.summary_render import render_summary_pdf
    except ImportError:
        return pdf.render_pdf("pdf/summary.html", {"doc": doc, "charts": []})
    return render_summary_pdf(doc)


def _summary_html(doc):
    try:
        from reports.summary_render import chart_markup
    except ImportError:
        return render_to_string("pdf/summary.html", {"doc": doc, "charts": []})
    return render_to_string("pdf/summary.html", {"doc": doc, "charts": chart_markup(doc)})


def _render_plain(html):
    """The same HTML and stylesheets through WeasyPrint alone: its default fetcher, no font configuration."""
    stylesheets = [
        CSS(string=pdf.base_stylesheet_text()),
        CSS(string=f"html {{ font-family: {settings.PDF_FONT_FAMILY}; }}"),
    ]
    return HTML(string=html, base_url=pdf.PDF_BASE_URL).write_pdf(stylesheets=stylesheets)


def pdf_results(root, *, requests=3):
    log(f"[{connection.vendor}] 总结 PDF（约 {PDF_PAGES} 页）……")
    doc, source = summary_document(root)
    rows = pad_to_pages(doc, _render_ours)
    html = _summary_html(doc)
    results = []
    for label, render in (
        (f"总结 PDF 约 {PDF_PAGES} 页（render_summary_pdf）", lambda: _render_ours(doc)),
        ("  对照：同一 HTML 直接用 WeasyPrint", lambda: _render_plain(html)),
    ):
        times, made = [], b""
        for _ in range(max(3, requests)):
            started = time.perf_counter()
            made = render()
            times.append(time.perf_counter() - started)
        target = PDF_TARGET_S if "对照" not in label else None
        note = f"{page_count(made)} 页，{len(made) / 1e6:.1f} MB；{source}，附件补足 {rows} 行"
        row = _row(f"{label}（{len(times)} 次）", times, target, note=note)
        log(f"  {row['page']}: p50 {row['p50']:.2f} s, p95 {row['p95']:.2f} s；{note}")
        results.append(row)
    return results
