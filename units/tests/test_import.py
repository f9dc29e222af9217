import datetime
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from units.constants import GroupRole, UnitKind
from units.models import GroupMember, Job, LeadingGroup, Unit

JAN_1 = datetime.date(2025, 1, 1)


def download_template(client):
    response = client.get(reverse("units:import_template"))
    assert response.status_code == 200
    return openpyxl.load_workbook(io.BytesIO(response.content))


def fill(workbook, units=(), members=()):
    """Append rows under the examples; return the file's bytes and the first row number of each sheet."""
    firsts = []
    for title, rows in (("单位", units), ("领导小组成员", members)):
        sheet = workbook[title]
        firsts.append(sheet.max_row + 1)
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), *firsts


def upload(client, content, capture, name="单位导入.xlsx"):
    """Post the file and let the job run as a worker would after the request commits; return the job page."""
    with capture(execute=True):
        response = client.post(reverse("units:import"), {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 302, response.content.decode()
    return client.get(response.url).content.decode()


TOWN = ("城北镇", "乡镇/街道", "示例县", "320481102000")
VILLAGE = ("城北村", "村/社区", "城北镇", "320481102201")
BUREAU = ("示例县教育局", "机关部门", "示例县", "")
MEMBERS = [
    ("城北镇", "赵书记", "党委书记", "组长", JAN_1, None),
    ("城北镇", "钱镇长", "镇长", "第一副组长", "2025-01-01", None),
    ("示例县教育局", "孙局长", "局长", "组长", "2025/3/1", "2025-12-31"),
]


def test_office_downloads_a_template_with_examples_from_their_county(client, office, county):
    client.force_login(office)
    response = client.get(reverse("units:import_template"))
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["单位", "领导小组成员", "填写说明"]
    units = list(workbook["单位"].values)
    assert units[0] == ("单位名称", "类别", "上级单位", "区划代码")
    assert units[1][0].startswith("示例：") and units[1][2] == "示例县"
    assert list(workbook["领导小组成员"].values)[0] == ("单位名称", "姓名", "职务", "小组职务", "起始日期", "终止日期")
    notes = "\n".join(str(row[0]) for row in workbook["填写说明"].values if row[0])
    assert "乡镇/街道" in notes and "第一副组长" in notes


def test_a_filled_template_imports_cleanly(client, office, county, django_capture_on_commit_callbacks):
    client.force_login(office)
    content, _, _ = fill(download_template(client), units=[TOWN, VILLAGE, BUREAU], members=MEMBERS)
    page = upload(client, content, django_capture_on_commit_callbacks)
    assert "已导入 3 个单位、3 名领导小组成员。" in page
    assert reverse("units:list") in page
    town = Unit.objects.get(name="城北镇")
    village = Unit.objects.get(name="城北村")
    assert (town.parent, town.kind, town.region_code) == (county, UnitKind.TOWNSHIP, "320481102000")
    assert village.parent == town and village.path.startswith(town.path)
    assert Unit.objects.get(name="示例县教育局").parent == county
    roster = GroupMember.objects.filter(group__unit=town).order_by("pk")
    assert [(m.name, m.role, m.start_on) for m in roster] == [
        ("赵书记", GroupRole.LEADER, JAN_1),
        ("钱镇长", GroupRole.FIRST_DEPUTY, JAN_1),
    ]
    bureau_head = GroupMember.objects.get(name="孙局长")
    assert (bureau_head.start_on, bureau_head.end_on) == (datetime.date(2025, 3, 1), datetime.date(2025, 12, 31))
    assert not Unit.objects.filter(name__startswith="示例：").exists()
    job = Job.objects.get()
    assert (job.done, job.total) == (6, 6)


def test_one_bad_row_imports_nothing_and_names_that_row(client, office, county, django_capture_on_commit_callbacks):
    client.force_login(office)
    bad_town = ("城北镇", "乡镇/街道", "示例县", "320481")
    content, first_unit, _ = fill(download_template(client), units=[bad_town, VILLAGE, BUREAU], members=MEMBERS)
    page = upload(client, content, django_capture_on_commit_callbacks)
    assert "没有导入任何数据" in page
    assert "重新上传" in page
    assert f"第 {first_unit} 行（单位）" in page
    assert "区划代码：乡镇街道、村社区使用 12 位统计用区划代码。" in page
    assert f"第 {first_unit + 2} 行（单位）" not in page
    assert not Unit.objects.filter(name__in=["城北镇", "城北村", "示例县教育局"]).exists()
    assert not GroupMember.objects.exists()


def test_fixing_the_row_and_importing_again_creates_everything(
    client, office, county, django_capture_on_commit_callbacks
):
    client.force_login(office)
    bad_town = ("城北镇", "乡镇/街道", "示例县", "320481")
    content, _, _ = fill(download_template(client), units=[bad_town, VILLAGE, BUREAU], members=MEMBERS)
    upload(client, content, django_capture_on_commit_callbacks)
    content, _, _ = fill(download_template(client), units=[TOWN, VILLAGE, BUREAU], members=MEMBERS)
    page = upload(client, content, django_capture_on_commit_callbacks)
    assert "已导入 3 个单位、3 名领导小组成员。" in page
    assert Unit.objects.filter(name__in=["城北镇", "城北村", "示例县教育局"]).count() == 3
    assert GroupMember.objects.count() == 3


def test_every_bad_row_is_listed(client, office, county, other_county, django_capture_on_commit_callbacks):
    client.force_login(office)
    units = [
        TOWN,  # fine
        ("城北镇", "机关部门", "示例县", ""),  # duplicate name
        ("某某站", "工作站", "示例县", ""),  # unknown kind
        ("外县局", "机关部门", "邻县", ""),  # parent outside the scope
        ("南村", "村/社区", "南镇", "320481103201"),  # parent further down the sheet
        ("南镇", "乡镇/街道", "示例县", "320481103000"),
    ]
    members = [
        ("城北镇", "赵书记", "党委书记", "组长", JAN_1, None),
        ("城北镇", "李书记", "党委副书记", "组长", "2025-06-01", None),  # a second 组长 at once
        ("城北镇", "钱镇长", "镇长", "副组长", "2025-13-01", None),  # bad date
        ("城北镇", "孙委员", "委员", "成员", "2025-06-01", "2025-01-01"),  # ends before it starts
        ("城北镇", "周委员", "委员", "组员", JAN_1, None),  # unknown role
        ("无此单位", "吴委员", "委员", "成员", JAN_1, None),  # unknown unit
    ]
    content, u, m = fill(download_template(client), units=units, members=members)
    page = upload(client, content, django_capture_on_commit_callbacks)
    expected = [
        (f"第 {u + 1} 行（单位）", f"与第 {u} 行重名"),
        (f"第 {u + 2} 行（单位）", "“工作站”不是有效的类别"),
        (f"第 {u + 3} 行（单位）", "“邻县”不存在或不在您的管辖范围内"),
        (f"第 {u + 4} 行（单位）", f"“南镇”在本表第 {u + 5} 行，须排在本行之前"),
        (f"第 {m + 1} 行（领导小组成员）", f"与第 {m} 行的赵书记同时担任组长"),
        (f"第 {m + 2} 行（领导小组成员）", "“2025-13-01”不是有效日期"),
        (f"第 {m + 3} 行（领导小组成员）", "2025-01-01 不能早于起始日期 2025-06-01"),
        (f"第 {m + 4} 行（领导小组成员）", "“组员”不是有效的小组职务"),
        (f"第 {m + 5} 行（领导小组成员）", "“无此单位”不存在或不在您的管辖范围内"),
    ]
    for row, message in expected:
        assert row in page and message in page, (row, message)
    assert f"第 {u} 行（单位）" not in page
    assert "发现 9 处问题" in page
    assert not Unit.objects.filter(name__in=["城北镇", "南镇"]).exists()


def test_a_second_leader_against_the_existing_roster_is_refused(
    client, office, group, django_capture_on_commit_callbacks
):
    client.force_login(office)
    members = [("溧东镇", "新书记", "党委书记", "组长", JAN_1, None)]
    content, _, m = fill(download_template(client), units=[BUREAU], members=members)
    page = upload(client, content, django_capture_on_commit_callbacks)
    assert f"第 {m} 行（领导小组成员）" in page
    assert "已有组长：陈书记" in page
    assert not Unit.objects.filter(name="示例县教育局").exists()
    assert not GroupMember.objects.filter(name="新书记").exists()


def test_members_join_an_existing_group(client, office, group, django_capture_on_commit_callbacks):
    client.force_login(office)
    members = [("溧东镇", "武部长", "武装部长", "成员", JAN_1, None)]
    content, _, _ = fill(download_template(client), members=members)
    page = upload(client, content, django_capture_on_commit_callbacks)
    assert "已导入 0 个单位、1 名领导小组成员。" in page
    assert LeadingGroup.objects.count() == 1
    assert group.members.filter(name="武部长", role=GroupRole.MEMBER).exists()


def test_formula_text_in_a_name_is_stored_as_text(client, office, county, django_capture_on_commit_callbacks):
    client.force_login(office)
    workbook = download_template(client)
    content, first_unit, first_member = fill(
        workbook, units=[("placeholder", "机关部门", "示例县", "")], members=[("x", "x", "书记", "组长", JAN_1, None)]
    )
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    for sheet, row, column, text in [
        ("单位", first_unit, 1, '=HYPERLINK("http://evil.example","点我")'),
        ("领导小组成员", first_member, 1, '=HYPERLINK("http://evil.example","点我")'),
        ("领导小组成员", first_member, 2, "=张三"),
    ]:
        cell = workbook[sheet].cell(row=row, column=column)
        cell.value = text
        cell.data_type = "s"  # text that looks like a formula, as a user can type it after a quote
    buffer = io.BytesIO()
    workbook.save(buffer)
    page = upload(client, buffer.getvalue(), django_capture_on_commit_callbacks)
    assert "已导入 1 个单位、1 名领导小组成员。" in page
    unit = Unit.objects.get(name='=HYPERLINK("http://evil.example","点我")')
    assert GroupMember.objects.get(group__unit=unit).name == "=张三"


def test_office_sees_the_upload_form_and_their_past_imports(client, office, county):
    Job.objects.create(kind="units_import", created_by=office, params={"filename": "三月名单.xlsx"})
    client.force_login(office)
    page = client.get(reverse("units:import")).content.decode()
    assert reverse("units:import_template") in page
    assert 'type="file"' in page
    assert "三月名单.xlsx" in page


@pytest.mark.parametrize("persona", ["leader", "liaison", "bureau_liaison"])
def test_non_office_staff_get_404_on_the_import_pages(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("units:import")).status_code == 404
    assert client.get(reverse("units:import_template")).status_code == 404
    assert client.post(reverse("units:import")).status_code == 404


def test_outsider_cannot_import_into_another_county(
    client, outsider, county, other_county, django_capture_on_commit_callbacks
):
    client.force_login(outsider)
    workbook = download_template(client)
    assert "示例县" not in str(list(workbook["单位"].values))
    content, first_unit, _ = fill(workbook, units=[BUREAU])
    page = upload(client, content, django_capture_on_commit_callbacks)
    assert f"第 {first_unit} 行（单位）" in page
    assert "“示例县”不存在或不在您的管辖范围内" in page
    assert not Unit.objects.filter(name="示例县教育局").exists()


def test_the_job_page_of_another_user_is_404(
    client, office, director, outsider, county, django_capture_on_commit_callbacks
):
    client.force_login(office)
    content, _, _ = fill(download_template(client), units=[BUREAU])
    upload(client, content, django_capture_on_commit_callbacks)
    job = Job.objects.get()
    for other in (director, outsider):
        client.force_login(other)
        assert client.get(job.get_absolute_url()).status_code == 404


def test_the_job_page_polls_until_the_job_is_finished(client, office):
    job = Job.objects.create(kind="units_import", created_by=office, total=10, done=4)
    client.force_login(office)
    fragment = client.get(job.get_absolute_url(), headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in fragment
    assert '4</span> / <span class="job-total">10' in fragment


def test_a_macro_workbook_is_refused_on_the_form(client, office, county):
    client.force_login(office)
    content, _, _ = fill(download_template(client), units=[BUREAU])
    response = client.post(reverse("units:import"), {"file": SimpleUploadedFile("单位导入.xlsm", content)})
    assert response.status_code == 200
    assert "含宏" in response.content.decode()
    assert not Job.objects.exists()


def test_a_file_that_is_not_a_workbook_is_refused_on_the_form(client, office, county):
    client.force_login(office)
    response = client.post(reverse("units:import"), {"file": SimpleUploadedFile("单位导入.xlsx", b"name,kind\n")})
    assert "不是 Excel（.xlsx）文件" in response.content.decode()
    assert not Job.objects.exists()
