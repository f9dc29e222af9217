"""Import 优抚对象 from the roster template: every row checked, then all saved in one transaction or none."""

import datetime
import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse

from shuangyong.lib import excel
from shuangyong.lib.excel import EXAMPLE_PREFIX
from shuangyong.lib.idcard import normalize_id_number, validate_id_number
from shuangyong.lib.jobs import JobFailed, job_runner, job_start
from shuangyong.lib.uploads import display_name, files_atomic, random_name
from units import permissions
from units.constants import REGION_KINDS, JobStatus, UnitKind
from units.models import Job, Unit

from . import services
from .constants import Category, DisabilityGrade, DisabilityNature, ServiceArea
from .models import EDITORS, Beneficiary

CHECK_KIND = "beneficiaries_import_check"
SAVE_KIND = "beneficiaries_import_save"
SHEET = "优抚对象"
PLACES_SHEET = "乡镇村社区"
NOTES_SHEET = "填写说明"
LOOKUP_CHUNK = 500
# Excel's limit for a drop-down written as a list of values.
INLINE_LIST_MAX_CHARS = 255

PERSON_COLUMNS = {
    "姓名": "name",
    "身份证号": "id_number",
    "乡镇（街道）": "township",
    "村（社区）": "village",
    "联系电话": "phone",
    "住址": "address",
    "开户银行": "bank_name",
    "银行账号": "bank_account",
    "包户责任人": "cadre",
    "生活困难": "hardship_living",
    "住房困难": "hardship_housing",
    "医疗困难": "hardship_medical",
}
ENTITLEMENT_COLUMNS = {
    "优抚类别": "category",
    "残疾等级": "grade",
    "残疾性质": "nature",
    "批准文件": "approval_document",
    "享受起始日期": "start_on",
    "义务兵役年数": "service_years",
    "现役军人姓名": "serving_member_name",
    "入伍日期": "enlistment_date",
    "服役地区": "service_area",
}
COLUMNS = {**PERSON_COLUMNS, **ENTITLEMENT_COLUMNS, "备注": "notes"}
LABELS = {name: label for label, name in COLUMNS.items()}
COLUMN_ORDER = {label: index for index, label in enumerate(COLUMNS)}
TEXT_FIELDS = ("phone", "address", "bank_name", "cadre", "notes")
HARDSHIPS = ("hardship_living", "hardship_housing", "hardship_medical")
DATE_FIELDS = ("start_on", "enlistment_date")

CATEGORY_BY_LABEL = {c.label: c.value for c in Category}
GRADE_BY_LABEL = {g.label: g.value for g in DisabilityGrade}
NATURE_BY_LABEL = {n.label: n.value for n in DisabilityNature}
AREA_BY_LABEL = {a.label: a.value for a in ServiceArea} | {"西藏": ServiceArea.TIBET, "进藏": ServiceArea.TIBET}
YES, NO = "是", "否"
YES_WORDS = {YES, "有", "√", "✓", "Y", "YES", "TRUE", "1"}
NO_WORDS = {NO, "无", "×", "N", "NO", "FALSE", "0"}


def max_rows():
    return settings.BENEFICIARY_IMPORT_MAX_ROWS


# Who may import where


@dataclass
class Scope:
    """Where rows may be imported: the townships they may name and the jurisdiction they count as “已登记” in."""

    townships: list
    paths: list
    user: object = None

    @classmethod
    def of_user(cls, user):
        paths = [path for path, role, _ in permissions.memberships(user) if role in EDITORS]
        townships = Unit.objects.filter(
            permissions.scope_q(user, "path", roles=EDITORS), kind=UnitKind.TOWNSHIP, is_active=True
        )
        return cls(townships=list(townships.order_by("path")), paths=paths, user=user)

    @classmethod
    def of_unit(cls, unit, user=None):
        townships = unit.subtree().filter(kind=UnitKind.TOWNSHIP, is_active=True)
        return cls(townships=list(townships.order_by("path")), paths=[unit.path], user=user)

    def covers(self, path):
        return any(path.startswith(own) for own in self.paths)

    @cached_property
    def county_ids(self):
        return {township.parent_id for township in self.townships}


