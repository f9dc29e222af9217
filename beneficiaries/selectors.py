import datetime
import re
from collections import defaultdict
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connections
from django.db.models import Case, Count, F, Max, Min, Prefetch, Q, Sum, Value, When
from django.db.models.functions import ExtractYear

from shuangyong.lib.idcard import mask_bank_account, mask_id_number, normalize_id_number
from shuangyong.lib.money import ZERO, format_yuan, from_fen, plain_yuan
from units.constants import Role, UnitKind
from units.models import Unit
from units.permissions import scope_q
from units.selectors import account_queryset

from .constants import (
    CATEGORY_KIND,
    REGULAR_KINDS,
    Basis,
    BatchStatus,
    Category,
    ChangeKind,
    ExceptionReason,
    PaymentKind,
    Status,
    TransferStatus,
)
from .models import (
    AccessLog,
    BatchException,
    Beneficiary,
    Entitlement,
    Payment,
    PaymentBatch,
    Standard,
    StatusChange,
    Transfer,
)
from .privacy import REVEAL_PERMISSION

# List and person page

FULL_ID_PATTERN = re.compile(r"\d{17}[\dX]")
ID_TAIL_PATTERN = re.compile(r"\d{3,5}[\dX]")


def is_full_id_number(text):
    return bool(FULL_ID_PATTERN.fullmatch(normalize_id_number(text)))


def search_q(text):
    """Match a name, the start of its pinyin initials, a full ID number or the last 4–6 characters of one."""
    text = (text or "").strip()
    number = normalize_id_number(text)
    if FULL_ID_PATTERN.fullmatch(number):
        return Q(id_number=number)
    if ID_TAIL_PATTERN.fullmatch(number):
        return Q(id_number__endswith=number)
    q = Q(name__icontains=text)
    if text.isascii() and text.isalpha():
        q |= Q(name_initials__startswith=text.lower())
    return q


def registry_editor(user):
    """Tell whether the user keeps the people of at least one township (office staff or a township liaison)."""
    return Unit.objects.filter(
        scope_q(user, "path", roles=[Role.OFFICE, Role.LIAISON]), kind=UnitKind.TOWNSHIP
    ).exists()


SEARCH_PK_LIMIT = 2000


def beneficiary_filter(
    *,
    user,
    on,
    query="",
    township=None,
    village=None,
    category="",
    status="",
    grade=None,
    confirmed="",
    hardships=(),
):
    """Return the people a user may see, narrowed by the list's filters (grades and categories held on `on`)."""
    # Same rows as Beneficiary.objects.visible_to(user), without joining the units table on every count.
    people = Beneficiary.objects.filter(township__in=Unit.objects.filter(scope_q(user, "path")).values("pk"))
    if township:
        people = people.filter(township=township)
    if village:
        people = people.filter(village=village)
    if status:
        people = people.filter(status=status)
    if category or grade:
        held = Entitlement.objects.current(on)
        if category:
            held = held.filter(category=category)
        if grade:
            held = held.filter(grade=grade)
        people = people.filter(pk__in=held.values("beneficiary_id"))
    if confirmed == "yes":
        people = people.filter(confirmed_year=on.year)
    elif confirmed == "no":
        people = people.filter(Q(confirmed_year__isnull=True) | Q(confirmed_year__lt=on.year))
    for field in hardships:
        people = people.filter(**{field: True})
    if query:
        people = people.filter(search_q(query))
        # Scan for the matches once; the count, the category counts and the rows then go by primary key.
        found = list(people.order_by().values_list("pk", flat=True)[: SEARCH_PK_LIMIT + 1])
        if len(found) <= SEARCH_PK_LIMIT:
            people = Beneficiary.objects.filter(pk__in=found)
    return people


def beneficiary_rows(*, people, on):
    """Load what a list row shows: units and the entitlements held on `on`."""
    current = Entitlement.objects.current(on).order_by("category", "start_on", "pk")
    return people.select_related("township", "village").prefetch_related(
        Prefetch("entitlements", queryset=current, to_attr="current_entitlements")
    )


EXPORT_PERSON_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "id_number",
    "phone",
    "address",
    "bank_name",
    "bank_account",
    "cadre",
    "hardship_living",
    "hardship_housing",
    "hardship_medical",
    "status",
    "status_since",
    "confirmed_year",
    "notes",
)
EXPORT_ENTITLEMENT_FIELDS = (
    "beneficiary",
    "category",
    "grade",
    "nature",
    "approval_document",
    "start_on",
    "service_years",
    "serving_member_name",
    "enlistment_date",
    "service_area",
)


def beneficiary_export_rows(*, people, on):
    """Load the columns of an exported roster and nothing more, so that a province's 150,000 rows stream in seconds:
    the unit names come as `township_name` and `village_name`, the entitlements held on `on` as `current_entitlements`.
    """
    current = Entitlement.objects.current(on).only(*EXPORT_ENTITLEMENT_FIELDS).order_by("category", "start_on", "pk")
    return (
        people.only(*EXPORT_PERSON_FIELDS)
        .annotate(township_name=F("township__name"), village_name=F("village__name"))
        .prefetch_related(Prefetch("entitlements", queryset=current, to_attr="current_entitlements"))
    )


