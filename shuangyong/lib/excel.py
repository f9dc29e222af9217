"""Read and write .xlsx workbooks safely: one place for limits, formula injection and downloads.

Reading checks the zip container before openpyxl parses any XML (size, member count, uncompressed
size, compression ratio, macros) and relies on defusedxml against entity expansion. Writing
uses openpyxl's write_only workbook for the sheets' settings and styles, streams the rows to a
temporary file, and neutralises cells that a spreadsheet would run as formulas.
"""

import datetime
import decimal
import io
import math
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field

import openpyxl
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel, to_excel
from openpyxl.worksheet.datavalidation import DataValidation

from .money import to_yuan
from .uploads import display_name, format_size

if not openpyxl.DEFUSEDXML:
    raise ImproperlyConfigured(
        "openpyxl 未启用 defusedxml：请安装 defusedxml 并且不要设置 OPENPYXL_DEFUSEDXML=False，否则无法安全读取 Excel。"
    )

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MACRO_MARKERS = (b"vbaproject", b"macroenabled", b"vnd.ms-office.activex", b"vnd.ms-excel.intl-macrosheet")
MACRO_EXTENSIONS = (".xlsm", ".xltm", ".xlsb", ".xlam")
# Small members may have any ratio; a zip bomb needs a large member to do harm.
RATIO_CHECK_FROM_BYTES = 1024 * 1024
CONTENT_TYPES_MAX_BYTES = 1024 * 1024
# Rows of an import template starting with this are filled-in examples, skipped on import.
EXAMPLE_PREFIX = "示例："


def limit(name):
    """Return one of the EXCEL_* limits from settings, read at call time so tests can change it."""
    return getattr(settings, name)


# Reading


def check_workbook(file):
    """Refuse an upload that is too big, not an .xlsx, a zip bomb, or carries macros; leave it rewound."""
    name = display_name(file)
    lowered = name.lower()
    if lowered.endswith(MACRO_EXTENSIONS):
        raise ValidationError(f"文件“{name}”是含宏或二进制格式的工作簿，请另存为普通的 .xlsx 文件后再上传。")
    if lowered.endswith(".xls"):
        raise ValidationError(f"文件“{name}”是旧版 .xls 格式，请用 Excel 另存为 .xlsx 后再上传。")
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, io.SEEK_END)
        size = file.tell()
    max_bytes = limit("EXCEL_MAX_UPLOAD_BYTES")
    if not size:
        raise ValidationError(f"文件“{name}”是空文件。")
    if size > max_bytes:
        raise ValidationError(f"文件“{name}”超过 {format_size(max_bytes)} 上限。")
    file.seek(0)
    if not zipfile.is_zipfile(file):
        raise ValidationError(f"文件“{name}”不是 Excel（.xlsx）文件。")
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            _check_archive(archive, name)
    except zipfile.BadZipFile as error:
        raise ValidationError(f"文件“{name}”已损坏，无法读取。") from error
    finally:
        file.seek(0)


def _check_archive(archive, name):
    members = archive.infolist()
    if len(members) > limit("EXCEL_MAX_ZIP_MEMBERS"):
        raise ValidationError(f"文件“{name}”内部文件过多，不像正常的 Excel 文件，已拒绝。")
    total = sum(member.file_size for member in members)
    if total > limit("EXCEL_MAX_UNCOMPRESSED_BYTES"):
        raise ValidationError(
            f"文件“{name}”解压后超过 {format_size(limit('EXCEL_MAX_UNCOMPRESSED_BYTES'))}，已拒绝；请拆分后分批导入。"
        )
    ratio = limit("EXCEL_MAX_COMPRESSION_RATIO")
    for member in members:
        if member.file_size > RATIO_CHECK_FROM_BYTES and member.file_size > ratio * max(member.compress_size, 1):
            raise ValidationError(f"文件“{name}”的压缩比异常（疑似压缩炸弹），已拒绝。")
    names = {member.filename.lower(): member for member in members}
    if any(member_name.endswith("vbaproject.bin") for member_name in names):
        raise ValidationError(f"文件“{name}”含有宏（VBA），已拒绝；请另存为普通的 .xlsx 文件后再上传。")
    content_types = names.get("[content_types].xml")
    if content_types is None or "xl/workbook.xml" not in names:
        raise ValidationError(f"文件“{name}”不是 Excel（.xlsx）文件。")
    if content_types.file_size > CONTENT_TYPES_MAX_BYTES:
        raise ValidationError(f"文件“{name}”的结构异常，已拒绝。")
    declared = archive.read(content_types).lower()
    if any(marker in declared for marker in MACRO_MARKERS):
        raise ValidationError(f"文件“{name}”含有宏或控件，已拒绝；请另存为普通的 .xlsx 文件后再上传。")


