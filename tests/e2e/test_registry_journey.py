import io

from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from beneficiaries.constants import Status
from beneficiaries.importers import SHEET
from beneficiaries.models import Beneficiary
from shuangyong.lib.idcard import check_character
from tests.e2e.conftest import shot


def _id(body):
    return body + check_character(body)


ROWS = [
    ("韩德胜", _id("32048119500312001"), "带病回乡退役军人"),
    ("秦桂兰", _id("32048119720809002"), "义务兵家庭"),
    ("陶志刚", _id("32048119480101003"), "在乡复员军人"),
]


def _roster(page, path, *, spoil_second_id):
    response = page.request.get("/beneficiaries/import/template/")
    assert response.ok
    book = load_workbook(io.BytesIO(response.body()))
    sheet = book[SHEET]
    headers = [cell.value for cell in sheet[1]]
    for index, (name, id_number, category) in enumerate(ROWS):
        if spoil_second_id and index == 1:
            id_number = id_number[:-1] + ("0" if id_number[-1] != "0" else "1")
        values = {
            "姓名": name,
            "身份证号": id_number,
            "乡镇（街道）": "溧东镇",
            "村（社区）": "东村",
            "优抚类别": category,
            "享受起始日期": "2020-01-01",
            "开户银行": "示例县农村商业银行",
            "银行账号": f"62284804025648{index:05d}",
        }
        if category == "义务兵家庭":
            values.update({"现役军人姓名": "秦小兵", "入伍日期": "2025-09-10", "服役地区": "一般地区"})
        sheet.append([values.get(header) for header in headers])
    book.save(path)
    return path


def test_liaison_imports_a_roster_fixes_it_and_records_a_death(open_as, tmp_path):
    page = open_as("lidong")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/beneficiaries/import/")
    page.set_input_files("input[type=file]", str(_roster(page, tmp_path / "名册.xlsx", spoil_second_id=True)))
    page.click("button:has-text('上传并检查')")
    errors = page.get_by_role("table", name="有误的行")
    expect(errors).to_contain_text("身份证号")
    expect(errors.locator("tbody tr")).to_have_count(1)
    shot(page, "registry-import-errors")
    assert not Beneficiary.objects.filter(name="韩德胜").exists()

    page.goto("/beneficiaries/import/")
    page.set_input_files("input[type=file]", str(_roster(page, tmp_path / "名册（改）.xlsx", spoil_second_id=False)))
    page.click("button:has-text('上传并检查')")
    page.click("button:has-text('确认导入')")
    expect(page.locator(".alert-success")).to_contain_text("3")
    shot(page, "registry-import-done")
    person = Beneficiary.objects.get(name="韩德胜")

    page.goto(person.get_absolute_url())
    expect(page.locator("body")).not_to_contain_text(person.id_number)
    page.get_by_role("link", name="登记异动").click()
    page.get_by_role("link", name="死亡", exact=True).click()
    page.fill("input[name=effective_on]", timezone.localdate().isoformat())
    page.select_option("select[name=death_cause]", "illness")
    page.fill("input[name=reason]", "病故")
    page.click("button:has-text('登记')")
    expect(page.locator(".badge", has_text="死亡").first).to_be_visible()
    shot(page, "registry-person-deceased")
    person.refresh_from_db()
    assert person.status == Status.DECEASED


def test_leader_sees_a_person_masked_and_the_outsider_gets_404(open_as):
    person = Beneficiary.objects.filter(township__name="溧东镇").first()
    leader = open_as("xianzhang")
    leader.goto(person.get_absolute_url())
    expect(leader.locator("h1")).to_contain_text(person.name)
    assert person.id_number not in leader.content()
    expect(leader.get_by_role("link", name="登记异动")).to_have_count(0)
    shot(leader, "registry-person-leader")
    leader.goto("/beneficiaries/")
    shot(leader, "registry-list-leader")
    assert person.id_number not in leader.content()

    outsider = open_as("linxian")
    assert outsider.goto(person.get_absolute_url()).status == 404