def category_counts(*, people, on):
    """Count the people holding each category on `on`, in one query; a person with two categories counts in both."""
    rows = (
        Entitlement.objects.current(on)
        .filter(beneficiary__in=people.order_by().values("pk"))
        .values("category")
        .annotate(n=Count("beneficiary", distinct=True))
        .order_by()
    )
    counts = {row["category"]: row["n"] for row in rows}
    return [{"code": code, "label": label, "count": counts[code]} for code, label in Category.choices if code in counts]


def beneficiary_entitlements(*, person):
    return person.entitlements.prefetch_related("awards").order_by("start_on", "pk")


def beneficiary_changes(*, person):
    """Return the person's 异动 in time order, each marked when a later event corrects it."""
    changes = list(
        person.changes.select_related("recorded_by__profile", "corrects", "entitlement").order_by(
            "effective_on", "recorded_at", "pk"
        )
    )
    corrected = {change.corrects_id for change in changes if change.corrects_id}
    for change in changes:
        change.is_corrected = change.pk in corrected
    return changes


def pending_transfer(*, person, user):
    return (
        Transfer.objects.visible_to(user)
        .filter(beneficiary=person, status=TransferStatus.PENDING)
        .select_related("to_county", "to_township", "out_change")
        .first()
    )


PERSON_HISTORY_FIELDS = [
    "name",
    "id_number",
    "phone",
    "address",
    "township",
    "village",
    "bank_name",
    "bank_account",
    "cadre",
    "hardship_living",
    "hardship_housing",
    "hardship_medical",
    "notes",
    "status",
    "status_since",
    "confirmed_year",
]
ENTITLEMENT_HISTORY_FIELDS = [
    "category",
    "grade",
    "nature",
    "approval_document",
    "start_on",
    "end_on",
    "service_years",
    "serving_member_name",
    "enlistment_date",
    "service_area",
]
MASKED_HISTORY_FIELDS = {"id_number": mask_id_number, "bank_account": mask_bank_account}
UNIT_FIELDS = {"township", "village"}


def _history_value(model, field_name, value, unit_names):
    if value is None or value == "":
        return "—"
    if field_name in MASKED_HISTORY_FIELDS:
        return MASKED_HISTORY_FIELDS[field_name](value)
    if field_name in UNIT_FIELDS:
        return unit_names.get(value, "（已删除的单位）")
    field = model._meta.get_field(field_name)
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _history_entries(model, records, fields, subject, unit_names):
    entries = []
    previous = {}
    for record in records:
        before = previous.get(record.id)
        changes = []
        if record.history_type == "~" and before is not None:
            delta = record.diff_against(before, included_fields=fields)
            order = {name: index for index, name in enumerate(fields)}
            for change in sorted(delta.changes, key=lambda c: order[c.field]):
                changes.append(
                    {
                        "field": model._meta.get_field(change.field).verbose_name,
                        "old": _history_value(model, change.field, change.old, unit_names),
                        "new": _history_value(model, change.field, change.new, unit_names),
                    }
                )
        previous[record.id] = record
        if record.history_type == "~" and not changes:
            continue
        user = record.history_user
        who = ""
        if user is not None:
            profile = getattr(user, "profile", None)
            who = (profile.full_name if profile else "") or user.get_username()
        entries.append(
            {
                "when": record.history_date,
                "who": who or "系统",
                "subject": subject(record),
                "action": {"+": "新建", "~": "修改", "-": "删除"}[record.history_type],
                "changes": changes,
            }
        )
    return entries


def beneficiary_history(*, person):
    """Return who changed which field of the person and their entitlements, newest first; ID and bank masked."""
    person_records = list(
        Beneficiary.history.filter(id=person.pk)
        .select_related("history_user__profile")
        .order_by("history_date", "history_id")
    )
    entitlement_records = list(
        Entitlement.history.filter(beneficiary_id=person.pk)
        .select_related("history_user__profile")
        .order_by("history_date", "history_id")
    )
    unit_ids = {r.township_id for r in person_records} | {r.village_id for r in person_records}
    unit_names = dict(Unit.objects.filter(pk__in=unit_ids - {None}).values_list("pk", "name"))
    entries = _history_entries(Beneficiary, person_records, PERSON_HISTORY_FIELDS, lambda r: "基本信息", unit_names)
    entries += _history_entries(
        Entitlement,
        entitlement_records,
        ENTITLEMENT_HISTORY_FIELDS,
        lambda r: f"待遇资格（{Category(r.category).label if r.category in Category.values else r.category}）",
        unit_names,
    )
    return sorted(entries, key=lambda e: e["when"], reverse=True)


# Access log


def access_log_list(*, user, account=None, kind="", date_from=None, date_to=None):
    logs = AccessLog.objects.visible_to(user).select_related("user__profile", "unit", "beneficiary")
    if account:
        logs = logs.filter(user=account)
    if kind:
        logs = logs.filter(kind=kind)
    if date_from:
        logs = logs.filter(created_at__date__gte=date_from)
    if date_to:
        logs = logs.filter(created_at__date__lte=date_to)
    return logs.order_by("-created_at", "-pk")


def access_log_users(*, user):
    """Return the accounts that appear in the access log the user may read."""
    return (
        get_user_model()
        .objects.filter(pk__in=AccessLog.objects.visible_to(user).values("user_id"))
        .select_related("profile")
        .order_by("username")
    )


