"""Import units and leading-group members from the template workbook: every row checked, all or nothing."""

import datetime
from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.urls import reverse

from shuangyong.lib import excel
from shuangyong.lib.jobs import JobFailed, job_runner

from . import services
from .constants import SINGLE_HOLDER_ROLES, GroupRole, UnitKind
from .models import GroupMember, LeadingGroup, Unit

IMPORT_KIND = "units_import"
UNIT_SHEET = "单位"
MEMBER_SHEET = "领导小组成员"
NOTES_SHEET = "填写说明"
UNIT_COLUMNS = {"单位名称": "name", "类别": "kind", "上级单位": "parent", "区划代码": "region_code"}
MEMBER_COLUMNS = {
    "单位名称": "unit",
    "姓名": "name",
    "职务": "job_title",
    "小组职务": "role",
    "起始日期": "start_on",
    "终止日期": "end_on",
}
UNIT_LABELS = {"name": "单位名称", "kind": "类别", "parent": "上级单位", "region_code": "区划代码"}
MEMBER_LABELS = {
    "name": "姓名",
    "job_title": "职务",
    "role": "小组职务",
    "start_on": "起始日期",
    "end_on": "终止日期",
}
EXAMPLE_PREFIX = "示例："
KIND_BY_LABEL = {kind.label: kind.value for kind in UnitKind}
ROLE_BY_LABEL = {role.label: role.value for role in GroupRole}
FAR_FUTURE = datetime.date.max


# The template


def _examples(top):
    """Return example rows for both sheets, placed under the user's own top unit so they read true."""
    top_name = top.name if top else "示例县"
    code = top.region_code if top else ""
    department = f"{EXAMPLE_PREFIX}{top_name}退役军人事务局"
    units = []
    if top is not None and top.kind == UnitKind.COUNTY and code:
        town = f"{EXAMPLE_PREFIX}城南镇"
        units.append([town, UnitKind.TOWNSHIP.label, top_name, f"{code[:6]}199000"])
        units.append([f"{EXAMPLE_PREFIX}城南社区", UnitKind.VILLAGE.label, town, f"{code[:6]}199001"])
    elif top is not None and top.kind == UnitKind.TOWNSHIP and code:
        units.append([f"{EXAMPLE_PREFIX}新建村", UnitKind.VILLAGE.label, top_name, f"{code[:9]}299"])
    units.append([department, UnitKind.DEPARTMENT.label, top_name, ""])
    group_unit = units[0][0]
    members = [
        [group_unit, "张三", "党委书记", GroupRole.LEADER.label, datetime.date(2025, 1, 1), None],
        [group_unit, "李四", "镇长", GroupRole.FIRST_DEPUTY.label, datetime.date(2025, 1, 1), None],
        [
            group_unit,
            "王五",
            "武装部长",
            GroupRole.MEMBER.label,
            datetime.date(2025, 1, 1),
            datetime.date(2025, 12, 31),
        ],
    ]
    return units, members


def _notes():
    kinds = "、".join(KIND_BY_LABEL)
    roles = "、".join(ROLE_BY_LABEL)
    single = "、".join(GroupRole(role).label for role in SINGLE_HOLDER_ROLES)
    lines = [
        "填写说明",
        "",
        "一、“单位”工作表：每行一个新单位。",
        "单位名称：必填，不超过 100 字；不能与本表其他行或已有单位重名。",
        f"类别：必填，从下拉列表选择：{kinds}。",
        "上级单位：必填，填写您管辖范围内已有单位的名称（重名时可填其区划代码），或本表中排在前面的单位名称。",
        "区划代码：省、市、县区填 6 位 GB/T 2260 代码；乡镇街道、村社区填 12 位统计用区划代码，"
        "且以上级单位代码开头；其他单位留空。",
        "",
        "二、“领导小组成员”工作表：每行一名成员。",
        "单位名称：成员所在领导小组的单位，可以是已有单位，也可以是“单位”表中新增的单位；该单位没有领导小组的，导入时自动建立。",
        "姓名、职务：必填。",
        f"小组职务：必填，从下拉列表选择：{roles}。其中{single}同一时间只能一人担任。",
        "起始日期：必填，写成 2025-01-31 的形式；终止日期：仍在任的留空，不能早于起始日期。",
        "",
        "三、导入规则",
        f"以“{EXAMPLE_PREFIX}”开头的行是填写示例，导入时自动跳过，可以保留也可以删除。",
        f"每张表最多 {excel.limit('EXCEL_MAX_ROWS')} 行；只接受 .xlsx 文件，不接受含宏的文件。",
        "上传后系统先逐行检查；只要有一行有误，就不导入任何数据，并列出全部有误的行。改正后重新上传即可。",
        "请勿修改两张表第 1 行的列名。",
    ]
    return [[line] for line in lines]


