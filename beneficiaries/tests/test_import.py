import datetime
import io
import re
import zipfile

import openpyxl
import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from beneficiaries.constants import AccessKind, Category, ChangeKind, Status
from beneficiaries.importers import CHECK_KIND, COLUMNS, SAVE_KIND, import_confirm
from beneficiaries.models import AccessLog, Beneficiary, Entitlement, StatusChange
from conftest import valid_id_number
from units.constants import JobStatus, UnitKind
from units.models import Job, Unit

HEADER = list(COLUMNS)
COLUMN = {label: index for index, label in enumerate(HEADER)}


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 3, 10, 10, 0), tick=False):
        yield


def id_for(n):
    """A distinct valid ID number for each n: born within ten years from 1950-01-01, so everyone is over 60."""
    born = datetime.date(1950, 1, 1) + datetime.timedelta(days=n % 3650)
    return valid_id_number(f"320481{born:%Y%m%d}{n // 3650:03d}")


def roster_row(n, changes=None, **values):
    """A valid row in template order; the category varies with n so the preview has several counts."""
    row = dict.fromkeys(HEADER)
    row.update({"姓名": f"对象{n}", "身份证号": id_for(n), "乡镇（街道）": "溧东镇", "村（社区）": "东村"})
    row.update({"联系电话": "13800000000", "银行账号": "6228480402564890018", "生活困难": "否"})
    kind = n % 4
    if kind == 0:
        row.update({"优抚类别": "残疾军人", "残疾等级": "六级", "残疾性质": "因战", "享受起始日期": "2015-01-01"})
    elif kind == 1:
        row.update({"优抚类别": "在乡复员军人", "享受起始日期": datetime.date(2012, 5, 1)})
    elif kind == 2:
        row.update({"优抚类别": "60周岁以上农村籍退役士兵", "义务兵役年数": 3, "享受起始日期": "2025-01-01"})
    else:
        row.update(
            {
                "优抚类别": "义务兵家庭",
                "现役军人姓名": f"军人{n}",
                "入伍日期": "2024-09-10",
                "享受起始日期": "2024-10-01",
            }
        )
    row.update(changes or {}, **values)
    return [row[label] for label in HEADER]


def workbook_bytes(rows, *, template=None):
    """Return an .xlsx: the downloaded template with rows appended, or a bare sheet with the header."""
    if template is None:
        template = openpyxl.Workbook()
        template.active.title = "优抚对象"
        template.active.append(HEADER)
    sheet = template["优抚对象"]
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    template.save(buffer)
    return buffer.getvalue()


def upload(client, content, capture, name="优抚对象.xlsx"):
    """Post the file, let the check job run as a worker would, and return the preview page."""
    with capture(execute=True):
        response = client.post(reverse("beneficiaries:import"), {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 302, response.content.decode()
    return client.get(response.url).content.decode()


def confirm(client, capture, check_job):
    with capture(execute=True):
        response = client.post(reverse("beneficiaries:import_confirm", args=[check_job.pk]))
    assert response.status_code == 302
    return client.get(response.url).content.decode()


def row_error(row, column, message):
    return f"<tr><td>第 {row} 行</td><td>{column}</td><td>{message}"


@pytest.fixture
def places(township, village, other_township):
    Unit.objects.create(name="西村", kind=UnitKind.VILLAGE, parent=other_township, region_code="320481101201")
    return township


# The template


def drop_downs(sheet):
    """Return {column letter: list formula} of a sheet's drop-down lists."""
    return {re.match(r"[A-Z]+", str(dv.sqref)).group(): dv.formula1 for dv in sheet.data_validations.dataValidation}


def test_office_downloads_a_template_with_drop_downs_and_a_skipped_example(client, office, places):
    client.force_login(office)
    response = client.get(reverse("beneficiaries:import_template"))
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["优抚对象", "乡镇村社区", "填写说明"]
    sheet = workbook["优抚对象"]
    rows = list(sheet.values)
    assert rows[0] == tuple(HEADER)
    assert rows[1][0].startswith("示例：")
    lists = drop_downs(sheet)
    letter = {label: openpyxl.utils.get_column_letter(i + 1) for i, label in enumerate(HEADER)}
    assert "烈士遗属" in lists[letter["优抚类别"]] and "60周岁以上农村籍退役士兵" in lists[letter["优抚类别"]]
    assert "一级" in lists[letter["残疾等级"]] and "十级" in lists[letter["残疾等级"]]
    assert lists[letter["残疾性质"]] == '"因战,因公,因病"'
    assert "西藏（进藏）" in lists[letter["服役地区"]]
    assert lists[letter["乡镇（街道）"]] == '"溧东镇,雅灰乡"'
    assert sheet[f"{letter['身份证号']}2"].number_format == "@"
    assert sheet[f"{letter['银行账号']}2"].number_format == "@"
    places_rows = list(workbook["乡镇村社区"].values)
    assert ("溧东镇", "320481100000", "东村", "320481100201") in places_rows
    notes = "\n".join(str(row[0]) for row in workbook["填写说明"].values if row[0])
    assert "50000" in notes and "因病致残七至十级" in notes


def test_a_liaison_template_offers_only_their_township(client, liaison, places):
    client.force_login(liaison)
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(reverse("beneficiaries:import_template")).content))
    township_column = openpyxl.utils.get_column_letter(COLUMN["乡镇（街道）"] + 1)
    assert drop_downs(workbook["优抚对象"])[township_column] == '"溧东镇"'
    assert "雅灰乡" not in str(list(workbook["乡镇村社区"].values))


