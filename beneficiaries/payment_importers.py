"""Excel in for payments: past years' payments (all rows or none) and an outside death list to check against."""

import datetime
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from shuangyong.lib import excel
from shuangyong.lib.excel import EXAMPLE_PREFIX, RowError
from shuangyong.lib.idcard import validate_id_number
from shuangyong.lib.money import ZERO
from units.constants import Role
from units.permissions import scope_q

from . import death_rules
from .constants import CATEGORY_KIND, ONE_OFF_KINDS, REGULAR_KINDS, Category, ChangeKind, PaymentKind, PayMethod, Status
from .models import Beneficiary, Entitlement, Payment
from .recovery_services import paid_rows
from .services import effective_changes

LOOKUP_CHUNK = 500
YES, NO = "是", "否"
YES_WORDS = {YES, "Y", "YES", "TRUE", "1", "√"}
NO_WORDS = {NO, "", "N", "NO", "FALSE", "0"}


def _text(value):
    return excel.cell_text(value)


def _id_number(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) >= 10**15:
        raise ValidationError("身份证号被 Excel 存成了数字，末几位已变成 0；请把该列设为文本格式后重新填写。")
    return validate_id_number(_text(value)).number


def _chunks(values):
    values = sorted(values)
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start : start + LOOKUP_CHUNK]


def _people(queryset, numbers):
    found = {}
    for chunk in _chunks(numbers):
        for person in queryset.filter(id_number__in=chunk).select_related("township"):
            found[person.id_number] = person
    return found


# The outside death list


DEATH_COLUMNS = {"姓名": "name", "身份证号": "id_number", "死亡日期": "died_on"}
DEATH_LIST_MAX_ROWS = 20000


@dataclass
class DeathListEntry:
    row: int
    name: str
    id_number: str
    died_on: datetime.date


@dataclass
class DeathMatch:
    """A registry person on the death list, and what is wrong: not recorded dead, or paid after the death."""

    entry: DeathListEntry
    person: Beneficiary
    recorded_on: datetime.date = None
    paid_months: list = field(default_factory=list)
    paid_amount: Decimal = ZERO

    @property
    def not_recorded(self):
        return self.person.status != Status.DECEASED

    @property
    def date_differs(self):
        return self.recorded_on is not None and self.recorded_on != self.entry.died_on

    @property
    def name_differs(self):
        return bool(self.entry.name) and self.entry.name != self.person.name

    @property
    def needs_action(self):
        return self.not_recorded or bool(self.paid_months) or self.date_differs


@dataclass
class DeathCheck:
    entries: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    matches: list = field(default_factory=list)
    rows: int = 0

    @property
    def to_act(self):
        return [m for m in self.matches if m.needs_action]

    @property
    def in_order(self):
        return [m for m in self.matches if not m.needs_action]


def death_list_read(file):
    """Return a DeathCheck with the good entries of an uploaded death list and every bad row named."""
    check = DeathCheck()
    workbook = excel.open_workbook(file)
    try:
        sheet = workbook.worksheets[0]
        rows = list(excel.iter_rows(sheet, DEATH_COLUMNS, max_rows=DEATH_LIST_MAX_ROWS))
    finally:
        workbook.close()
    if not rows:
        raise ValidationError("名单中没有数据。")
    check.rows = len(rows)
    seen = {}
    today = timezone.localdate()
    for number, record in rows:
        problems = len(check.errors)
        name = _text(record["name"])
        try:
            id_number = _id_number(record["id_number"])
        except ValidationError as error:
            check.errors.append(RowError(number, "身份证号", error.messages[0]))
            id_number = None
        try:
            died_on = excel.cell_date(record["died_on"])
            if died_on is None:
                raise ValidationError("请填写死亡日期。")
            if died_on > today:
                raise ValidationError("死亡日期不能晚于今天。")
        except ValidationError as error:
            check.errors.append(RowError(number, "死亡日期", error.messages[0]))
            died_on = None
        if id_number and id_number in seen:
            check.errors.append(RowError(number, "身份证号", f"与第 {seen[id_number]} 行的身份证号重复。"))
        elif id_number:
            seen[id_number] = number
        if len(check.errors) == problems:
            check.entries.append(DeathListEntry(row=number, name=name, id_number=id_number, died_on=died_on))
    return check


