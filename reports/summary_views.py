"""The summaries leaders read: the downloads page, the HTML preview, the PDF (cached; a large scope renders as a
background job) and the Excel workbook. Units outside the user's scope, and bad shapes or years, are 404."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from shuangyong.lib import excel
from shuangyong.lib.http import whole_number
from shuangyong.lib.jobs import job_start
from shuangyong.lib.pdf import pdf_response
from units.constants import UnitKind
from units.models import Unit

from . import summary as writer
from . import summary_render
from .models import Summary, SummaryVersion
from .summary_jobs import SUMMARY_JOB_KIND
from .summary_services import can_edit, kind_and_occasion

# Scopes a summary is written for, and those large enough to render in the background.
SCOPE_KINDS = [UnitKind.PROVINCE, UnitKind.CITY, UnitKind.COUNTY, UnitKind.TOWNSHIP, UnitKind.DEPARTMENT]
LARGE_KINDS = {UnitKind.PROVINCE, UnitKind.CITY}
# The shapes the downloads page offers; other occasions are reachable by URL.
LISTED_SHAPES = [("annual", "年度总结"), ("half", "上半年总结"), ("army_day", "“八一”走访慰问情况")]


def years_offered():
    this_year = timezone.localdate().year
    return [this_year, this_year - 1]


def is_large(unit):
    return unit.kind in LARGE_KINDS


def summary_row(user, unit, year, shape):
    kind, occasion = kind_and_occasion(shape)
    return Summary.objects.visible_to(user).filter(unit=unit, kind=kind, year=year, occasion=occasion).first()


def resolve(request, unit, year, shape):
    """(unit, period, summary row or None) of a URL, or 404."""
    period = writer.shape_period(shape=shape, year=year)
    if period is None or year > timezone.localdate().year:
        raise Http404
    unit = get_object_or_404(Unit.objects.visible_to(request.user).filter(kind__in=SCOPE_KINDS), pk=unit)
    return unit, period, summary_row(request.user, unit, year, shape)


def document_for(request, unit, year, shape):
    unit, period, summary = resolve(request, unit, year, shape)
    return unit, summary, writer.build_document(unit=unit, period=period, summary=summary)


def is_draft_period(year, shape):
    period = writer.shape_period(shape=shape, year=year)
    return period is not None and period.end >= timezone.localdate()


@login_required
@require_safe
def summary_list(request):
    visible = Unit.objects.visible_to(request.user).filter(kind__in=SCOPE_KINDS, is_active=True)
    top = visible.order_by("depth", "path").first()
    chosen = top
    if whole_number(request.GET.get("unit")) is not None:
        chosen = visible.filter(pk=whole_number(request.GET.get("unit"))).first() or top
    units = []
    if chosen is not None:
        units = [chosen, *visible.filter(parent=chosen).order_by("-kind", "path")]
    years = years_offered()
    year = whole_number(request.GET.get("year"))
    year = year if year in years else None
    if year:
        years = [year]
    shapes = [item for item in LISTED_SHAPES if request.GET.get("shape") in ("", None, item[0])]
    rows = []
    for unit in units:
        editable = can_edit(request.user, unit)
        for year in years:
            documents = [
                {
                    "shape": shape,
                    "label": label,
                    "draft": is_draft_period(year, shape),
                }
                for shape, label in shapes
            ]
            rows.append({"unit": unit, "year": year, "documents": documents, "editable": editable})
    versions = (
        SummaryVersion.objects.filter(summary__in=Summary.objects.visible_to(request.user).filter(unit__in=units))
        .select_related("summary__unit", "finalized_by__profile")
        .order_by("-summary__year", "summary__unit__path", "-number")
    )
    scopes = visible.filter(kind__in=[UnitKind.PROVINCE, UnitKind.CITY, UnitKind.COUNTY]).order_by("path")[:200]
    return render(
        request,
        "reports/summary_list.html",
        {
            "rows": rows,
            "versions": versions,
            "chosen": chosen,
            "scopes": scopes,
            "large": LARGE_KINDS,
            "years": years_offered(),
            "shapes": LISTED_SHAPES,
            "year": year,
            "shape": request.GET.get("shape", ""),
        },
    )


@login_required
@require_safe
def summary_detail(request, unit, year, shape):
    unit, summary, doc = document_for(request, unit, year, shape)
    versions = summary.versions.order_by("-number") if summary else []
    return render(
        request,
        "reports/summary_detail.html",
        {
            "unit": unit,
            "year": year,
            "shape": shape,
            "doc": doc,
            "charts": summary_render.chart_markup(doc),
            "summary": summary,
            "versions": versions,
            "editable": can_edit(request.user, unit),
            "large": is_large(unit),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def summary_pdf(request, unit, year, shape):
    unit, summary, doc = document_for(request, unit, year, shape)
    filename = f"{doc.title}{'（草稿）' if doc.is_draft else ''}.pdf"
    if is_large(unit) and not summary_render.has_cached_pdf(
        unit=unit, year=year, shape=shape, doc=doc, summary=summary
    ):
        if request.method == "POST":
            job = job_start(
                kind=SUMMARY_JOB_KIND,
                created_by=request.user,
                params={"unit": unit.pk, "year": year, "shape": shape},
                total=2,
            )
            return redirect("job", pk=job.pk)
        return render(request, "reports/summary_pending.html", {"unit": unit, "doc": doc, "year": year, "shape": shape})
    if request.method == "POST":
        return redirect("reports:summary_pdf", unit.pk, year, shape)
    pdf, _ = summary_render.cached_summary_pdf(unit=unit, year=year, shape=shape, doc=doc, summary=summary)
    return pdf_response(pdf, filename)


@login_required
@require_safe
def summary_xlsx(request, unit, year, shape):
    unit, _, doc = document_for(request, unit, year, shape)
    content = summary_render.summary_workbook(doc)
    return excel.workbook_response(content, f"{doc.title}{'（草稿）' if doc.is_draft else ''}.xlsx")


def job_done_url(unit, year, shape):
    return reverse("reports:summary_pdf", args=[unit.pk, year, shape])
