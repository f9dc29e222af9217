"""The quarterly report journey: a liaison drafts Q3 and submits, the office returns it, the liaison resubmits,
the office accepts; the completeness dashboard follows each step."""

from reports.constants import ReportStatus
from reports.models import QuarterlyReport
from units.models import Unit

from .conftest import shot

YEAR, QUARTER = 2026, 3


def _accept_dialogs(page):
    page.on("dialog", lambda dialog: dialog.accept())


def _completeness(page):
    page.goto(f"/reports/completeness/?year={YEAR}&quarter={QUARTER}")
    return {
        name: int(page.locator(f"#total-{name}").inner_text())
        for name in ("expected", "submitted", "missing", "returned", "accepted")
    }


def _status_of(page, unit):
    return page.locator(f"#unit-table tr[data-unit='{unit.pk}']").get_attribute("data-status")


def _figure(page, section, label):
    card = page.locator(".figures-grid .card").filter(has_text=section)
    return card.locator("tr").filter(has_text=label).first.locator("td").nth(1).inner_text()


def test_liaison_files_office_returns_then_accepts(open_as):
    township = Unit.objects.get(name="溧东镇")
    assert not QuarterlyReport.objects.filter(unit=township, year=YEAR, quarter=QUARTER).exists()

    office = open_as("ganshi")
    _accept_dialogs(office)
    before = _completeness(office)
    assert _status_of(office, township) == "missing"

    # The log's totals for the township and the quarter, as the liaison reads them.
    liaison = open_as("lidong")
    _accept_dialogs(liaison)
    liaison.goto(f"/activities/?unit={township.pk}&date_from={YEAR}-07-01&date_to={YEAR}-09-30")
    log_count = liaison.locator("[data-total=count]").inner_text()
    log_participants = liaison.locator("[data-total=participants]").inner_text()
    log_money = liaison.locator("[data-total=money]").inner_text()

    liaison.goto("/reports/quarterly/new/")
    liaison.select_option("select[name=unit]", label="溧东镇")
    liaison.select_option("select[name=period]", f"{YEAR}-{QUARTER}")
    liaison.click("button:has-text('起草')")
    liaison.wait_for_selector(".figures-grid")
    report = QuarterlyReport.objects.get(unit=township, year=YEAR, quarter=QUARTER)
    assert report.status == ReportStatus.DRAFT

    # The prefilled figures are the activity log's.
    assert _figure(liaison, "双拥活动", "活动") == log_count
    assert _figure(liaison, "双拥活动", "参加人员") == log_participants
    assert _figure(liaison, "双拥活动", "慰问金额") == log_money
    shot(liaison, "reports-draft")

    liaison.click("a:has-text('编辑')")
    work = liaison.locator("textarea[name=work_text]").input_value()
    assert work.strip(), "工作开展情况 is prefilled from the activities"
    liaison.fill("textarea[name=problems_text]", "村级双拥信息报送不够及时。")
    liaison.fill("textarea[name=plan_text]", "做好元旦春节走访慰问准备。")
    liaison.click("button:has-text('保存并报送')")
    liaison.wait_for_selector("text=已报送")
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    after_submit = _completeness(office)
    assert after_submit["submitted"] == before["submitted"] + 1
    assert after_submit["missing"] == before["missing"] - 1

    office.goto(f"/reports/quarterly/{report.pk}/")
    office.fill("#return-form textarea[name=comment]", "请补充八一走访慰问的具体人数。")
    office.click("#return-form button:has-text('退回')")
    office.wait_for_selector("text=请补充八一走访慰问的具体人数。")
    shot(office, "reports-returned")
    returned = _completeness(office)
    assert returned["returned"] == before["returned"] + 1
    assert _status_of(office, township) == "returned"

    liaison.goto(f"/reports/quarterly/{report.pk}/")
    assert "请补充八一走访慰问的具体人数。" in liaison.locator(".alert-warning").first.inner_text()
    liaison.click("a:has-text('编辑')")
    liaison.fill("textarea[name=work_text]", work + "\n八一期间走访慰问优抚对象。")
    liaison.click("button:has-text('保存并报送')")
    liaison.wait_for_selector("text=已报送")
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert [e.action for e in report.events.order_by("at", "pk")][-3:] == ["submit", "return", "resubmit"]

    office.goto(f"/reports/quarterly/{report.pk}/")
    office.click("button:has-text('通过')")
    office.wait_for_selector("text=已通过")
    report.refresh_from_db()
    assert report.status == ReportStatus.ACCEPTED
    accepted = _completeness(office)
    assert accepted["accepted"] == before["accepted"] + 1
    assert accepted["returned"] == before["returned"]
    assert accepted["expected"] == before["expected"]
    assert _status_of(office, township) == "accepted"
    shot(office, "reports-completeness")

    # Accepted: read-only for the liaison.
    liaison.goto(f"/reports/quarterly/{report.pk}/")
    assert liaison.locator("a:has-text('编辑')").count() == 0
    assert liaison.goto(f"/reports/quarterly/{report.pk}/edit/").status == 404 or "不能" in liaison.content()
    shot(liaison, "reports-accepted")

    outsider = open_as("linxian")
    assert outsider.goto(f"/reports/quarterly/{report.pk}/").status == 404