def unit_template(*, user):
    """Return the import template workbook, with example rows under the user's own top unit."""
    top = Unit.objects.editable_by(user).filter(is_active=True).order_by("depth", "path").first()
    units, members = _examples(top)
    return excel.write_workbook(
        [
            excel.Sheet(
                title=UNIT_SHEET,
                header=list(UNIT_COLUMNS),
                rows=units,
                widths=[32, 18, 32, 16],
                text_columns=[4],
                choices={2: list(KIND_BY_LABEL)},
                muted_rows=len(units),
            ),
            excel.Sheet(
                title=MEMBER_SHEET,
                header=list(MEMBER_COLUMNS),
                rows=members,
                widths=[32, 12, 24, 14, 14, 14],
                choices={4: list(ROLE_BY_LABEL)},
                muted_rows=len(members),
            ),
            excel.Sheet(title=NOTES_SHEET, rows=_notes(), widths=[120]),
        ]
    )


# The import


@dataclass
class PlannedUnit:
    row: int
    name: str
    kind: str | None
    parent_name: str | None  # a unit earlier in the sheet, or None when the parent already exists
    parent: Unit | None  # the existing parent
    region_code: str
    stand_in: Unit | None  # unsaved, so later rows can be checked against it
    ok: bool


@dataclass
class PlannedMember:
    row: int
    unit_name: str | None  # a unit of the sheet, or None when the unit already exists
    unit: Unit | None
    fields: dict


def _overlaps(a_start, a_end, b_start, b_end):
    return a_start <= (b_end or FAR_FUTURE) and b_start <= (a_end or FAR_FUTURE)


def _is_example(name):
    return excel.cell_text(name).startswith(EXAMPLE_PREFIX)


