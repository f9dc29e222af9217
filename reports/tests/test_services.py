import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from activities.models import Activity
from reports import figures as report_figures
from reports import selectors, services, writing
from reports.constants import ReportAction, ReportStatus
from reports.models import QuarterDeadline, QuarterlyReport, ReportEvent

from .report_data import TEXTS, accepted, draft, frozen, meeting, submitted, visit

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _today():
    with frozen():
        yield


def messages_of(error):
    return " ".join(error.value.messages)


def actions(report):
    return list(report.events.values_list("action", flat=True))


# Drafting


def test_a_draft_is_prefilled_from_the_quarters_activities(township, liaison):
    visit(township, liaison)
    meeting(township, liaison)

    report = services.report_create(unit=township, year=2026, quarter=3, created_by=liaison)

    period = report_figures.Period.quarter(2026, 3)
    numbers = report_figures.figures(unit=township, period=period)
    activities = period.activities(Activity.objects.filter(unit__path__startswith=township.path))
    expected = writing.draft_work_text(unit=township, period=period, figures=numbers, activities=activities)
    assert report.status == ReportStatus.DRAFT
    assert report.work_text == expected
    assert report.work_text
    assert report.problems_text == report.plan_text == ""
    assert report.figures is None
    assert report.created_by == liaison
    assert actions(report) == [ReportAction.CREATE]


def test_a_draft_is_due_ten_days_after_the_quarter_by_default(township, liaison):
    report = services.report_create(unit=township, year=2026, quarter=3, created_by=liaison)

    assert report.due_on == datetime.date(2026, 10, 10)


def test_a_draft_is_due_on_the_offices_deadline(county, township, liaison, office):
    QuarterDeadline.objects.create(unit=county, year=2026, quarter=3, due_on=datetime.date(2026, 10, 20))

    report = services.report_create(unit=township, year=2026, quarter=3, created_by=liaison)

    assert report.due_on == datetime.date(2026, 10, 20)


def test_a_quarter_not_yet_ended_cannot_be_drafted(township, liaison):
    with pytest.raises(ValidationError) as error:
        services.report_create(unit=township, year=2026, quarter=4, created_by=liaison)

    assert "2026年第四季度尚未结束" in messages_of(error)
    assert not QuarterlyReport.objects.exists()


def test_a_liaison_cannot_draft_for_another_unit(other_township, bureau, liaison, bureau_liaison):
    for unit, user in [(other_township, liaison), (bureau, liaison), (other_township, bureau_liaison)]:
        with pytest.raises(ValidationError) as error:
            services.report_create(unit=unit, year=2026, quarter=3, created_by=user)
        assert error.value.message_dict == {"unit": [services.OUT_OF_SCOPE]}
    assert not QuarterlyReport.objects.exists()


def test_a_leader_cannot_draft(township, leader):
    with pytest.raises(ValidationError):
        services.report_create(unit=township, year=2026, quarter=3, created_by=leader)

    assert not QuarterlyReport.objects.exists()


def test_a_quarter_is_drafted_once(township, liaison, office):
    services.report_create(unit=township, year=2026, quarter=3, created_by=liaison)

    with pytest.raises(ValidationError) as error:
        services.report_create(unit=township, year=2026, quarter=3, created_by=office)

    assert "溧东镇2026年第三季度的报告已存在" in messages_of(error)
    assert QuarterlyReport.objects.count() == 1


def test_a_township_liaison_may_draft_for_a_village(village, liaison):
    report = services.report_create(unit=village, year=2026, quarter=3, created_by=liaison)

    assert report.unit == village


# The workflow