def region_by_code(code):
    """Return the township, county or higher region with this code, for the command-line tools."""
    units = list(Unit.objects.filter(region_code=code, is_active=True).exclude(kind=UnitKind.VILLAGE)[:2])
    units = [unit for unit in units if unit.kind in REGION_KINDS]
    if len(units) != 1:
        raise ValidationError(f"区划代码“{code}”不对应唯一的在用乡镇（街道）或县（区）。")
    return units[0]


def can_import(user):
    return Unit.objects.filter(
        permissions.scope_q(user, "path", roles=EDITORS), kind=UnitKind.TOWNSHIP, is_active=True
    ).exists()


# The template


def _example_row(township, village):
    return [
        f"{EXAMPLE_PREFIX}王建国",
        "320481196205170011",
        township.name if township else "溧东镇",
        village.name if village else "",
        "13800000001",
        "东村 8 组 12 号",
        "示例县农村商业银行",
        "6228480402564890018",
        "李四",
        NO,
        YES,
        NO,
        Category.DISABLED.label,
        DisabilityGrade.G6.label,
        DisabilityNature.WAR.label,
        "苏民优〔2009〕12号",
        datetime.date(2010, 1, 1),
        None,
        "",
        None,
        "",
        "",
    ]


def _notes():
    categories = "、".join(CATEGORY_BY_LABEL)
    grades = "、".join(GRADE_BY_LABEL)
    areas = "、".join(a.label for a in ServiceArea)
    lines = [
        "填写说明",
        "",
        "一、每行一名优抚对象及其一项优抚待遇；同一人享受多项待遇的，导入后在其个人页面增加。",
        "姓名：必填。",
        "身份证号：必填，18 位居民身份证号，末位 x 按 X 处理；请保持该列为文本格式，否则 Excel 会把号码末几位改成 0。",
        "乡镇（街道）：必填，从下拉列表选择您负责范围内的乡镇（街道）；重名时可填其 12 位区划代码。",
        "村（社区）：选填，填写该乡镇（街道）下的村（社区），名称见“乡镇村社区”工作表。",
        "联系电话、住址、开户银行、包户责任人、备注：选填。银行账号：选填，只能是数字，请保持文本格式。",
        f"生活困难、住房困难、医疗困难：填“{YES}”或“{NO}”，留空按“{NO}”处理。",
        f"优抚类别：必填，从下拉列表选择：{categories}。",
        f"残疾等级（{grades}）、残疾性质（因战、因公、因病）：只有残疾军人填写且必填；因病致残七至十级不享受残疾抚恤金。",
        "批准文件：选填，写批准该待遇的文件名称或文号。",
        "享受起始日期：必填，写成 2025-01-31 的形式。",
        "义务兵役年数：只有60周岁以上农村籍退役士兵填写且必填，1 至 30 的整数。",
        f"现役军人姓名、入伍日期：只有义务兵家庭、现役军人家属填写且必填；服役地区从下拉列表选择（{areas}），留空按一般地区。",
        "",
        "二、导入规则",
        f"以“{EXAMPLE_PREFIX}”开头的行是填写示例，导入时自动跳过，可以保留也可以删除。",
        f"每个文件最多 {max_rows()} 行；只接受 .xlsx 文件，不接受含宏的文件，文件不超过"
        f" {settings.EXCEL_MAX_UPLOAD_BYTES // (1024 * 1024)} MB。",
        "上传后系统逐行检查：身份证号是否有效、是否在表内重复、是否已经登记，乡镇村社区是否存在，类别、等级、性质和日期是否符合规定。",
        "只要有一行有误，就不导入任何数据，并列出全部有误的行、列和原因；改正后重新上传即可。",
        "全部无误时显示各类别人数，确认后一次导入，并为每人登记一条“新增”异动。",
        "已在其他县（区）登记的对象须由原登记地办理迁出，不能直接导入。",
        "请勿修改第 1 行的列名。",
    ]
    return [[line] for line in lines]


def _dropdown(values):
    """Return the values for an in-cell drop-down, or None when Excel could not hold them inline."""
    values = [value for value in values if "," not in value]
    return values if values and len(",".join(values)) <= INLINE_LIST_MAX_CHARS else None


