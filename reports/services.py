"""Writes of the quarterly reports: drafting, editing, the review workflow and attachments.

Every write checks who may make it (office staff or a liaison whose jurisdiction holds the unit; leaders never;
only the office reviews), locks the report row for a transition, records a ReportEvent for each step and saves
all of it or nothing. Submission freezes the figures and the activities the report covers; acceptance freezes
the figures again, so later changes to the log show as a difference and never alter what was accepted.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from shuangyong.lib.uploads import check_upload, files_atomic, original_name, random_name, store_file
from shuangyong.lib.versions import stale_error
from units.constants import Role
from units.permissions import in_scope

from . import figures as report_figures
from . import writing
from .completeness import due_date
from .constants import ReportAction, ReportStatus
from .models import QuarterlyReport, ReportAttachment, ReportEvent

EDITORS = [Role.OFFICE, Role.LIAISON]
REVIEWERS = [Role.OFFICE]
OUT_OF_SCOPE = "所选单位不存在或不在您的管辖范围内。"
NOT_YOURS = "该报告不在您的管辖范围内。"
TEXT_FIELDS = ["work_text", "problems_text", "plan_text"]
EDITABLE = [ReportStatus.DRAFT, ReportStatus.RETURNED]
MAX_ATTACHMENTS = 20
# Why a report in a given state cannot be changed by its unit.
LOCKED = {
    ReportStatus.SUBMITTED: "报告已报送，正在等待双拥办审核，不能修改；如需修改，请联系双拥办退回。",
    ReportStatus.ACCEPTED: "报告已通过审核，不能再修改；如需更正，请联系双拥办重新打开。",
}


def text_label(name):
    return QuarterlyReport._meta.get_field(name).verbose_name


def period_of(report):
    return report_figures.Period.quarter(report.year, report.quarter)


def quarter_has_ended(year, quarter, today=None):
    return report_figures.Period.quarter(year, quarter).end < (today or timezone.localdate())


def _check_ended(year, quarter, field="quarter"):
    period = report_figures.Period.quarter(year, quarter)
    if period.end >= timezone.localdate():
        end = period.end
        message = f"{period.label}尚未结束（{end.year}年{end.month}月{end.day}日结束），季度结束后才能起草和报送报告。"
        raise ValidationError({field: message} if field else message)


def _check_editor(user, report):
    if user is None or not in_scope(user, report.unit, roles=EDITORS):
        raise ValidationError(NOT_YOURS)


def _check_reviewer(user, report):
    if user is None or not in_scope(user, report.unit, roles=REVIEWERS):
        raise ValidationError("只有双拥办工作人员可以审核本单位及下属单位的报告。")


def _check_editable(report):
    if report.status not in EDITABLE:
        raise ValidationError(LOCKED[report.status])


def _lock(report):
    """Read the report again under a row lock, so that two transitions never interleave."""
    return QuarterlyReport.objects.select_for_update().select_related("unit").get(pk=report.pk)


def _lock_for_review(report, reviewer, status, refused):
    """Lock the report for a review step that only a report in `status` takes; `refused` says so."""
    locked = _lock(report)
    _check_reviewer(reviewer, locked)
    if locked.status != status:
        raise ValidationError(f"{refused}；该报告当前状态为“{locked.get_status_display()}”。")
    return locked


def _required(text, field, message):
    """The text stripped, or a ValidationError on `field` if it is blank."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: message})
    return text


def _record(report, action, by, comment=""):
    return ReportEvent.objects.create(report=report, action=action, by=by, comment=comment)


def _done(report):
    """Bring the caller's object up to date with what was saved under the lock."""
    report.refresh_from_db()
    return report


def report_activities_of(unit, period):
    return period.activities(report_figures.subtree_activities(unit))


# Drafting and editing


@transaction.atomic
def report_create(*, unit, year, quarter, created_by):
    """Draft a unit's report for an ended quarter, prefilled with the quarter's figures and a 工作开展情况 draft."""
    if unit is None or created_by is None:
        raise ValidationError({"unit": "请选择报告单位。"})
    if unit.is_military or not unit.is_active or not in_scope(created_by, unit, roles=EDITORS):
        raise ValidationError({"unit": OUT_OF_SCOPE})
    try:
        year, quarter = int(year), int(quarter)
        period = report_figures.Period.quarter(year, quarter)
    except (TypeError, ValueError) as error:
        raise ValidationError({"quarter": "请选择季度（第一至第四季度）。"}) from error
    if year < 2000:
        raise ValidationError({"year": "年度不正确。"})
    _check_ended(year, quarter)
    if QuarterlyReport.objects.filter(unit=unit, year=year, quarter=quarter).exists():
        raise ValidationError({"quarter": f"{unit.name}{period.label}的报告已存在。"}, code="exists")
    numbers = report_figures.figures(unit=unit, period=period)
    activities = report_activities_of(unit, period).order_by("start_date", "pk")
    report = QuarterlyReport(
        unit=unit,
        year=year,
        quarter=quarter,
        work_text=writing.draft_work_text(unit=unit, period=period, figures=numbers, activities=activities),
        due_on=due_date(unit, year, quarter),
        created_by=created_by,
    )
    report.full_clean()
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError as error:
        # Two clicks at once: the other request drafted it first.
        raise ValidationError({"quarter": f"{unit.name}{period.label}的报告已存在。"}, code="exists") from error
    _record(report, ReportAction.CREATE, created_by)
    return report


