"""Import past years' activities from the Excel template: every row checked, then all saved or none.

A row is one activity with at most one recipient group and one gift. Further rows with the same 组织单位,
开始日期 and 标题 add more groups and gifts to that activity, so that an 八一 campaign with seven groups of
recipients takes seven rows. Imported activities are marked `imported`; they carry no registry recipients
(those are 慰问金 payments, which the payments import brings in).
"""

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from shuangyong.lib import excel
from shuangyong.lib.excel import EXAMPLE_PREFIX, RowError
from shuangyong.lib.money import ZERO
from units.constants import MILITARY_KINDS
from units.models import Unit

from . import services
from .constants import COUNT_FIELDS, ActivityType, Occasion
from .models import Activity, Gift, RecipientGroup

SHEET = "双拥活动"
UNITS_SHEET = "可填报单位"
NOTES_SHEET = "填写说明"
DEFAULT_MAX_ROWS = 5000
MAX_MONEY = Decimal("100000000")
MAX_COUNT = 10_000_000
BULK = 500

# Header text -> field. Required columns carry a * in the template, which the reader ignores.
ACTIVITY_COLUMNS = {
    "组织单位": "unit",
    "活动类型": "type",
    "时机": "occasion",
    "开始日期": "start_date",
    "结束日期": "end_date",
    "地点": "place",
    "标题": "title",
    "活动内容": "description",
    "参加领导": "leaders",
    "参加人数": "participants",
    "官兵人数": "soldiers",
    "受益人数": "reached",
    "活动经费": "cost",
}
COUNT_COLUMNS = {f"{label}（{word}）": name for name, (label, word, _) in COUNT_FIELDS.items()}
GROUP_COLUMNS = {
    "慰问群体": "group_description",
    "群体人数": "group_people",
    "群体慰问金": "group_money",
    "群体物品": "group_goods",
    "群体物品折价": "group_goods_value",
}
GIFT_COLUMNS = {
    "受赠单位": "gift_recipient",
    "赠送金额": "gift_money",
    "赠送物品": "gift_goods",
    "赠送物品折价": "gift_goods_value",
}
COLUMNS = {**ACTIVITY_COLUMNS, **COUNT_COLUMNS, **GROUP_COLUMNS, **GIFT_COLUMNS}
LABELS = {name: label for label, name in COLUMNS.items()}
COLUMN_ORDER = {label: index for index, label in enumerate(COLUMNS)}
REQUIRED = ("unit", "type", "start_date", "title")
KEY_FIELDS = ("unit", "start_date", "title")
TEXT_LIMITS = {"place": 100, "title": 100, "leaders": 200, "description": 5000}
WHOLE_NUMBERS = ("participants", "soldiers", "reached", *COUNT_FIELDS)

TYPE_BY_LABEL = {t.label: t.value for t in ActivityType}
OCCASION_BY_LABEL = {o.label: o.value for o in Occasion} | {"": "", "八一建军节": Occasion.ARMY_DAY}
COUNT_TYPES = {name: {str(t) for t in types} for name, (_, _, types) in COUNT_FIELDS.items()}