class UnitImport:
    """Check every row against the uploader's scope and the services' rules, then create all or nothing."""

    def __init__(self, *, user):
        self.user = user
        self.errors = []
        self.units = []
        self.members = []
        self.existing_by_name = {}
        self.existing_by_code = {}
        for unit in Unit.objects.editable_by(user).only(
            "pk", "name", "kind", "parent", "path", "region_code", "is_active"
        ):
            self.existing_by_name.setdefault(unit.name, []).append(unit)
            if unit.region_code:
                self.existing_by_code[unit.region_code] = unit
        if not self.existing_by_name:
            raise JobFailed("您没有导入单位的权限。")

    def error(self, sheet, row, label, message):
        where = f"第 {row} 行（{sheet}）"
        self.errors.append(
            {"row": where, "message": f"{label}：{message}" if label else message, "_order": (sheet != UNIT_SHEET, row)}
        )

    def service_errors(self, sheet, row, error, labels):
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                label = labels.get(field, "") if field != NON_FIELD_ERRORS else ""
                for message in messages:
                    self.error(sheet, row, label, message)
        else:
            for message in error.messages:
                self.error(sheet, row, "", message)

    def find_existing(self, reference):
        """Return (unit, problem) for an existing unit named, or coded, `reference` in the scope."""
        matches = self.existing_by_name.get(reference, [])
        if len(matches) == 1:
            return matches[0], None
        if len(matches) > 1:
            return None, f"您的管辖范围内有 {len(matches)} 个名为“{reference}”的单位，请改填该单位的区划代码。"
        if reference in self.existing_by_code:
            return self.existing_by_code[reference], None
        return None, f"“{reference}”不存在或不在您的管辖范围内。"

    def check_units(self, rows, progress, offset=0):
        sheet_rows = {}
        for number, record in rows:
            name = excel.cell_text(record["name"])
            if name and name not in sheet_rows:
                sheet_rows[name] = number
        planned = {}
        codes = {}
        for step, (number, record) in enumerate(rows, start=1):
            count = len(self.errors)
            name = excel.cell_text(record["name"])
            kind_label = excel.cell_text(record["kind"])
            parent_ref = excel.cell_text(record["parent"])
            code = excel.cell_text(record["region_code"])
            kind = KIND_BY_LABEL.get(kind_label)
            if not name:
                self.error(UNIT_SHEET, number, "单位名称", "请填写单位名称。")
            elif name in planned:
                self.error(UNIT_SHEET, number, "单位名称", f"与第 {planned[name].row} 行重名。")
            elif name in self.existing_by_name:
                self.error(UNIT_SHEET, number, "单位名称", f"“{name}”已存在，不能重复导入。")
            if not kind_label:
                self.error(UNIT_SHEET, number, "类别", "请填写类别。")
            elif kind is None:
                self.error(
                    UNIT_SHEET, number, "类别", f"“{kind_label}”不是有效的类别，应为：{'、'.join(KIND_BY_LABEL)}。"
                )
            if code and code in codes:
                self.error(UNIT_SHEET, number, "区划代码", f"与第 {codes[code]} 行的区划代码相同。")
            parent, parent_name = None, None
            if not parent_ref:
                self.error(UNIT_SHEET, number, "上级单位", "请填写上级单位。")
            elif parent_ref in planned:
                parent_name = parent_ref
                parent = planned[parent_ref].stand_in
            else:
                parent, problem = self.find_existing(parent_ref)
                if problem and sheet_rows.get(parent_ref, 0) > number:
                    problem = f"“{parent_ref}”在本表第 {sheet_rows[parent_ref]} 行，须排在本行之前。"
                if problem:
                    self.error(UNIT_SHEET, number, "上级单位", problem)
            stand_in = None
            if kind:
                stand_in = Unit(name=name, kind=kind, parent=parent, region_code=code)
                if parent is not None:
                    try:
                        stand_in = services.unit_check(name=name, kind=kind, parent=parent, region_code=code)
                    except ValidationError as error:
                        if not name and hasattr(error, "error_dict"):
                            error.error_dict.pop("name", None)  # already said above
                        self.service_errors(UNIT_SHEET, number, error, UNIT_LABELS)
            if name and name not in planned:
                planned[name] = PlannedUnit(
                    row=number,
                    name=name,
                    kind=kind,
                    parent_name=parent_name,
                    parent=None if parent_name else parent,
                    region_code=code,
                    stand_in=stand_in,
                    ok=len(self.errors) == count,
                )
            if code and code not in codes:
                codes[code] = number
            progress(offset + step)
        self.units = list(planned.values())
        return planned

    def check_members(self, rows, planned, progress, offset=0):
        holders = {}  # (unit key, role) -> [(row, name, start, end)]
        people = {}  # (unit key, name) -> [(row, start, end)]
        for step, (number, record) in enumerate(rows, start=1):
            count = len(self.errors)
            unit_ref = excel.cell_text(record["unit"])
            unit, unit_name = None, None
            if not unit_ref:
                self.error(MEMBER_SHEET, number, "单位名称", "请填写单位名称。")
            elif unit_ref in planned:
                unit_name = unit_ref
            else:
                unit, problem = self.find_existing(unit_ref)
                if problem:
                    self.error(MEMBER_SHEET, number, "单位名称", problem)
                elif not unit.is_active:
                    self.error(MEMBER_SHEET, number, "单位名称", f"“{unit.name}”已停用。")
            role_label = excel.cell_text(record["role"])
            role = ROLE_BY_LABEL.get(role_label)
            if not role_label:
                self.error(MEMBER_SHEET, number, "小组职务", "请填写小组职务。")
            elif role is None:
                self.error(
                    MEMBER_SHEET,
                    number,
                    "小组职务",
                    f"“{role_label}”不是有效的小组职务，应为：{'、'.join(ROLE_BY_LABEL)}。",
                )
            dates = {}
            for field, label in (("start_on", "起始日期"), ("end_on", "终止日期")):
                try:
                    dates[field] = excel.cell_date(record[field])
                except ValidationError as error:
                    dates[field] = None
                    self.error(MEMBER_SHEET, number, label, error.messages[0])
            start_on, end_on = dates["start_on"], dates["end_on"]
            if start_on is None and record["start_on"] is None:
                self.error(MEMBER_SHEET, number, "起始日期", "请填写起始日期。")
            if start_on and end_on and end_on < start_on:
                self.error(
                    MEMBER_SHEET, number, "终止日期", f"{end_on:%Y-%m-%d} 不能早于起始日期 {start_on:%Y-%m-%d}。"
                )
            fields = {
                "name": excel.cell_text(record["name"]),
                "job_title": excel.cell_text(record["job_title"]),
                "role": role,
                "start_on": start_on,
                "end_on": end_on,
            }
            try:
                GroupMember(**fields).full_clean(exclude=["group", "role", "start_on"], validate_constraints=False)
            except ValidationError as error:
                self.service_errors(MEMBER_SHEET, number, error, MEMBER_LABELS)
            key = unit_name or (unit.pk if unit else None)
            if key is not None and start_on and (end_on is None or end_on >= start_on):
                if role in SINGLE_HOLDER_ROLES:
                    for other_row, other_name, other_start, other_end in holders.get((key, role), []):
                        if _overlaps(start_on, end_on, other_start, other_end):
                            label = GroupRole(role).label
                            self.error(
                                MEMBER_SHEET, number, "小组职务", f"与第 {other_row} 行的{other_name}同时担任{label}。"
                            )
                            break
                    holders.setdefault((key, role), []).append((number, fields["name"], start_on, end_on))
                if fields["name"]:
                    for other_row, other_start, other_end in people.get((key, fields["name"]), []):
                        if _overlaps(start_on, end_on, other_start, other_end):
                            self.error(MEMBER_SHEET, number, "姓名", f"与第 {other_row} 行是同一人、任期重叠。")
                            break
                    people.setdefault((key, fields["name"]), []).append((number, start_on, end_on))
            if len(self.errors) == count:
                self.members.append(PlannedMember(row=number, unit_name=unit_name, unit=unit, fields=fields))
            progress(offset + step)

    def create(self):
        """Create the rows that passed the checks; the caller's transaction keeps all or nothing."""
        created = {}
        for planned in self.units:
            if not planned.ok:
                continue
            parent = created.get(planned.parent_name) if planned.parent_name else planned.parent
            if parent is None:
                continue
            try:
                created[planned.name] = services.unit_create(
                    name=planned.name, kind=planned.kind, parent=parent, region_code=planned.region_code
                )
            except ValidationError as error:
                self.service_errors(UNIT_SHEET, planned.row, error, UNIT_LABELS)
        groups = {}
        added = 0
        for member in self.members:
            unit = created.get(member.unit_name) if member.unit_name else member.unit
            if unit is None:
                continue
            group = groups.get(unit.pk)
            if group is None:
                group = None if member.unit_name else LeadingGroup.objects.filter(unit=unit).first()
                if group is None:
                    try:
                        group = services.group_create(unit=unit, name="", office_note="")
                    except ValidationError as error:
                        self.service_errors(MEMBER_SHEET, member.row, error, {"name": "单位名称"})
                        continue
                groups[unit.pk] = group
            try:
                services.group_member_add(group=group, **member.fields)
            except ValidationError as error:
                self.service_errors(MEMBER_SHEET, member.row, error, MEMBER_LABELS)
            else:
                added += 1
        return len(created), added

    def sorted_errors(self):
        ordered = sorted(self.errors, key=lambda e: e["_order"])
        return [{"row": e["row"], "message": e["message"]} for e in ordered]