def open_workbook(file):
    """Check an uploaded .xlsx and open it read-only with cached values; the caller closes it."""
    check_workbook(file)
    try:
        return openpyxl.load_workbook(file, read_only=True, data_only=True, keep_vba=False, keep_links=False)
    except Exception as error:  # openpyxl and defusedxml raise many kinds; the user needs one answer
        raise ValidationError(f"无法读取文件“{display_name(file)}”：文件已损坏或不是有效的 Excel 工作簿。") from error


def get_sheet(workbook, title):
    if title not in workbook.sheetnames:
        raise ValidationError(f"缺少工作表“{title}”，请使用下载的导入模板。")
    return workbook[title]


def _unescape(value):
    # The inverse of safe_cell, so an exported sheet re-imports unchanged (XML reads a CR back as LF).
    if len(value) > 1 and value[0] == "'" and value[1] in (*FORMULA_TRIGGERS, "\n"):
        return value[1:]
    return value


def _clean(value):
    if isinstance(value, str):
        value = _unescape(value.strip()).strip()
        return value or None
    return value


def iter_rows(sheet, columns, max_rows=None):
    """Yield (row number, {field: value}) for each non-blank row under the header row.

    `columns` maps header text to field names; every header must be present, others are ignored.
    Strings come stripped (empty ones as None). More than `max_rows` data rows is refused.
    """
    max_rows = limit("EXCEL_MAX_ROWS") if max_rows is None else max_rows
    try:
        rows = sheet.iter_rows(max_col=limit("EXCEL_MAX_COLUMNS"), values_only=True)
        header = next(rows, None)
        positions = {}
        for index, text in enumerate(header or ()):
            label = str(text).strip().rstrip("*＊").strip() if text is not None else ""
            if label in columns and label not in positions:
                positions[label] = index
        missing = [label for label in columns if label not in positions]
        if missing:
            raise ValidationError(f"工作表“{sheet.title}”第 1 行缺少列：{'、'.join(missing)}。请使用下载的导入模板。")
        count = 0
        for number, values in enumerate(rows, start=2):
            record = {columns[label]: _clean(values[i]) if i < len(values) else None for label, i in positions.items()}
            if all(value is None for value in record.values()):
                continue
            count += 1
            if count > max_rows:
                raise ValidationError(f"工作表“{sheet.title}”超过 {max_rows} 行数据的上限，请拆分为多个文件分批导入。")
            yield number, record
    except ValidationError:
        raise
    except Exception as error:  # XML errors surface while rows are read lazily
        raise ValidationError(f"工作表“{sheet.title}”无法读取：文件已损坏或含有不安全的内容。") from error


def read_rows(file, title, columns, *, max_rows, example_column):
    """Return [(row number, {field: value})] of an uploaded import template's sheet, its example rows left out."""
    workbook = open_workbook(file)
    try:
        sheet = get_sheet(workbook, title)
        rows = [
            (number, record)
            for number, record in iter_rows(sheet, columns, max_rows=max_rows)
            if not cell_text(record[example_column]).startswith(EXAMPLE_PREFIX)
        ]
    finally:
        workbook.close()
    if not rows:
        raise ValidationError(f"文件中没有要导入的数据（以“{EXAMPLE_PREFIX}”开头的示例行不会导入）。")
    return rows


@dataclass
class RowError:
    """A problem in one cell (or, with no column, one row) of an imported sheet."""

    row: int
    column: str
    message: str

    def __str__(self):
        column = f"{self.column}：" if self.column else ""
        return f"第 {self.row} 行 {column}{self.message}"