def beneficiary_template(*, scope):
    """Return the import template: headers, one example row, drop-downs and the places in the scope."""
    township = scope.townships[0] if scope.townships else None
    villages = list(
        Unit.objects.filter(parent__in=scope.townships, kind=UnitKind.VILLAGE, is_active=True)
        .select_related("parent")
        .order_by("parent__path", "path")
    )
    first_village = next((v for v in villages if township and v.parent_id == township.pk), None)
    header = list(COLUMNS)
    position = {label: index for index, label in enumerate(header, start=1)}
    choices = {
        position["优抚类别"]: list(CATEGORY_BY_LABEL),
        position["残疾等级"]: list(GRADE_BY_LABEL),
        position["残疾性质"]: list(NATURE_BY_LABEL),
        position["服役地区"]: [a.label for a in ServiceArea],
        **{position[LABELS[name]]: [YES, NO] for name in HARDSHIPS},
    }
    townships = _dropdown([t.name for t in scope.townships])
    if townships:
        choices[position["乡镇（街道）"]] = townships
    places = [[t.name, t.region_code, "", ""] for t in scope.townships] + [
        [v.parent.name, v.parent.region_code, v.name, v.region_code] for v in villages
    ]
    places.sort(key=lambda row: (row[1], row[0], row[3]))
    widths = [10, 22, 16, 14, 14, 24, 20, 24, 10, 9, 9, 9, 22, 9, 9, 20, 13, 11, 12, 13, 16, 20]
    return excel.write_workbook(
        [
            excel.Sheet(
                title=SHEET,
                header=header,
                rows=[_example_row(township, first_village)],
                widths=widths,
                text_columns=[position["身份证号"], position["联系电话"], position["银行账号"]],
                choices=choices,
                muted_rows=1,
            ),
            excel.Sheet(
                title=PLACES_SHEET,
                header=["乡镇（街道）", "乡镇区划代码", "村（社区）", "村社区区划代码"],
                rows=places,
                widths=[20, 16, 20, 16],
                text_columns=[2, 4],
            ),
            excel.Sheet(title=NOTES_SHEET, rows=_notes(), widths=[120]),
        ]
    )


# Reading cells


def _text(value):
    return excel.cell_text(value)


def _choice(value, mapping, what):
    text = _text(value)
    if not text:
        return ""
    if text not in mapping:
        raise ValidationError(f"“{text}”不是有效的{what}，应为：{'、'.join(dict.fromkeys(mapping))}。")
    return mapping[text]


def _grade(value):
    text = _text(value)
    if not text:
        return None
    if text in GRADE_BY_LABEL:
        return GRADE_BY_LABEL[text]
    digits = text.removesuffix("级")
    if digits.isascii() and digits.isdigit() and int(digits) in DisabilityGrade.values:
        return int(digits)
    raise ValidationError(f"“{text}”不是有效的残疾等级，应为一级至十级。")


def _yes_no(value):
    if value is None or value is False:
        return False
    if value is True:
        return True
    text = _text(value).upper()
    if text in YES_WORDS:
        return True
    if text in NO_WORDS or not text:
        return False
    raise ValidationError(f"“{_text(value)}”无法识别，请填“{YES}”或“{NO}”。")


def _whole_number(value):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationError("请填写整数年数。")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return value
    text = _text(value)
    if text.isascii() and text.isdigit():
        return int(text)
    raise ValidationError(f"“{text}”不是整数，请填写整数年数。")