def max_rows():
    return getattr(settings, "ACTIVITY_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)


# Who may import for which units


def can_import(user):
    return services.can_record(user)


# Reading cells


def _text(value):
    return excel.cell_text(value)


def _whole_number(value):
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ValidationError("应填写整数。")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if text.isascii() and text.removeprefix("-").isdigit():
            value = int(text)
    if not isinstance(value, int):
        raise ValidationError(f"“{_text(value)}”不是整数。")
    if value < 0:
        raise ValidationError("不能为负数。")
    if value > MAX_COUNT:
        raise ValidationError("数字过大，请核对。")
    return value


def _money(value):
    if value is None or value == "":
        return ZERO
    amount = excel.cell_yuan(value)
    if amount < 0:
        raise ValidationError("不能为负数。")
    if amount >= MAX_MONEY:
        raise ValidationError("金额过大，请核对。")
    return amount


def _choice(value, mapping, what):
    text = _text(value)
    if text not in mapping:
        options = "、".join(label for label in mapping if label)
        raise ValidationError(f"“{text}”不是有效的{what}，应为：{options}。")
    return mapping[text]


# The import


@dataclass
class PlannedActivity:
    row: int
    fields: dict
    groups: list = field(default_factory=list)
    gifts: list = field(default_factory=list)


class UnitFinder:
    """Find a unit by name, by region code or as “上级单位/单位”, among the units the user may fill in for."""

    def __init__(self, user):
        self.units = list(services.editable_units(user))
        self.by_pk = {unit.pk: unit for unit in self.units}
        self.by_name = defaultdict(list)
        self.by_code = {}
        for unit in self.units:
            self.by_name[unit.name].append(unit)
            if unit.region_code:
                self.by_code[unit.region_code] = unit
        parents = Unit.objects.in_bulk({unit.parent_id for unit in self.units if unit.parent_id})
        self.by_parent_and_name = {}
        for unit in self.units:
            parent = parents.get(unit.parent_id)
            if parent is not None:
                self.by_parent_and_name[(parent.name, unit.name)] = unit

    def find(self, reference):
        """Return (unit, None) or (None, why not)."""
        matches = self.by_name.get(reference, [])
        if len(matches) == 1:
            return matches[0], None
        if len(matches) > 1:
            return None, f"您可填报的单位中有 {len(matches)} 个“{reference}”，请改填区划代码或“上级单位/{reference}”。"
        if reference in self.by_code:
            return self.by_code[reference], None
        if "/" in reference:
            parent, _, name = reference.rpartition("/")
            unit = self.by_parent_and_name.get((parent.strip(), name.strip()))
            if unit is not None:
                return unit, None
        name = reference.rpartition("/")[2].strip()
        elsewhere = Unit.objects.filter(name=name)
        if reference.isdigit():
            elsewhere |= Unit.objects.filter(region_code=reference)
        if elsewhere.exists():
            return None, f"“{reference}”不在您可以填报的范围内。"
        return None, f"没有名为“{reference}”的单位，请从“{UNITS_SHEET}”工作表中选择。"


@dataclass
class ActivityImport:
    """Check every row of a workbook against the user's units and the activity rules; create all or none."""

    user: object
    today: datetime.date = None
    errors: list = field(default_factory=list)
    planned: list = field(default_factory=list)
    written: int = None

    def __post_init__(self):
        self.today = self.today or timezone.localdate()
        self.finder = UnitFinder(self.user)
        self._recipients = {}
        self._errored = set()  # (row, column) pairs already named

    def error(self, row, name, message):
        label = LABELS.get(name, name)
        self.errors.append(RowError(row, label, message))
        self._errored.add((row, label))

    def sorted_errors(self):
        return sorted(self.errors, key=lambda e: (e.row, COLUMN_ORDER.get(e.column, len(COLUMN_ORDER))))

    def read(self, file):
        """Return the data rows of an uploaded workbook, example rows left out."""
        return excel.read_rows(file, SHEET, COLUMNS, max_rows=max_rows(), example_column="unit")

    # ---- checking ----------------------------------------------------------------------------------
    def check(self, rows):
        """Check every row; afterwards `errors` lists every problem and `planned` the activities to create."""
        by_key, failed = {}, set()
        for number, record in rows:
            count = len(self.errors)
            values = self.activity_values(number, record)
            group = self.group_values(number, record)
            gift = self.gift_values(number, record, values.get("unit"))
            key = tuple(values.get(name) for name in KEY_FIELDS)
            if None in key:
                self.check_activity(number, values)  # names the missing column, and whatever else is wrong
                continue
            if key in failed:
                continue  # a further row of an activity whose first row is bad: its own cells were checked
            earlier = by_key.get(key)
            if earlier is not None:
                self.compare(number, values, earlier)
            else:
                self.check_activity(number, values)
            if len(self.errors) > count:
                if earlier is None:
                    failed.add(key)
                continue
            if earlier is None:
                earlier = by_key[key] = PlannedActivity(row=number, fields=values)
                self.planned.append(earlier)
            if group:
                earlier.groups.append(group)
            if gift:
                earlier.gifts.append(gift)
        self.check_existing()
        return not self.errors

    def activity_values(self, number, record):
        """Read the activity's columns; record an error for each bad cell. Blank cells are left out."""
        values = {}
        reference = _text(record["unit"])
        if reference:
            unit, problem = self.finder.find(reference)
            if problem:
                self.error(number, "unit", problem)
            else:
                values["unit"] = unit
        readers = {
            "type": lambda v: _choice(v, TYPE_BY_LABEL, "活动类型"),
            "occasion": lambda v: _choice(v, OCCASION_BY_LABEL, "时机"),
            "start_date": excel.cell_date,
            "end_date": excel.cell_date,
            "cost": _money,
            **dict.fromkeys(WHOLE_NUMBERS, _whole_number),
        }
        for name, reader in readers.items():
            if record[name] is None:
                continue
            try:
                values[name] = reader(record[name])
            except ValidationError as error:
                self.error(number, name, error.messages[0])
        for name, limit in TEXT_LIMITS.items():
            text = _text(record[name])
            if len(text) > limit:
                self.error(number, name, f"不能超过 {limit} 个字（现有 {len(text)} 个）。")
            elif text:
                values[name] = text
        return values

    def check_activity(self, number, values):
        """The rules for the first row of an activity: required columns, dates, counts of its type."""
        for name in REQUIRED:
            if name not in values and (number, LABELS[name]) not in self._errored:
                self.error(number, name, "必填。")
        start, end = values.get("start_date"), values.get("end_date")
        if start and start > self.today:
            self.error(number, "start_date", f"不能晚于今天（{self.today:%Y-%m-%d}）：只能导入已经举办的活动。")
        if end and end > self.today:
            self.error(number, "end_date", f"不能晚于今天（{self.today:%Y-%m-%d}）。")
        if start and end and end < start:
            self.error(number, "end_date", "不能早于开始日期。")
        kind = values.get("type")
        if kind:
            for name in COUNT_FIELDS:
                if values.get(name) and kind not in COUNT_TYPES[name]:
                    offered = "、".join(ActivityType(t).label for t in COUNT_FIELDS[name][2])
                    self.error(number, name, f"只适用于{offered}活动，{ActivityType(kind).label}活动不填。")

    def compare(self, number, values, earlier):
        """A further row of an activity: its own activity columns are blank or the same as the first row's."""
        for name, value in values.items():
            if name in KEY_FIELDS:
                continue
            if earlier.fields.get(name, _blank(name)) != value:
                self.error(
                    number,
                    name,
                    f"与第 {earlier.row} 行是同一活动（组织单位、开始日期、标题相同），此列应留空或与该行一致。",
                )

    def group_values(self, number, record):
        if all(record[name] is None for name in GROUP_COLUMNS.values()):
            return None
        group = {"description": _text(record["group_description"]), "goods": _text(record["group_goods"])}
        if not group["description"]:
            self.error(
                number, "group_description", "填写了慰问群体的人数或金额，请写明慰问群体（如“在乡老复员军人”）。"
            )
        elif len(group["description"]) > 100:
            self.error(number, "group_description", "不能超过 100 个字。")
        if len(group["goods"]) > 200:
            self.error(number, "group_goods", "不能超过 200 个字。")
        for name, key, reader in (
            ("group_people", "people", _whole_number),
            ("group_money", "money", _money),
            ("group_goods_value", "goods_value", _money),
        ):
            try:
                group[key] = reader(record[name])
            except ValidationError as error:
                self.error(number, name, error.messages[0])
        if group.get("people") == 0:
            self.error(number, "group_people", "请填写慰问群体的人数（大于 0）。")
        return group

    def gift_values(self, number, record, unit):
        if all(record[name] is None for name in GIFT_COLUMNS.values()):
            return None
        gift = {"recipient_name": _text(record["gift_recipient"]), "goods": _text(record["gift_goods"])}
        if not gift["recipient_name"]:
            self.error(number, "gift_recipient", "填写了赠送金额或物品，请写明受赠单位。")
        elif len(gift["recipient_name"]) > 100:
            self.error(number, "gift_recipient", "不能超过 100 个字。")
        if len(gift["goods"]) > 200:
            self.error(number, "gift_goods", "不能超过 200 个字。")
        for name, key in (("gift_money", "money"), ("gift_goods_value", "goods_value")):
            try:
                gift[key] = _money(record[name])
            except ValidationError as error:
                self.error(number, name, error.messages[0])
        if gift.get("money") == ZERO and gift.get("goods_value") == ZERO and not gift["goods"]:
            self.error(number, "gift_money", "请填写赠送金额或赠送物品。")
        gift["recipient_unit"] = self.recipient_unit(gift["recipient_name"], unit) if unit else None
        if gift["recipient_unit"] is not None:
            gift["recipient_name"] = ""
        return gift

    def recipient_unit(self, name, unit):
        """The unit of that name that a gift of the unit may go to (in its county), if there is exactly one."""
        if not name:
            return None
        key = (name, unit.pk)
        if key not in self._recipients:
            matches = list(services.gift_unit_choices(unit).filter(name=name)[:2])
            self._recipients[key] = matches[0] if len(matches) == 1 else None
        return self._recipients[key]

    def check_existing(self):
        """An activity already in the portal (same unit, start date and title) is not imported twice."""
        by_unit = defaultdict(list)
        for planned in self.planned:
            by_unit[planned.fields["unit"].pk].append(planned)
        for unit_id, items in by_unit.items():
            dates = {planned.fields["start_date"] for planned in items}
            existing = set(
                Activity.objects.filter(unit_id=unit_id, start_date__in=dates).values_list("start_date", "title")
            )
            for planned in items:
                if (planned.fields["start_date"], planned.fields["title"]) in existing:
                    self.error(
                        planned.row,
                        "title",
                        "系统中已有该单位同一天同一标题的活动，不能重复导入（是否已导入过此文件？）。",
                    )

    # ---- saving ------------------------------------------------------------------------------------
    def build(self, planned):
        fields = planned.fields
        activity = Activity(
            **{name: value for name, value in fields.items()},
            occasion_year=services.occasion_year_of(fields.get("occasion", ""), fields["start_date"]),
            imported=True,
            created_by=self.user,
        )
        parts = planned.groups + planned.gifts
        activity.money = sum((part["money"] for part in parts), ZERO)
        activity.goods_value = sum((part["goods_value"] for part in parts), ZERO)
        activity.recipient_count = sum(group["people"] for group in planned.groups)
        # The unit was found among the user's own and the dates checked above: no query per row for those.
        activity.full_clean(exclude=["unit", "created_by"], validate_constraints=False)
        return activity

    def create(self):
        """Create every planned activity with its groups and gifts; the caller's transaction keeps all or none."""
        activities = [self.build(planned) for planned in self.planned]
        Activity.objects.bulk_create(activities, batch_size=BULK)
        groups, gifts = [], []
        for activity, planned in zip(activities, self.planned, strict=True):
            groups += [RecipientGroup(activity=activity, **group) for group in planned.groups]
            gifts += [Gift(activity=activity, **gift) for gift in planned.gifts]
        RecipientGroup.objects.bulk_create(groups, batch_size=BULK)
        Gift.objects.bulk_create(gifts, batch_size=BULK)
        # A gift to a military unit means that unit took part.
        joined = {
            (gift.activity_id, gift.recipient_unit_id)
            for gift in gifts
            if gift.recipient_unit is not None and gift.recipient_unit.kind in MILITARY_KINDS
        }
        through = Activity.military_units.through
        through.objects.bulk_create([through(activity_id=a, unit_id=u) for a, u in sorted(joined)], batch_size=BULK)
        save_history(activities, user=self.user, reason="Excel 导入")
        return len(activities)

    def run(self, rows, *, dry_run=False):
        """Check, then create everything in one transaction; return the number created, or None if any is bad."""
        if not self.check(rows):
            return None
        if dry_run:
            return 0
        with transaction.atomic():
            return self.create()

    # ---- what the page shows -------------------------------------------------------------------------
    def summary(self):
        """Per type: activities, participants, money and goods; the years covered and the totals."""
        counts, money, goods, people = Counter(), defaultdict(lambda: ZERO), defaultdict(lambda: ZERO), Counter()
        for planned in self.planned:
            kind = planned.fields["type"]
            parts = planned.groups + planned.gifts
            counts[kind] += 1
            money[kind] += sum((part["money"] for part in parts), ZERO)
            goods[kind] += sum((part["goods_value"] for part in parts), ZERO)
            people[kind] += planned.fields.get("participants", 0)
        rows = [
            {
                "label": ActivityType(kind).label,
                "count": counts[kind],
                "participants": people[kind],
                "money": money[kind],
                "goods_value": goods[kind],
            }
            for kind in ActivityType.values
            if counts[kind]
        ]
        years = sorted({planned.fields["start_date"].year for planned in self.planned})
        return {
            "rows": rows,
            "count": len(self.planned),
            "groups": sum(len(planned.groups) for planned in self.planned),
            "gifts": sum(len(planned.gifts) for planned in self.planned),
            "participants": sum(people.values()),
            "money": sum(money.values(), ZERO),
            "goods_value": sum(goods.values(), ZERO),
            "years": f"{years[0]}—{years[-1]}年" if len(years) > 1 else (f"{years[0]}年" if years else ""),
            "year": years[0] if len(years) == 1 else None,
        }


def _blank(name):
    if name in WHOLE_NUMBERS:
        return 0
    if name == "cost":
        return ZERO
    return "" if name not in ("start_date", "end_date", "unit", "type") else None


def save_history(objects, *, user=None, reason=None, when=None):
    """Write a "created" history row for each object saved in bulk (bulk_create skips simple-history)."""
    if not objects:
        return
    model = type(objects[0]).history.model
    names = [f.attname for f in model.tracked_fields]
    when = when or timezone.now()
    rows = [
        model(
            history_date=when(obj) if callable(when) else when,
            history_type="+",
            history_user_id=getattr(user, "pk", None),
            history_change_reason=reason,
            **{name: getattr(obj, name) for name in names},
        )
        for obj in objects
    ]
    model.objects.bulk_create(rows, batch_size=BULK)


def activity_import(*, file, user, dry_run=False, today=None):
    """Import an activities workbook for the user; return the ActivityImport with its errors or its summary."""
    plan = ActivityImport(user=user, today=today)
    rows = plan.read(file)
    plan.written = plan.run(rows, dry_run=dry_run)
    return plan


# The template


def _example_rows(unit):
    name = f"{EXAMPLE_PREFIX}{unit.name if unit else '溧东镇'}"
    first = {
        "unit": name,
        "type": ActivityType.VISIT.label,
        "occasion": Occasion.ARMY_DAY.label,
        "start_date": datetime.date(2024, 7, 28),
        "end_date": datetime.date(2024, 7, 31),
        "place": "驻地部队及各村",
        "title": "2024年“八一”走访慰问",
        "description": "镇党委、政府主要领导带队走访慰问驻地部队和重点优抚对象。",
        "leaders": "陈书记、周镇长",
        "participants": 12,
        "reached": 26,
        "group_description": "在乡老复员军人",
        "group_people": 26,
        "group_money": Decimal("10400.00"),
        "gift_recipient": "73026部队",
        "gift_money": Decimal("20000.00"),
        "gift_goods": "空调两台",
        "gift_goods_value": Decimal("5000.00"),
    }
    second = {
        "unit": name,
        "start_date": datetime.date(2024, 7, 28),
        "title": "2024年“八一”走访慰问",
        "group_description": "烈军属",
        "group_people": 8,
        "group_money": Decimal("3200.00"),
        "group_goods": "米、油",
        "group_goods_value": Decimal("800.00"),
    }
    third = {
        "unit": name,
        "type": ActivityType.PUBLICITY.label,
        "start_date": datetime.date(2024, 3, 15),
        "title": "拥军题材板报",
        "boards": 2,
        "slogans": 10,
        "banners": 4,
    }
    return [[row.get(name) for name in COLUMNS.values()] for row in (first, second, third)]


def _notes():
    types = "、".join(TYPE_BY_LABEL)
    occasions = "、".join(label for label in OCCASION_BY_LABEL if label and label != "八一建军节")
    counts = "；".join(
        f"{label}（{word}）：{'、'.join(ActivityType(t).label for t in types_)}"
        for label, word, types_ in COUNT_FIELDS.values()
    )
    lines = [
        "填写说明",
        "",
        "一、每行一项活动；一项活动有多个慰问群体或受赠单位时，每个群体或单位另起一行，",
        "   该行的组织单位、开始日期、标题与第一行相同，其余活动信息留空（或与第一行一致）。",
        f"组织单位：必填，填您可以填报的单位名称，见“{UNITS_SHEET}”工作表；重名时填区划代码或“上级单位/单位名称”。",
        f"活动类型：必填，从下拉列表选择：{types}。",
        f"时机：选填：{occasions}；元旦、春节前在 12 月走访的，计入下一年度的元旦、春节。",
        "开始日期：必填，写成 2024-07-28 的形式；结束日期：选填，不能早于开始日期。两者都不能晚于今天。",
        "标题：必填，100 字以内；地点 100 字以内；参加领导 200 字以内。",
        "参加人数、官兵人数、受益人数及各项数量：选填，不小于 0 的整数，留空按 0。",
        "活动经费：选填，单位元，最多两位小数。",
        f"各项数量只适用于部分活动类型：{counts}。",
        "慰问群体（不在优抚对象名册中的人员，如军退干部、困难群众、驻地官兵）：",
        "   写明群体、人数（大于 0）、慰问金、物品及物品折价。",
        "受赠单位（部队、企业、学校等）：写明单位名称、赠送金额、赠送物品及物品折价；名称与本县单位一致的自动关联该单位。",
        "",
        "二、导入规则",
        f"以“{EXAMPLE_PREFIX}”开头的行是填写示例，导入时自动跳过，可以保留也可以删除。",
        f"每个文件最多 {max_rows()} 行，超过请按年度或单位拆分为多个文件；只接受 .xlsx 文件，不接受含宏的文件。",
        "上传后逐行检查，只要有一行有误，就不导入任何数据，并列出全部有误的行、列和原因；改正后重新上传即可。",
        "可先勾选“只检查，不导入”核对，再正式导入。",
        "系统中已有同一单位同一天同一标题的活动时，该行列为错误，避免重复导入。",
        "导入的活动标为“历史导入”；走访的优抚对象及其慰问金请通过历史发放记录导入，或在活动页面逐人添加。",
        "请勿修改第 1 行的列名（带 * 的列为必填）。",
    ]
    return [[line] for line in lines]


def activity_template(*, user):
    """Return the import template: headers, example rows, drop-downs and the units the user may fill in for."""
    finder = UnitFinder(user)
    units = finder.units
    first = units[0] if units else None
    header = [f"{label}*" if COLUMNS[label] in REQUIRED else label for label in COLUMNS]
    position = {name: index for index, name in enumerate(COLUMNS.values(), start=1)}
    parents = Unit.objects.in_bulk({unit.parent_id for unit in units if unit.parent_id})
    unit_rows = [
        [
            unit.name,
            unit.region_code,
            unit.get_kind_display(),
            parents[unit.parent_id].name if unit.parent_id in parents else "",
        ]
        for unit in units
    ]
    widths = [16, 12, 10, 12, 12, 16, 26, 40, 16, 9, 9, 9, 11] + [9] * len(COUNT_COLUMNS) + [18, 9, 11, 14, 12]
    widths += [20, 11, 14, 12]
    return excel.write_workbook(
        [
            excel.Sheet(
                title=SHEET,
                header=header,
                rows=_example_rows(first),
                widths=widths,
                choices={
                    position["type"]: list(TYPE_BY_LABEL),
                    position["occasion"]: [label for label in OCCASION_BY_LABEL if label and label != "八一建军节"],
                },
                muted_rows=3,
            ),
            excel.Sheet(
                title=UNITS_SHEET,
                header=["单位名称", "区划代码", "类别", "上级单位"],
                rows=unit_rows,
                widths=[30, 16, 16, 24],
                text_columns=[2],
            ),
            excel.Sheet(title=NOTES_SHEET, rows=_notes(), widths=[140]),
        ]
    )