def death_list_match(*, check, user):
    """Fill in the registry people in the user's scope that the list names; nothing is written."""
    people = _people(Beneficiary.objects.visible_to(user), {e.id_number for e in check.entries})
    for entry in check.entries:
        person = people.get(entry.id_number)
        if person is None:
            continue
        match = DeathMatch(entry=entry, person=person)
        if person.status == Status.DECEASED:
            changes = effective_changes(list(person.changes.order_by("effective_on", "recorded_at", "pk")))
            deaths = [c for c in changes if c.kind == ChangeKind.DEATH]
            match.recorded_on = deaths[-1].effective_on if deaths else None
        rows = list(paid_rows(person).filter(month__gte=death_rules.first_unpaid_month(entry.died_on)))
        match.paid_months = sorted({row.month for row in rows})
        match.paid_amount = sum((row.amount for row in rows), ZERO)
        check.matches.append(match)
    check.matches.sort(key=lambda m: (m.person.township.path, m.person.name, m.entry.row))
    return check


# Past years' payments


SHEET = "发放记录"
NOTES_SHEET = "填写说明"
PAYMENT_COLUMNS = {
    "身份证号": "id_number",
    "姓名": "name",
    "发放类别": "kind",
    "所属月份": "month",
    "金额": "amount",
    "补发": "backpay",
    "发放日期": "paid_on",
    "发放方式": "method",
    "用途/备注": "purpose",
}
LABELS = {name: label for label, name in PAYMENT_COLUMNS.items()}
PAYMENT_IMPORT_MAX_ROWS = 5000
KIND_BY_LABEL = {k.label: k.value for k in PaymentKind}
METHOD_BY_LABEL = {m.label: m.value for m in PayMethod} | {"银行卡": PayMethod.CARD, "打卡发放": PayMethod.CARD}
# Kinds paid once a year: a row covers the year, recorded as January 1 as the batches do.
ANNUAL_KINDS = (PaymentKind.CONSCRIPT,)
# Regular kinds and the categories that may receive them, for the entitlement a row pays.
KIND_CATEGORIES = defaultdict(set)
for _category, _kind in CATEGORY_KIND.items():
    KIND_CATEGORIES[_kind].add(_category)
KIND_CATEGORIES[PaymentKind.NURSING].add(Category.DISABLED)
MONTH_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?(?:\s*[-/.]?\s*\d{1,2}\s*日?)?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
)
YEAR_PATTERN = re.compile(r"^(\d{4})\s*年?(?:度)?$")