# Check, preview, confirm


def test_three_bad_rows_among_500_save_nothing_and_are_listed_exactly(
    client, office, places, django_capture_on_commit_callbacks
):
    rows = [roster_row(n) for n in range(500)]
    rows[10][COLUMN["身份证号"]] = id_for(10)[:-1] + ("0" if id_for(10)[-1] != "0" else "1")
    rows[200][COLUMN["残疾等级"]] = "八级"
    rows[200][COLUMN["残疾性质"]] = "因病"
    rows[499][COLUMN["村（社区）"]] = "西村"
    client.force_login(office)
    page = upload(client, workbook_bytes(rows), django_capture_on_commit_callbacks)
    assert "3 行有误（共 3 处问题），没有导入任何数据" in page
    assert row_error(12, "身份证号", "身份证号校验码不符") in page
    assert row_error(202, "残疾等级", "因病致残七至十级不享受残疾抚恤金。") in page
    assert row_error(501, "村（社区）", "溧东镇没有“西村”。") in page
    assert page.count("<tr><td>第 ") == 3
    assert "确认导入" not in page
    assert not Beneficiary.objects.exists()
    assert Job.objects.get().status == JobStatus.FAILED


def test_fixed_rows_preview_the_counts_and_confirming_saves_500_people(
    client, office, places, village, django_capture_on_commit_callbacks
):
    client.force_login(office)
    rows = [roster_row(n) for n in range(500)]
    rows[10][COLUMN["身份证号"]] = "320481"
    upload(client, workbook_bytes(rows), django_capture_on_commit_callbacks)
    rows[10] = roster_row(10)
    page = upload(client, workbook_bytes(rows), django_capture_on_commit_callbacks)
    assert "共 500 行，全部检查无误" in page
    for label in ("残疾军人", "在乡复员军人", "60周岁以上农村籍退役士兵", "义务兵家庭"):
        assert f'<tr><td>{label}</td><td class="text-end">125</td></tr>' in page
    assert "确认导入" in page
    assert not Beneficiary.objects.exists()

    check_job = Job.objects.filter(kind=CHECK_KIND).latest("pk")
    page = confirm(client, django_capture_on_commit_callbacks, check_job)
    assert "已导入 500 名优抚对象" in page
    assert Beneficiary.objects.count() == 500
    assert Entitlement.objects.count() == 500
    assert StatusChange.objects.filter(kind=ChangeKind.ADD).count() == 500
    person = Beneficiary.objects.get(id_number=id_for(4))
    assert (person.township, person.village, person.status) == (places, village, Status.ACTIVE)
    assert person.bank_account == "6228480402564890018"
    entitlement = person.entitlements.get()
    assert (entitlement.category, entitlement.grade, entitlement.nature) == (Category.DISABLED, 6, "war")
    assert person.changes.get().recorded_by == office


