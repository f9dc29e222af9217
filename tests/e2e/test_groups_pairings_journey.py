import datetime
import io

from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.e2e.conftest import shot
from units.models import Pairing, Unit

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def test_office_adjusts_a_group_and_prints_the_roster(open_as):
    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    town = Unit.objects.get(name="溧东镇")
    page = open_as("ganshi")
    page.goto(f"/units/{town.pk}/group/")
    expect(page.locator("h1")).to_contain_text("溧东镇双拥工作领导小组")
    shot(page, "group-detail")
    row = page.locator("tbody tr", has_text="何平").first
    row.get_by_role("link", name="调整").click()
    page.fill("input[name=end_on]", yesterday.isoformat())
    page.fill("input[name=name]", "梁振华")
    page.fill("input[name=job_title]", "人武部部长")
    page.select_option("select[name=role]", label="副组长")
    page.fill("input[name=start_on]", today.isoformat())
    shot(page, "group-adjust")
    page.click("button:has-text('办理调整')")
    roster = page.locator("table").first
    expect(roster).to_contain_text("梁振华")
    expect(roster).not_to_contain_text("何平")

    page.fill("input[name=on]", yesterday.isoformat())
    page.click("button:has-text('查看当日名单')")
    roster = page.locator("table").first
    expect(roster).to_contain_text("何平")
    expect(roster).not_to_contain_text("梁振华")
    shot(page, "group-yesterday")

    page.goto(f"/units/{town.pk}/group/")
    href = page.get_by_role("link", name="下载调整通知（PDF）").get_attribute("href")
    response = page.request.get(href)
    assert response.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    assert "关于调整溧东镇双拥工作领导小组成员的通知" in text
    assert "梁振华" in text and "陈书记" in text


def test_office_creates_a_pairing_and_uploads_the_agreement(open_as, tmp_path):
    agreement = tmp_path / "共建协议书.pdf"
    agreement.write_bytes(MINIMAL_PDF)
    not_pdf = tmp_path / "协议.pdf"
    not_pdf.write_bytes(b"MZ\x90\x00 this is a program")
    page = open_as("ganshi")
    page.goto("/units/pairings/new/")
    page.select_option("select[name=civil_unit]", label="县卫生健康委员会")
    page.select_option("select[name=military_unit]", label="武警示例县中队")
    page.fill("input[name=signed_on]", "2025-07-28")
    page.fill("textarea[name=goals]", "为官兵开展健康体检")
    page.set_input_files("input[name=agreement_file]", str(not_pdf))
    page.click("button:has-text('保存')")
    expect(page.locator("main form")).to_contain_text("不是 PDF 或图片")
    assert not Pairing.objects.filter(civil_unit__name="县卫生健康委员会").exists()
    page.set_input_files("input[name=agreement_file]", str(agreement))
    page.click("button:has-text('保存')")
    expect(page.locator("h1")).to_contain_text("县卫生健康委员会")
    expect(page.locator("body")).to_contain_text("共建协议书.pdf")
    shot(page, "pairing-detail")
    with page.expect_download() as download:
        page.click("text=共建协议书.pdf")
    assert io.BytesIO(open(download.value.path(), "rb").read()).read().startswith(b"%PDF")
    page.goto("/units/pairings/")
    expect(page.locator("table")).to_contain_text("武警示例县中队")
    shot(page, "pairing-list")