def _month(value, kind):
    """Return the first day of the month a cell names: 2024-03, 2024年3月, 202403, a date; for 优待金 also 2024."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        month = value.replace(day=1)
    else:
        text = _text(value)
        if not text:
            raise ValidationError("请填写所属月份。")
        month = None
        for pattern in MONTH_PATTERNS:
            found = pattern.match(text)
            if found:
                year, number = int(found.group(1)), int(found.group(2))
                if not 1 <= number <= 12:
                    raise ValidationError(f"“{text}”不是有效月份。")
                month = datetime.date(year, number, 1)
                break
        if month is None:
            found = YEAR_PATTERN.match(text)
            if found and kind in ANNUAL_KINDS:
                month = datetime.date(int(found.group(1)), 1, 1)
            else:
                raise ValidationError(f"“{text}”不是有效月份，请写成 2024-03 或 2024年3月 的形式。")
    if not 1950 <= month.year <= 2100:
        raise ValidationError(f"“{month:%Y-%m}”不是有效月份。")
    if kind in ANNUAL_KINDS:
        month = month.replace(month=1)
    return month


def _amount(value):
    if value is None or value == "":
        raise ValidationError("请填写金额。")
    amount = excel.cell_yuan(value)
    if amount <= 0:
        raise ValidationError("金额应大于 0。")
    if amount >= Decimal("100000000"):
        raise ValidationError("金额过大，请核对。")
    return amount


def _yes_no(value):
    if value is True or value is False:
        return value
    text = _text(value).upper()
    if text in YES_WORDS:
        return True
    if text in NO_WORDS:
        return False
    raise ValidationError(f"“{_text(value)}”无法识别，请填“{YES}”或“{NO}”。")


def one_off_reference(month, paid_on, amount):
    """The reference of an imported one-off: the same row imported twice has the same reference."""
    return f"import:{month:%Y%m}-{paid_on:%Y%m%d}-{int(amount * 100)}"


def held_entitlement(entitlements, kind, month):
    """Return the entitlement that pays a regular kind in a month (or, for an annual kind, in its year)."""
    categories = KIND_CATEGORIES.get(kind, set())
    if kind in ANNUAL_KINDS:
        first, last = month.replace(month=1), month.replace(month=12, day=31)
    else:
        first, last = month, death_rules.month_end(month)
    held = [
        e
        for e in entitlements
        if e.category in categories and e.start_on <= last and (e.end_on is None or e.end_on >= first)
    ]
    return max(held, key=lambda e: (e.start_on, e.pk)) if held else None


def importers_scope(user):
    """People whose past payments the user may import: office staff, their jurisdiction."""
    return Beneficiary.objects.filter(scope_q(user, "township__path", roles=[Role.OFFICE]))


@dataclass
class PaymentImport:
    """Check every row of a past-payments workbook, then write all of them or none."""

    user: object
    errors: list = field(default_factory=list)
    planned: list = field(default_factory=list)

    def error(self, row, name, message):
        self.errors.append(RowError(row, LABELS.get(name, ""), message))

    def read(self, file):
        return excel.read_rows(file, SHEET, PAYMENT_COLUMNS, max_rows=PAYMENT_IMPORT_MAX_ROWS, example_column="name")

    def parse(self, number, record):
        """Return the values of one row, or None after naming each of its problems."""
        count = len(self.errors)
        values = {}
        readers = {
            "id_number": _id_number,
            "kind": lambda v: self._kind(v),
            "amount": _amount,
            "backpay": _yes_no,
            "paid_on": self._paid_on,
            "method": self._method,
        }
        for name, reader in readers.items():
            try:
                values[name] = reader(record[name])
            except ValidationError as error:
                self.error(number, name, error.messages[0])
        values["name"] = _text(record["name"])
        if not values["name"]:
            self.error(number, "name", "请填写姓名。")
        try:
            values["month"] = _month(record["month"], values.get("kind"))
        except ValidationError as error:
            self.error(number, "month", error.messages[0])
        values["purpose"] = _text(record["purpose"])
        if len(values["purpose"]) > 200:
            self.error(number, "purpose", "用途/备注不能超过 200 字。")
        kind = values.get("kind")
        if kind in ONE_OFF_KINDS:
            if values.get("backpay"):
                self.error(number, "backpay", f"{PaymentKind(kind).label}是一次性发放，不能标为补发。")
            if not values["purpose"]:
                self.error(number, "purpose", f"请填写{PaymentKind(kind).label}的用途。")
        return values if len(self.errors) == count else None

    def _kind(self, value):
        text = _text(value)
        if not text:
            raise ValidationError("请填写发放类别。")
        if text == "补发":
            raise ValidationError("“补发”不是发放类别：请填写所补发的类别，并在“补发”列填“是”。")
        if text not in KIND_BY_LABEL:
            raise ValidationError(f"“{text}”不是有效的发放类别，应为：{'、'.join(KIND_BY_LABEL)}。")
        return KIND_BY_LABEL[text]

    def _paid_on(self, value):
        day = excel.cell_date(value)
        if day is None:
            raise ValidationError("请填写发放日期。")
        if day > timezone.localdate():
            raise ValidationError("发放日期不能晚于今天。")
        return day

    def _method(self, value):
        text = _text(value)
        if not text:
            return ""
        if text not in METHOD_BY_LABEL:
            raise ValidationError(f"“{text}”不是有效的发放方式，应为：{'、'.join(PayMethod.labels)}。")
        return METHOD_BY_LABEL[text]

    def check(self, rows):
        """Check every row; afterwards `errors` names every problem and `planned` holds the unsaved payments."""
        from .standard_services import standard_for

        parsed = []
        for number, record in rows:
            values = self.parse(number, record)
            parsed.append((number, values))
        numbers = {values["id_number"] for _, values in parsed if values}
        people = _people(importers_scope(self.user), numbers)
        entitlements = defaultdict(list)
        for chunk in _chunks([p.pk for p in people.values()]):
            for entitlement in Entitlement.objects.filter(beneficiary_id__in=chunk):
                entitlements[entitlement.beneficiary_id].append(entitlement)
        existing = self._existing({p.pk for p in people.values()})
        seen = {}
        standards = {}
        for number, values in parsed:
            if values is None:
                continue
            person = people.get(values["id_number"])
            if person is None:
                self.error(number, "id_number", "本辖区没有登记该身份证号的优抚对象，请先登记或核对号码。")
                continue
            if values["name"] != person.name:
                self.error(number, "name", f"与登记的姓名“{person.name}”不符。")
                continue
            kind, month = values["kind"], values["month"]
            payment = Payment(
                beneficiary=person,
                township=person.township,
                kind=kind,
                month=month,
                months=1,
                amount=values["amount"],
                method=values["method"],
                paid_on=values["paid_on"],
                purpose=values["purpose"],
                imported=True,
                created_by=self.user,
            )
            label = f"{month:%Y年%-m月}的{PaymentKind(kind).label}"
            if kind in REGULAR_KINDS:
                entitlement = held_entitlement(entitlements[person.pk], kind, month)
                if entitlement is None:
                    self.error(
                        number,
                        "month",
                        f"该对象{month:%Y年%-m月}没有可领取{PaymentKind(kind).label}的优抚待遇资格，请核对享受起始日期。",
                    )
                    continue
                payment.entitlement, payment.category = entitlement, entitlement.category
                if values["backpay"]:
                    key = (person.township_id, kind, entitlement.category, entitlement.grade, entitlement.nature, month)
                    if key not in standards:
                        standards[key] = standard_for(
                            township=person.township,
                            kind=kind,
                            category=entitlement.category,
                            grade=entitlement.grade,
                            nature=entitlement.nature,
                            on=month,
                        )
                    cause = standards[key]
                    if cause is None:
                        self.error(
                            number,
                            "backpay",
                            f"补发须对应该月适用的{PaymentKind(kind).label}标准，标准表中没有找到，请先录入该标准。",
                        )
                        continue
                    payment.is_backpay, payment.cause = True, cause
                    duplicate_key = ("backpay", person.pk, kind, month, cause.pk)
                    what = f"{label}补发"
                else:
                    payment.rate = values["amount"]
                    duplicate_key = ("regular", person.pk, kind, month)
                    what = label
            else:
                payment.reference = one_off_reference(month, values["paid_on"], values["amount"])
                duplicate_key = ("one_off", person.pk, kind, payment.reference)
                what = f"{values['paid_on']:%Y-%m-%d}发放的{PaymentKind(kind).label}（{values['amount']}元）"
            if duplicate_key in seen:
                self.error(number, "", f"与第 {seen[duplicate_key]} 行重复：{what}。")
                continue
            seen[duplicate_key] = number
            if duplicate_key in existing:
                self.error(number, "", f"{what}已有发放记录（{existing[duplicate_key]}），不能重复导入。")
                continue
            self.planned.append((number, payment))
        self.errors.sort(key=lambda e: (e.row, list(PAYMENT_COLUMNS).index(e.column) if e.column else -1))
        return not self.errors

    def _existing(self, person_ids):
        """Return {duplicate key: where it was paid} for the counted rows of these people."""
        found = {}
        for chunk in _chunks(person_ids):
            rows = (
                Payment.objects.counted()
                .filter(beneficiary_id__in=chunk)
                .values_list("beneficiary_id", "kind", "month", "is_backpay", "cause_id", "reference", "batch__title")
            )
            for person_id, kind, month, is_backpay, cause_id, reference, title in rows:
                where = f"批次“{title}”" if title else "历史导入或直接发放"
                if is_backpay:
                    found[("backpay", person_id, kind, month, cause_id)] = where
                elif reference:
                    found[("one_off", person_id, kind, reference)] = where
                else:
                    found[("regular", person_id, kind, month)] = where
        return found

    def summary(self):
        """Per kind: rows and amount, and the grand total, exact to the fen."""
        counts, amounts = Counter(), defaultdict(lambda: ZERO)
        for _, payment in self.planned:
            label = PaymentKind(payment.kind).label + ("补发" if payment.is_backpay else "")
            counts[label] += 1
            amounts[label] += payment.amount
        rows = [{"label": label, "count": counts[label], "amount": amounts[label]} for label in counts]
        years = sorted({p.month.year for _, p in self.planned})
        return {
            "rows": rows,
            "count": len(self.planned),
            "people": len({p.beneficiary_id for _, p in self.planned}),
            "amount": sum(amounts.values(), ZERO),
            "years": f"{years[0]}—{years[-1]}年" if len(years) > 1 else (f"{years[0]}年" if years else ""),
        }

    def run(self, rows, *, dry_run=False):
        """Check, then write every row in one transaction; return the number written, or None if any is bad."""
        if not self.check(rows):
            return None
        if dry_run:
            return 0
        try:
            with transaction.atomic():
                Payment.objects.bulk_create([payment for _, payment in self.planned], batch_size=1000)
        except IntegrityError:
            self.errors.append(RowError(0, "", "导入期间有人写入了相同的发放记录，没有导入任何数据；请重新上传检查。"))
            return None
        return len(self.planned)


def payment_import(*, file, user, dry_run=False):
    """Import a past-payments workbook; return the PaymentImport with its errors or its summary."""
    plan = PaymentImport(user=user)
    rows = plan.read(file)
    plan.written = plan.run(rows, dry_run=dry_run)
    return plan


# The template


def _notes():
    kinds = "、".join(KIND_BY_LABEL)
    lines = [
        "填写说明",
        "",
        "每行一笔发放：一人一个类别一个月（一次性发放为一笔）。",
        "身份证号：必填，18 位，须是本辖区已登记的优抚对象；请保持该列为文本格式。",
        "姓名：必填，须与登记的姓名一致。",
        f"发放类别：必填，从下拉列表选择：{kinds}。补发不是类别，填所补发的类别并在“补发”列填“是”。",
        "所属月份：必填，写成 2024-03 或 2024年3月；义务兵家庭优待金按年度发放，填年份或该年任一月份，记为该年度。"
        "一次性发放（慰问金、丧葬补助等）填发放的月份。",
        "金额：必填，单位元，大于 0，最多两位小数（到分）。",
        f"补发：填“{YES}”或“{NO}”，留空按“{NO}”；补发须对应该月适用的标准（标准表中须已录入）。",
        "发放日期：必填，写成 2024-03-15 的形式，不能晚于今天。",
        "发放方式：选填，打卡、存折或现金。",
        "用途/备注：一次性发放必填其用途（如“2024年春节慰问”），其余选填。",
        "",
        "导入规则",
        f"以“{EXAMPLE_PREFIX}”开头的行是填写示例，导入时自动跳过。",
        f"每个文件最多 {PAYMENT_IMPORT_MAX_ROWS} 行，超过请按年度拆分为多个文件。",
        "同一人同一类别同一月份的定期发放只能有一笔：与系统中已有的发放记录或与文件中其他行重复的，均列为错误。",
        "只要有一行有误，就不导入任何数据，并列出全部有误的行和原因；改正后重新上传即可。",
        "导入的记录标为“历史导入”，不属于任何发放批次。",
        "请勿修改第 1 行的列名。",
    ]
    return [[line] for line in lines]


def payment_template():
    header = list(PAYMENT_COLUMNS)
    position = {label: index for index, label in enumerate(header, start=1)}
    example = [
        "320481196205170011",
        f"{EXAMPLE_PREFIX}王建国",
        PaymentKind.DISABILITY.label,
        "2024-03",
        "1234.50",
        NO,
        datetime.date(2024, 3, 15),
        PayMethod.CARD.label,
        "",
    ]
    return excel.write_workbook(
        [
            excel.Sheet(
                title=SHEET,
                header=header,
                rows=[example],
                widths=[22, 12, 18, 12, 12, 8, 13, 10, 30],
                text_columns=[position["身份证号"], position["所属月份"], position["金额"]],
                choices={
                    position["发放类别"]: list(KIND_BY_LABEL),
                    position["补发"]: [YES, NO],
                    position["发放方式"]: list(PayMethod.labels),
                },
                muted_rows=1,
            ),
            excel.Sheet(title=NOTES_SHEET, rows=_notes(), widths=[120]),
        ]
    )
