"""Read and write .xlsx workbooks safely: one place for limits, formula injection and downloads.

Reading checks the zip container before openpyxl parses any XML (size, member count, uncompressed
size, compression ratio, macros) and relies on defusedxml against entity expansion. Writing
streams rows with write_only and neutralises cells that a spreadsheet would run as formulas.
"""

import datetime
import io
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
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.datavalidation import DataValidation

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


def _styled(ws, value, font=None, fill=None, number_format=None):
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.make_naive(value)
    cell = WriteOnlyCell(ws, value=safe_cell(value))
    if font:
        cell.font = font
    if fill:
        cell.fill = fill
    if number_format:
        cell.number_format = number_format
    return cell


def write_workbook(sheets):
    """Return the bytes of an .xlsx holding the sheets; every string cell goes through safe_cell."""
    workbook = openpyxl.Workbook(write_only=True)
    for sheet in sheets:
        if isinstance(sheet, tuple):
            sheet = Sheet(title=sheet[0], rows=sheet[1])
        ws = workbook.create_sheet(title=sheet.title)
        for index, width in enumerate(sheet.widths, start=1):
            ws.column_dimensions[get_column_letter(index)].width = width
        text_letters = {get_column_letter(index) for index in sheet.text_columns}
        for letter in text_letters:
            ws.column_dimensions[letter].number_format = "@"
        for index, options in sheet.choices.items():
            letter = get_column_letter(index)
            validation = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True)
            validation.error = "请从下拉列表中选择。"
            validation.add(f"{letter}2:{letter}{limit('EXCEL_MAX_ROWS') + 1}")
            ws.data_validations.append(validation)
        if sheet.header:
            ws.freeze_panes = "A2"
            ws.append([_styled(ws, text, HEADER_FONT, HEADER_FILL) for text in sheet.header])
        for number, row in enumerate(sheet.rows):
            font = MUTED_FONT if number < sheet.muted_rows else None
            cells = []
            for index, value in enumerate(row, start=1):
                text_format = "@" if get_column_letter(index) in text_letters else None
                if isinstance(value, datetime.datetime):
                    cells.append(_styled(ws, value, font, number_format="yyyy-mm-dd hh:mm"))
                elif isinstance(value, datetime.date):
                    cells.append(_styled(ws, value, font, number_format="yyyy-mm-dd"))
                else:
                    cells.append(_styled(ws, value, font, number_format=text_format))
            ws.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def workbook_response(content, filename):
    """Return an .xlsx download; the file name may be Chinese."""
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response
