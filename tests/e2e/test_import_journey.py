import io

from django.core.management import call_command
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.e2e.conftest import shot
from units.models import GroupMember, Unit


def _filled_template(page, path, village_code):
    response = page.request.get("/units/import/template/")
    assert response.ok
    book = load_workbook(io.BytesIO(response.body()))
    units = book["单位"]
    units.append(["青山镇", "乡镇/街道", "示例县", "320481106000"])
    units.append(["青山村", "村/社区", "青山镇", village_code])
    members = book["领导小组成员"]
    members.append(["青山镇", "韩立新", "镇党委书记", "组长", "2025-01-01", None])
    book.save(path)
    return path


def _run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")


def test_office_imports_units_fixing_a_bad_row(open_as, tmp_path, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    page = open_as("ganshi")
    page.goto("/units/import/")
    shot(page, "import-page")

    bad = _filled_template(page, tmp_path / "单位导入.xlsx", "320481999000")
    page.set_input_files("input[type=file]", str(bad))
    page.click("button:has-text('上传并导入')")
    expect(page.locator(".job-status")).to_have_text("排队中")
    _run_worker()
    expect(page.locator(".job-status")).to_have_text("失败", timeout=10000)
    expect(page.locator("table")).to_contain_text("区划代码")
    shot(page, "import-failed")
    assert not Unit.objects.filter(name="青山镇").exists()

    good = _filled_template(page, tmp_path / "单位导入（修改后）.xlsx", "320481106201")
    page.goto("/units/import/")
    page.set_input_files("input[type=file]", str(good))
    page.click("button:has-text('上传并导入')")
    _run_worker()
    expect(page.locator(".job-status")).to_have_text("已完成", timeout=10000)
    expect(page.locator(".progress-bar")).to_have_text("100%")
    shot(page, "import-done")
    village = Unit.objects.get(name="青山村")
    assert village.parent.name == "青山镇" and village.parent.parent.name == "示例县"
    assert GroupMember.objects.get(name="韩立新").group.unit.name == "青山镇"