class _RollBack(Exception):
    pass


def _read(job):
    with job.input_file.open("rb") as file:
        workbook = excel.open_workbook(file)
        try:
            unit_sheet, member_sheet = excel.get_sheet(workbook, UNIT_SHEET), excel.get_sheet(workbook, MEMBER_SHEET)
            units = [(n, r) for n, r in excel.iter_rows(unit_sheet, UNIT_COLUMNS) if not _is_example(r["name"])]
            members = [(n, r) for n, r in excel.iter_rows(member_sheet, MEMBER_COLUMNS) if not _is_example(r["unit"])]
        finally:
            workbook.close()
    return units, members


@job_runner(IMPORT_KIND)
def run_units_import(job, progress):
    """Import the job's workbook for its creator; list every bad row and import nothing if any is bad."""
    plan = UnitImport(user=job.created_by)
    unit_rows, member_rows = _read(job)
    total = len(unit_rows) + len(member_rows)
    if not total:
        raise JobFailed(f"文件中没有要导入的数据（以“{EXAMPLE_PREFIX}”开头的示例行不会导入）。")
    progress(0, total)
    planned = plan.check_units(unit_rows, progress)
    plan.check_members(member_rows, planned, progress, offset=len(unit_rows))
    try:
        with transaction.atomic():
            units, members = plan.create()
            if plan.errors:
                raise _RollBack
    except _RollBack:
        errors = plan.sorted_errors()
        message = f"发现 {len(errors)} 处问题，没有导入任何数据。请按下表改正后重新上传。"
        raise JobFailed(message, errors=errors, next_url=reverse("units:import"), next_label="重新上传") from None
    return {
        "message": f"已导入 {units} 个单位、{members} 名领导小组成员。",
        "next_url": reverse("units:list"),
        "next_label": "查看单位列表",
    }