def test_the_whole_workflow_records_who_did_what(township, liaison, office, director):
    report = draft(township, liaison)

    services.report_submit(report=report, submitted_by=liaison)
    assert report.status == ReportStatus.SUBMITTED
    first_sent = report.first_submitted_at
    assert first_sent is not None and report.submitted_by == liaison

    services.report_return(report=report, comment="请补充八一走访的人数。", returned_by=office)
    assert report.status == ReportStatus.RETURNED

    services.report_update(report=report, updated_by=liaison, **{**TEXTS, "work_text": "补充后的工作情况。"})
    with frozen(datetime.datetime(2026, 12, 3, 9, 0, tzinfo=datetime.UTC)):
        services.report_submit(report=report, submitted_by=liaison)
        assert report.status == ReportStatus.SUBMITTED
        assert report.first_submitted_at == first_sent
        assert report.submitted_at > first_sent

        services.report_accept(report=report, accepted_by=director)
    assert report.status == ReportStatus.ACCEPTED
    assert report.accepted_by == director and report.accepted_at is not None
    assert report.work_text == "补充后的工作情况。"

    events = list(report.events.all())
    assert [(e.action, e.by) for e in events] == [
        (ReportAction.CREATE, liaison),
        (ReportAction.SUBMIT, liaison),
        (ReportAction.RETURN, office),
        (ReportAction.RESUBMIT, liaison),
        (ReportAction.ACCEPT, director),
    ]
    assert events[2].comment == "请补充八一走访的人数。"
    assert all(e.at is not None for e in events)


def test_submitting_freezes_the_figures_and_the_activities(township, village, liaison):
    first = visit(township, liaison)
    second = meeting(village, liaison)
    visit(township, liaison, datetime.date(2026, 10, 2), title="国庆走访")  # the fourth quarter: not covered
    report = submitted(township, liaison)

    period = report_figures.Period.quarter(2026, 3)
    assert report.figures == report_figures.figures(unit=township, period=period)
    assert report.figures["activities"]["count"] == 2
    assert report.activity_ids == sorted([first.pk, second.pk])


def test_an_activity_added_after_submission_does_not_change_the_snapshot(township, liaison):
    visit(township, liaison)
    report = submitted(township, liaison)
    frozen_figures = report.figures

    late = visit(township, liaison, datetime.date(2026, 9, 20), title="中秋走访", money="500")

    report.refresh_from_db()
    assert report.figures == frozen_figures
    assert report.figures["activities"]["count"] == 1
    activities, missing = selectors.report_activities(report=report)
    flags = {a.pk: a.not_in_report for a in activities}
    assert flags[late.pk] is True
    assert sum(flags.values()) == 1
    assert missing == 0


def test_a_deleted_activity_is_counted_as_missing_from_the_quarter(township, liaison):
    gone = visit(township, liaison)
    report = submitted(township, liaison)

    Activity.objects.filter(pk=gone.pk).update(start_date=datetime.date(2026, 10, 1))

    assert selectors.report_activities(report=report) == ([], 1)


def test_a_draft_flags_nothing(township, liaison):
    visit(township, liaison)
    report = draft(township, liaison)

    activities, missing = selectors.report_activities(report=report)

    assert [a.not_in_report for a in activities] == [False]
    assert missing == 0


def test_resubmitting_freezes_the_figures_again(township, liaison, office):
    visit(township, liaison)
    report = submitted(township, liaison)
    services.report_return(report=report, comment="补充活动", returned_by=office)
    late = meeting(township, liaison)

    services.report_submit(report=report, submitted_by=liaison)

    assert report.figures["activities"]["count"] == 2
    assert late.pk in report.activity_ids


def test_accepting_freezes_the_figures_at_acceptance(township, liaison, office):
    visit(township, liaison)
    report = accepted(township, liaison, office)

    assert report.accepted_figures == report_figures.figures(
        unit=township, period=report_figures.Period.quarter(2026, 3)
    )


@pytest.mark.parametrize("section", ["work_text", "problems_text", "plan_text"])
def test_submitting_an_empty_section_names_it_and_changes_nothing(township, liaison, section):
    report = draft(township, liaison)
    services.report_update(report=report, updated_by=liaison, **{**TEXTS, section: "   "})

    with pytest.raises(ValidationError) as error:
        services.report_submit(report=report, submitted_by=liaison)

    label = QuarterlyReport._meta.get_field(section).verbose_name
    assert error.value.message_dict == {section: [f"请填写“{label}”后再报送。"]}
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT
    assert report.figures is None and report.submitted_at is None
    assert actions(report) == [ReportAction.CREATE]