def _long_number(value, what):
    """Return a long number kept as text; Excel has already spoiled one stored as a number of 16+ digits."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if abs(value) >= 10**15:
            raise ValidationError(f"{what}被 Excel 存成了数字，末几位已变成 0；请把该列设为文本格式后重新填写{what}。")
    return _text(value)


# The import


@dataclass
class PlannedRow:
    row: int
    person: dict
    entitlement: dict


@dataclass
class BeneficiaryImport:
    """Check every row against the scope and the registry rules; create all or nothing."""

    scope: Scope
    # False leaves the registry rules to beneficiaries_create_many, which applies them again while saving.
    thorough: bool = True
    errors: list = field(default_factory=list)
    planned: list = field(default_factory=list)

    def __post_init__(self):
        self.townships_by_name = {}
        self.townships_by_code = {}
        for township in self.scope.townships:
            self.townships_by_name.setdefault(township.name, []).append(township)
            if township.region_code:
                self.townships_by_code[township.region_code] = township
        self.villages = {}  # township pk -> {name or code: village}
        for village in Unit.objects.filter(parent__in=self.scope.townships, kind=UnitKind.VILLAGE):
            known = self.villages.setdefault(village.parent_id, {})
            known.setdefault(village.name, village)
            if village.region_code:
                known[village.region_code] = village

    def error(self, row, label, message):
        self.errors.append({"row": row, "column": label, "message": message})

    def service_errors(self, row, error, skip=()):
        if hasattr(error, "error_dict"):
            for name, messages in error.message_dict.items():
                if name in skip:
                    continue
                label = LABELS.get(name, "") if name != NON_FIELD_ERRORS else ""
                for message in messages:
                    self.error(row, label, message)
        else:
            for message in error.messages:
                self.error(row, "", message)

    def sorted_errors(self):
        return sorted(self.errors, key=lambda e: (e["row"], COLUMN_ORDER.get(e["column"], -1)))

    def read(self, file):
        """Return the data rows of an uploaded roster, example rows left out."""
        return excel.read_rows(file, SHEET, COLUMNS, max_rows=max_rows(), example_column="name")

    def find_township(self, reference):
        matches = self.townships_by_name.get(reference, [])
        if len(matches) == 1:
            return matches[0], None
        if len(matches) > 1:
            return None, f"您的管辖范围内有 {len(matches)} 个“{reference}”，请改填其区划代码。"
        if reference in self.townships_by_code:
            return self.townships_by_code[reference], None
        return None, f"“{reference}”不存在或不在您的管辖范围内。"

    def registered(self, numbers):
        """Return {id number: (name, township)} for the numbers already in the registry."""
        found = {}
        numbers = sorted(numbers)
        for start in range(0, len(numbers), LOOKUP_CHUNK):
            chunk = numbers[start : start + LOOKUP_CHUNK]
            for person in Beneficiary.objects.filter(id_number__in=chunk).select_related("township"):
                found[person.id_number] = person
        return found

    def check(self, rows, progress=None):
        """Check every row; afterwards `errors` lists every problem and `planned` the rows to create."""
        existing = self.registered(
            {normalize_id_number(r["id_number"]) for _, r in rows if isinstance(r["id_number"], str)}
        )
        seen = {}
        for step, (number, record) in enumerate(rows, start=1):
            count = len(self.errors)
            parsed_id = self.check_id_number(number, record["id_number"], seen, existing)
            values = {name: _text(record[name]) for name in TEXT_FIELDS}
            try:
                values["bank_account"] = _long_number(record["bank_account"], "银行账号")
            except ValidationError as error:
                self.error(number, "银行账号", error.messages[0])
            for name in HARDSHIPS:
                try:
                    values[name] = _yes_no(record[name])
                except ValidationError as error:
                    self.error(number, LABELS[name], error.messages[0])
            township, village = self.place(number, record)
            name = _text(record["name"])
            person = None
            if parsed_id is not None and township is not None and self.thorough:
                try:
                    person = services.beneficiary_check(
                        name=name,
                        id_number=parsed_id.number,
                        township=township,
                        village=village,
                        preloaded=True,
                        **values,
                    )
                except ValidationError as error:
                    self.service_errors(number, error)
            elif not name:
                self.error(number, "姓名", "请填写姓名。")
            stand_in = person or Beneficiary(birth_date=parsed_id.birth_date if parsed_id else None)
            entitlement = self.check_entitlement(number, record, stand_in)
            if len(self.errors) == count:
                person_fields = {"name": name, "id_number": parsed_id.number, "township": township}
                self.planned.append(
                    PlannedRow(
                        row=number, person={**person_fields, "village": village, **values}, entitlement=entitlement
                    )
                )
            if progress:
                progress(step, len(rows))
        return not self.errors

    def check_id_number(self, number, raw, seen, existing):
        """Return the parsed ID number of a row that may be created, or None after recording why not."""
        try:
            text = _long_number(raw, "身份证号")
        except ValidationError as error:
            self.error(number, "身份证号", error.messages[0])
            return None
        if not text:
            self.error(number, "身份证号", "请填写身份证号。")
            return None
        try:
            parsed = validate_id_number(text)
        except ValidationError as error:
            self.error(number, "身份证号", error.messages[0])
            return None
        if parsed.number in seen:
            self.error(number, "身份证号", f"与第 {seen[parsed.number]} 行的身份证号重复。")
            return None
        seen[parsed.number] = number
        if parsed.number in existing:
            self.error(number, "身份证号", self.registered_message(existing[parsed.number]))
            return None
        return parsed

    def registered_message(self, person):
        if self.scope.covers(person.township.path):
            return f"已登记：{person.name}（{person.township.name}），不能重复导入。"
        if person.township.parent_id in self.scope.county_ids:
            return "已在本县（区）其他乡镇（街道）登记，请联系县（区）双拥办调整所属乡镇。"
        if self.scope.user is not None:
            services.id_number_lookup(user=self.scope.user, id_number=person.id_number)
        return "已在其他县（区）登记。"

    def place(self, number, record):
        reference = _text(record["township"])
        if not reference:
            self.error(number, "乡镇（街道）", "请填写乡镇（街道）。")
            return None, None
        township, problem = self.find_township(reference)
        if problem:
            self.error(number, "乡镇（街道）", problem)
            return None, None
        village_ref = _text(record["village"])
        if not village_ref:
            return township, None
        village = self.villages.get(township.pk, {}).get(village_ref)
        if village is None:
            self.error(number, "村（社区）", f"{township.name}没有“{village_ref}”。")
        return township, village

    def check_entitlement(self, number, record, person):
        fields = {}
        problems = False
        readers = {
            "category": lambda v: _choice(v, CATEGORY_BY_LABEL, "优抚类别"),
            "grade": _grade,
            "nature": lambda v: _choice(v, NATURE_BY_LABEL, "残疾性质"),
            "service_area": lambda v: _choice(v, AREA_BY_LABEL, "服役地区"),
            "service_years": _whole_number,
            "start_on": excel.cell_date,
            "enlistment_date": excel.cell_date,
            "approval_document": _text,
            "serving_member_name": _text,
        }
        for name, reader in readers.items():
            try:
                fields[name] = reader(record[name])
            except ValidationError as error:
                self.error(number, LABELS[name], error.messages[0])
                problems = True
        if problems or not self.thorough:
            return None if problems else fields
        try:
            services.entitlement_check(beneficiary=person, **fields)
        except ValidationError as error:
            self.service_errors(number, error)
            return None
        return fields

    def by_category(self):
        counts = Counter(row.entitlement["category"] for row in self.planned)
        return [[Category(code).label, counts[code]] for code in Category.values if counts[code]]

    def create(self, *, created_by):
        """Create every planned row; the caller's transaction keeps all or nothing."""
        rows = [{**planned.person, "entitlements": [planned.entitlement]} for planned in self.planned]
        try:
            services.beneficiaries_create_many(rows=rows, created_by=created_by)
        except services.RowErrors as error:
            for index, row_error in error.rows.items():
                self.service_errors(self.planned[index].row, row_error)
        return len(self.planned)

    def run(self, rows, *, created_by, dry_run=False, progress=None):
        """Check, then create everything in one transaction; return the count, or None if any row is bad."""
        if not self.check(rows, progress):
            return None
        try:
            with transaction.atomic():
                created = self.create(created_by=created_by)
                if self.errors or dry_run:
                    raise _RollBack
        except _RollBack:
            return None if self.errors else created
        return created