def test_the_checked_rows_are_kept_for_the_import_and_removed_by_it(
    client, office, places, django_capture_on_commit_callbacks
):
    client.force_login(office)
    upload(client, workbook_bytes([roster_row(n) for n in range(4)]), django_capture_on_commit_callbacks)
    check_job = Job.objects.get(kind=CHECK_KIND)
    kept = check_job.result["rows_file"]
    assert default_storage.exists(kept)
    page = confirm(client, django_capture_on_commit_callbacks, check_job)
    assert "已导入 4 名优抚对象" in page
    assert not default_storage.exists(kept)
    enlisted = Beneficiary.objects.get(id_number=id_for(3)).entitlements.get()
    assert (enlisted.enlistment_date, enlisted.start_on) == (datetime.date(2024, 9, 10), datetime.date(2024, 10, 1))
    assert Beneficiary.objects.get(id_number=id_for(1)).entitlements.get().start_on == datetime.date(2012, 5, 1)


def test_a_check_whose_kept_rows_are_gone_imports_from_the_upload(
    client, office, places, django_capture_on_commit_callbacks
):
    client.force_login(office)
    upload(client, workbook_bytes([roster_row(n) for n in range(2)]), django_capture_on_commit_callbacks)
    check_job = Job.objects.get(kind=CHECK_KIND)
    default_storage.delete(check_job.result["rows_file"])
    assert "已导入 2 名优抚对象" in confirm(client, django_capture_on_commit_callbacks, check_job)
    assert Beneficiary.objects.count() == 2


def test_a_second_confirmation_of_the_same_upload_imports_nothing_more(
    client, office, places, django_capture_on_commit_callbacks
):
    client.force_login(office)
    upload(client, workbook_bytes([roster_row(n) for n in range(3)]), django_capture_on_commit_callbacks)
    check_job = Job.objects.get(kind=CHECK_KIND)
    confirm(client, django_capture_on_commit_callbacks, check_job)
    page = confirm(client, django_capture_on_commit_callbacks, check_job)
    assert "该文件已确认导入，不会重复导入。" in page
    assert Job.objects.filter(kind=SAVE_KIND).count() == 1
    assert Beneficiary.objects.count() == 3
    assert StatusChange.objects.count() == 3
    preview = client.get(reverse("beneficiaries:import_job", args=[check_job.pk])).content.decode()
    assert "该文件已确认导入" in preview and "确认导入</button>" not in preview


def test_two_confirmations_racing_start_one_import(client, office, places, django_capture_on_commit_callbacks):
    client.force_login(office)
    upload(client, workbook_bytes([roster_row(n) for n in range(2)]), django_capture_on_commit_callbacks)
    first_view = Job.objects.get(kind=CHECK_KIND)
    second_view = Job.objects.get(kind=CHECK_KIND)  # loaded before the first confirmation lands
    winner, started = import_confirm(check_job=first_view, confirmed_by=office)
    assert started
    again, started = import_confirm(check_job=second_view, confirmed_by=office)
    assert (again, started) == (winner, False)
    assert list(Job.objects.filter(kind=SAVE_KIND)) == [winner]


def test_a_failed_check_cannot_be_confirmed(client, office, places, django_capture_on_commit_callbacks):
    client.force_login(office)
    upload(client, workbook_bytes([roster_row(1, 姓名=None)]), django_capture_on_commit_callbacks)
    check_job = Job.objects.get(kind=CHECK_KIND)
    page = confirm(client, django_capture_on_commit_callbacks, check_job)
    assert "该文件没有通过检查，不能导入。" in page
    assert not Job.objects.filter(kind=SAVE_KIND).exists()


def test_a_person_registered_between_check_and_confirm_stops_the_whole_import(
    client, office, places, django_capture_on_commit_callbacks
):
    client.force_login(office)
    upload(client, workbook_bytes([roster_row(n) for n in range(3)]), django_capture_on_commit_callbacks)
    row = roster_row(99, 身份证号=id_for(2))
    upload(client, workbook_bytes([row]), django_capture_on_commit_callbacks)
    first, second = Job.objects.filter(kind=CHECK_KIND).order_by("pk")
    confirm(client, django_capture_on_commit_callbacks, second)
    page = confirm(client, django_capture_on_commit_callbacks, first)
    assert row_error(4, "身份证号", "已登记：对象99（溧东镇），不能重复导入。") in page
    assert list(Beneficiary.objects.values_list("name", flat=True)) == ["对象99"]