def cell_text(value):
    """Return a cell as text: numbers typed into a text column come back without “.0”."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time(0) else value.isoformat(" ")
    return str(value).strip()


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


def cell_date(value):
    """Return a date from a date cell, an Excel serial number or text such as 2025-01-31 or 2025年1月31日."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 19000101 <= value <= 29991231 and float(value).is_integer():
            value = str(int(value))
        elif 1 <= value < 2958466:
            return from_excel(value).date()
    if isinstance(value, str):
        for fmt in DATE_FORMATS:
            try:
                return datetime.datetime.strptime(value.strip(), fmt).date()
            except ValueError:
                continue
    raise ValidationError(f"“{cell_text(value)}”不是有效日期，请写成 2025-01-31 的形式。")


def cell_yuan(value):
    """Return an amount in yuan from a cell (None when empty); a number cell within a millionth of a fen is that fen."""
    if isinstance(value, bool):
        raise ValidationError("金额格式不正确。")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError("金额格式不正确。")
        # A number cell is binary: 1234.5 * 3 may come back as 3703.4999999999995, and 0.1 + 0.2 as
        # 0.30000000000000004. Within a millionth of a fen it is that fen; anything further is a third decimal typed in.
        try:
            nearest = decimal.Decimal(value).quantize(decimal.Decimal("0.01"))
        except decimal.InvalidOperation as error:  # more digits than Decimal's precision holds
            raise ValidationError("金额过大，请核对。") from error
        if abs(decimal.Decimal(value) - nearest) < decimal.Decimal("0.00000001"):
            value = nearest
    return to_yuan(value)


# Writing


def safe_cell(value):
    """Return the value with a leading ' if a spreadsheet would run it as a formula."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith(FORMULA_TRIGGERS):
            return "'" + value
    return value


@dataclass
class Sheet:
    """One worksheet to write: a bold frozen header, rows, and optional widths, text columns and drop-downs."""

    title: str
    header: list = field(default_factory=list)
    rows: object = ()
    widths: list = field(default_factory=list)
    text_columns: list = field(default_factory=list)
    choices: dict = field(default_factory=dict)
    muted_rows: int = 0


HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
MUTED_FONT = Font(color="808080", italic=True)


MAX_CELL_CHARS = 32767
NUMBER_FORMATS = {
    datetime.datetime: "yyyy-mm-dd hh:mm",
    datetime.date: "yyyy-mm-dd",
    datetime.time: "h:mm:ss",
    datetime.timedelta: "[hh]:mm:ss",
}


MONEY_FORMAT = "#,##0.00"


def _xml_text(text):
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


class _SheetRows:
    """One sheet's rows as <row> XML in a temporary file, later put into the sheet that openpyxl writes.

    openpyxl serialises every cell through a pure-Python XML writer, which took over a minute for a
    150,000-row roster. The rows are written here the way openpyxl writes them: inline strings, numbers,
    Excel serial dates, and a style only where a cell needs one (a date or text format, a font or fill).
    """

    def __init__(self, ws, text_columns):
        self.ws = ws
        self.file = tempfile.TemporaryFile()
        self.count = 0
        self.style_ids = {}
        self.letters = []
        self.text_positions = {index - 1 for index in text_columns}

    def style(self, font=None, fill=None, number_format=None):
        key = (id(font), id(fill), number_format)
        if key not in self.style_ids:
            proto = WriteOnlyCell(self.ws)
            if font:
                proto.font = font
            if fill:
                proto.fill = fill
            if number_format:
                proto.number_format = number_format
            self.style_ids[key] = proto.style_id  # registers the style in the workbook's styles.xml
        return self.style_ids[key]

    def letter(self, position):
        while len(self.letters) <= position:
            self.letters.append(get_column_letter(len(self.letters) + 1))
        return self.letters[position]

    def append(self, values, font=None, fill=None, *, header=False):
        self.count += 1
        number = self.count
        parts = [f'<row r="{number}">']
        text_positions = () if header else self.text_positions
        for position, value in enumerate(values):
            cell_format = "@" if position in text_positions else None
            if value is None or value == "":
                if font or fill:
                    style = self.style(font, fill, cell_format)
                    kind = ' t="inlineStr"' if value == "" else ""
                    parts.append(f'<c r="{self.letter(position)}{number}" s="{style}"{kind}/>')
                continue
            if isinstance(value, str):
                text = safe_cell(value)[:MAX_CELL_CHARS]
                kind, content = (
                    "inlineStr",
                    (
                        f'<is><t xml:space="preserve">{_xml_text(text)}</t></is>'
                        if text != text.strip() and text.strip()
                        else f"<is><t>{_xml_text(text)}</t></is>"
                    ),
                )
            elif isinstance(value, bool):
                kind, content = "b", f"<v>{int(value)}</v>"
            elif isinstance(value, (int, float, decimal.Decimal)):
                if not math.isfinite(value):
                    kind, content = "n", ""
                else:
                    kind, content = "n", f"<v>{value:.16g}</v>"
                if isinstance(value, decimal.Decimal) and not cell_format:
                    # Amounts (Decimal yuan) show as 1,302,300.00; the cell keeps the exact number.
                    cell_format = MONEY_FORMAT
            elif isinstance(value, (datetime.date, datetime.time, datetime.timedelta)):
                if isinstance(value, datetime.datetime) and timezone.is_aware(value):
                    value = timezone.make_naive(value)
                number_format = next(f for t, f in NUMBER_FORMATS.items() if isinstance(value, t))
                style = self.style(font, fill, number_format)
                serial = to_excel(value, self.ws.parent.epoch)
                parts.append(f'<c r="{self.letter(position)}{number}" s="{style}" t="n"><v>{serial:.16g}</v></c>')
                continue
            else:
                raise ValueError(f"无法把 {type(value).__name__} 类型的值写入 Excel。")
            if cell_format or font or fill:
                style = f' s="{self.style(font, fill, cell_format)}"'
            else:
                style = ""
            parts.append(f'<c r="{self.letter(position)}{number}"{style} t="{kind}">{content}</c>')
        parts.append("</row>")
        self.file.write("".join(parts).encode())


def _put_rows(content, sheet_rows):
    """Return the workbook with each sheet's rows in its (empty) <sheetData>."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as target:
        for info in source.infolist():
            data = source.read(info)
            rows = sheet_rows.get(info.filename)
            if rows is None:
                target.writestr(info, data)
                continue
            for empty in (b"<sheetData></sheetData>", b"<sheetData />", b"<sheetData/>"):
                head, found, tail = data.partition(empty)
                if found:
                    break
            else:
                raise RuntimeError(f"{info.filename} has no empty sheetData to fill")
            head, tail = head + b"<sheetData>", b"</sheetData>" + tail
            item = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            item.compress_type = zipfile.ZIP_DEFLATED
            item.file_size = len(head) + rows.file.tell() + len(tail)
            rows.file.seek(0)
            with target.open(item, "w") as member:
                member.write(head)
                shutil.copyfileobj(rows.file, member, 1024 * 1024)
                member.write(tail)
    return buffer.getvalue()