class _RollBack(Exception):
    pass


def error_line(error):
    column = f"{error['column']}：" if error["column"] else ""
    return f"第 {error['row']} 行 {column}{error['message']}"


def summary(by_category):
    return "，".join(f"{label} {count} 人" for label, count in by_category)


# Background jobs


def _failed(plan):
    errors = plan.sorted_errors()
    rows = len({e["row"] for e in errors})
    return JobFailed(
        f"{rows} 行有误（共 {len(errors)} 处问题），没有导入任何数据。请按下表改正后重新上传。",
        errors=errors,
        next_url=reverse("beneficiaries:import"),
        next_label="重新上传",
    )


@files_atomic(field="file")
def import_start(*, upload, created_by):
    """Queue the row-by-row check of an uploaded roster; a file the storage refuses is a message for the user."""
    return job_start(
        kind=CHECK_KIND, created_by=created_by, params={"filename": display_name(upload)}, input_file=upload
    )


@transaction.atomic
def import_confirm(*, check_job, confirmed_by):
    """Start saving a checked roster, once: confirming the same upload again returns the job already started.

    Returns (save job, started now).
    """
    if check_job.kind != CHECK_KIND or check_job.status != JobStatus.DONE or not check_job.result.get("valid"):
        raise ValidationError("该文件没有通过检查，不能导入。")
    if "save_job" in check_job.params:
        return Job.objects.get(pk=check_job.params["save_job"]), False
    save_job = job_start(
        kind=SAVE_KIND,
        created_by=confirmed_by,
        params={"check_job": check_job.pk, "filename": check_job.params.get("filename", "")},
        total=check_job.result.get("count", 0),
    )
    # The conditional UPDATE is the guard: of two confirmations at once, only one finds the upload unclaimed.
    claimed = (
        Job.objects.filter(pk=check_job.pk, kind=CHECK_KIND, created_by=confirmed_by)
        .exclude(params__has_key="save_job")
        .update(params={**check_job.params, "save_job": save_job.pk})
    )
    if not claimed:
        winner = Job.objects.get(pk=Job.objects.get(pk=check_job.pk).params["save_job"])
        transaction.set_rollback(True)
        return winner, False
    return save_job, True


