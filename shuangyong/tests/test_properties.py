"""Random input is either accepted correctly or refused with a Chinese message: never a crash."""

import datetime
import io
import re
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from activities import importers as activity_importers
from activities.constants import ActivityType, Occasion
from beneficiaries import importers as roster_importers
from beneficiaries.constants import Category, DisabilityGrade, DisabilityNature
from shuangyong.lib import excel
from shuangyong.lib.idcard import PROVINCE_CODES, check_character, validate_id_number
from shuangyong.lib.money import capital_yuan, format_yuan, from_fen, plain_yuan, to_fen, to_yuan, wan_yuan

TODAY = datetime.date(2026, 3, 10)
CHINESE = re.compile(r"[\u4e00-\u9fff]")
FIXTURES = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def is_chinese_message(error):
    return bool(error.messages) and all(CHINESE.search(message) for message in error.messages)


# 居民身份证号

provinces = st.sampled_from(sorted(PROVINCE_CODES))
birth_dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY)


@st.composite
def valid_id_numbers(draw):
    area = draw(provinces) + draw(st.from_regex(r"\A[0-9]{4}\Z"))
    born = draw(birth_dates)
    body = f"{area}{born:%Y%m%d}" + draw(st.from_regex(r"\A[0-9]{3}\Z"))
    return body + check_character(body), born


id_like_text = st.one_of(
    st.text(max_size=25),
    st.from_regex(r"\A\s*[0-9]{15,19}[0-9xX]?\s*\Z"),
    st.text(alphabet="0123456789xX０１２３４５６７８９Ｘｘ -", min_size=16, max_size=20),
    valid_id_numbers().map(lambda pair: pair[0]),
)


@given(id_like_text)
@settings(max_examples=200, deadline=None)
def test_any_text_is_a_valid_id_number_or_refused_in_chinese(raw):
    try:
        parsed = validate_id_number(raw, today=TODAY)
    except ValidationError as error:
        assert is_chinese_message(error)
        return
    number = parsed.number
    assert len(number) == 18 and number[:17].isascii() and number[:17].isdigit()
    assert number[17] == check_character(number[:17])
    assert number[:2] in PROVINCE_CODES and parsed.area_code == number[:6]
    assert parsed.birth_date == datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    assert datetime.date(1900, 1, 1) <= parsed.birth_date <= TODAY
    assert parsed.sex == ("男" if int(number[16]) % 2 else "女")


@given(valid_id_numbers(), st.sampled_from(["", " ", "\t"]), st.booleans())
@settings(max_examples=200, deadline=None)
def test_a_valid_id_number_is_accepted_and_round_trips(pair, padding, lower_x):
    number, born = pair
    typed = number[:-1] + "x" if lower_x and number.endswith("X") else number
    parsed = validate_id_number(f"{padding}{typed}{padding}", today=TODAY)
    assert parsed.number == number
    assert parsed.birth_date == born
    assert validate_id_number(parsed.number, today=TODAY) == parsed


@given(valid_id_numbers(), st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=10))
@settings(max_examples=200, deadline=None)
def test_changing_any_one_character_of_a_valid_id_number_is_refused(pair, position, shift):
    number, _ = pair
    alphabet = "0123456789X" if position == 17 else "0123456789"
    changed = alphabet[(alphabet.index(number[position]) + shift) % len(alphabet)]
    assume(changed != number[position])
    with pytest.raises(ValidationError) as refused:
        validate_id_number(number[:position] + changed + number[position + 1 :], today=TODAY)
    assert is_chinese_message(refused.value)


FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@given(valid_id_numbers(), st.sets(st.integers(min_value=0, max_value=17), min_size=1))
@settings(max_examples=100, deadline=None)
def test_full_width_characters_in_an_id_number_are_refused_as_such(pair, positions):
    number, _ = pair
    typed = "".join(ch.translate(FULL_WIDTH) if i in positions else ch for i, ch in enumerate(number))
    with pytest.raises(ValidationError) as refused:
        validate_id_number(typed, today=TODAY)
    assert refused.value.code == "full_width"
    assert "全角" in refused.value.messages[0]


# Money

fens = st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1)  # what MoneyField's BigIntegerField holds


@given(fens)
@settings(max_examples=200, deadline=None)
def test_formatting_an_amount_and_parsing_it_back_gives_the_same_fen(fen):
    yuan = from_fen(fen)
    assert to_fen(format_yuan(yuan, unit="")) == fen
    assert format_yuan(yuan).endswith(" 元")
    assert to_fen(plain_yuan(yuan).removesuffix("元")) == fen
    assert to_fen(str(yuan)) == fen


CAPITAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL = {"拾": 10, "佰": 100, "仟": 1000}


def _read_group(text):
    """壹仟零伍 -> 1005: the digits of one group of four."""
    total, digit = 0, 0
    for ch in text:
        if ch in CAPITAL_DIGITS:
            digit = CAPITAL_DIGITS.index(ch)
        else:
            total, digit = total + digit * SMALL[ch], 0
    return total + digit


def read_capital(text):
    """Read 大写 back into fen, independently of how capital_yuan writes it."""
    sign = -1 if text.startswith("负") else 1
    text = text.removeprefix("负").removesuffix("整")
    yuan_text, _, small = text.rpartition("元") if "元" in text else ("", "", text)
    yuan = 0
    for unit, scale in (("万亿", 10**12), ("亿", 10**8), ("万", 10**4)):
        if unit in yuan_text:
            head, yuan_text = yuan_text.split(unit, 1)
            yuan += _read_group(head) * scale
    yuan += _read_group(yuan_text)
    jiao = re.search(r"(.)角", small)
    fen = re.search(r"(.)分", small)
    cents = (CAPITAL_DIGITS.index(jiao.group(1)) * 10 if jiao else 0) + (
        CAPITAL_DIGITS.index(fen.group(1)) if fen else 0
    )
    return sign * (yuan * 100 + cents)


@given(st.integers(min_value=-(10**18) + 1, max_value=10**18 - 1))
@settings(max_examples=300, deadline=None)
def test_capital_yuan_reads_back_as_the_amount_and_ends_as_a_cheque_does(fen):
    text = capital_yuan(from_fen(fen))
    assert read_capital(text) == fen
    assert set(text) <= set(CAPITAL_DIGITS + "拾佰仟万亿元角分整负")
    assert "零零" not in text and not text.startswith(("零壹", "零贰"))
    cents = abs(fen) % 100
    if cents == 0:
        assert text.endswith("元整")
    elif cents % 10 == 0:
        assert text.endswith("角整")
    else:
        assert text.endswith("分") and "整" not in text


@given(st.integers(min_value=10**18, max_value=2**63 - 1))
@settings(max_examples=20, deadline=None)
def test_capital_yuan_refuses_amounts_beyond_its_units_with_a_message(fen):
    with pytest.raises(ValidationError) as refused:
        capital_yuan(from_fen(fen))
    assert is_chinese_message(refused.value)


