"""Quarterly reports: my reports, drafting, the report page, editing, the review steps, print, PDF, attachments."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Min
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from shuangyong.lib.forms import add_service_errors
from shuangyong.lib.http import whole_number
from shuangyong.lib.pagination import paginate
from shuangyong.lib.pdf import pdf_response, render_pdf
from shuangyong.lib.uploads import private_file_response
from units.constants import Role
from units.permissions import in_scope, is_office, roles_of, scope_q

from . import selectors, services
from .completeness import is_on_time
from .constants import ReportAction, ReportStatus
from .figures import figure_lines, figures, figures_diff
from .forms import AttachmentForm, ReopenForm, ReportCreateForm, ReportFilterForm, ReportTextForm, ReturnForm
from .models import QuarterlyReport, ReportAttachment

EDITORS = services.EDITORS


def _posted(request):
    return (request.POST, request.FILES) if request.method == "POST" else (None, None)


def _reviewable(user):
    return QuarterlyReport.objects.filter(scope_q(user, "unit__path", roles=[Role.OFFICE])).select_related("unit")


def _error_messages(request, error):
    for message in error.messages:
        messages.error(request, message)


# My reports


@login_required
@require_safe
def report_list(request):
    """A liaison sees their units' recent quarters; office staff and leaders see every report in their scope."""
    user = request.user
    units = [] if is_office(user) else selectors.liaison_units(user=user)
    if units:
        return _liaison_list(request, units)
    first = QuarterlyReport.objects.visible_to(user).aggregate(first=Min("year"))["first"]
    this_year = timezone.localdate().year
    years = list(range(this_year, (first or this_year) - 1, -1))
    form = ReportFilterForm(request.GET or None, years=years, units=selectors.filter_units(user=user))
    filters = form.filters() if request.GET else {}
    reports = selectors.report_list(user=user, **filters)
    page = paginate(request, reports)
    today = timezone.localdate()
    for report in page.object_list:
        report.late = _late(report)
        report.overdue = report.first_submitted_at is None and today > report.due_on
    return render(
        request,
        "reports/report_list.html",
        {
            "form": form,
            "page": page,
            "is_office": is_office(user),
            "can_create": Role.OFFICE in roles_of(user),
        },
    )


def _late(report):
    """Whether the report was first sent after its due date."""
    sent = report.first_submitted_at
    return sent is not None and not is_on_time(sent, report.due_on)


