import datetime
import io
import zipfile

import openpyxl
import pytest
from defusedxml import EntitiesForbidden
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from shuangyong.lib import excel

COLUMNS = {"姓名": "name", "金额": "amount"}


def plain_xlsx(rows=(("张三", 100),)):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "名单"
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rebuild(content, *, replace=None, add=None):
    """Return the xlsx with some members replaced or added, as an attacker would craft it."""
    replace, add = replace or {}, add or {}
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, replace.get(item.filename, source.read(item.filename)))
        for name, data in add.items():
            target.writestr(name, data)
    return buffer.getvalue()


def upload(content, name="名单.xlsx"):
    return SimpleUploadedFile(name, content)


def read_all(file):
    workbook = excel.open_workbook(file)
    try:
        return list(excel.iter_rows(workbook["名单"], COLUMNS))
    finally:
        workbook.close()


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
<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c><c r="B1" t="inlineStr"><is><t>金额</t></is></c></row>
<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c><c r="B2"><v>1</v></c></row>
</sheetData>
</worksheet>""".encode()


def test_it_runs_openpyxl_with_defusedxml():
    assert openpyxl.DEFUSEDXML is True


def test_it_reads_a_plain_workbook():
    assert read_all(upload(plain_xlsx())) == [(2, {"name": "张三", "amount": 100})]


def causes(error):
    while error is not None:
        yield error
        error = error.__cause__ or error.__context__


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/styles.xml", "docProps/core.xml"])
def test_it_refuses_billion_laughs_without_expanding_them(part):
    root = {"xl/workbook.xml": b"workbook", "xl/styles.xml": b"styleSheet", "docProps/core.xml": b"coreProperties"}.get(
        part, b"worksheet"
    )
    payload = BILLION_LAUGHS.replace(b"<worksheet", b"<" + root).replace(b"</worksheet>", b"</" + root + b">")
    content = rebuild(plain_xlsx(), replace={part: payload})
    with pytest.raises(ValidationError) as error:
        read_all(upload(content))
    assert "无法读取" in error.value.messages[0]
    assert any(isinstance(cause, EntitiesForbidden) for cause in causes(error.value))


def test_it_refuses_a_zip_bomb():
    content = rebuild(plain_xlsx(), add={"xl/media/image1.png": b"\0" * (30 * 1024 * 1024)})
    assert len(content) < 1024 * 1024
    with pytest.raises(ValidationError) as error:
        read_all(upload(content))
    assert "压缩炸弹" in error.value.messages[0]


def test_it_refuses_more_uncompressed_data_than_the_limit(settings):
    settings.EXCEL_MAX_UNCOMPRESSED_BYTES = 2000
    with pytest.raises(ValidationError) as error:
        read_all(upload(plain_xlsx()))
    assert "解压后超过" in error.value.messages[0]


def test_it_refuses_too_many_zip_members(settings):
    settings.EXCEL_MAX_ZIP_MEMBERS = 5
    with pytest.raises(ValidationError) as error:
        read_all(upload(plain_xlsx()))
    assert "内部文件过多" in error.value.messages[0]


def test_it_refuses_an_oversized_upload(settings):
    settings.EXCEL_MAX_UPLOAD_BYTES = 1024
    with pytest.raises(ValidationError) as error:
        read_all(upload(plain_xlsx()))
    assert "超过 1 KB 上限" in error.value.messages[0]


def test_it_refuses_more_rows_than_the_cap():
    workbook = excel.open_workbook(upload(plain_xlsx(rows=[("某某", n) for n in range(6)])))
    with pytest.raises(ValidationError) as error:
        list(excel.iter_rows(workbook["名单"], COLUMNS, max_rows=5))
    workbook.close()
    assert "超过 5 行数据的上限" in error.value.messages[0]


def test_it_reads_exactly_the_cap():
    workbook = excel.open_workbook(upload(plain_xlsx(rows=[("某某", n) for n in range(5)])))
    assert len(list(excel.iter_rows(workbook["名单"], COLUMNS, max_rows=5))) == 5
    workbook.close()


def test_it_refuses_a_workbook_with_vba():
    content = rebuild(plain_xlsx(), add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"})
    with pytest.raises(ValidationError) as error:
        read_all(upload(content))
    assert "含有宏" in error.value.messages[0]


def test_it_refuses_a_macro_enabled_content_type():
    source = zipfile.ZipFile(io.BytesIO(plain_xlsx()))
    types = source.read("[Content_Types].xml").replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    content = rebuild(plain_xlsx(), replace={"[Content_Types].xml": types})
    with pytest.raises(ValidationError) as error:
        read_all(upload(content))
    assert "含有宏" in error.value.messages[0]


def test_it_refuses_an_xlsm_by_name():
    with pytest.raises(ValidationError) as error:
        read_all(upload(plain_xlsx(), name="名单.xlsm"))
    assert "含宏" in error.value.messages[0]


@pytest.mark.parametrize("content", [b"just some text, not a workbook", b"PK\x03\x04broken"])
def test_it_refuses_what_is_not_a_zip(content):
    with pytest.raises(ValidationError) as error:
        read_all(upload(content))
    assert "不是 Excel（.xlsx）文件" in error.value.messages[0]


def test_it_refuses_a_zip_that_is_not_a_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValidationError) as error:
        read_all(upload(buffer.getvalue()))
    assert "不是 Excel（.xlsx）文件" in error.value.messages[0]


def test_it_names_missing_columns():
    workbook = excel.open_workbook(upload(plain_xlsx()))
    with pytest.raises(ValidationError) as error:
        list(excel.iter_rows(workbook["名单"], {**COLUMNS, "身份证号": "id_number"}))
    workbook.close()
    assert "缺少列：身份证号" in error.value.messages[0]


FORMULAS = ["=SUM(1)", "+1", "-1", "@x", "\tx", "\rx", "=张三"]


def test_it_writes_formula_text_with_a_leading_quote():
    content = excel.write_workbook([excel.Sheet(title="名单", header=list(COLUMNS), rows=[[f, 1] for f in FORMULAS])])
    sheet = openpyxl.load_workbook(io.BytesIO(content))["名单"]
    cells = [sheet.cell(row=n, column=1) for n in range(2, 2 + len(FORMULAS))]
    # XML turns a bare CR into LF on reading; what matters is the quote in front.
    assert [cell.value for cell in cells] == ["'" + f.replace("\r", "\n") for f in FORMULAS]
    assert {cell.data_type for cell in cells} == {"s"}


def test_it_leaves_ordinary_values_alone():
    assert excel.safe_cell("张三") == "张三"
    assert excel.safe_cell("a=b") == "a=b"
    assert excel.safe_cell(-1) == -1


def test_a_written_sheet_reads_back_unchanged():
    content = excel.write_workbook([excel.Sheet(title="名单", header=list(COLUMNS), rows=[[f, 1] for f in FORMULAS])])
    assert [record["name"] for _, record in read_all(upload(content))] == [f.strip() for f in FORMULAS]


def test_it_writes_each_kind_of_value_with_its_format():
    row = [" 前后有空格 ", "a & <b>", 12, 1.5, True, datetime.date(2025, 1, 31), datetime.datetime(2025, 1, 31, 8, 30)]
    content = excel.write_workbook(
        [
            excel.Sheet(
                title="名单",
                header=["文字", "身份证号", "整数", "小数", "是否", "日期", "时间"],
                rows=[row],
                text_columns=[2],
            )
        ]
    )
    sheet = openpyxl.load_workbook(io.BytesIO(content))["名单"]
    header, cells = sheet[1], sheet[2]
    # Excel keeps dates as date-times; openpyxl reads a date back at midnight.
    assert [cell.value for cell in cells] == [*row[:5], datetime.datetime(2025, 1, 31), row[6]]
    assert [cell.number_format for cell in cells] == [
        "General",
        "@",
        "General",
        "General",
        "General",
        "yyyy-mm-dd",
        "yyyy-mm-dd hh:mm",
    ]
    assert all(cell.font.b for cell in header) and header[1].number_format == "General"
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].number_format == "@"


def test_a_long_sheet_is_written_with_every_row():
    rows = ([f"对象{n}", n, datetime.date(2020, 1, 1) + datetime.timedelta(days=n)] for n in range(3000))
    content = excel.write_workbook([excel.Sheet(title="名单", header=["姓名", "序号", "日期"], rows=rows)])
    values = list(openpyxl.load_workbook(io.BytesIO(content), read_only=True)["名单"].values)
    assert len(values) == 3001
    assert values[-1] == ("对象2999", 2999, datetime.datetime(2028, 3, 18))


def test_it_sends_a_workbook_with_a_chinese_file_name():
    response = excel.workbook_response(b"PK", "单位导入模板.xlsx")
    assert response["Content-Type"] == excel.XLSX_CONTENT_TYPE
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")
    assert "%E5%8D%95%E4%BD%8D" in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-01-31", "2025-01-31"),
        ("2025/1/31", "2025-01-31"),
        ("2025年1月31日", "2025-01-31"),
        (20250131, "2025-01-31"),
    ],
)
def test_it_reads_dates_as_people_type_them(value, expected):
    assert excel.cell_date(value).isoformat() == expected


def test_it_names_a_bad_date():
    with pytest.raises(ValidationError) as error:
        excel.cell_date("明年")
    assert "“明年”不是有效日期" in error.value.messages[0]


def test_amounts_keep_their_value_and_show_with_separators_and_two_places():
    from decimal import Decimal

    sheet = excel.Sheet(title="发放", header=["金额", "笔数"], rows=[[Decimal("1302300.29"), 3]])
    content = excel.write_workbook([sheet])
    sheet = openpyxl.load_workbook(io.BytesIO(content))["发放"]
    amount, count = sheet["A2"], sheet["B2"]
    assert amount.value == 1302300.29 and amount.number_format == "#,##0.00"
    assert count.value == 3 and count.number_format == "General"