@given(fens)
@settings(max_examples=200, deadline=None)
def test_wan_yuan_rounds_half_up_to_the_hundredth_of_a_wan(fen):
    yuan = from_fen(fen)
    text = wan_yuan(yuan)
    if abs(yuan) < 10000:
        assert text.endswith("元") and "万" not in text
        assert Decimal(text.removesuffix("元")) == yuan
    else:
        shown = Decimal(text.removesuffix("万元"))
        assert shown == (yuan / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert abs(shown * 10000 - yuan) <= 50


@given(fens, fens)
@settings(max_examples=100, deadline=None)
def test_wan_yuan_keeps_the_order_of_amounts(a, b):
    low, high = sorted([from_fen(a), from_fen(b)])
    assume((abs(low) < 10000) == (abs(high) < 10000))
    unit = "元" if abs(low) < 10000 else "万元"
    assert Decimal(wan_yuan(low).removesuffix(unit)) <= Decimal(wan_yuan(high).removesuffix(unit))


amount_text = st.one_of(
    st.text(max_size=20),
    st.text(alphabet="0123456789.,-+eE _", max_size=20),
    st.from_regex(r"\A-?[0-9]{1,30}(\.[0-9]{0,4})?\Z"),
    st.sampled_from(["NaN", "Infinity", "-inf", "1e30", "1E-5", "0.005", "1,,2", " 12.5 ", "sNaN"]),
)


@given(amount_text)
@settings(max_examples=300, deadline=None)
def test_any_amount_text_gives_exact_fen_or_a_chinese_message(text):
    try:
        amount = to_yuan(text)
    except ValidationError as error:
        assert is_chinese_message(error)
        return
    if amount is None:
        assert text == ""
        return
    assert amount == amount.quantize(Decimal("0.01")) and amount.as_tuple().exponent == -2
    assert amount == Decimal(text.replace(",", "").strip())


@given(st.one_of(st.floats(), st.integers(min_value=-(10**30), max_value=10**30), st.booleans(), amount_text))
@settings(max_examples=300, deadline=None)
def test_any_amount_cell_gives_exact_fen_or_a_chinese_message(value):
    try:
        amount = excel.cell_yuan(value)
    except ValidationError as error:
        assert is_chinese_message(error)
        return
    if amount is None:
        return
    assert amount == amount.quantize(Decimal("0.01"))
    if isinstance(value, float):
        assert abs(Decimal(value) - amount) < Decimal("0.0000001")


# Cells and import workbooks

# Digits that str.isdigit() accepts and int() does not, full-width and other scripts' digits, doubled signs.
ODD_NUMBERS = ["²", "3²", "½", "Ⅻ", "１２", "٣", "--5", "+-1", "1_000", "1e3", "0x1F"]
CONTROL_TEXT = ["\t=1+1", "a\r\nb", "\x7f", "\u200b", "\ufeff", "_x0001_", '\'=HYPERLINK("http://x")', " \n "]
FORMULAS = ["=1+1", "=SUM(A1:A3)", '=HYPERLINK("http://169.254.169.254/")', "+1", "-1", "@SUM(1)"]


def printable(text):
    return ILLEGAL_CHARACTERS_RE.sub("", text)


cells = st.one_of(
    st.none(),
    st.text(max_size=30).map(printable),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(min_value=datetime.date(1900, 3, 1), max_value=datetime.date(2999, 12, 31)),
    st.datetimes(min_value=datetime.datetime(1900, 3, 1), max_value=datetime.datetime(2999, 12, 31)),
    st.booleans(),
    st.sampled_from(FORMULAS + CONTROL_TEXT + ODD_NUMBERS),
    st.sampled_from(ODD_NUMBERS).map(lambda text: text + "级"),
    st.text(alphabet="拥军优属", min_size=200, max_size=6000),
)


@given(cells)
@settings(max_examples=300, deadline=None)
def test_cell_helpers_return_their_type_or_a_chinese_message(value):
    assert isinstance(excel.cell_text(value), str)
    try:
        day = excel.cell_date(value)
    except ValidationError as error:
        assert is_chinese_message(error)
    else:
        assert day is None or type(day) is datetime.date


def workbook(title, header, rows):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(f"{title}.xlsx", buffer.getvalue())


@given(st.lists(st.lists(cells, min_size=0, max_size=6), max_size=8), st.permutations(["姓名", "金额", "日期"]))
@settings(max_examples=100, deadline=None)
def test_read_rows_returns_numbered_rows_or_a_chinese_message(rows, header):
    columns = {"姓名": "name", "金额": "amount", "日期": "day"}
    try:
        read = excel.read_rows(workbook("表", header, rows), "表", columns, max_rows=5, example_column="name")
    except ValidationError as error:
        assert is_chinese_message(error)
        return
    numbers = [number for number, _ in read]
    assert numbers == sorted(set(numbers)) and all(2 <= number <= len(rows) + 1 for number in numbers)
    assert all(set(record) == {"name", "amount", "day"} for _, record in read)


def assert_named_errors(errors, rows, labels):
    """Every error names a data row of the sheet and one of its columns (or the whole row), in Chinese."""
    assert errors
    for error in errors:
        assert 2 <= error["row"] <= len(rows) + 1
        assert error["column"] in labels or error["column"] == ""
        assert CHINESE.search(error["message"])


def roster_cell(label):
    realistic = {
        "身份证号": valid_id_numbers().map(lambda pair: pair[0]),
        "乡镇（街道）": st.sampled_from(["溧东镇", "雅灰乡", "320481100000", "邻县城关镇"]),
        "村（社区）": st.sampled_from(["东村", "320481100201", "西村"]),
        "优抚类别": st.sampled_from(Category.labels),
        "残疾等级": st.sampled_from(DisabilityGrade.labels + ["6", "6级", 6, 11]),
        "残疾性质": st.sampled_from(DisabilityNature.labels),
        "生活困难": st.sampled_from(["是", "否", "√", "1", 0, True]),
        "享受起始日期": st.sampled_from([datetime.date(2015, 1, 1), "2025-01-01", "2025年1月31日", 20250101]),
        "入伍日期": st.sampled_from([datetime.date(2024, 9, 10), "2024/9/10"]),
        "义务兵役年数": st.integers(min_value=-2, max_value=40),
        "银行账号": st.sampled_from(["6228480402564890018", 6228480402564890018, "62-28"]),
    }
    return st.one_of(realistic.get(label, st.text(alphabet="王李张建国", min_size=1, max_size=4)), cells)


def valid_roster_row(number):
    """A row that imports as it is: an 在乡复员军人 of 溧东镇 东村."""
    row = dict.fromkeys(roster_importers.COLUMNS)
    row.update({"姓名": "王建国", "身份证号": number, "乡镇（街道）": "溧东镇", "村（社区）": "东村"})
    row.update({"优抚类别": Category.DEMOBILIZED.label, "享受起始日期": datetime.date(2012, 5, 1)})
    return row


@st.composite
def sheet_row(draw, columns, cell, valid_rows):
    """A valid row (drawn from valid_rows) with up to three cells replaced, or a row of random cells."""
    if draw(st.booleans()):
        return tuple(draw(cell(label)) for label in columns)
    row = draw(valid_rows)
    for label in draw(st.lists(st.sampled_from(list(row)), max_size=3, unique=True)):
        row[label] = draw(cell(label))
    return tuple(row.values())


def read_or_refused(plan, importers, rows):
    """What the plan reads from a workbook of the rows, or None when it refuses the file with a Chinese message."""
    try:
        return plan.read(workbook(importers.SHEET, list(importers.COLUMNS), rows))
    except ValidationError as error:
        event("file refused")
        assert is_chinese_message(error)
        return None


roster_rows = st.lists(
    sheet_row(roster_importers.COLUMNS, roster_cell, valid_id_numbers().map(lambda pair: valid_roster_row(pair[0]))),
    min_size=1,
    max_size=3,
)


@pytest.mark.django_db
@given(rows=roster_rows)
@FIXTURES
def test_a_roster_of_random_cells_imports_or_names_the_row_and_column(rows, county, township, village, office):
    plan = roster_importers.BeneficiaryImport(scope=roster_importers.Scope.of_unit(county, office))
    read = read_or_refused(plan, roster_importers, rows)
    if read is None:
        return
    created = plan.run(read, created_by=office, dry_run=True)
    event("imported" if created is not None else "rows refused")
    if created is None:
        assert_named_errors(plan.errors, rows, roster_importers.COLUMNS)
        assert all(roster_importers.error_line(e).startswith(f"第 {e['row']} 行") for e in plan.sorted_errors())
    else:
        assert created == len(read) and not plan.errors


def activity_cell(label):
    realistic = {
        "组织单位": st.sampled_from(["溧东镇", "示例县", "320481100000", "示例县/溧东镇", "邻县"]),
        "活动类型": st.sampled_from(ActivityType.labels),
        "时机": st.sampled_from([*Occasion.labels, "八一建军节"]),
        "开始日期": st.dates(min_value=datetime.date(2015, 1, 1), max_value=datetime.date(2027, 1, 1)),
        "结束日期": st.dates(min_value=datetime.date(2015, 1, 1), max_value=datetime.date(2027, 1, 1)),
        "标题": st.sampled_from(["八一走访", "春节慰问"]),
        "活动经费": st.sampled_from([1000, 0.1 + 0.2, "12.345", "1,200.50", -5, 1e30]),
        "群体慰问金": st.sampled_from([400, "400.00", 1e9]),
        "赠送金额": st.sampled_from([2000, "2000"]),
    }
    if label in realistic:
        return st.one_of(realistic[label], cells)
    return cells


def valid_activity_row():
    """A row that imports as it is: a 走访慰问 of 溧东镇 with one group of recipients."""
    row = dict.fromkeys(activity_importers.COLUMNS)
    row.update({"组织单位": "溧东镇", "活动类型": ActivityType.VISIT.label, "开始日期": datetime.date(2024, 7, 28)})
    row.update({"标题": "八一走访", "参加人数": 12, "慰问群体": "在乡老复员军人", "群体人数": 26, "群体慰问金": 10400})
    return row


activity_rows = st.lists(
    sheet_row(activity_importers.COLUMNS, activity_cell, st.builds(valid_activity_row)), min_size=1, max_size=3
)


@pytest.mark.django_db
@given(rows=activity_rows)
@FIXTURES
def test_an_activity_sheet_of_random_cells_imports_or_names_the_row_and_column(rows, township, office):
    plan = activity_importers.ActivityImport(user=office, today=TODAY)
    read = read_or_refused(plan, activity_importers, rows)
    if read is None:
        return
    with transaction.atomic():
        created = plan.run(read)
        transaction.set_rollback(True)
    event("imported" if created is not None else "rows refused")
    if created is None:
        errors = [{"row": e.row, "column": e.column, "message": e.message} for e in plan.errors]
        assert_named_errors(errors, rows, activity_importers.COLUMNS)
        assert all(str(e).startswith(f"第 {e.row} 行") for e in plan.sorted_errors())
    else:
        assert created == len(plan.planned) >= 1 and not plan.errors