def redraft_work_text(*, report):
    """Return a fresh 工作开展情况 draft from the quarter's current figures and activities (nothing is saved)."""
    period = period_of(report)
    numbers = report_figures.figures(unit=report.unit, period=period)
    activities = report_activities_of(report.unit, period).order_by("start_date", "pk")
    return writing.draft_work_text(unit=report.unit, period=period, figures=numbers, activities=activities)


@transaction.atomic
def report_update(*, report, updated_by, work_text, problems_text, plan_text, version=None):
    """Save the report's three texts while it is a draft or has been returned.

    With the `version` the user loaded, the save is refused once someone else has saved the texts since.
    """
    locked = _lock(report)
    _check_editor(updated_by, locked)
    _check_editable(locked)
    if version is not None and version != locked.version:
        raise stale_error(locked)
    locked.version += 1
    locked._history_user = updated_by
    locked.work_text = (work_text or "").strip()
    locked.problems_text = (problems_text or "").strip()
    locked.plan_text = (plan_text or "").strip()
    locked.full_clean()
    locked.save()
    return _done(report)


# The workflow


@transaction.atomic
def report_submit(*, report, submitted_by):
    """Send the report to the office: every section filled; freeze the figures and the activities it covers."""
    locked = _lock(report)
    _check_editor(submitted_by, locked)
    if locked.status == ReportStatus.SUBMITTED:
        raise ValidationError("报告已报送，正在等待双拥办审核，不必重复报送。")
    if locked.status == ReportStatus.ACCEPTED:
        raise ValidationError("报告已通过审核，不能再次报送；如需更正，请联系双拥办重新打开。")
    _check_ended(locked.year, locked.quarter, field=None)
    missing = {
        name: f"请填写“{text_label(name)}”后再报送。" for name in TEXT_FIELDS if not getattr(locked, name).strip()
    }
    if missing:
        raise ValidationError(missing)
    period = period_of(locked)
    now = timezone.now()
    action = ReportAction.SUBMIT if locked.first_submitted_at is None else ReportAction.RESUBMIT
    locked.figures = report_figures.figures(unit=locked.unit, period=period)
    locked.activity_ids = sorted(report_activities_of(locked.unit, period).values_list("pk", flat=True))
    locked.status = ReportStatus.SUBMITTED
    locked.first_submitted_at = locked.first_submitted_at or now
    locked.submitted_at = now
    locked.submitted_by = submitted_by
    locked.save()
    _record(locked, action, submitted_by)
    return _done(report)


@transaction.atomic
def report_return(*, report, comment, returned_by):
    """Send a submitted report back to its unit with the office's comment."""
    locked = _lock_for_review(report, returned_by, ReportStatus.SUBMITTED, "只有已报送、待审核的报告可以退回")
    comment = _required(comment, "comment", "请填写退回意见，说明需要修改或补充的内容。")
    locked.status = ReportStatus.RETURNED
    locked.save()
    _record(locked, ReportAction.RETURN, returned_by, comment)
    return _done(report)


@transaction.atomic
def report_accept(*, report, accepted_by, comment=""):
    """Accept a submitted report and freeze the figures as they stand now."""
    locked = _lock_for_review(report, accepted_by, ReportStatus.SUBMITTED, "只有已报送、待审核的报告可以通过")
    locked.accepted_figures = report_figures.figures(unit=locked.unit, period=period_of(locked))
    locked.status = ReportStatus.ACCEPTED
    locked.accepted_at = timezone.now()
    locked.accepted_by = accepted_by
    locked.save()
    _record(locked, ReportAction.ACCEPT, accepted_by, (comment or "").strip())
    return _done(report)


@transaction.atomic
def report_reopen(*, report, reason, reopened_by):
    """Reopen an accepted report for its unit to correct: it goes back as returned, with the reason."""
    locked = _lock_for_review(report, reopened_by, ReportStatus.ACCEPTED, "只有已通过的报告可以重新打开")
    reason = _required(reason, "reason", "请填写重新打开的原因。")
    locked.status = ReportStatus.RETURNED
    locked.accepted_figures = None
    locked.accepted_at = None
    locked.accepted_by = None
    locked.save()
    _record(locked, ReportAction.REOPEN, reopened_by, reason)
    return _done(report)


# Attachments


@files_atomic(field="file")
def attachment_add(*, report, file, uploaded_by):
    """Attach a PDF, JPEG or PNG (judged by its content) to a report that its unit may still change."""
    locked = _lock(report)
    _check_editor(uploaded_by, locked)
    _check_editable(locked)
    if file is None:
        raise ValidationError({"file": "请选择要上传的文件。"})
    if locked.attachments.filter(is_removed=False).count() >= MAX_ATTACHMENTS:
        raise ValidationError({"file": f"每份报告最多 {MAX_ATTACHMENTS} 个附件，请先移除不需要的附件。"})
    try:
        kind, content_type = check_upload(file, user=uploaded_by)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from error
    attachment = ReportAttachment(
        report=locked,
        original_name=original_name(file),
        content_type=content_type,
        size=file.size,
        uploaded_by=uploaded_by,
    )
    store_file(attachment.file, random_name(kind), file)
    attachment.save()
    return attachment


@transaction.atomic
def attachment_remove(*, attachment, removed_by):
    """Take an attachment off the report; the file is kept, as everything a report referred to is."""
    report = _lock(attachment.report)
    _check_editor(removed_by, report)
    _check_editable(report)
    attachment.is_removed = True
    attachment.save(update_fields=["is_removed"])
    return attachment