def reveal_holders(*, user):
    """Return the accounts the user manages that may reveal full ID numbers and bank accounts."""
    app_label, codename = REVEAL_PERMISSION.split(".")
    permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return (
        account_queryset(user=user)
        .filter(
            Q(is_active=True),
            Q(groups__permissions__in=permission) | Q(user_permissions__in=permission),
        )
        .distinct()
        .select_related("profile")
        .order_by("username")
    )


# Transfers, annual confirmation, 公示


class TransferPayMonths(NamedTuple):
    """Art. 30: the sending county pays through December of the 迁出 year, the receiving one from January after."""

    sender_last_month: datetime.date
    receiver_first_month: datetime.date


def transfer_pay_months(transfer):
    year = transfer.out_change.effective_on.year
    return TransferPayMonths(datetime.date(year, 12, 1), datetime.date(year + 1, 1, 1))


def transfer_payer(transfer, month):
    """Return "sender" or "receiver": the county that pays the given month (any day of it)."""
    month = month.replace(day=1)
    return "sender" if month <= transfer_pay_months(transfer).sender_last_month else "receiver"


def office_counties(user):
    """Return the county units in which the user is office staff (their own county, or the counties below)."""
    return Unit.objects.filter(scope_q(user, "path", roles=[Role.OFFICE]), kind=UnitKind.COUNTY).order_by("path")


def transfer_destinations(*, person):
    """Return the counties a person may be transferred to: every active county outside their own."""
    own = [unit.path for unit in person.township.ancestors() if unit.kind == UnitKind.COUNTY]
    counties = Unit.objects.filter(kind=UnitKind.COUNTY, is_active=True).select_related("parent")
    for path in own:
        counties = counties.exclude(path=path)
    return counties.order_by("parent__name", "name")


def transfers_incoming(*, user):
    """Return pending transfers into the counties where the user is office staff."""
    return (
        Transfer.objects.filter(status=TransferStatus.PENDING, to_county__in=office_counties(user).values("pk"))
        .select_related("beneficiary", "from_township__parent", "to_county", "out_change")
        .prefetch_related("beneficiary__entitlements")
        .order_by("created_at", "pk")
    )


def transfers_outgoing(*, user):
    """Return the transfers out of the user's scope, newest first."""
    return (
        Transfer.objects.filter(scope_q(user, "from_township__path"))
        .select_related("beneficiary", "from_township", "to_county", "to_township", "out_change")
        .order_by("-created_at", "-pk")
    )


def confirmation_overview(*, county, year):
    """Count the county's people on the register and who of them is confirmed for the year."""
    people = Beneficiary.objects.filter(
        township__path__startswith=county.path, status__in=[Status.ACTIVE, Status.HELD, Status.SUSPENDED]
    )
    confirmed_ids = StatusChange.objects.filter(
        kind=ChangeKind.CONFIRM, year=year, corrections__isnull=True, beneficiary__in=people.values("pk")
    ).values("beneficiary_id")
    unconfirmed = people.exclude(pk__in=confirmed_ids).select_related("township", "village")
    return {
        "total": people.count(),
        "confirmed": people.filter(pk__in=confirmed_ids).count(),
        "unconfirmed": unconfirmed.order_by("township__path", "name", "pk"),
    }


def confirmation_held(*, county, year):
    """Return the people put on 停发 for missing the year's 年度确认 and not yet resumed."""
    reason = f"未按期完成{year}年度确认"
    holds = StatusChange.objects.filter(
        kind=ChangeKind.HOLD,
        reason=reason,
        corrections__isnull=True,
        beneficiary__township__path__startswith=county.path,
    )
    return (
        Beneficiary.objects.filter(pk__in=holds.values("beneficiary_id"))
        .select_related("township", "village")
        .order_by("township__path", "name", "pk")
    )


def notice_rows(*, village, on):
    """Return the village's people on the register with the entitlements they hold on `on`, for the 公示 list,
    each person with `amounts`: the regular standard each entitlement is paid at on that date ("每月365元")."""
    from .payment_rules import entitlement_key, rate_for
    from .standard_services import choose_standard, township_unit_ids

    current = Entitlement.objects.current(on).order_by("category", "start_on", "pk")
    people = list(
        Beneficiary.objects.filter(village=village)
        .exclude(status__in=[Status.TRANSFERRED, Status.CANCELLED, Status.DECEASED])
        .prefetch_related(Prefetch("entitlements", queryset=current, to_attr="current_entitlements"))
        .order_by("name", "pk")
    )
    unit_ids = township_unit_ids(village.parent)
    standards = list(Standard.objects.filter(unit_id__in=unit_ids, kind__in=REGULAR_KINDS).in_force(on))
    for person in people:
        person.amounts = []
        for entitlement in person.current_entitlements:
            kind = CATEGORY_KIND.get(entitlement.category)
            if kind is None:
                continue
            category, grade, nature, variant = entitlement_key(entitlement)
            standard = choose_standard(
                standards,
                unit_ids=unit_ids,
                kind=kind,
                category=category,
                grade=grade,
                nature=nature,
                variant=variant,
                on=on,
            )
            if standard is not None:
                per = "每年" if standard.basis == Basis.YEAR else "每月"
                person.amounts.append(f"{KIND_LABELS[kind]}{per}{plain_yuan(rate_for(standard, entitlement))}")
    return people