def write_workbook(sheets):
    """Return the bytes of an .xlsx holding the sheets; every string cell goes through safe_cell."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet_rows = []
    try:
        for sheet in sheets:
            if isinstance(sheet, tuple):
                sheet = Sheet(title=sheet[0], rows=sheet[1])
            ws = workbook.create_sheet(title=sheet.title)
            for index, width in enumerate(sheet.widths, start=1):
                ws.column_dimensions[get_column_letter(index)].width = width
            # Text columns keep ID and account numbers as typed, also in cells filled in later.
            for index in set(sheet.text_columns):
                ws.column_dimensions[get_column_letter(index)].number_format = "@"
            for index, options in sheet.choices.items():
                letter = get_column_letter(index)
                validation = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True)
                validation.error = "请从下拉列表中选择。"
                validation.add(f"{letter}2:{letter}{limit('EXCEL_MAX_ROWS') + 1}")
                ws.data_validations.append(validation)
            rows = _SheetRows(ws, sheet.text_columns)
            sheet_rows.append(rows)
            if sheet.header:
                ws.freeze_panes = "A2"
                rows.append(sheet.header, HEADER_FONT, HEADER_FILL, header=True)
            for number, row in enumerate(sheet.rows):
                rows.append(row, MUTED_FONT if number < sheet.muted_rows else None)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return _put_rows(buffer.getvalue(), {rows.ws.path.lstrip("/"): rows for rows in sheet_rows})
    finally:
        for rows in sheet_rows:
            rows.file.close()


def workbook_response(content, filename):
    """Return an .xlsx download; the file name may be Chinese."""
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response
