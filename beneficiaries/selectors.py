import datetime
import re
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Count, F, Prefetch, Q

from shuangyong.lib.idcard import mask_bank_account, mask_id_number, normalize_id_number
from units.constants import Role, UnitKind
from units.models import Unit
from units.permissions import scope_q
from units.selectors import account_queryset

from .constants import Category, ChangeKind, Status, TransferStatus
from .models import AccessLog, Beneficiary, Entitlement, StatusChange, Transfer
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
    """Return the village's people on the register with the entitlements they hold on `on`, for the 公示 list."""
    current = Entitlement.objects.current(on).order_by("category", "start_on", "pk")
    return (
        Beneficiary.objects.filter(village=village)
        .exclude(status__in=[Status.TRANSFERRED, Status.CANCELLED, Status.DECEASED])
        .prefetch_related(Prefetch("entitlements", queryset=current, to_attr="current_entitlements"))
        .order_by("name", "pk")
    )