def test_every_kind_of_bad_row_is_named(client, office, places, person, django_capture_on_commit_callbacks):
    rows = [
        roster_row(0, 身份证号=id_for(1)),  # fine
        roster_row(1),  # the same ID as the row above
        roster_row(2, 身份证号=person.id_number),  # already registered in scope
        roster_row(3, {"乡镇（街道）": "无此镇"}),
        roster_row(4, 优抚类别="伤残军人"),
        roster_row(5, 享受起始日期="2025-13-01"),
        roster_row(6, 义务兵役年数=None),
        roster_row(7, 现役军人姓名=None),
        roster_row(8, 残疾性质=None),
        roster_row(9, 生活困难="也许"),
        roster_row(10, 身份证号=3.20481195001110e17),
        roster_row(13, 服役地区="一般地区"),
        roster_row(12, 身份证号=None, 姓名=None),
    ]
    client.force_login(office)
    page = upload(client, workbook_bytes(rows), django_capture_on_commit_callbacks)
    expected = [
        (3, "身份证号", "与第 2 行的身份证号重复。"),
        (4, "身份证号", "已登记：王建国（溧东镇），不能重复导入。"),
        (5, "乡镇（街道）", "“无此镇”不存在或不在您的管辖范围内。"),
        (6, "优抚类别", "“伤残军人”不是有效的优抚类别"),
        (7, "享受起始日期", "“2025-13-01”不是有效日期"),
        (8, "义务兵役年数", "“60周岁以上农村籍退役士兵”须填写义务兵役年数。"),
        (9, "现役军人姓名", "请填写现役军人姓名。"),
        (10, "残疾性质", "残疾军人须填写残疾性质。"),
        (11, "生活困难", "“也许”无法识别"),
        (12, "身份证号", "身份证号被 Excel 存成了数字"),
        (13, "服役地区", "只有义务兵家庭、现役军人家属填写服役地区"),
        (14, "姓名", "请填写姓名。"),
        (14, "身份证号", "请填写身份证号。"),
    ]
    for row, column, message in expected:
        assert row_error(row, column, message) in page, (row, column, message)
    assert "<td>第 2 行</td>" not in page
    assert "12 行有误（共 13 处问题）" in page
    assert Beneficiary.objects.count() == 1


def test_an_id_registered_in_another_county_is_reported_without_details(
    client, office, places, other_township_far, django_capture_on_commit_callbacks
):
    stranger = Beneficiary.objects.create(
        name="赵外县",
        id_number=id_for(7),
        sex="男",
        birth_date=datetime.date(1950, 1, 8),
        township=other_township_far,
        phone="13999999999",
    )
    client.force_login(office)
    page = upload(client, workbook_bytes([roster_row(1), roster_row(7)]), django_capture_on_commit_callbacks)
    assert row_error(3, "身份证号", "已在其他县（区）登记。</td>") in page
    for detail in ("赵外县", "邻县", "城关镇", "13999999999"):
        assert detail not in page
    log = AccessLog.objects.get()
    assert (log.kind, log.user, log.beneficiary, log.unit) == (
        AccessKind.FOREIGN_ID,
        office,
        stranger,
        other_township_far,
    )
    assert not Beneficiary.objects.filter(name="对象1").exists()


def test_a_liaison_cannot_import_rows_for_another_township(
    client, liaison, places, other_township, django_capture_on_commit_callbacks
):
    client.force_login(liaison)
    rows = [roster_row(1), roster_row(2, {"乡镇（街道）": "雅灰乡", "村（社区）": "西村"})]
    page = upload(client, workbook_bytes(rows), django_capture_on_commit_callbacks)
    assert row_error(3, "乡镇（街道）", "“雅灰乡”不存在或不在您的管辖范围内。") in page
    assert not Beneficiary.objects.exists()


def test_a_liaison_is_told_to_ask_the_office_about_a_person_of_another_township(
    client, liaison, places, other_township, django_capture_on_commit_callbacks
):
    Beneficiary.objects.create(
        name="钱雅灰", id_number=id_for(5), sex="男", birth_date=datetime.date(1950, 1, 6), township=other_township
    )
    client.force_login(liaison)
    page = upload(client, workbook_bytes([roster_row(5)]), django_capture_on_commit_callbacks)
    assert row_error(2, "身份证号", "已在本县（区）其他乡镇（街道）登记，请联系县（区）双拥办调整所属乡镇。") in page
    assert "钱雅灰" not in page
    assert not AccessLog.objects.exists()


def test_a_liaison_imports_their_own_township(client, liaison, places, django_capture_on_commit_callbacks):
    client.force_login(liaison)
    upload(client, workbook_bytes([roster_row(1), roster_row(2)]), django_capture_on_commit_callbacks)
    page = confirm(client, django_capture_on_commit_callbacks, Job.objects.get(kind=CHECK_KIND))
    assert "已导入 2 名优抚对象" in page
    assert set(Beneficiary.objects.values_list("township__name", flat=True)) == {"溧东镇"}