# Payments

KIND_LABELS = dict(PaymentKind.choices)
CATEGORY_LABELS = dict(Category.choices)
NO_CATEGORY_LABEL = "未分类"
# Money counts as paid out once its batch is marked paid; one-offs and imported history carry no batch.
# Without joining the batches: batch_mark_paid stamps paid_on on every row of the batch as it marks it paid, and
# rows are only written into drafts, so a row of a batch has paid_on exactly when its batch is paid.
PAID_Q = Q(batch__isnull=True) | Q(paid_on__isnull=False)
PENDING_Q = Q(batch__isnull=False, paid_on__isnull=True)


def span_months(first, last):
    """Count the months from `first` to `last`, both included."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def category_label(code):
    return CATEGORY_LABELS.get(code, code) if code else NO_CATEGORY_LABEL


UNITS_AS_LIST = 500


def _unit_ids(units):
    """The units' ids as a list when there are few (a county, a township): unlike a subquery, a list lets
    PostgreSQL read their months from the (township, month) index instead of scanning a province's year.
    A city's or province's stay a subquery, for which a scan is the right plan."""
    ids = list(units.values_list("pk", flat=True)[: UNITS_AS_LIST + 1])
    return ids if len(ids) <= UNITS_AS_LIST else units.values("pk")


def _scoped_payments(user):
    # Same rows as Payment.objects.visible_to(user), without joining the units table for every aggregate.
    return Payment.objects.filter(township__in=_unit_ids(Unit.objects.filter(scope_q(user, "path"))))


def batch_filter(*, user, year=None, kind="", status=""):
    """Return the batches a user may see, newest span first."""
    batches = PaymentBatch.objects.visible_to(user).select_related("unit")
    if year:
        batches = batches.filter(first_month__year=year)
    if kind:
        batches = batches.filter(kind=kind)
    if status:
        batches = batches.filter(status=status)
    return batches.order_by("-first_month", "-last_month", "kind", "-pk")


def batch_years(*, user):
    """Return the years that have batches the user may see, newest first."""
    return sorted(
        {month.year for month in PaymentBatch.objects.visible_to(user).values_list("first_month", flat=True)},
        reverse=True,
    )


def batch_page_totals(batches):
    """Set `people` and `amount` (counted rows) on each batch of a page, in one query."""
    batches = list(batches)
    rows = (
        Payment.objects.counted()
        .filter(batch__in=[batch.pk for batch in batches])
        .order_by()
        .values("batch_id")
        .annotate(people=Count("beneficiary", distinct=True), amount=Sum("amount"))
    )
    totals = {row["batch_id"]: row for row in rows}
    for batch in batches:
        row = totals.get(batch.pk, {})
        batch.people = row.get("people", 0)
        batch.amount = row.get("amount") or ZERO
    return batches


# The lines of a batch's totals, in the order a summary states them.
LINE_REGULAR, LINE_HELD, LINE_BACKPAY, LINE_REISSUE = "regular", "held", "backpay", "reissue"
LINE_ORDER = [LINE_REGULAR, LINE_HELD, LINE_BACKPAY, LINE_REISSUE]
LINE_SUFFIX = {
    LINE_REGULAR: "",
    LINE_HELD: "（停发恢复后补发以前月份）",
    LINE_BACKPAY: "（补发）",
    LINE_REISSUE: "（退回款重发）",
}


def _line_text(*, label, people, count, rate, amount, span):
    if count == people:
        figures = f"{people}人 × {plain_yuan(rate)}"
    elif span > 1 and count == people * span:
        figures = f"{people}人 × {plain_yuan(rate)} × {span}个月"
    else:
        figures = f"{people}人 共{count}笔 × {plain_yuan(rate)}"
    return f"{label} {figures} = {format_yuan(amount)}"


def batch_totals(*, batch):
    """Return the batch's totals the way summaries state them: per category and rate, people × rate = amount.

    {"rows": [{"category", "label", "line", "people", "count", "rate", "months", "amount", "text"}],
     "categories": [{"label", "people", "amount", "lines": [rows of that category and line]}],
     "people": n, "count": n, "amount": Decimal, "returned": {"count": n, "amount": Decimal}}.
    `rate` is the amount of one row; `months` is set when every person has the same number of rows (one, or one
    for each month of the span). Rows for months before the span (held while 停发), 补发 and re-issued returns
    are lines of their own. Returned rows are left out of the totals and counted apart.
    """
    span = span_months(batch.first_month, batch.last_month)
    payments = Payment.objects.filter(batch=batch).order_by()
    counted = payments.counted().annotate(
        line=Case(
            When(reissue_of__isnull=False, then=Value(LINE_REISSUE)),
            When(is_backpay=True, then=Value(LINE_BACKPAY)),
            When(Q(month__lt=batch.first_month) & ~Q(standard__basis=Basis.YEAR), then=Value(LINE_HELD)),
            default=Value(LINE_REGULAR),
        )
    )
    groups = counted.values("line", "category", "amount").annotate(
        people=Count("beneficiary", distinct=True), count=Count("pk"), total=Sum("amount")
    )
    category_order = {code: index for index, code in enumerate(Category.values)}
    lines = []
    for group in groups:
        line, code = group["line"], group["category"]
        count, people = group["count"], group["people"]
        months = 1 if count == people else (span if count == people * span else None)
        label = category_label(code) + LINE_SUFFIX[line]
        lines.append(
            {
                "category": code,
                "label": label,
                "line": line,
                "people": people,
                "count": count,
                "rate": group["amount"],
                "months": months,
                "amount": group["total"],
                "text": _line_text(
                    label=label,
                    people=people,
                    count=count,
                    rate=group["amount"],
                    amount=group["total"],
                    span=span if line in (LINE_REGULAR, LINE_BACKPAY) else 1,
                ),
            }
        )
    lines.sort(key=lambda r: (LINE_ORDER.index(r["line"]), category_order.get(r["category"], 99), -r["rate"]))
    subtotals = {
        (group["line"], group["category"]): group
        for group in counted.values("line", "category").annotate(
            people=Count("beneficiary", distinct=True), amount=Sum("amount")
        )
    }
    categories = []
    for line in lines:
        key = (line["line"], line["category"])
        if not categories or categories[-1]["key"] != key:
            categories.append({"key": key, "label": line["label"], **subtotals[key], "lines": []})
        categories[-1]["lines"].append(line)
    overall = counted.aggregate(people=Count("beneficiary", distinct=True), count=Count("pk"), amount=Sum("amount"))
    returned = payments.filter(returned_on__isnull=False).aggregate(count=Count("pk"), amount=Sum("amount"))
    return {
        "rows": lines,
        "categories": categories,
        "people": overall["people"],
        "count": overall["count"],
        "amount": overall["amount"] or ZERO,
        "returned": {"count": returned["count"], "amount": returned["amount"] or ZERO},
    }


EXCEPTIONS_SHOWN = 30


def batch_exceptions(*, batch, limit=EXCEPTIONS_SHOWN):
    """Return the people listed beside a draft, grouped by reason: [{"reason", "label", "count", "people", "more"}]."""
    counts = BatchException.objects.filter(batch=batch).order_by().values("reason").annotate(count=Count("pk"))
    labels = dict(ExceptionReason.choices)
    order = {code: index for index, code in enumerate(ExceptionReason.values)}
    groups = []
    for row in sorted(counts, key=lambda r: order.get(r["reason"], 99)):
        shown = (
            BatchException.objects.filter(batch=batch, reason=row["reason"])
            .select_related("beneficiary__township")
            .order_by("beneficiary__township__path", "beneficiary__name", "pk")[:limit]
        )
        shown = list(shown)
        groups.append(
            {
                "reason": row["reason"],
                "label": labels.get(row["reason"], row["reason"]),
                "count": row["count"],
                "people": shown,
                "more": row["count"] - len(shown),
            }
        )
    return groups


def batch_rows(*, batch):
    """Return the rows of a batch in roster order, with what a row of the batch page shows."""
    return (
        Payment.objects.filter(batch=batch)
        .select_related("beneficiary", "township", "reissue")
        .order_by("township__path", "beneficiary__name", "beneficiary_id", "month", "pk")
    )


def batch_roster(*, batch):
    """Return one line per person of a batch (counted rows), in township and name order, for the bank file and 签领表.

    Each line: beneficiary fields, township name, `categories` (codes), first and last month, rows, amount,
    and how many of the rows are 补发, re-issues or annual amounts.
    """
    rows = (
        Payment.objects.counted()
        .filter(batch=batch)
        .order_by()
        .values(
            "beneficiary_id",
            "category",
            "beneficiary__name",
            "beneficiary__id_number",
            "beneficiary__bank_name",
            "beneficiary__bank_account",
            "township__name",
            "township__path",
        )
        .annotate(
            amount=Sum("amount"),
            count=Count("pk"),
            first=Min("month"),
            last=Max("month"),
            backpay=Count("pk", filter=Q(is_backpay=True)),
            reissue=Count("pk", filter=Q(reissue_of__isnull=False)),
            annual=Count("pk", filter=Q(standard__basis=Basis.YEAR)),
        )
        .order_by("township__path", "beneficiary__name", "beneficiary_id", "category")
    )
    line = None
    for row in rows.iterator(chunk_size=2000):
        if line and line["beneficiary_id"] == row["beneficiary_id"]:
            line["categories"].append(row["category"])
            line["amount"] += row["amount"]
            line["count"] += row["count"]
            line["first"] = min(line["first"], row["first"])
            line["last"] = max(line["last"], row["last"])
            line["backpay"] += row["backpay"]
            line["reissue"] += row["reissue"]
            line["annual"] += row["annual"]
            continue
        if line:
            yield line
        line = {
            "beneficiary_id": row["beneficiary_id"],
            "name": row["beneficiary__name"],
            "id_number": row["beneficiary__id_number"],
            "bank_name": row["beneficiary__bank_name"],
            "bank_account": row["beneficiary__bank_account"],
            "township": row["township__name"],
            "categories": [row["category"]],
            "amount": row["amount"],
            "count": row["count"],
            "first": row["first"],
            "last": row["last"],
            "backpay": row["backpay"],
            "reissue": row["reissue"],
            "annual": row["annual"],
        }
    if line:
        yield line


def months_text(first, last, *, annual=False):
    """'2026年3月', '2026年1—6月', '2025年11月—2026年2月'; an annual amount: '2026年度'."""
    if annual and first.year == last.year:
        return f"{first.year}年度"
    if first == last:
        return f"{first.year}年{first.month}月"
    if first.year == last.year:
        return f"{first.year}年{first.month}—{last.month}月"
    return f"{first.year}年{first.month}月—{last.year}年{last.month}月"


def ledger_filter(
    *,
    user,
    kind="",
    month_from=None,
    month_to=None,
    category="",
    township=None,
    backpay_only=False,
    batch=None,
    state="paid",
):
    """Return the ledger rows a user may see, narrowed by the ledger page's filters.

    `state`: "paid" (batch marked paid, or no batch), "pending" (in a draft or approved batch) or "all".
    Returned rows stay in the list; payment_totals leaves them out.
    """
    payments = _scoped_payments(user)
    if kind:
        payments = payments.filter(kind=kind)
    if month_from and month_to and month_from.replace(day=1) == month_to.replace(day=1):
        # One month as an equality, so that the (month, township) index serves the township too.
        payments = payments.filter(month=month_from.replace(day=1))
    else:
        if month_from:
            payments = payments.filter(month__gte=month_from.replace(day=1))
        if month_to:
            payments = payments.filter(month__lte=month_to.replace(day=1))
    if category:
        payments = payments.filter(category=category)
    if township:
        payments = payments.filter(township=township)
    if backpay_only:
        payments = payments.filter(is_backpay=True)
    if batch:
        payments = payments.filter(batch=batch)
    if state == "paid":
        payments = payments.filter(PAID_Q)
    elif state == "pending":
        payments = payments.filter(PENDING_Q)
    return payments


def ledger_default_month(*, user, today, **filters):
    """The month the ledger opens on: the latest month, up to today's, with rows matching the other filters
    (the latest month with any, when there is none up to today's; today's month when there is none at all)."""
    current = today.replace(day=1)
    payments = ledger_filter(user=user, **{**filters, "month_from": None, "month_to": None}).order_by("-month")
    latest = payments.filter(month__lte=current).values_list("month", flat=True).first()
    if latest is None:
        latest = payments.values_list("month", flat=True).first()
    return latest or current


def ledger_rows(*, payments):
    # Payment columns only, so that the (month, township) index serves the order.
    return payments.select_related("beneficiary", "township", "batch").order_by("-month", "township_id", "pk")


def payment_totals(*, payments, people=True):
    """Return the totals of a filtered ledger by kind and by category, exact to the fen; returned rows do not count.

    {"by_kind": [{"kind", "label", "people", "count", "amount"}], "by_category": [{"category", "label", ...}],
     "people": n, "count": n, "amount": Decimal, "rows": n (every row, returned ones too)}
    Counts and amounts come from one query grouped by kind and category. The people (distinct persons, per kind,
    per category and overall) come from one more, of the distinct (kind, category, person); with `people=False`
    they are left out (None), for wide ranges.
    """
    counted = payments.counted().order_by()
    kind_order = {code: index for index, code in enumerate(PaymentKind.values)}
    category_order = {code: index for index, code in enumerate(Category.values)}
    kinds, categories = {}, {}
    count, amount, rows = 0, ZERO, 0
    kept = Q(returned_on__isnull=True)
    grouped = (
        payments.order_by()
        .values("kind", "category")
        .annotate(rows=Count("pk"), count=Count("pk", filter=kept), amount=Sum("amount", filter=kept))
    )
    for row in grouped:
        rows += row["rows"]
        if not row["count"]:
            continue
        for groups, key, field in ((kinds, row["kind"], "kind"), (categories, row["category"], "category")):
            group = groups.setdefault(key, {field: key, "people": None, "count": 0, "amount": ZERO})
            group["count"] += row["count"]
            group["amount"] += row["amount"]
        count += row["count"]
        amount += row["amount"]
    overall_people = None
    if people and count:
        by_kind, by_category, everyone = defaultdict(set), defaultdict(set), set()
        for kind, category, person in counted.values_list("kind", "category", "beneficiary_id").distinct():
            by_kind[kind].add(person)
            by_category[category].add(person)
            everyone.add(person)
        for key, persons in by_kind.items():
            kinds[key]["people"] = len(persons)
        for key, persons in by_category.items():
            categories[key]["people"] = len(persons)
        overall_people = len(everyone)
    elif people:
        overall_people = 0
    by_kind = sorted(kinds.values(), key=lambda r: kind_order.get(r["kind"], 99))
    by_category = sorted(categories.values(), key=lambda r: category_order.get(r["category"], 99))
    for row in by_kind:
        row["label"] = KIND_LABELS.get(row["kind"], row["kind"])
    for row in by_category:
        row["label"] = category_label(row["category"])
    return {
        "by_kind": by_kind,
        "by_category": by_category,
        "people": overall_people,
        "count": count,
        "amount": amount,
        "rows": rows,
    }


def yearly_summary(*, user, year, unit=None):
    """Return a year's payments in a jurisdiction per category × kind, with 补发 apart and one-offs by kind.

    Counts paid, not returned rows whose month falls in the year (for an annual standard: the year it covers;
    for a one-off: the month it was paid). `unit` narrows the user's jurisdiction to a unit inside it.
    {"year", "unit", "regular": [{"category", "category_label", "kind", "kind_label", "people", "count", "amount",
      "backpay_people", "backpay_amount", "total"}], "regular_kinds": [{"kind", "label", "people", "amount",
      "backpay_people", "backpay_amount", "total"}], "one_offs": [{"kind", "label", "people", "count", "amount"}],
     "regular_amount", "backpay_amount", "one_off_amount", "people", "amount"}

    One scan: the year's rows grouped per person, kind, category and 补发; the figures and the distinct people of
    every level are summed from those groups here (payment_summary).
    """
    first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 1)
    payments = _scoped_payments(user).filter(month__gte=first, month__lte=last)
    if unit is not None:
        payments = payments.filter(township__in=_unit_ids(Unit.objects.filter(path__startswith=unit.path)))
    return {"year": year, "unit": unit, **payment_summary(payments=payments)}


def unit_payments(*, unit, start, end):
    """Return the ledger rows of a unit's subtree whose month falls from `start` to `end`, paid or not.

    A region's rows are those of the townships inside it; a village's are those of its people.
    """
    payments = Payment.objects.filter(month__gte=start.replace(day=1), month__lte=end.replace(day=1))
    if unit.kind == UnitKind.VILLAGE:
        return payments.filter(beneficiary__village=unit)
    return payments.filter(township__in=_unit_ids(Unit.objects.filter(path__startswith=unit.path)))


def payment_summary(*, payments):
    """Return the paid, not returned rows of `payments` per category × kind, with 补发 apart and one-offs by kind.

    The keys of yearly_summary but "year" and "unit"; one scan of the rows grouped per person, kind, category and 补发.
    """
    groups = (
        payments.counted()
        .filter(PAID_Q)
        .order_by()
        .values_list("beneficiary_id", "kind", "category", "is_backpay")
        .annotate(count=Count("pk"), amount=Sum("amount"))
    )
    if connections[groups.db].vendor == "postgresql":
        return _summary_from_grouping_sets(groups)
    regular_kinds = set(REGULAR_KINDS)

    cells, kinds, one_offs = {}, {}, {}
    kind_people, one_off_people, everyone = set(), set(), set()
    count, amount = 0, ZERO
    for person, kind, category, is_backpay, rows, money in groups.iterator(chunk_size=5000):
        count += rows
        amount += money
        everyone.add(person)
        if kind not in regular_kinds:
            entry = one_offs.setdefault(
                kind, {"kind": kind, "label": KIND_LABELS.get(kind, kind), "people": 0, "count": 0, "amount": ZERO}
            )
            entry["count"] += rows
            entry["amount"] += money
            if (kind, person) not in one_off_people:
                one_off_people.add((kind, person))
                entry["people"] += 1
            continue
        cell = cells.setdefault(
            (category, kind),
            {
                "category": category,
                "category_label": category_label(category),
                "kind": kind,
                "kind_label": KIND_LABELS.get(kind, kind),
                "people": 0,
                "count": 0,
                "amount": ZERO,
                "backpay_people": 0,
                "backpay_amount": ZERO,
            },
        )
        entry = kinds.setdefault(
            kind,
            {
                "kind": kind,
                "label": KIND_LABELS.get(kind, kind),
                "people": 0,
                "amount": ZERO,
                "backpay_people": 0,
                "backpay_amount": ZERO,
            },
        )
        prefix = "backpay_" if is_backpay else ""
        # A person appears once per (kind, category, 补发) group: each group is one person of the cell.
        cell[prefix + "people"] += 1
        cell[prefix + "amount"] += money
        entry[prefix + "amount"] += money
        if not is_backpay:
            cell["count"] += rows
        if (kind, is_backpay, person) not in kind_people:
            kind_people.add((kind, is_backpay, person))
            entry[prefix + "people"] += 1
    return _summary_result(cells, kinds, one_offs, people=len(everyone), count=count, amount=amount)


ROLLUP_SELECT = (
    "SELECT g.kind, g.category, g.is_backpay, GROUPING(g.kind, g.category, g.is_backpay), "
    'COUNT(DISTINCT g.beneficiary_id), SUM(g."count"), SUM(g.amount)'
)
ROLLUP_GROUPS = "GROUP BY GROUPING SETS ((g.kind, g.category, g.is_backpay), (g.kind, g.is_backpay), (g.kind), ())"
# GROUPING(kind, category, is_backpay) of each set of ROLLUP_GROUPS: a bit is set for each column rolled up.
CELL_LEVEL, KIND_BACKPAY_LEVEL, KIND_LEVEL, ALL_LEVEL = 0, 2, 3, 7


def _summary_from_grouping_sets(groups):
    """payment_summary on PostgreSQL: the same per-person groups, counted in the database.

    The groups per person, kind, category and 补发 are rolled up by GROUPING SETS, so that a province's
    hundreds of thousands of groups are not sent to Python: a group is one person of its cell, and the people of a
    kind, of a one-off kind and of the whole are the distinct persons of the groups rolled up.
    """
    sql, params = groups.query.sql_with_params()
    outer = f"{ROLLUP_SELECT} FROM ({sql}) g {ROLLUP_GROUPS}"  # noqa: S608 (Django's compiled SQL, values as params)
    with connections[groups.db].cursor() as cursor:
        cursor.execute(outer, params)
        lines = cursor.fetchall()
    regular_kinds = set(REGULAR_KINDS)
    cells, kinds, one_offs = {}, {}, {}
    people, count, amount = 0, 0, ZERO
    for kind, category, is_backpay, level, persons, rows, money in lines:
        # Money is kept in fen (MoneyField); the raw sums are converted as the field converts its values.
        rows, money = int(rows or 0), from_fen(money) if money is not None else ZERO
        prefix = "backpay_" if is_backpay else ""
        if level == ALL_LEVEL:
            people, count, amount = persons, rows, money
        elif kind not in regular_kinds:
            if level == KIND_LEVEL:
                one_offs[kind] = {
                    "kind": kind,
                    "label": KIND_LABELS.get(kind, kind),
                    "people": persons,
                    "count": rows,
                    "amount": money,
                }
        elif level == CELL_LEVEL:
            cell = cells.setdefault(
                (category, kind),
                {
                    "category": category,
                    "category_label": category_label(category),
                    "kind": kind,
                    "kind_label": KIND_LABELS.get(kind, kind),
                    "people": 0,
                    "count": 0,
                    "amount": ZERO,
                    "backpay_people": 0,
                    "backpay_amount": ZERO,
                },
            )
            cell[prefix + "people"] = persons
            cell[prefix + "amount"] = money
            if not is_backpay:
                cell["count"] = rows
        elif level == KIND_BACKPAY_LEVEL:
            entry = kinds.setdefault(
                kind,
                {
                    "kind": kind,
                    "label": KIND_LABELS.get(kind, kind),
                    "people": 0,
                    "amount": ZERO,
                    "backpay_people": 0,
                    "backpay_amount": ZERO,
                },
            )
            entry[prefix + "people"] = persons
            entry[prefix + "amount"] = money
    return _summary_result(cells, kinds, one_offs, people=people, count=count, amount=amount)


def payment_rates(*, payments):
    """Return the standards paid in `payments` (paid, not returned, not 补发) per category and kind.

    {(category, kind): [(rate, basis), ...]} with rates highest first; basis is the standard's (每月, 每年 ...)
    or "" for rows without one (imported history).
    """
    rows = (
        payments.counted()
        .filter(PAID_Q, is_backpay=False, rate__isnull=False)
        .order_by()
        .values_list("category", "kind", "rate", "standard_id")
        .distinct()
    )
    rows = list(rows)
    bases = dict(Standard.objects.filter(pk__in={row[3] for row in rows if row[3]}).values_list("pk", "basis"))
    rates = defaultdict(set)
    for category, kind, rate, standard in rows:
        rates[(category, kind)].add((rate, bases.get(standard, "")))
    return {key: sorted(found, key=lambda r: (-r[0], r[1])) for key, found in rates.items()}


def payment_years(*, user):
    """Return the years with payments the user may see, newest first (from the batches and the one-offs)."""
    years = _scoped_payments(user).order_by().annotate(year=ExtractYear("month")).values_list("year", flat=True)
    return sorted(set(years.distinct()), reverse=True)


def person_payments(*, person, user=None):
    """Return every payment of a person, newest first; with a user, only the rows in the user's jurisdiction."""
    payments = Payment.objects.visible_to(user) if user is not None else Payment.objects.all()
    return (
        payments.filter(beneficiary=person)
        .select_related("batch", "reissue", "reissue_of")
        .order_by("-month", "-created_at", "-pk")
    )