def _liaison_list(request, units):
    rows = selectors.liaison_overview(user=request.user)
    return render(
        request,
        "reports/report_mine.html",
        {
            "rows": rows,
            # The latest ended quarter of each unit that has no report yet.
            "to_draft": [(row["unit"], row["quarters"][0]) for row in rows if row["quarters"][0]["report"] is None],
            "below": selectors.below_reports(user=request.user, units=units)[:50],
            "today": timezone.localdate(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_create(request):
    """Pick a unit and an ended quarter; an existing report of that quarter opens instead of a second one."""
    units = selectors.report_units(user=request.user)
    if not units.exists():
        raise Http404
    data, _ = _posted(request)
    # Links from other pages may name the unit and the quarter (?unit=12&period=2026-3).
    chosen = whole_number(request.GET.get("unit"))
    initial = {
        "unit": (units.filter(pk=chosen).first() if chosen is not None else None) or units.first(),
        "period": request.GET.get("period", ""),
    }
    form = ReportCreateForm(data, units=units, initial=initial)
    if form.is_valid():
        unit, year, quarter = form.cleaned_data["unit"], form.cleaned_data["year"], form.cleaned_data["quarter"]
        existing = QuarterlyReport.objects.filter(unit=unit, year=year, quarter=quarter).first()
        if existing is not None:
            messages.info(request, f"{existing}已存在，已为您打开。")
            return redirect(existing)
        try:
            report = services.report_create(unit=unit, year=year, quarter=quarter, created_by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, "已起草报告：数据取自本季度登记的活动，“工作开展情况”已生成草稿，请核对修改后报送。"
            )
            return redirect(report)
    return render(request, "reports/report_create.html", {"form": form})


# The report page


def _figure_sections(lines):
    """Group figure_lines by their section, keeping the order: [(section, [(label, value), ...]), ...]."""
    sections = []
    for section, label, value in lines:
        if not sections or sections[-1][0] != section:
            sections.append((section, []))
        sections[-1][1].append((label, value))
    return sections


def _figures_view(report):
    """What the page shows of the figures: live while the unit works on it, the snapshot once sent.

    Returns the figures, how they were taken, and the lines that changed since the snapshot (if any).
    """
    live = figures(unit=report.unit, period=services.period_of(report))
    if report.status == ReportStatus.ACCEPTED and report.accepted_figures is not None:
        shown, source, compared = report.accepted_figures, "accepted", report.accepted_figures
    elif report.status == ReportStatus.SUBMITTED and report.figures is not None:
        shown, source, compared = report.figures, "submitted", report.figures
    else:
        shown, source, compared = live, "live", report.figures
    diff = figures_diff(compared, live) if compared is not None else []
    return {"numbers": shown, "sections": _figure_sections(figure_lines(shown)), "source": source, "diff": diff}


def _review_note(report, events):
    """The office's latest comment on a returned report: why it came back."""
    if report.status != ReportStatus.RETURNED:
        return None
    return next((e for e in reversed(events) if e.action in (ReportAction.RETURN, ReportAction.REOPEN)), None)


def paragraphs(text):
    """A text's paragraphs: each line the liaison wrote is one (official documents indent every paragraph)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _report_context(request, report):
    user = request.user
    activities, missing = selectors.report_activities(report=report)
    can_edit = in_scope(user, report.unit, roles=EDITORS)
    can_review = in_scope(user, report.unit, roles=[Role.OFFICE])
    editable = report.status in services.EDITABLE
    today = timezone.localdate()
    events = list(selectors.report_events(report=report))
    return {
        "report": report,
        "title": selectors.report_title(report),
        "period": services.period_of(report),
        "figures": _figures_view(report),
        "activities": activities,
        "not_in_report": sum(1 for a in activities if a.not_in_report),
        "missing": missing,
        "attachments": report.attachments.filter(is_removed=False).select_related("uploaded_by__profile"),
        "events": events,
        "review_note": _review_note(report, events),
        "can_edit": can_edit and editable,
        "can_submit": can_edit and editable,
        "can_review": can_review,
        "locked_message": services.LOCKED.get(report.status, "") if can_edit and not can_review else "",
        "texts": [(services.text_label(name), paragraphs(getattr(report, name))) for name in services.TEXT_FIELDS],
        "overdue": editable and report.first_submitted_at is None and today > report.due_on,
        "late": _late(report),
        "today": today,
    }


@login_required
@require_safe
def report_detail(request, pk):
    report = get_object_or_404(QuarterlyReport.objects.visible_to(request.user).select_related("unit"), pk=pk)
    context = _report_context(request, report)
    context.update(
        {
            "return_form": ReturnForm(),
            "reopen_form": ReopenForm(),
            "attachment_form": AttachmentForm(),
        }
    )
    return render(request, "reports/report_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def report_edit(request, pk):
    """Edit the three texts; “重新生成草稿” rewrites 工作开展情况 from the log, “保存并报送” sends it on."""
    report = get_object_or_404(QuarterlyReport.objects.editable_by(request.user).select_related("unit"), pk=pk)
    if report.status not in services.EDITABLE:
        messages.error(request, services.LOCKED[report.status])
        return redirect(report)
    data, _ = _posted(request)
    initial = {name: getattr(report, name) for name in services.TEXT_FIELDS}
    form = ReportTextForm(data, initial={**initial, "version": report.version})
    if data is not None and "redraft" in data:
        values = data.copy()
        values["work_text"] = services.redraft_work_text(report=report)
        form = ReportTextForm(values)
        messages.info(request, "已按本季度当前登记的活动重新生成“工作开展情况”草稿，保存后生效。")
    elif form.is_valid():
        try:
            services.report_update(report=report, updated_by=request.user, **form.cleaned_data)
            if "submit" in data:
                services.report_submit(report=report, submitted_by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
            if "submit" in data and report.status in services.EDITABLE:
                messages.info(request, "内容已保存，但尚未报送。")
        else:
            if "submit" in data:
                messages.success(request, "报告已报送，等待双拥办审核。")
            else:
                messages.success(request, "报告已保存。")
            return redirect(report)
    return render(
        request,
        "reports/report_edit.html",
        {
            "form": form,
            "report": report,
            "title": selectors.report_title(report),
            "review_note": _review_note(report, list(selectors.report_events(report=report))),
        },
    )


# The workflow


@login_required
@require_POST
def report_submit(request, pk):
    report = get_object_or_404(QuarterlyReport.objects.editable_by(request.user).select_related("unit"), pk=pk)
    try:
        services.report_submit(report=report, submitted_by=request.user)
    except ValidationError as error:
        _error_messages(request, error)
    else:
        messages.success(request, "报告已报送，等待双拥办审核。")
    return redirect(report)


def _review_step(request, pk, *, action, status, refused, form_class, step, done):
    """A review step with a comment form: check the status, call `step(report, cleaned_data)`, redirect."""
    report = get_object_or_404(_reviewable(request.user), pk=pk)
    if report.status != status:
        messages.error(request, f"{refused}；该报告当前状态为“{report.get_status_display()}”。")
        return redirect(report)
    data, _ = _posted(request)
    form = form_class(data)
    if form.is_valid():
        try:
            step(report, form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done)
            return redirect(report)
    return render(
        request,
        "reports/report_review.html",
        {"form": form, "report": report, "title": selectors.report_title(report), "action": action},
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_return(request, pk):
    return _review_step(
        request,
        pk,
        action="return",
        status=ReportStatus.SUBMITTED,
        refused="只有已报送、待审核的报告可以退回",
        form_class=ReturnForm,
        step=lambda report, data: services.report_return(
            report=report, comment=data["comment"], returned_by=request.user
        ),
        done="报告已退回，联络员修改后会重新报送。",
    )


@login_required
@require_POST
def report_accept(request, pk):
    report = get_object_or_404(_reviewable(request.user), pk=pk)
    try:
        services.report_accept(report=report, accepted_by=request.user)
    except ValidationError as error:
        _error_messages(request, error)
    else:
        messages.success(request, "报告已通过。本季度的活动记录已锁定，联络员不能再修改。")
    return redirect(report)


@login_required
@require_http_methods(["GET", "POST"])
def report_reopen(request, pk):
    return _review_step(
        request,
        pk,
        action="reopen",
        status=ReportStatus.ACCEPTED,
        refused="只有已通过的报告可以重新打开",
        form_class=ReopenForm,
        step=lambda report, data: services.report_reopen(
            report=report, reason=data["reason"], reopened_by=request.user
        ),
        done="报告已重新打开，退回单位修改。",
    )


# Print and PDF


def _day(moment):
    day = timezone.localtime(moment).date()
    return f"{day.year}年{day.month}月{day.day}日"


def status_line(report):
    """The report's state in one sentence, for paper."""
    if report.status == ReportStatus.ACCEPTED:
        return f"状态：已通过（{_day(report.submitted_at)}报送，{_day(report.accepted_at)}审核通过）"
    if report.status == ReportStatus.SUBMITTED:
        return f"状态：已报送，待审核（{_day(report.submitted_at)}报送）"
    today = timezone.localdate()
    computed = f"数据为{today.year}年{today.month}月{today.day}日按登记的活动计算"
    if report.status == ReportStatus.RETURNED:
        return f"状态：已退回，待修改后重新报送（{computed}）"
    return f"状态：草稿，尚未报送（{computed}）"


def _print_context(request, pk):
    report = get_object_or_404(QuarterlyReport.objects.visible_to(request.user).select_related("unit"), pk=pk)
    context = _report_context(request, report)
    context["status_line"] = status_line(report)
    return context


@login_required
@require_safe
def report_print(request, pk):
    return render(request, "reports/print.html", _print_context(request, pk))


@login_required
@require_safe
def report_pdf(request, pk):
    context = _print_context(request, pk)
    pdf = render_pdf("reports/report_pdf.html", context)
    return pdf_response(pdf, f"{context['title']}.pdf")


# Attachments


@login_required
@require_http_methods(["GET", "POST"])
def attachment_add(request, pk):
    report = get_object_or_404(QuarterlyReport.objects.editable_by(request.user).select_related("unit"), pk=pk)
    if report.status not in services.EDITABLE:
        messages.error(request, services.LOCKED[report.status])
        return redirect(report)
    data, files = _posted(request)
    form = AttachmentForm(data, files)
    if form.is_valid():
        try:
            attachment = services.attachment_add(
                report=report, file=form.cleaned_data["file"], uploaded_by=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已上传附件“{attachment.original_name}”。")
            return redirect(report)
    return render(
        request,
        "reports/report_attachment.html",
        {"form": form, "report": report, "title": selectors.report_title(report)},
    )


@login_required
@require_safe
def attachment_file(request, pk):
    visible = QuarterlyReport.objects.visible_to(request.user)
    attachment = get_object_or_404(ReportAttachment.objects.filter(report__in=visible, is_removed=False), pk=pk)
    return private_file_response(
        attachment.file.name, filename=attachment.original_name, content_type=attachment.content_type
    )


@login_required
@require_POST
def attachment_remove(request, pk):
    editable = QuarterlyReport.objects.editable_by(request.user)
    attachment = get_object_or_404(
        ReportAttachment.objects.filter(report__in=editable).select_related("report__unit"), pk=pk
    )
    if attachment.is_removed:
        messages.info(request, "该附件已移除。")
    else:
        try:
            services.attachment_remove(attachment=attachment, removed_by=request.user)
        except ValidationError as error:
            _error_messages(request, error)
        else:
            messages.success(request, f"已移除附件“{attachment.original_name}”。")
    return redirect(attachment.report)
