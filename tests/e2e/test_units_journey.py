import re

from playwright.sync_api import expect

from tests.e2e.conftest import shot
from units.models import Unit


def test_office_adds_a_township_and_a_village(open_as, live_server):
    page = open_as("ganshi")
    shot(page, "home-office")
    page.click("text=单位")
    expect(page.locator("h1")).to_have_text("成员单位")
    shot(page, "unit-list")
    county = Unit.objects.get(name="示例县")
    page.goto(f"/units/new/?parent={county.pk}")
    page.fill("input[name=name]", "新河镇")
    page.select_option("select[name=kind]", label="乡镇/街道")
    page.fill("input[name=region_code]", "320481999")
    page.click("button:has-text('保存')")
    expect(page.locator(".invalid-feedback, .alert-danger").first).to_contain_text("12 位")
    shot(page, "unit-form-error")
    page.fill("input[name=region_code]", "320481105000")
    page.click("button:has-text('保存')")
    expect(page.locator("h1")).to_contain_text("新河镇")
    page.click("text=添加下级单位")
    page.fill("input[name=name]", "新河村")
    page.select_option("select[name=kind]", label="村/社区")
    page.fill("input[name=region_code]", "320481105201")
    page.click("button:has-text('保存')")
    expect(page.locator("h1")).to_contain_text("新河村")
    expect(page.locator(".breadcrumb")).to_contain_text("新河镇")
    shot(page, "unit-detail")
    assert Unit.objects.get(name="新河村").parent.name == "新河镇"


def test_liaison_sees_only_their_township(open_as):
    page = open_as("lidong")
    page.click("text=单位")
    rows = page.locator("tbody tr")
    expect(rows.first).to_contain_text("溧东镇")
    names = " ".join(rows.all_inner_texts())
    assert "东村" in names and "雅灰乡" not in names and "县规划局" not in names
    expect(page.get_by_role("link", name="添加单位")).to_have_count(0)


def test_outsider_gets_404_on_a_unit_url_from_the_office(open_as):
    office = open_as("ganshi")
    office.click("text=单位")
    office.fill("input[name=q]", "溧东镇")
    office.click("button:has-text('查询')")
    office.click("tbody >> text=溧东镇")
    url = office.url
    assert re.search(r"/units/\d+/$", url)
    outsider = open_as("linxian")
    response = outsider.goto(url)
    assert response.status == 404
    expect(outsider.locator("h1")).to_contain_text("页面不存在")
    shot(outsider, "404")