def person_payment_years(*, payments):
    """Return what a person was paid per year of the months covered (paid, not returned), newest first:
    [{"year", "count", "amount"}]."""
    rows = (
        payments.counted()
        .filter(PAID_Q)
        .order_by()
        .annotate(year=ExtractYear("month"))
        .values("year")
        .annotate(count=Count("pk"), amount=Sum("amount"))
    )
    return sorted(rows, key=lambda r: r["year"], reverse=True)


def batches_awaiting_approval(*, user, limit=10):
    """Return the generated drafts of the user's jurisdiction that the user, a 双拥办主任, may approve."""
    return (
        PaymentBatch.objects.editable_by(user)
        .filter(status=BatchStatus.DRAFT, generated_at__isnull=False)
        .exclude(created_by=user)
        .exclude(generated_by=user)
        .order_by("first_month", "pk")[:limit]
    )


def _summary_result(cells, kinds, one_offs, *, people, count, amount):
    """payment_summary's answer from its cells (category × kind), kinds and one-offs, in the lists' order."""
    kind_order = {code: index for index, code in enumerate(PaymentKind.values)}
    category_order = {code: index for index, code in enumerate(Category.values)}
    for row in [*cells.values(), *kinds.values()]:
        row["total"] = row["amount"] + row["backpay_amount"]
    regular = sorted(kinds.values(), key=lambda r: kind_order.get(r["kind"], 99))
    one_offs = sorted(one_offs.values(), key=lambda r: kind_order.get(r["kind"], 99))
    return {
        "regular": sorted(
            cells.values(), key=lambda r: (category_order.get(r["category"], 99), kind_order.get(r["kind"], 99))
        ),
        "regular_kinds": regular,
        "one_offs": one_offs,
        "regular_amount": sum((r["amount"] for r in regular), ZERO),
        "backpay_amount": sum((r["backpay_amount"] for r in regular), ZERO),
        "one_off_amount": sum((r["amount"] for r in one_offs), ZERO),
        "people": people,
        "count": count,
        "amount": amount,
    }
