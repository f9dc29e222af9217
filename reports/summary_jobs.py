"""The background job that renders a large scope's summary PDF into the cache (registered from reports/jobs.py)."""

from django.urls import reverse

from shuangyong.lib.jobs import JobFailed, job_runner
from units.models import Unit

from . import summary as writer
from . import summary_render

SUMMARY_JOB_KIND = "summary_pdf"


@job_runner(SUMMARY_JOB_KIND)
def run_summary_pdf(job, progress):
    """Build the document and render its PDF into the cache; the PDF link then serves it at once."""
    from .summary_views import SCOPE_KINDS, summary_row

    user = job.created_by
    params = job.params
    unit = Unit.objects.visible_to(user).filter(kind__in=SCOPE_KINDS, pk=params.get("unit")).first()
    period = writer.shape_period(shape=params.get("shape"), year=params.get("year"))
    if unit is None or period is None:
        raise JobFailed("找不到这份总结，或您无权查看。")
    year, shape = period.year, params["shape"]
    progress(0, 2)
    summary = summary_row(user, unit, year, shape)
    doc = writer.build_document(unit=unit, period=period, summary=summary)
    progress(1, 2)
    summary_render.cached_summary_pdf(unit=unit, year=year, shape=shape, doc=doc, summary=summary)
    progress(2, 2)
    return {
        "message": f"已生成《{doc.title}》PDF。",
        "next_url": reverse("reports:summary_pdf", args=[unit.pk, year, shape]),
        "next_label": "下载PDF",
    }