def test_the_downloaded_template_imports_with_its_example_skipped(
    client, office, places, django_capture_on_commit_callbacks
):
    client.force_login(office)
    template = openpyxl.load_workbook(io.BytesIO(client.get(reverse("beneficiaries:import_template")).content))
    page = upload(client, workbook_bytes([roster_row(1)], template=template), django_capture_on_commit_callbacks)
    assert "共 1 行，全部检查无误" in page


def test_formula_text_is_stored_as_typed(client, office, places, django_capture_on_commit_callbacks):
    client.force_login(office)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "优抚对象"
    sheet.append(HEADER)
    sheet.append(roster_row(1))
    cell = sheet.cell(row=2, column=COLUMN["姓名"] + 1)
    cell.value, cell.data_type = "'=张三", "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload(client, buffer.getvalue(), django_capture_on_commit_callbacks)
    confirm(client, django_capture_on_commit_callbacks, Job.objects.get(kind=CHECK_KIND))
    assert Beneficiary.objects.get().name == "=张三"


# Who may import


@pytest.mark.parametrize("persona", ["leader", "bureau_liaison", "outsider"])
def test_people_who_keep_no_township_get_404_on_the_import_pages(client, persona, request, places):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("beneficiaries:import")).status_code == 404
    assert client.get(reverse("beneficiaries:import_template")).status_code == 404
    assert client.post(reverse("beneficiaries:import")).status_code == 404


def test_another_users_import_is_404(client, office, director, outsider, places, django_capture_on_commit_callbacks):
    client.force_login(office)
    upload(client, workbook_bytes([roster_row(1)]), django_capture_on_commit_callbacks)
    check_job = Job.objects.get()
    for other in (director, outsider):
        client.force_login(other)
        assert client.get(reverse("beneficiaries:import_job", args=[check_job.pk])).status_code == 404
        assert client.post(reverse("beneficiaries:import_confirm", args=[check_job.pk])).status_code == 404
    assert not Beneficiary.objects.exists()


