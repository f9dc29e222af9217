"""Editing a summary (people's paragraphs beside the generated ones), 定稿 and the finalized PDFs.

The office edits any summary in its scope, a liaison its own unit's; everyone else gets 404 here (leaders read
the summaries on the pages of reports/summary_views.py).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from shuangyong.lib.uploads import private_file_response
from units.models import Unit

from . import summary_services as services
from .constants import SummaryStatus
from .models import Summary, SummaryVersion


def _editable_summary(request, unit, year, shape):
    """(unit, summary) for an editor of the unit's summary, 404 for anyone else and for a bad shape."""
    found = get_object_or_404(Unit.objects.visible_to(request.user).civil(), pk=unit)
    try:
        summary = services.summary_for(unit=found, year=year, shape=shape, user=request.user)
    except ValidationError as error:
        raise Http404 from error
    return found, summary


def _edit_url(summary):
    return reverse("reports:summary_edit", args=[summary.unit_id, summary.year, summary.shape])


def _error_messages(request, error):
    for message in error.messages:
        messages.error(request, message)


def _sections(doc, summary, posted=None):
    """The sections people may add to: the generated paragraphs (read-only) and the textarea's text."""
    rows = []
    keys = set()
    for section in doc.sections:
        if section.key in services.FREE_TEXT_KEYS:
            continue
        keys.add(section.key)
        text = "\n".join(summary.edits.get(section.key, []) if summary.edits else [])
        rows.append(
            {
                "key": section.key,
                "heading": section.heading,
                "generated": section.paragraphs,
                "tables": section.tables,
                "text": posted.get(f"edit-{section.key}", "") if posted is not None else text,
            }
        )
    # Paragraphs kept for a section that has no data any more stay editable (and can be removed).
    for key, paragraphs in (summary.edits or {}).items():
        if key not in keys:
            text = posted.get(f"edit-{key}", "") if posted is not None else "\n".join(paragraphs)
            rows.append({"key": key, "heading": key, "generated": [], "tables": [], "text": text})
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def summary_edit(request, unit, year, shape):
    from .summary import build_document

    found, summary = _editable_summary(request, unit, year, shape)
    period = services.period_of(summary)
    posted = request.POST if request.method == "POST" else None
    if posted is not None and "reopen" in posted:
        try:
            services.summary_reopen(summary=summary, reason=posted.get("reason", ""), reopened_by=request.user)
        except ValidationError as error:
            _error_messages(request, error)
        else:
            messages.success(request, "总结已重新打开，可以修改；已有的定稿版本保持不变。")
        return redirect(_edit_url(summary))
    doc = build_document(unit=found, period=period, summary=summary if summary.pk else None)
    sections = _sections(doc, summary, posted)
    if posted is not None:
        edits = {row["key"]: posted.get(f"edit-{row['key']}", "") for row in sections}
        try:
            services.summary_edit(
                summary=summary,
                edits=edits,
                shortcomings=posted.get("shortcomings", ""),
                next_plan=posted.get("next_plan", ""),
                edited_by=request.user,
                labels={row["key"]: row["heading"] for row in sections},
            )
        except ValidationError as error:
            _error_messages(request, error)
        else:
            messages.success(request, "修改已保存。")
            return redirect(_edit_url(summary))
    version = services.latest_version(summary)
    return render(
        request,
        "reports/summary_edit.html",
        {
            "unit": found,
            "summary": summary,
            "doc": doc,
            "sections": sections,
            "shortcomings": posted.get("shortcomings", "") if posted is not None else summary.shortcomings,
            "next_plan": posted.get("next_plan", "") if posted is not None else summary.next_plan,
            "is_final": summary.status == SummaryStatus.FINAL,
            "version": version,
            "versions": list(summary.versions.order_by("-number")) if summary.pk else [],
            "diff": services.version_diff(version=version) if version else [],
            "max_paragraph": services.MAX_PARAGRAPH,
            "preview_url": reverse("reports:summary", args=[found.pk, summary.year, summary.shape]),
        },
    )


@login_required
@require_POST
def summary_finalize(request, unit, year, shape):
    _, summary = _editable_summary(request, unit, year, shape)
    try:
        version = services.summary_finalize(summary=summary, finalized_by=request.user)
    except ValidationError as error:
        _error_messages(request, error)
    else:
        messages.success(request, f"已定稿（第{version.number}版）。定稿的文字、数据和PDF不再改变。")
    return redirect(_edit_url(summary))


@login_required
def version_pdf(request, pk):
    visible = Summary.objects.visible_to(request.user)
    version = get_object_or_404(
        SummaryVersion.objects.filter(summary__in=visible).select_related("summary__unit").exclude(pdf=""), pk=pk
    )
    title = (version.document or {}).get("title") or str(version.summary)
    return private_file_response(
        version.pdf.name, filename=f"{title}（第{version.number}版定稿）.pdf", content_type="application/pdf"
    )