def test_submitting_a_quarter_not_yet_ended_is_refused(township, liaison):
    report = QuarterlyReport.objects.create(
        unit=township, year=2026, quarter=4, due_on=datetime.date(2027, 1, 10), **TEXTS
    )

    with pytest.raises(ValidationError) as error:
        services.report_submit(report=report, submitted_by=liaison)

    assert "2026年第四季度尚未结束" in messages_of(error)
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT and report.figures is None


def test_another_units_liaison_cannot_submit_or_edit(township, liaison, bureau_liaison):
    report = draft(township, liaison)

    with pytest.raises(ValidationError) as error:
        services.report_submit(report=report, submitted_by=bureau_liaison)
    assert messages_of(error) == services.NOT_YOURS
    with pytest.raises(ValidationError):
        services.report_update(report=report, updated_by=bureau_liaison, **TEXTS)

    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT
    assert not ReportEvent.objects.filter(action=ReportAction.SUBMIT).exists()


def test_submitting_twice_is_refused(township, liaison):
    report = submitted(township, liaison)

    with pytest.raises(ValidationError) as error:
        services.report_submit(report=report, submitted_by=liaison)

    assert "不必重复报送" in messages_of(error)
    assert actions(report) == [ReportAction.CREATE, ReportAction.SUBMIT]


def test_an_accepted_report_is_read_only_for_the_liaison(township, liaison, office):
    report = accepted(township, liaison, office)
    before = (report.work_text, report.submitted_at, report.figures)

    with pytest.raises(ValidationError) as error:
        services.report_submit(report=report, submitted_by=liaison)
    assert "报告已通过审核，不能再次报送" in messages_of(error)
    with pytest.raises(ValidationError) as error:
        services.report_update(report=report, updated_by=liaison, **{**TEXTS, "work_text": "改了"})
    assert messages_of(error) == services.LOCKED[ReportStatus.ACCEPTED]
    with pytest.raises(ValidationError):
        services.attachment_add(report=report, file=SimpleUploadedFile("a.pdf", PDF_BYTES), uploaded_by=liaison)

    report.refresh_from_db()
    assert report.status == ReportStatus.ACCEPTED
    assert (report.work_text, report.submitted_at, report.figures) == before
    assert not report.attachments.exists()


def test_a_submitted_report_cannot_be_edited_until_returned(township, liaison):
    report = submitted(township, liaison)

    with pytest.raises(ValidationError) as error:
        services.report_update(report=report, updated_by=liaison, **{**TEXTS, "plan_text": "新计划"})

    assert "正在等待双拥办审核" in messages_of(error)
    report.refresh_from_db()
    assert report.plan_text == TEXTS["plan_text"]


def test_returning_needs_a_comment(township, liaison, office):
    report = submitted(township, liaison)

    with pytest.raises(ValidationError) as error:
        services.report_return(report=report, comment="  ", returned_by=office)

    assert error.value.message_dict == {"comment": ["请填写退回意见，说明需要修改或补充的内容。"]}
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert actions(report) == [ReportAction.CREATE, ReportAction.SUBMIT]


def test_only_a_submitted_report_can_be_returned_or_accepted(township, liaison, office):
    report = draft(township, liaison)

    with pytest.raises(ValidationError) as error:
        services.report_return(report=report, comment="退回", returned_by=office)
    assert "当前状态为“草稿”" in messages_of(error)
    with pytest.raises(ValidationError) as error:
        services.report_accept(report=report, accepted_by=office)
    assert "只有已报送、待审核的报告可以通过" in messages_of(error)

    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT and report.accepted_figures is None


def test_a_liaison_or_leader_cannot_review(township, liaison, leader, outsider):
    report = submitted(township, liaison)

    for user in (liaison, leader, outsider):
        with pytest.raises(ValidationError):
            services.report_accept(report=report, accepted_by=user)
        with pytest.raises(ValidationError):
            services.report_return(report=report, comment="退回", returned_by=user)

    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED


