"""Past years' activities from Excel: all rows saved or none, every bad row and column named."""

import datetime
import io
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from activities.constants import ActivityType, Occasion
from activities.importers import COLUMNS, SHEET, UNITS_SHEET
from activities.models import Activity, Gift, RecipientGroup
from conftest import import_error_lines as error_lines
from conftest import xlsx_upload

HEADER = list(COLUMNS)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 3, 10, 10, 0), tick=False):
        yield


def row(**values):
    cells = {
        "组织单位": "溧东镇",
        "活动类型": "走访慰问",
        "时机": "八一",
        "开始日期": "2025-07-28",
        "标题": "2025年八一走访慰问",
    }
    cells.update(values)
    return [cells.get(label) for label in HEADER]


def workbook(rows, *, template=None, name="活动.xlsx"):
    return xlsx_upload(SHEET, HEADER, rows, template=template, name=name)


def upload(client, rows, **data):
    return client.post(reverse("activities:import"), {"file": workbook(rows), **data})


def text(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_a_good_file_is_imported_whole_with_its_groups_and_gifts(client, office, township, village, military_unit):
    rows = [
        row(
            结束日期="2025-07-31",
            地点="驻地部队及各村",
            活动内容="镇领导带队走访慰问",
            参加领导="陈书记、周镇长",
            参加人数=12,
            受益人数="41",
            活动经费="1500.5",
            慰问群体="在乡老复员军人",
            群体人数=26,
            群体慰问金=10400,
            受赠单位="示例县人武部",
            赠送金额="20000",
            赠送物品="空调两台",
            赠送物品折价=5000,
        ),
        # A second row of the same activity: another group and a gift to a company outside the portal.
        row(慰问群体="烈军属", 群体人数=15, 群体慰问金="3000.25", 受赠单位="韶光微电子总公司", 赠送金额="8000"),
        row(组织单位="东村", 活动类型="宣传教育", 时机="", 开始日期="2024-03-15", 标题="拥军板报", **{"板报（期）": 2}),
    ]
    client.force_login(office)
    response = upload(client, rows)
    assert error_lines(response) == []
    assert "已导入 2 项活动（2024—2025年），慰问群体 2 个、受赠单位 2 个，慰问金额合计 41,400.25 元" in text(response)
    visit = Activity.objects.get(title="2025年八一走访慰问")
    assert visit.imported and visit.unit == township and visit.created_by == office
    assert (visit.type, visit.occasion, visit.occasion_year) == (ActivityType.VISIT, Occasion.ARMY_DAY, 2025)
    assert (visit.end_date, visit.participants, visit.reached, visit.cost) == (
        datetime.date(2025, 7, 31),
        12,
        41,
        Decimal("1500.50"),
    )
    assert visit.money == Decimal("41400.25") and visit.goods_value == Decimal("5000.00")
    assert visit.recipient_count == 41
    gifts = {(g.recipient_unit, g.recipient_name, g.money) for g in visit.gifts.all()}
    assert gifts == {(military_unit, "", Decimal("20000.00")), (None, "韶光微电子总公司", Decimal("8000.00"))}
    assert list(visit.military_units.all()) == [military_unit]
    assert list(visit.groups.values_list("description", "people")) == [("在乡老复员军人", 26), ("烈军属", 15)]
    board = Activity.objects.get(title="拥军板报")
    assert (board.unit, board.boards, board.occasion, board.money) == (village, 2, "", Decimal("0"))
    assert visit.history.get().history_type == "+"


def test_every_bad_row_and_column_is_named_and_nothing_is_saved(client, liaison, township, other_township, village):
    rows = [
        row(),  # good, but not saved: another row is bad
        row(组织单位="雅灰乡", 标题="别人的活动"),
        row(组织单位="没有这个单位", 标题="乙"),
        row(活动类型="慰问", 标题="丙"),
        row(开始日期="2025-13-01", 标题="丁"),
        row(开始日期="2025-08-01", 结束日期="2025-07-01", 标题="戊"),
        row(开始日期="2026-03-11", 标题="己"),
        row(参加人数=-3, 活动经费="-10", 标题="庚"),
        row(时机="中秋", 标题="辛"),
        row(标题=None, 活动类型=None),
        row(标题="壬", 慰问群体="军退干部", 群体人数=0, 群体慰问金="abc"),
        row(标题="癸", 赠送金额=500),
        row(标题="子", **{"板报（期）": 3}),
        row(标题="丑", 参加人数="12.5"),
    ]
    client.force_login(liaison)
    response = upload(client, rows)
    lines = error_lines(response)
    assert lines == [
        "第 3 行 组织单位 “雅灰乡”不在您可以填报的范围内。",
        "第 4 行 组织单位 没有名为“没有这个单位”的单位，请从“可填报单位”工作表中选择。",
        "第 5 行 活动类型 “慰问”不是有效的活动类型，应为：走访慰问、座谈会、宣传教育、国防教育、军训、征兵、军民联谊、"
        "共建活动、医疗服务、法律服务、就业安置、评选表彰、帮扶、拥政爱民、领导小组会议、信息报送、其他。",
        "第 6 行 开始日期 “2025-13-01”不是有效日期，请写成 2025-01-31 的形式。",
        "第 7 行 结束日期 不能早于开始日期。",
        "第 8 行 开始日期 不能晚于今天（2026-03-10）：只能导入已经举办的活动。",
        "第 9 行 参加人数 不能为负数。",
        "第 9 行 活动经费 不能为负数。",
        "第 10 行 时机 “中秋”不是有效的时机，应为：无、元旦、春节、八一、国庆、全民国防教育日、征兵季、八一建军节。",
        "第 11 行 活动类型 必填。",
        "第 11 行 标题 必填。",
        "第 12 行 群体人数 请填写慰问群体的人数（大于 0）。",
        "第 12 行 群体慰问金 金额格式不正确。",
        "第 13 行 受赠单位 填写了赠送金额或物品，请写明受赠单位。",
        "第 14 行 板报（期） 只适用于宣传教育、国防教育活动，走访慰问活动不填。",
        "第 15 行 参加人数 “12.5”不是整数。",
    ]
    rows_named = len({line.split(" ")[1] for line in lines})
    assert f"{rows_named} 行有误（共 {len(lines)} 处问题），没有导入任何数据" in text(response)
    assert not Activity.objects.exists() and not RecipientGroup.objects.exists() and not Gift.objects.exists()


def test_a_second_row_of_an_activity_must_agree_with_the_first(client, office, township):
    rows = [
        row(地点="镇政府", 慰问群体="烈军属", 群体人数=3),
        row(地点="村委会", 慰问群体="军退干部", 群体人数=2),
    ]
    client.force_login(office)
    response = upload(client, rows)
    assert error_lines(response) == [
        "第 3 行 地点 与第 2 行是同一活动（组织单位、开始日期、标题相同），此列应留空或与该行一致。"
    ]
    assert not Activity.objects.exists()


def test_importing_the_same_file_twice_is_refused(client, office, township):
    client.force_login(office)
    assert error_lines(upload(client, [row()])) == []
    response = upload(client, [row()])
    assert error_lines(response) == [
        "第 2 行 标题 系统中已有该单位同一天同一标题的活动，不能重复导入（是否已导入过此文件？）。"
    ]
    assert Activity.objects.count() == 1


def test_check_only_saves_nothing(client, office, township):
    client.force_login(office)
    response = upload(client, [row(慰问群体="烈军属", 群体人数=3, 群体慰问金=900)], check_only="on")
    assert "检查无误（未导入）： 1 项活动（2025年）" in text(response)
    assert not Activity.objects.exists()


def test_a_unit_is_found_by_region_code_or_under_its_parent(client, office, township, village, other_township):
    from units.constants import UnitKind
    from units.models import Unit

    Unit.objects.create(name="东村", kind=UnitKind.VILLAGE, parent=other_township, region_code="320481101201")
    client.force_login(office)
    response = upload(client, [row(组织单位="东村", 标题="甲")])
    assert error_lines(response) == [
        "第 2 行 组织单位 您可填报的单位中有 2 个“东村”，请改填区划代码或“上级单位/东村”。"
    ]
    response = upload(client, [row(组织单位="320481100201", 标题="甲"), row(组织单位="雅灰乡/东村", 标题="乙")])
    assert error_lines(response) == []
    assert Activity.objects.get(title="甲").unit == village
    assert Activity.objects.get(title="乙").unit.parent == other_township


def test_december_spring_festival_visits_count_for_the_next_year(client, office, township):
    client.force_login(office)
    upload(client, [row(时机="春节", 开始日期="2024-12-28", 标题="春节走访")])
    assert Activity.objects.get().occasion_year == 2025


def test_the_template_round_trips(client, office, township, village, bureau):
    client.force_login(office)
    response = client.get(reverse("activities:import_template"))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    header = [cell.value for cell in book[SHEET][1]]
    assert header[:4] == ["组织单位*", "活动类型*", "时机", "开始日期*"]
    units = [r[0] for r in book[UNITS_SHEET].iter_rows(min_row=2, values_only=True)]
    assert {"示例县", "溧东镇", "东村", "示例县规划局"} <= set(units)
    examples = [[c.value for c in r] for r in book[SHEET].iter_rows(min_row=2)]
    assert all(values[0].startswith("示例：") for values in examples)
    # The office fills in the template: the example rows themselves, made real, and a leading-group meeting.
    filled = [[values[0].removeprefix("示例："), *values[1:]] for values in examples]
    filled.append(
        row(组织单位="示例县规划局", 活动类型="领导小组会议", 时机=None, 开始日期="2025-03-02", 标题="研究双拥工作")
    )
    response = client.post(
        reverse("activities:import"), {"file": workbook(filled, template=response.content, name="填好的模板.xlsx")}
    )
    assert error_lines(response) == []
    assert "已导入 3 项活动" in text(response)
    visit = Activity.objects.get(type=ActivityType.VISIT)
    assert visit.groups.count() == 2 and visit.gifts.count() == 1
    assert visit.money == Decimal("33600.00") and visit.goods_value == Decimal("5800.00")
    assert Activity.objects.get(type=ActivityType.PUBLICITY).boards == 2


def test_the_log_shows_the_imported_rows(client, office, township):
    pytest.importorskip("activities.selectors")
    client.force_login(office)
    upload(client, [row(标题="往年八一慰问", 参加人数=30)])
    response = client.get(reverse("activities:list"))
    if response.status_code != 200:
        pytest.skip("the log page is not built yet")
    assert "往年八一慰问" in response.content.decode()


def test_formula_text_is_kept_as_text_and_the_template_escapes_names(client, office, township, county):
    from units.constants import UnitKind
    from units.models import Unit

    client.force_login(office)
    # A cell exported with a leading ' (as write_workbook does) reads back without it: the text itself.
    response = upload(client, [row(标题="'=1+2", 活动内容="@SUM(A1)", 地点="-1")])
    assert error_lines(response) == []
    activity = Activity.objects.get()
    assert (activity.title, activity.description, activity.place) == ("=1+2", "@SUM(A1)", "-1")
    # A real formula has no value of its own to import: the row is refused, not run.
    book = openpyxl.Workbook()
    book.active.title = SHEET
    book.active.append(HEADER)
    book.active.append(row(标题='=HYPERLINK("http://evil.example","点我")'))
    buffer = io.BytesIO()
    book.save(buffer)
    response = client.post(reverse("activities:import"), {"file": SimpleUploadedFile("f.xlsx", buffer.getvalue())})
    assert error_lines(response) == ["第 2 行 标题 必填。"]
    # A unit named like a formula goes into the template as text.
    Unit.objects.create(name="=cmd|' /C calc'!A0", kind=UnitKind.DEPARTMENT, parent=county)
    content = client.get(reverse("activities:import_template")).content
    names = [r[0] for r in openpyxl.load_workbook(io.BytesIO(content))[UNITS_SHEET].iter_rows(values_only=True)]
    assert "'=cmd|' /C calc'!A0" in names


def test_unsafe_files_are_refused(client, office, township):
    client.force_login(office)
    macro = io.BytesIO()
    with zipfile.ZipFile(macro, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/vbaProject.bin", b"\0" * 10)
    response = client.post(reverse("activities:import"), {"file": SimpleUploadedFile("a.xlsx", macro.getvalue())})
    assert "含有宏（VBA），已拒绝" in response.content.decode()
    response = client.post(reverse("activities:import"), {"file": SimpleUploadedFile("a.xlsm", b"PK")})
    assert "含宏或二进制格式的工作簿" in response.content.decode()
    assert not Activity.objects.exists()


def test_too_many_rows_are_refused_with_a_clear_message(client, office, township, settings):
    settings.ACTIVITY_IMPORT_MAX_ROWS = 3
    client.force_login(office)
    response = upload(client, [row(标题=f"活动{i}") for i in range(4)])
    assert "超过 3 行数据的上限，请拆分为多个文件分批导入" in response.content.decode()
    assert not Activity.objects.exists()


def test_leaders_and_outsiders_cannot_import_into_the_county(client, leader, outsider, township):
    client.force_login(leader)
    assert client.get(reverse("activities:import")).status_code == 404
    assert client.get(reverse("activities:import_template")).status_code == 404
    client.force_login(outsider)
    response = upload(client, [row()])
    assert error_lines(response) == ["第 2 行 组织单位 “溧东镇”不在您可以填报的范围内。"]
    assert not Activity.objects.exists()


def test_a_bureau_liaison_imports_for_the_bureau_only(client, bureau_liaison, bureau, township):
    client.force_login(bureau_liaison)
    response = upload(client, [row(组织单位="示例县规划局", 活动类型="座谈会", 时机="", 标题="座谈会")])
    assert error_lines(response) == []
    assert Activity.objects.get().unit == bureau
