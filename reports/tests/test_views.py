import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from activities.models import Activity
from activities.selectors import activity_totals
from reports import figures as report_figures
from reports import services
from reports.constants import ReportAction, ReportStatus
from reports.models import QuarterlyReport

from .report_data import TEXTS, accepted, draft, frozen, meeting, submitted, visit

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _today():
    with frozen():
        yield


def url(name, report):
    return reverse(f"reports:{name}", args=[report.pk])


def page(client, report):
    response = client.get(report.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def flash(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


# My reports


def test_a_liaison_sees_their_recent_quarters_and_drafts_the_latest(client, township, liaison):
    client.force_login(liaison)

    response = client.get(reverse("reports:quarterly"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "我的季度报告" in html
    for label in ("2026年第三季度", "2026年第二季度", "2026年第一季度", "2025年第四季度"):
        assert label in html
    assert "2026年第四季度" not in html
    assert "起草2026年第三季度报告" in html
    assert "2026-10-10" in html


def test_a_liaison_sees_the_status_of_a_filed_quarter(client, township, liaison):
    report = submitted(township, liaison)
    client.force_login(liaison)

    html = client.get(reverse("reports:quarterly")).content.decode()

    assert "已报送" in html
    assert report.get_absolute_url() in html
    assert "起草2026年第三季度报告" not in html


def test_the_office_filters_every_report_in_its_county(client, township, other_township, liaison, office):
    mine = submitted(township, liaison)
    services.report_create(unit=other_township, year=2026, quarter=2, created_by=office)
    client.force_login(office)

    response = client.get(reverse("reports:quarterly"))
    html = response.content.decode()
    assert "溧东镇" in html and "雅灰乡" in html
    assert reverse("reports:completeness") in html

    response = client.get(reverse("reports:quarterly"), {"status": "submitted", "year": "2026", "quarter": "3"})
    reports = list(response.context["page"].object_list)
    assert reports == [mine]

    response = client.get(reverse("reports:quarterly"), {"unit": str(other_township.pk)})
    assert [r.unit for r in response.context["page"].object_list] == [other_township]


def test_a_bad_filter_value_is_ignored(client, township, liaison, office):
    submitted(township, liaison)
    client.force_login(office)

    response = client.get(reverse("reports:quarterly"), {"year": "abc", "status": "nonsense", "unit": "99999999"})

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 1


def test_a_leader_reads_the_list_without_drafting(client, township, liaison, leader):
    submitted(township, liaison)
    client.force_login(leader)

    html = client.get(reverse("reports:quarterly")).content.decode()

    assert "溧东镇" in html
    assert reverse("reports:report_create") not in html


def test_the_outsider_sees_no_report_of_the_county(client, township, liaison, outsider):
    submitted(township, liaison)
    client.force_login(outsider)

    response = client.get(reverse("reports:quarterly"))

    assert list(response.context["page"].object_list) == []


# Drafting


def test_drafting_opens_the_new_report(client, township, liaison):
    visit(township, liaison)
    client.force_login(liaison)

    response = client.post(reverse("reports:report_create"), {"unit": township.pk, "period": "2026-3"})

    report = QuarterlyReport.objects.get()
    assert response.status_code == 302 and response.url == report.get_absolute_url()
    assert report.work_text


def test_drafting_an_existing_quarter_opens_it_instead(client, township, liaison):
    report = draft(township, liaison)
    client.force_login(liaison)

    response = client.post(reverse("reports:report_create"), {"unit": township.pk, "period": "2026-3"}, follow=True)

    assert response.redirect_chain[-1][0] == report.get_absolute_url()
    assert "已存在，已为您打开" in response.content.decode()
    assert QuarterlyReport.objects.count() == 1


def test_drafting_a_quarter_not_yet_ended_is_refused(client, township, liaison):
    client.force_login(liaison)

    response = client.post(reverse("reports:report_create"), {"unit": township.pk, "period": "2026-4"})

    assert response.status_code == 200
    assert "只能为已经结束的季度起草报告" in response.content.decode()
    assert not QuarterlyReport.objects.exists()


def test_drafting_for_another_unit_is_refused(client, township, other_township, liaison):
    client.force_login(liaison)

    response = client.post(reverse("reports:report_create"), {"unit": other_township.pk, "period": "2026-3"})

    assert response.status_code == 200
    assert "所选单位不存在或不在您的管辖范围内" in response.content.decode()
    assert not QuarterlyReport.objects.exists()


# The report page


def test_the_figures_on_the_page_equal_the_activity_logs_totals(client, township, village, liaison):
    visit(township, liaison, money="3000", people=30)
    visit(village, liaison, datetime.date(2026, 9, 12), title="中秋走访", money="1500.50", people=8)
    meeting(township, liaison)
    visit(township, liaison, datetime.date(2026, 6, 30), title="第二季度的走访")
    report = draft(township, liaison)
    client.force_login(liaison)

    response = client.get(report.get_absolute_url())

    quarter = Activity.objects.filter(
        unit__path__startswith=township.path,
        start_date__gte=datetime.date(2026, 7, 1),
        start_date__lte=datetime.date(2026, 9, 30),
    )
    totals = activity_totals(activities=quarter)
    shown = response.context["figures"]["numbers"]["activities"]
    assert shown["count"] == totals["count"] == 3
    assert shown["soldiers"] == totals["soldiers"] == 38
    assert shown["money"] == f"{totals['money']:.2f}" == "4500.50"
    html = response.content.decode()
    lines = report_figures.figure_lines(response.context["figures"]["numbers"])
    assert lines
    for _, label, value in lines:
        assert label in html and value in html
    assert "第二季度的走访" not in html


def test_a_draft_shows_the_liaison_edit_and_submit(client, township, liaison, office):
    report = draft(township, liaison)
    client.force_login(liaison)

    html = page(client, report)

    assert "示例县溧东镇2026年第三季度双拥工作报告" in html
    assert "草稿" in html and "2026-10-10" in html and "已逾期" in html
    assert url("report_edit", report) in html
    assert url("report_submit", report) in html
    assert url("report_accept", report) not in html
    assert TEXTS["problems_text"] in html


def test_the_office_sees_accept_and_return_on_a_submitted_report(client, township, liaison, office):
    report = submitted(township, liaison)
    client.force_login(office)

    html = page(client, report)

    assert url("report_accept", report) in html
    assert url("report_return", report) in html
    assert url("report_edit", report) not in html
    assert "报送时冻结的数据" in html


def test_a_leader_reads_but_finds_no_buttons(client, township, liaison, leader):
    report = submitted(township, liaison)
    client.force_login(leader)

    html = page(client, report)

    for name in ("report_edit", "report_submit", "report_accept", "report_return", "attachment_add"):
        assert url(name, report) not in html
    assert client.post(url("report_submit", report)).status_code == 404
    assert client.post(url("report_accept", report)).status_code == 404


def test_an_activity_added_after_submission_is_flagged_on_the_page(client, township, liaison, office):
    visit(township, liaison)
    report = submitted(township, liaison)
    meeting(township, liaison)
    client.force_login(office)

    response = client.get(report.get_absolute_url())

    html = response.content.decode()
    assert response.context["figures"]["numbers"] == report.figures
    assert response.context["figures"]["numbers"]["activities"]["count"] == 1
    assert html.count("未列入报告") >= 2
    assert "有 1 项活动是报送后登记" in html
    assert "报送后活动记录有变化" in html


def test_an_accepted_report_shows_the_difference_from_the_accepted_figures(client, township, liaison, office):
    visit(township, liaison)
    report = accepted(township, liaison, office)
    client.force_login(office)
    assert "通过后活动记录有变化" not in page(client, report)

    # The office may still correct the quarter's activities once the report is accepted.
    meeting(township, office)

    response = client.get(report.get_absolute_url())
    html = response.content.decode()
    assert "通过后活动记录有变化" in html
    assert response.context["figures"]["diff"]
    assert response.context["figures"]["numbers"] == report.accepted_figures
    assert url("report_reopen", report) in html


# The workflow through the pages


def test_the_journey_draft_return_resubmit_accept(client, township, liaison, office):
    visit(township, liaison)
    client.force_login(liaison)
    client.post(reverse("reports:report_create"), {"unit": township.pk, "period": "2026-3"})
    report = QuarterlyReport.objects.get()

    response = client.post(url("report_edit", report), {**TEXTS, "submit": "1"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED and report.problems_text == TEXTS["problems_text"]

    client.force_login(office)
    response = client.post(url("report_return", report), {"comment": ""})
    assert response.status_code == 200
    assert "请填写退回意见" in response.content.decode()
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    client.post(url("report_return", report), {"comment": "请补充八一走访的慰问金额。"})
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED

    client.force_login(liaison)
    html = page(client, report)
    assert "请补充八一走访的慰问金额。" in html and "重新报送" in html
    client.post(url("report_edit", report), {**TEXTS, "work_text": "补充：慰问金3000元。"})
    response = client.post(url("report_submit", report), follow=True)
    assert "报告已报送" in response.content.decode()

    client.force_login(office)
    client.post(url("report_accept", report))
    report.refresh_from_db()
    assert report.status == ReportStatus.ACCEPTED
    assert list(report.events.values_list("action", flat=True)) == [
        ReportAction.CREATE,
        ReportAction.SUBMIT,
        ReportAction.RETURN,
        ReportAction.RESUBMIT,
        ReportAction.ACCEPT,
    ]
    html = page(client, report)
    assert "张联络员" in html and "李干事" in html and "请补充八一走访的慰问金额。" in html


def test_submitting_with_an_empty_section_says_which(client, township, liaison):
    report = draft(township, liaison, texts=False)
    client.force_login(liaison)

    response = client.post(url("report_submit", report), follow=True)

    html = response.content.decode()
    assert "请填写“存在的问题”后再报送。" in html
    assert "请填写“下季度工作计划”后再报送。" in html
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT


def test_save_and_submit_shows_the_missing_section_on_the_form(client, township, liaison):
    report = draft(township, liaison, texts=False)
    client.force_login(liaison)

    response = client.post(
        url("report_edit", report), {"work_text": "工作情况", "problems_text": "问题", "submit": "1"}
    )

    assert response.status_code == 200
    assert "请填写“下季度工作计划”后再报送。" in response.content.decode()
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT
    assert report.problems_text == "问题"


def test_redrafting_rewrites_the_work_text_without_saving(client, township, liaison):
    report = draft(township, liaison)
    visit(township, liaison)
    client.force_login(liaison)

    response = client.post(url("report_edit", report), {**TEXTS, "redraft": "1"})

    assert response.status_code == 200
    assert response.context["form"]["work_text"].value() == services.redraft_work_text(report=report)
    report.refresh_from_db()
    assert report.work_text == TEXTS["work_text"]


def test_an_accepted_report_is_read_only_for_the_liaison(client, township, liaison, office):
    report = accepted(township, liaison, office)
    client.force_login(liaison)

    html = page(client, report)
    assert url("report_edit", report) not in html
    assert url("report_submit", report) not in html
    assert "报告已通过审核，不能再修改" in html

    response = client.post(url("report_edit", report), {**TEXTS, "work_text": "改了"}, follow=True)
    assert "报告已通过审核，不能再修改" in response.content.decode()
    response = client.post(url("report_submit", report), follow=True)
    assert "不能再次报送" in response.content.decode()
    report.refresh_from_db()
    assert report.status == ReportStatus.ACCEPTED and report.work_text == TEXTS["work_text"]


def test_the_office_reopens_with_a_reason(client, township, liaison, office):
    report = accepted(township, liaison, office)
    client.force_login(office)

    response = client.post(url("report_reopen", report), {"reason": ""})
    assert "请填写重新打开的原因" in response.content.decode()
    response = client.post(url("report_reopen", report), {"reason": "慰问金额有误"})

    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED
    client.force_login(liaison)
    html = page(client, report)
    assert "慰问金额有误" in html and url("report_edit", report) in html


def test_a_liaison_cannot_review(client, township, liaison):
    report = submitted(township, liaison)
    client.force_login(liaison)

    assert client.post(url("report_accept", report)).status_code == 404
    assert client.post(url("report_return", report), {"comment": "x"}).status_code == 404
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED


def test_a_tampered_report_id_is_404(client, township, liaison):
    report = draft(township, liaison)
    client.force_login(liaison)

    assert client.get(reverse("reports:report", args=[report.pk + 1000])).status_code == 404
    assert client.post(reverse("reports:report_submit", args=[report.pk + 1000])).status_code == 404


@pytest.mark.parametrize("name", ["report", "report_print", "report_pdf", "report_edit", "attachment_add"])
def test_another_county_and_another_unit_get_404(client, township, liaison, outsider, bureau_liaison, name):
    report = draft(township, liaison)

    for user in (outsider, bureau_liaison):
        client.force_login(user)
        assert client.get(url(name, report)).status_code == 404


def test_the_outsider_cannot_submit_or_review(client, township, liaison, outsider):
    report = submitted(township, liaison)
    client.force_login(outsider)

    for name in ("report_submit", "report_accept", "report_return", "report_reopen"):
        assert client.post(url(name, report), {"comment": "x", "reason": "x"}).status_code == 404
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED


# Attachments


def test_an_attachment_is_uploaded_and_downloaded_privately(client, township, liaison, leader, outsider):
    report = draft(township, liaison)
    client.force_login(liaison)

    response = client.post(url("attachment_add", report), {"file": SimpleUploadedFile("活动照片.pdf", PDF_BYTES)})

    assert response.status_code == 302
    attachment = report.attachments.get()
    download = reverse("reports:attachment", args=[attachment.pk])
    assert download in page(client, report)
    client.force_login(leader)
    response = client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert "attachment" in response["Content-Disposition"]
    client.force_login(outsider)
    assert client.get(download).status_code == 404


def test_a_file_that_is_not_a_pdf_or_image_is_refused(client, township, liaison):
    report = draft(township, liaison)
    client.force_login(liaison)

    response = client.post(url("attachment_add", report), {"file": SimpleUploadedFile("报告.pdf", b"<html>hi</html>")})

    assert response.status_code == 200
    assert "不是 PDF 或图片（JPEG/PNG）" in response.content.decode()
    assert not report.attachments.exists()


def test_a_removed_attachment_is_no_longer_offered(client, township, liaison):
    report = draft(township, liaison)
    attachment = services.attachment_add(
        report=report, file=SimpleUploadedFile("a.pdf", PDF_BYTES), uploaded_by=liaison
    )
    client.force_login(liaison)

    response = client.post(reverse("reports:attachment_remove", args=[attachment.pk]), follow=True)

    assert "已移除附件“a.pdf”" in response.content.decode()
    download = reverse("reports:attachment", args=[attachment.pk])
    assert download not in page(client, report)
    assert client.get(download).status_code == 404


# Print


def test_the_print_view_holds_the_whole_report(client, township, liaison, office):
    visit(township, liaison)
    report = accepted(township, liaison, office)
    client.force_login(office)

    response = client.get(url("report_print", report))

    html = response.content.decode()
    assert response.status_code == 200
    assert "示例县溧东镇2026年第三季度双拥工作报告" in html
    for text in TEXTS.values():
        assert text in html
    assert "八一走访慰问驻地部队" in html
    assert "状态：已通过" in html
    assert "navbar" not in html


def test_the_list_page_query_count_does_not_grow(client, county, office, django_assert_max_num_queries):
    from units.models import Unit

    for number in range(30):
        unit = Unit.objects.create(name=f"第{number}村", kind="village", parent=county)
        QuarterlyReport.objects.create(unit=unit, year=2026, quarter=3, due_on=datetime.date(2026, 10, 10))
    client.force_login(office)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("reports:quarterly"))

    assert len(response.context["page"].object_list) == 30


def test_the_draft_form_takes_the_unit_and_quarter_from_a_link(client, township, village, liaison):
    client.force_login(liaison)

    response = client.get(reverse("reports:report_create"), {"unit": village.pk, "period": "2026-2"})
    form = response.context["form"]
    assert form.initial == {"unit": village, "period": "2026-2"}

    response = client.get(reverse("reports:report_create"), {"unit": "abc", "period": "zz"})
    assert response.status_code == 200
    assert response.context["form"].initial["unit"] == township