def test_the_office_reopens_an_accepted_report_with_a_reason(township, liaison, office):
    report = accepted(township, liaison, office)

    with pytest.raises(ValidationError) as error:
        services.report_reopen(report=report, reason="", reopened_by=office)
    assert error.value.message_dict == {"reason": ["请填写重新打开的原因。"]}
    report.refresh_from_db()
    assert report.status == ReportStatus.ACCEPTED

    services.report_reopen(report=report, reason="八一慰问金额登记有误，需更正后重报。", reopened_by=office)

    assert report.status == ReportStatus.RETURNED
    assert report.accepted_at is None and report.accepted_figures is None
    event = report.events.last()
    assert (event.action, event.by, event.comment) == (
        ReportAction.REOPEN,
        office,
        "八一慰问金额登记有误，需更正后重报。",
    )
    services.report_update(report=report, updated_by=liaison, **{**TEXTS, "work_text": "更正后"})
    services.report_submit(report=report, submitted_by=liaison)
    assert report.events.last().action == ReportAction.RESUBMIT


def test_only_an_accepted_report_can_be_reopened_and_only_by_the_office(township, village, liaison, office):
    report = submitted(township, liaison)

    with pytest.raises(ValidationError) as error:
        services.report_reopen(report=report, reason="原因", reopened_by=office)
    assert "只有已通过的报告可以重新打开" in messages_of(error)

    other = accepted(village, liaison, office)
    with pytest.raises(ValidationError):
        services.report_reopen(report=other, reason="原因", reopened_by=liaison)
    other.refresh_from_db()
    assert other.status == ReportStatus.ACCEPTED


# Locks on the activities of an accepted quarter


def test_an_accepted_report_locks_its_quarter_for_the_unit_and_below(township, village, liaison, office):
    report = accepted(township, liaison, office)

    assert selectors.locking_report(unit=township, day=datetime.date(2026, 8, 1)) == report
    assert selectors.locking_report(unit=village, day=datetime.date(2026, 9, 30)) == report
    assert selectors.locking_report(unit=township, day=datetime.date(2026, 10, 1)) is None
    assert selectors.locking_report(unit=township.parent, day=datetime.date(2026, 8, 1)) is None


def test_a_report_not_yet_accepted_locks_nothing(township, liaison, office):
    report = submitted(township, liaison)
    assert selectors.locking_report(unit=township, day=datetime.date(2026, 8, 1)) is None

    services.report_accept(report=report, accepted_by=office)
    services.report_reopen(report=report, reason="更正", reopened_by=office)

    assert selectors.locking_report(unit=township, day=datetime.date(2026, 8, 1)) is None


# Attachments


def test_an_attachment_is_judged_by_its_content(township, liaison):
    report = draft(township, liaison)

    attachment = services.attachment_add(
        report=report, file=SimpleUploadedFile("照片说明.pdf", PDF_BYTES), uploaded_by=liaison
    )
    with pytest.raises(ValidationError) as error:
        services.attachment_add(
            report=report, file=SimpleUploadedFile("伪装.pdf", b"MZ\x90\x00 not a pdf"), uploaded_by=liaison
        )

    assert error.value.message_dict == {"file": ["文件“伪装.pdf”不是 PDF 或图片（JPEG/PNG）。"]}
    assert attachment.original_name == "照片说明.pdf"
    assert attachment.content_type == "application/pdf"
    assert not attachment.file.name.endswith("照片说明.pdf")
    assert report.attachments.count() == 1


def test_removing_an_attachment_keeps_the_file(township, liaison):
    report = draft(township, liaison)
    attachment = services.attachment_add(
        report=report, file=SimpleUploadedFile("a.pdf", PDF_BYTES), uploaded_by=liaison
    )

    services.attachment_remove(attachment=attachment, removed_by=liaison)

    attachment.refresh_from_db()
    assert attachment.is_removed
    assert attachment.file.storage.exists(attachment.file.name)


def test_the_report_title_names_the_county(township, bureau, liaison, bureau_liaison):
    report = draft(township, liaison)
    other = draft(bureau, bureau_liaison)

    assert selectors.report_title(report) == "示例县溧东镇2026年第三季度双拥工作报告"
    assert selectors.report_title(other) == "示例县规划局2026年第三季度双拥工作报告"


def test_the_report_title_names_a_village_with_its_township_and_a_short_name_once(township, village, county, office):
    short = county.children.create(name="县民政局", kind="department")

    assert selectors.report_title(draft(village, office)) == "示例县溧东镇东村2026年第三季度双拥工作报告"
    assert selectors.report_title(draft(short, office)) == "示例县民政局2026年第三季度双拥工作报告"