def _read_job_file(plan, job):
    with job.input_file.open("rb") as file:
        return plan.read(file)


# The rows a check read, kept for the import that confirms it: reading the workbook again would cost
# seconds for nothing, the file being the same. Cells are JSON with their date and time types tagged.
CELL_TYPES = {"datetime": datetime.datetime, "date": datetime.date, "time": datetime.time}


def _cell_json(value):
    for tag, kind in CELL_TYPES.items():
        if isinstance(value, kind):
            return {tag: value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {"seconds": value.total_seconds()}
    return value


def _json_cell(value):
    if isinstance(value, dict):
        ((tag, text),) = value.items()
        if tag == "seconds":
            return datetime.timedelta(seconds=text)
        return CELL_TYPES[tag].fromisoformat(text)
    return value


def _keep_rows(rows):
    content = json.dumps([[number, {k: _cell_json(v) for k, v in record.items()}] for number, record in rows])
    return default_storage.save(f"jobs/{random_name('json')}", ContentFile(content.encode()))


def _checked_rows(plan, check_job):
    """Return the rows the check read, and forget them: a check is imported at most once."""
    name = check_job.result.get("rows_file")
    if not name or not default_storage.exists(name):
        return _read_job_file(plan, check_job)
    try:
        with default_storage.open(name, "rb") as file:
            return [(number, {k: _json_cell(v) for k, v in record.items()}) for number, record in json.load(file)]
    finally:
        default_storage.delete(name)


@job_runner(CHECK_KIND)
def run_import_check(job, progress):
    """Check an uploaded roster row by row; nothing is saved here."""
    plan = BeneficiaryImport(scope=Scope.of_user(job.created_by))
    if not plan.scope.townships:
        raise JobFailed("您没有导入优抚对象的权限。")
    rows = _read_job_file(plan, job)
    progress(0, len(rows))
    if not plan.check(rows, progress):
        raise _failed(plan)
    counts = plan.by_category()
    return {
        "valid": True,
        "count": len(plan.planned),
        "by_category": counts,
        "rows_file": _keep_rows(rows),
        "message": f"共 {len(plan.planned)} 行，全部检查无误（{summary(counts)}）。请核对后点击“确认导入”。",
    }


@job_runner(SAVE_KIND)
def run_import_save(job, progress):
    """Import a checked roster: checked again against today's registry, then saved in one transaction."""
    check_job = Job.objects.get(pk=job.params["check_job"], created_by=job.created_by, kind=CHECK_KIND)
    plan = BeneficiaryImport(scope=Scope.of_user(job.created_by), thorough=False)
    rows = _checked_rows(plan, check_job)
    progress(0, len(rows))
    created = plan.run(rows, created_by=job.created_by, progress=progress)
    if created is None:
        raise _failed(plan)
    return {
        "message": f"已导入 {created} 名优抚对象（{summary(plan.by_category())}），每人登记了一条“新增”异动。",
        "count": created,
        "next_url": reverse("beneficiaries:list"),
        "next_label": "查看优抚对象",
    }