def test_the_preview_polls_while_the_check_runs(client, office, places):
    job = Job.objects.create(kind=CHECK_KIND, created_by=office, total=500, done=120)
    client.force_login(office)
    fragment = client.get(
        reverse("beneficiaries:import_job", args=[job.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert 'hx-trigger="every 1s"' in fragment
    assert '120</span> / <span class="job-total">500' in fragment


# Limits


def test_a_macro_workbook_is_refused(client, office, places):
    client.force_login(office)
    content = workbook_bytes([roster_row(1)])
    response = client.post(reverse("beneficiaries:import"), {"file": SimpleUploadedFile("名单.xlsm", content)})
    assert "含宏或二进制格式的工作簿" in response.content.decode()
    assert not Job.objects.exists()


def test_a_file_over_the_size_limit_is_refused(client, office, places, settings):
    settings.EXCEL_MAX_UPLOAD_BYTES = 4 * 1024
    content = workbook_bytes([roster_row(n) for n in range(200)])
    assert len(content) > 4 * 1024
    client.force_login(office)
    response = client.post(reverse("beneficiaries:import"), {"file": SimpleUploadedFile("名单.xlsx", content)})
    assert "超过 4 KB 上限" in response.content.decode()
    assert not Job.objects.exists()


def test_a_zip_bomb_is_refused(client, office, places):
    content = rebuild(workbook_bytes([roster_row(1)]), add={"xl/media/image1.png": b"\0" * (30 * 1024 * 1024)})
    client.force_login(office)
    response = client.post(reverse("beneficiaries:import"), {"file": SimpleUploadedFile("名单.xlsx", content)})
    assert "压缩炸弹" in response.content.decode()
    assert not Job.objects.exists()


BILLION_LAUGHS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c></row>
<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>
</sheetData>
</worksheet>""".encode()


def rebuild(content, *, replace=None, add=None):
    """Return the xlsx with members replaced or added, as an attacker would craft it."""
    replace, add = replace or {}, add or {}
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, replace.get(item.filename, source.read(item.filename)))
        for name, data in add.items():
            target.writestr(name, data)
    return buffer.getvalue()


def test_billion_laughs_is_refused_without_expanding(client, office, places, django_capture_on_commit_callbacks):
    content = rebuild(workbook_bytes([roster_row(1)]), replace={"xl/worksheets/sheet1.xml": BILLION_LAUGHS})
    client.force_login(office)
    page = upload(client, content, django_capture_on_commit_callbacks)
    assert "无法读取" in page and "没有通过" not in page
    assert Job.objects.get().status == JobStatus.FAILED
    assert not Beneficiary.objects.exists()


def test_50001_rows_are_refused(client, office, places, django_capture_on_commit_callbacks):
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("优抚对象")
    sheet.append(HEADER)
    for n in range(50_001):
        sheet.append([f"对象{n}"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    client.force_login(office)
    page = upload(client, buffer.getvalue(), django_capture_on_commit_callbacks)
    assert "超过 50000 行数据的上限，请拆分为多个文件分批导入" in page
    assert not Beneficiary.objects.exists()


# The command


def write_file(tmp_path, rows):
    path = tmp_path / "名单.xlsx"
    path.write_bytes(workbook_bytes(rows))
    return path


def run_command(*args):
    out = io.StringIO()
    call_command("import_beneficiaries", *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_each_bad_row_and_exits_non_zero(tmp_path, places, county):
    rows = [roster_row(n) for n in range(5)]
    rows[1][COLUMN["残疾等级"]] = "十一级"
    rows[3][COLUMN["乡镇（街道）"]] = "邻县城关镇"
    out = io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("import_beneficiaries", str(write_file(tmp_path, rows)), "--unit", "320481", stdout=out)
    assert error.value.returncode == 1
    assert "2 行有误（共 2 处问题），没有导入任何数据。" in str(error.value)
    lines = out.getvalue().splitlines()
    assert "第 3 行 残疾等级：“十一级”不是有效的残疾等级，应为一级至十级。" in lines
    assert "第 5 行 乡镇（街道）：“邻县城关镇”不存在或不在您的管辖范围内。" in lines
    assert not Beneficiary.objects.exists()


def test_the_command_exit_code_from_the_shell_is_1(tmp_path, places, county, capsys):
    from django.core.management import execute_from_command_line

    path = write_file(tmp_path, [roster_row(1, 享受起始日期=None)])
    with pytest.raises(SystemExit) as exit_:
        execute_from_command_line(["manage.py", "import_beneficiaries", str(path), "--unit", "320481"])
    assert exit_.value.code == 1
    captured = capsys.readouterr()
    assert "第 2 行 享受起始日期：请填写享受起始日期。" in captured.out
    assert "没有导入任何数据" in captured.err


def test_a_township_code_refuses_rows_of_other_townships(tmp_path, places, other_township):
    path = write_file(tmp_path, [roster_row(1, {"乡镇（街道）": "雅灰乡", "村（社区）": None})])
    with pytest.raises(CommandError):
        run_command(str(path), "--unit", "320481100000")
    assert not Beneficiary.objects.exists()


def test_a_dry_run_checks_everything_and_saves_nothing(tmp_path, places):
    path = write_file(tmp_path, [roster_row(n) for n in range(8)])
    out = run_command(str(path), "--unit", "320481100000", "--dry-run")
    assert (
        "检查通过：共 8 行（残疾军人 2 人，在乡复员军人 2 人，60周岁以上农村籍退役士兵 2 人，义务兵家庭 2 人）" in out
    )
    assert "没有保存任何数据" in out
    assert not Beneficiary.objects.exists()
    assert not StatusChange.objects.exists()


def test_the_command_imports_and_records_the_user(tmp_path, places, office):
    path = write_file(tmp_path, [roster_row(n) for n in range(4)])
    out = run_command(str(path), "--unit", "320481", "--user", "office")
    assert "已导入 4 名优抚对象" in out
    assert Beneficiary.objects.count() == 4
    assert set(StatusChange.objects.values_list("recorded_by__username", flat=True)) == {"office"}


def test_the_command_refuses_a_user_outside_the_unit(tmp_path, places, outsider):
    path = write_file(tmp_path, [roster_row(1)])
    with pytest.raises(CommandError, match="不能管理示例县的优抚对象"):
        run_command(str(path), "--unit", "320481", "--user", "outsider")


def test_the_command_refuses_an_unknown_code(tmp_path, places):
    with pytest.raises(CommandError, match="不对应唯一的在用乡镇"):
        run_command(str(write_file(tmp_path, [roster_row(1)])), "--unit", "999999")
