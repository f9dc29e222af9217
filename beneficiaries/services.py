"""Writes to the 优抚对象 registry: people, entitlements, awards, 异动, transfers, annual confirmation."""

import calendar
import datetime
import unicodedata

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError, Q
from django.utils import timezone
from pypinyin import Style, lazy_pinyin
from simple_history.utils import bulk_create_with_history

from shuangyong.lib.idcard import validate_id_number
from shuangyong.lib.uploads import check_upload, files_atomic, original_name, random_name, store_file
from shuangyong.lib.versions import stale_error
from units import permissions
from units.constants import Role, UnitKind
from units.models import Unit

from .constants import (
    ILLNESS_MAX_PENSION_GRADE,
    SERVICE_YEARS_CATEGORIES,
    SERVING_MEMBER_CATEGORIES,
    AccessKind,
    Category,
    ChangeKind,
    DeathCause,
    DisabilityNature,
    ServiceArea,
    Status,
    TransferStatus,
)
from .models import AccessLog, Award, Beneficiary, ConfirmationRound, Entitlement, StatusChange, Transfer

REGISTERED_MESSAGE = "该身份证号已登记，一个身份证号只能登记一人。"
RURAL_VETERAN_MIN_AGE = 60

# Fields an edit may change; status, version and the derived fields are never set directly.
EDITABLE_FIELDS = (
    "name",
    "id_number",
    "township",
    "village",
    "phone",
    "address",
    "bank_name",
    "bank_account",
    "cadre",
    "hardship_living",
    "hardship_housing",
    "hardship_medical",
    "notes",
)
PERSON_DEFAULTS = {
    "phone": "",
    "address": "",
    "bank_name": "",
    "bank_account": "",
    "cadre": "",
    "hardship_living": False,
    "hardship_housing": False,
    "hardship_medical": False,
    "notes": "",
}

# Status each kind of 异动 leads to; kinds not listed leave the status as it is.
STATUS_AFTER = {
    ChangeKind.ADD: Status.ACTIVE,
    ChangeKind.TRANSFER_IN: Status.ACTIVE,
    ChangeKind.RESUME: Status.ACTIVE,
    ChangeKind.SUSPEND: Status.SUSPENDED,
    ChangeKind.HOLD: Status.HELD,
    ChangeKind.TRANSFER_OUT: Status.TRANSFERRED,
    ChangeKind.CANCEL: Status.CANCELLED,
    ChangeKind.DEATH: Status.DECEASED,
}

# Which 异动 may be recorded in which status (更正 is judged on its own).
ALLOWED_FROM = {
    ChangeKind.TRANSFER_IN: {Status.TRANSFERRED},
    ChangeKind.TRANSFER_OUT: {Status.ACTIVE, Status.SUSPENDED, Status.HELD},
    ChangeKind.DEATH: {Status.ACTIVE, Status.SUSPENDED, Status.HELD, Status.CANCELLED},
    ChangeKind.SUSPEND: {Status.ACTIVE, Status.HELD},
    ChangeKind.RESUME: {Status.SUSPENDED, Status.HELD},
    ChangeKind.HOLD: {Status.ACTIVE},
    ChangeKind.CANCEL: {Status.ACTIVE, Status.SUSPENDED, Status.HELD},
    ChangeKind.REGRADE: {Status.ACTIVE, Status.SUSPENDED, Status.HELD},
    ChangeKind.CONFIRM: {Status.ACTIVE, Status.HELD, Status.SUSPENDED},
}
REFUSAL = {
    ChangeKind.RESUME: "只有处于“中止”或“停发”状态的对象才能恢复，该对象当前为“{status}”。",
    ChangeKind.TRANSFER_IN: "只有已迁出的对象才能登记迁入，该对象当前为“{status}”。",
}
# 异动 after which draft pay for later months is dropped and paid rows become overpaid.
PAY_STOP_KINDS = (ChangeKind.DEATH, ChangeKind.SUSPEND, ChangeKind.CANCEL, ChangeKind.TRANSFER_OUT)
# Kinds recorded by their own service or at registration, not through change_record directly.
INTERNAL_KINDS = {ChangeKind.ADD}


# Pure helpers


def last_day_of_month(day):
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def name_initials(name):
    """Return the pinyin initials of a name: 王建国 → wjg."""
    letters = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")
    return "".join(letters).lower()[:50]


def derive_status(changes):
    """Return (status, since) that an ordered list of 异动 leads to, leaving out corrected events and 更正 rows."""
    corrected = {c.corrects_id for c in changes if c.kind == ChangeKind.CORRECTION}
    status, since = Status.ACTIVE, None
    for change in changes:
        if change.kind == ChangeKind.CORRECTION or change.pk in corrected:
            continue
        if change.kind in STATUS_AFTER:
            status, since = STATUS_AFTER[change.kind], change.effective_on
    return status, since


def effective_changes(changes):
    """Return the events that still count: neither 更正 rows nor events a 更正 reversed."""
    corrected = {c.corrects_id for c in changes if c.kind == ChangeKind.CORRECTION}
    return [c for c in changes if c.kind != ChangeKind.CORRECTION and c.pk not in corrected]


# People


def _check_units(*, township, village):
    if township is None:
        raise ValidationError({"township": "请选择乡镇（街道）。"})
    if township.kind != UnitKind.TOWNSHIP:
        raise ValidationError({"township": f"“{township.name}”不是乡镇（街道）。"})
    if not township.is_active:
        raise ValidationError({"township": f"“{township.name}”已停用。"})
    if village is not None:
        if village.kind != UnitKind.VILLAGE:
            raise ValidationError({"village": f"“{village.name}”不是村（社区）。"})
        if village.parent_id != township.pk:
            raise ValidationError({"village": f"“{village.name}”不属于{township.name}。"})
        if not village.is_active:
            raise ValidationError({"village": f"“{village.name}”已停用。"})


def _parse_id_number(raw):
    try:
        return validate_id_number(raw)
    except ValidationError as error:
        raise ValidationError({"id_number": error.messages}) from error


def _clean_person_fields(fields):
    cleaned = {}
    for key, value in fields.items():
        if key not in PERSON_DEFAULTS:
            raise TypeError(f"unexpected field {key!r}")
        cleaned[key] = value.strip() if isinstance(value, str) else value
    # Full-width digits typed with a Chinese input method become ASCII; any other digit is refused.
    account = unicodedata.normalize("NFKC", "".join(cleaned.get("bank_account", "").split())).replace("-", "")
    if "bank_account" in cleaned:
        if account and not (account.isascii() and account.isdigit()):
            raise ValidationError({"bank_account": "银行账号只能由数字组成。"})
        cleaned["bank_account"] = account
    return cleaned


def beneficiary_check(*, name, id_number, township, village=None, preloaded=False, **fields):
    """Return the unsaved person that beneficiary_create would save, after the same checks.

    `preloaded` is for callers that looked up every ID number and loaded the township and village from the
    database themselves, for many rows at once (the roster import): the check then makes no query.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "请填写姓名。"})
    parsed = _parse_id_number(id_number)
    if not preloaded and Beneficiary.objects.filter(id_number=parsed.number).exists():
        raise ValidationError({"id_number": REGISTERED_MESSAGE})
    _check_units(township=township, village=village)
    person = Beneficiary(
        name=name,
        name_initials=name_initials(name),
        id_number=parsed.number,
        sex=parsed.sex,
        birth_date=parsed.birth_date,
        township=township,
        village=village,
        **{**PERSON_DEFAULTS, **_clean_person_fields(fields)},
    )
    # Without `preloaded`, clean_fields fetches the township and village again to prove they exist.
    person.full_clean(
        exclude=["id_number", "township", "village"] if preloaded else ["id_number"], validate_unique=False
    )
    return person


@transaction.atomic
def beneficiary_create(
    *,
    name,
    id_number,
    township,
    village=None,
    phone="",
    address="",
    bank_name="",
    bank_account="",
    cadre="",
    hardship_living=False,
    hardship_housing=False,
    hardship_medical=False,
    notes="",
    entitlements=(),
    effective_on=None,
    created_by,
):
    """Register a person with their entitlements and the 新增 event, all or nothing."""
    person, _ = _new_person(
        name=name,
        id_number=id_number,
        township=township,
        village=village,
        phone=phone,
        address=address,
        bank_name=bank_name,
        bank_account=bank_account,
        cadre=cadre,
        hardship_living=hardship_living,
        hardship_housing=hardship_housing,
        hardship_medical=hardship_medical,
        notes=notes,
        entitlements=[_without(item, "document") for item in entitlements],
        effective_on=effective_on or timezone.localdate(),
    )
    person._history_user = created_by
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError as error:
        raise ValidationError({"id_number": REGISTERED_MESSAGE}) from error
    for item in entitlements:
        entitlement_add(beneficiary=person, recorded_by=created_by, **item)
    _add_event(person, created_by=created_by).save()
    return person


def _new_person(*, entitlements, effective_on, preloaded=False, **fields):
    """Check a person to register and their entitlements; return both unsaved, the person 在册 from effective_on."""
    person = beneficiary_check(preloaded=preloaded, **fields)
    _check_effective_on(effective_on, person=person)
    planned = []
    for item in entitlements:
        planned.append(entitlement_check(beneficiary=person, planned=planned, **item))
    person.status, person.status_since = Status.ACTIVE, effective_on
    return person, planned


def _add_event(person, *, created_by):
    return StatusChange(
        beneficiary=person, kind=ChangeKind.ADD, effective_on=person.status_since, reason="登记", recorded_by=created_by
    )


class RowErrors(ValidationError):
    """Rows of a batch that were refused: `rows` maps each row's index in the batch to its ValidationError."""

    def __init__(self, rows):
        self.rows = dict(sorted(rows.items()))
        super().__init__([f"第 {index + 1} 条：{'；'.join(error.messages)}" for index, error in self.rows.items()])


BULK_BATCH_SIZE = 1000
LOOKUP_CHUNK = 500


def _registered_numbers(numbers):
    numbers = sorted(numbers)
    found = set()
    for start in range(0, len(numbers), LOOKUP_CHUNK):
        chunk = numbers[start : start + LOOKUP_CHUNK]
        found.update(Beneficiary.objects.filter(id_number__in=chunk).values_list("id_number", flat=True))
    return found


@transaction.atomic
def beneficiaries_create_many(*, rows, created_by, effective_on=None):
    """Register many people at once, as beneficiary_create does one by one, with a few bulk INSERTs.

    Each row holds beneficiary_create's person keywords and `entitlements` (without documents); township and
    village are Unit objects the caller loaded from the database. Every row is checked before anything is saved;
    bad rows raise RowErrors naming each of them, and nothing is saved. Returns the saved people in row order.
    """
    effective_on = effective_on or timezone.localdate()
    errors, checked, seen = {}, [], set()
    for index, row in enumerate(rows):
        fields = dict(row)
        items = list(fields.pop("entitlements", ()))
        if any(item.get("document") for item in items):
            raise TypeError("beneficiaries_create_many stores no documents; use entitlement_add")
        try:
            person, planned = _new_person(preloaded=True, entitlements=items, effective_on=effective_on, **fields)
            if person.id_number in seen:
                raise ValidationError({"id_number": "同一批中有重复的身份证号。"})
        except ValidationError as error:
            errors[index] = error
            continue
        seen.add(person.id_number)
        checked.append((index, person, planned))
    taken = _registered_numbers(seen)
    for index, person, _ in checked:
        if person.id_number in taken:
            errors[index] = ValidationError({"id_number": REGISTERED_MESSAGE})
    if errors:
        raise RowErrors(errors)
    people = [person for _, person, _ in checked]
    try:
        with transaction.atomic():
            bulk_create_with_history(people, Beneficiary, batch_size=BULK_BATCH_SIZE, default_user=created_by)
    except IntegrityError as error:
        # Someone registered one of the numbers since the lookup above.
        taken = _registered_numbers(seen)
        if not taken:
            raise
        raise RowErrors(
            {
                index: ValidationError({"id_number": REGISTERED_MESSAGE})
                for index, person, _ in checked
                if person.id_number in taken
            }
        ) from error
    entitlements = []
    for _, person, planned in checked:
        for entitlement in planned:
            entitlement.beneficiary = person
            entitlements.append(entitlement)
    bulk_create_with_history(entitlements, Entitlement, batch_size=BULK_BATCH_SIZE, default_user=created_by)
    StatusChange.objects.bulk_create(
        [_add_event(person, created_by=created_by) for person in people], batch_size=BULK_BATCH_SIZE
    )
    return people


def _without(mapping, *keys):
    return {k: v for k, v in mapping.items() if k not in keys}


def _can_fix_id_number(user, person):
    return permissions.in_scope(user, person.township, roles=[Role.OFFICE])


@transaction.atomic
def beneficiary_update(*, beneficiary, version, updated_by, **fields):
    """Save an edit made on the version the user loaded; a newer version means someone else saved first."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"fields that cannot be edited: {sorted(unknown)}")
    # The conditional UPDATE claims the version; a concurrent save of the same version updates no row.
    claimed = Beneficiary.objects.filter(pk=beneficiary.pk, version=version).update(version=F("version") + 1)
    if not claimed:
        raise stale_error(beneficiary)
    person = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    if "name" in fields:
        name = (fields.pop("name") or "").strip()
        if not name:
            raise ValidationError({"name": "请填写姓名。"})
        person.name, person.name_initials = name, name_initials(name)
    if "id_number" in fields:
        parsed = _parse_id_number(fields.pop("id_number"))
        if parsed.number != person.id_number:
            if not _can_fix_id_number(updated_by, person):
                raise ValidationError({"id_number": "身份证号只能由县（区）双拥办工作人员更正。"})
            if Beneficiary.objects.filter(id_number=parsed.number).exclude(pk=person.pk).exists():
                raise ValidationError({"id_number": "该身份证号已登记在另一人名下。"})
            person.id_number, person.sex, person.birth_date = parsed.number, parsed.sex, parsed.birth_date
    township = fields.pop("township", person.township)
    village = fields.pop("village", person.village if township.pk == person.township_id else None)
    _check_units(township=township, village=village)
    if updated_by is not None and not permissions.in_scope(updated_by, township, roles=[Role.OFFICE, Role.LIAISON]):
        raise ValidationError({"township": "只能选择本人负责范围内的乡镇（街道）。"})
    person.township, person.village = township, village
    for key, value in _clean_person_fields(fields).items():
        setattr(person, key, value)
    person.full_clean(exclude=["id_number"], validate_unique=False)
    person._history_user = updated_by
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError as error:
        raise ValidationError({"id_number": "该身份证号已登记在另一人名下。"}) from error
    return person


def _user_county_paths(user):
    ids = set()
    for path, _, _ in permissions.memberships(user):
        ids.update(int(part) for part in path.strip("/").split("/") if part)
    return list(Unit.objects.filter(pk__in=ids, kind=UnitKind.COUNTY).values_list("path", flat=True))


def _user_unit_names(user):
    return "、".join(sorted({m.unit.name for m in user.memberships.select_related("unit")}) or ["（无所属单位）"])


def id_number_lookup(*, user, id_number, ip_address=None):
    """Tell whether an ID number is new, held in the user's scope, elsewhere in the county, or in another county.

    Only an in-scope person is returned; an attempt on another county's number is logged for that county.
    """
    number = validate_id_number(id_number).number
    person = Beneficiary.objects.filter(id_number=number).select_related("township").first()
    if person is None:
        return "new", None
    if Beneficiary.objects.visible_to(user).filter(pk=person.pk).exists():
        return "in_scope", person
    if any(person.township.path.startswith(path) for path in _user_county_paths(user)):
        return "same_county", None
    AccessLog.objects.create(
        user=user,
        unit=person.township,
        beneficiary=person,
        kind=AccessKind.FOREIGN_ID,
        detail=f"{_user_unit_names(user)}的用户 {user.get_username()} 录入了本地已登记对象的身份证号"[:200],
        ip_address=ip_address,
    )
    return "other_county", None


# Entitlements and awards


def _require(errors, field, value, message):
    if value in (None, ""):
        errors[field] = message


def entitlement_check(
    *,
    beneficiary,
    category,
    start_on,
    grade=None,
    nature="",
    approval_document="",
    end_on=None,
    service_years=None,
    serving_member_name="",
    enlistment_date=None,
    service_area="",
    planned=(),
):
    """Return the unsaved entitlement after the category rules; `beneficiary` may be unsaved.

    `planned` holds the unsaved entitlements that will be saved with this one: it may not overlap them either.
    """
    errors = {}
    if category not in Category.values:
        raise ValidationError({"category": "请选择优抚类别。"})
    label = Category(category).label
    if start_on is None:
        raise ValidationError({"start_on": "请填写享受起始日期。"})
    nature = nature or ""
    serving_member_name = (serving_member_name or "").strip()
    service_area = service_area or ""
    if category == Category.DISABLED:
        _require(errors, "grade", grade, "残疾军人须填写残疾等级。")
        _require(errors, "nature", nature, "残疾军人须填写残疾性质。")
        if grade and nature == DisabilityNature.ILLNESS and grade > ILLNESS_MAX_PENSION_GRADE:
            errors["grade"] = "因病致残七至十级不享受残疾抚恤金。"
    else:
        if grade:
            errors["grade"] = f"只有残疾军人填写残疾等级，“{label}”不填。"
        if nature:
            errors["nature"] = f"只有残疾军人填写残疾性质，“{label}”不填。"
    if category in SERVICE_YEARS_CATEGORIES:
        _require(errors, "service_years", service_years, f"“{label}”须填写义务兵役年数。")
        if service_years is not None and not 1 <= service_years <= 30:
            errors["service_years"] = "义务兵役年数应在 1 至 30 年之间。"
        if beneficiary.birth_date and start_on < add_years(beneficiary.birth_date, RURAL_VETERAN_MIN_AGE):
            errors["start_on"] = (
                f"享受起始日期时未满60周岁（出生于 {beneficiary.birth_date:%Y-%m-%d}，"
                f"{add_years(beneficiary.birth_date, RURAL_VETERAN_MIN_AGE):%Y-%m-%d} 年满60周岁）。"
            )
    elif service_years:
        errors["service_years"] = f"只有60周岁以上农村籍退役士兵填写义务兵役年数，“{label}”不填。"
    if category in SERVING_MEMBER_CATEGORIES:
        _require(errors, "serving_member_name", serving_member_name, "请填写现役军人姓名。")
        _require(errors, "enlistment_date", enlistment_date, "请填写入伍日期。")
        if enlistment_date and enlistment_date > timezone.localdate():
            errors["enlistment_date"] = "入伍日期不能晚于今天。"
        service_area = service_area or ServiceArea.ORDINARY
    else:
        for field, value, what in (
            ("serving_member_name", serving_member_name, "现役军人姓名"),
            ("enlistment_date", enlistment_date, "入伍日期"),
            ("service_area", service_area, "服役地区"),
        ):
            if value:
                errors[field] = f"只有义务兵家庭、现役军人家属填写{what}，“{label}”不填。"
    if end_on and end_on < start_on:
        errors["end_on"] = "享受终止日期不能早于起始日期。"
    if beneficiary.birth_date and start_on < beneficiary.birth_date:
        errors["start_on"] = "享受起始日期不能早于出生日期。"
    if errors:
        raise ValidationError(errors)
    clash = None
    if beneficiary.pk:
        overlapping = beneficiary.entitlements.filter(category=category).filter(
            Q(end_on__isnull=True) | Q(end_on__gte=start_on)
        )
        if end_on:
            overlapping = overlapping.filter(start_on__lte=end_on)
        clash = overlapping.first()
    clash = clash or next(
        (
            other
            for other in planned
            if other.category == category
            and (other.end_on is None or other.end_on >= start_on)
            and (end_on is None or other.start_on <= end_on)
        ),
        None,
    )
    if clash:
        until = f"{clash.end_on:%Y-%m-%d}" if clash.end_on else "今"
        raise ValidationError(
            {"start_on": f"该对象已享受“{label}”（{clash.start_on:%Y-%m-%d} 至 {until}），时间不能重叠。"}
        )
    entitlement = Entitlement(
        beneficiary=beneficiary,
        category=category,
        grade=grade or None,
        nature=nature,
        approval_document=(approval_document or "").strip(),
        start_on=start_on,
        end_on=end_on,
        service_years=service_years or None,
        serving_member_name=serving_member_name,
        enlistment_date=enlistment_date,
        service_area=service_area,
    )
    # The check constraints (end after start, grade 1–10) are the rules above and the grade choices;
    # validating them again would cost a query each. The database still enforces them on save.
    entitlement.full_clean(exclude=["beneficiary", "document"], validate_constraints=False)
    return entitlement


def _store_upload(instance, field, upload, *, error_field):
    """Store a checked upload under a random name and return its original name; the caller saves the row.

    The caller runs in `files_atomic`, which removes the file again if the row is not saved.
    """
    try:
        kind, _ = check_upload(upload)
    except ValidationError as error:
        raise ValidationError({error_field: error.messages}) from error
    store_file(getattr(instance, field), random_name(kind), upload)
    return original_name(upload)


@files_atomic(field="document")
def entitlement_add(
    *,
    beneficiary,
    category,
    start_on,
    grade=None,
    nature="",
    approval_document="",
    end_on=None,
    service_years=None,
    serving_member_name="",
    enlistment_date=None,
    service_area="",
    document=None,
    recorded_by,
):
    """Give a person an entitlement after the category rules."""
    person = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
    if person.status in (Status.DECEASED, Status.CANCELLED, Status.TRANSFERRED):
        raise ValidationError(f"该对象当前状态为“{person.get_status_display()}”，不能增加优抚待遇。")
    entitlement = entitlement_check(
        beneficiary=person,
        category=category,
        start_on=start_on,
        grade=grade,
        nature=nature,
        approval_document=approval_document,
        end_on=end_on,
        service_years=service_years,
        serving_member_name=serving_member_name,
        enlistment_date=enlistment_date,
        service_area=service_area,
    )
    entitlement._history_user = recorded_by
    if document:
        _store_upload(entitlement, "document", document, error_field="document")
    entitlement.save()
    return entitlement


@transaction.atomic
def award_add(*, entitlement, level, awarded_on, document="", note="", recorded_by):
    """Record a serving member's 立功/受奖, which is paid to the family as 立功奖励."""
    if entitlement.category not in SERVING_MEMBER_CATEGORIES:
        raise ValidationError("只有义务兵家庭、现役军人家属的待遇可以登记立功受奖。")
    if awarded_on is None:
        raise ValidationError({"awarded_on": "请填写立功（受奖）日期。"})
    if awarded_on > timezone.localdate():
        raise ValidationError({"awarded_on": "立功（受奖）日期不能晚于今天。"})
    if entitlement.enlistment_date and awarded_on < entitlement.enlistment_date:
        raise ValidationError(
            {"awarded_on": f"立功（受奖）日期不能早于入伍日期（{entitlement.enlistment_date:%Y-%m-%d}）。"}
        )
    award = Award(
        entitlement=entitlement,
        level=level,
        awarded_on=awarded_on,
        document=(document or "").strip(),
        note=(note or "").strip(),
    )
    award.full_clean()
    award._history_user = recorded_by
    award.save()
    return award


# 异动


def _check_effective_on(effective_on, *, person):
    if effective_on is None:
        raise ValidationError({"effective_on": "请填写生效日期。"})
    if effective_on > timezone.localdate():
        raise ValidationError({"effective_on": "生效日期不能晚于今天。"})
    if person.birth_date and effective_on < person.birth_date:
        raise ValidationError({"effective_on": "生效日期不能早于出生日期。"})


def _refresh_person(person):
    """Re-derive status and confirmed year from the whole event list and save them."""
    changes = list(person.changes.order_by("effective_on", "recorded_at", "pk"))
    person.status, person.status_since = derive_status(changes)
    years = [c.year for c in effective_changes(changes) if c.kind == ChangeKind.CONFIRM and c.year]
    person.confirmed_year = max(years) if years else None
    person.save(update_fields=["status", "status_since", "confirmed_year", "updated_at"])


def _end_entitlements(person, *, on, change):
    """End every entitlement still running on `on`."""
    running = person.entitlements.filter(Q(end_on__isnull=True) | Q(end_on__gt=on), start_on__lte=on)
    for entitlement in running:
        _set_end(entitlement, on, change=change)


NEW_MARK = "new"


def _set_end(entitlement, end_on, *, change, created=False):
    """Save an entitlement's end date, tagging the history row with the 异动 and the end date it replaces.

    A 更正 reads the tag back to undo exactly what the event did.
    """
    before = NEW_MARK if created else (entitlement.end_on.isoformat() if entitlement.end_on else "")
    entitlement.end_on = end_on
    entitlement._change_reason = f"{_reason_tag(change)}{before}"
    entitlement._history_user = change.recorded_by
    entitlement.save()


def _reason_tag(change):
    return f"异动#{change.pk}|"


def _undo_entitlement_effects(change, *, user):
    """Put back the entitlements an event ended, and remove those it started."""
    tag = _reason_tag(change)
    for record in Entitlement.history.filter(history_change_reason__startswith=tag).order_by("history_id"):
        entitlement = Entitlement.objects.filter(pk=record.id).first()
        if entitlement is None:
            continue
        before = record.history_change_reason[len(tag) :]
        if before == NEW_MARK:
            try:
                entitlement.delete()
            except ProtectedError as error:
                raise ValidationError("等级调整后的待遇已被发放等记录引用，不能更正。") from error
            continue
        entitlement.end_on = datetime.date.fromisoformat(before) if before else None
        entitlement._change_reason = f"更正异动#{change.pk}"
        entitlement._history_user = user
        entitlement.save()


def _regrade(person, *, change, entitlement, new_grade, new_nature):
    if entitlement is None:
        current = list(person.entitlements.current(change.effective_on).filter(category=Category.DISABLED))
        if len(current) != 1:
            raise ValidationError({"entitlement": "请选择要调整等级的残疾军人待遇。"})
        entitlement = current[0]
    if entitlement.beneficiary_id != person.pk or entitlement.category != Category.DISABLED:
        raise ValidationError({"entitlement": "只能调整本人的残疾军人待遇。"})
    if entitlement.start_on > change.effective_on or (entitlement.end_on and entitlement.end_on < change.effective_on):
        raise ValidationError({"entitlement": "所选待遇在生效日期不在享受期内。"})
    if not new_grade:
        raise ValidationError({"new_grade": "请选择调整后的残疾等级。"})
    new_nature = new_nature or entitlement.nature
    if new_grade == entitlement.grade and new_nature == entitlement.nature:
        raise ValidationError({"new_grade": "调整后的等级、性质与原来相同。"})
    if new_nature == DisabilityNature.ILLNESS and new_grade > ILLNESS_MAX_PENSION_GRADE:
        raise ValidationError({"new_grade": "因病致残七至十级不享受残疾抚恤金。"})
    earliest = add_years(entitlement.start_on, 1)
    if change.effective_on < earliest:
        raise ValidationError(
            {
                "effective_on": f"上次评定为 {entitlement.start_on:%Y-%m-%d}，"
                f"须满一年（{earliest:%Y-%m-%d} 起）才能调整等级（条例第二十九条）。"
            }
        )
    change.entitlement, change.new_grade, change.new_nature = entitlement, new_grade, new_nature
    return entitlement


def _apply_regrade(change):
    old = change.entitlement
    new = Entitlement(
        beneficiary=old.beneficiary,
        category=Category.DISABLED,
        grade=change.new_grade,
        nature=change.new_nature,
        approval_document=change.reason[:200],
        start_on=change.effective_on,
        end_on=old.end_on,
    )
    new.full_clean(exclude=["beneficiary", "document"])
    _set_end(old, change.effective_on - datetime.timedelta(days=1), change=change)
    _set_end(new, new.end_on, change=change, created=True)


def _check_correction(person, changes, corrects):
    if corrects is None:
        raise ValidationError({"corrects": "请选择要更正的异动。"})
    if corrects.beneficiary_id != person.pk:
        raise ValidationError({"corrects": "只能更正本人的异动。"})
    if corrects.kind == ChangeKind.CORRECTION:
        raise ValidationError({"corrects": "更正记录不能再被更正。"})
    if corrects.kind == ChangeKind.ADD:
        raise ValidationError({"corrects": "“新增”记录不能更正；登记有误请修改基本信息。"})
    if any(c.kind == ChangeKind.CORRECTION and c.corrects_id == corrects.pk for c in changes):
        raise ValidationError({"corrects": "该异动已被更正过。"})
    if corrects.payments.exists() or corrects.recoveries.exists():
        raise ValidationError({"corrects": "该异动已结算丧葬补助或登记追回，不能更正；请联系县（区）双拥办处理。"})
    transfer_out = Transfer.objects.filter(out_change=corrects).first()
    if transfer_out and transfer_out.status == TransferStatus.ACCEPTED:
        raise ValidationError({"corrects": "该迁出已被迁入地接收，不能更正。"})
    if Transfer.objects.filter(in_change=corrects).exists():
        raise ValidationError({"corrects": "跨县迁入不能更正。"})
    effective = effective_changes(changes)
    if corrects in effective:
        later = [c for c in effective[effective.index(corrects) + 1 :] if c.kind != ChangeKind.CONFIRM]
        if corrects.kind != ChangeKind.CONFIRM and later:
            raise ValidationError({"corrects": "该异动之后已有其他异动，请先更正后面的异动。"})


def _check_transition(person, kind, status, effective_on, changes, *, to_county):
    if kind in INTERNAL_KINDS:
        raise ValidationError({"kind": "“新增”在登记对象时自动产生，不能单独登记。"})
    allowed = ALLOWED_FROM.get(kind)
    if allowed is not None and status not in allowed:
        label = Status(status).label
        if status == Status.DECEASED:
            message = "该对象已死亡，除更正外不能再登记异动。"
        else:
            template = REFUSAL.get(kind, "该对象当前为“{status}”，不能登记“{kind}”。")
            message = template.format(status=label, kind=ChangeKind(kind).label)
        raise ValidationError({"kind": message})
    if Transfer.objects.filter(beneficiary=person, status=TransferStatus.PENDING).exists():
        raise ValidationError({"kind": "该对象有待接收的跨县迁移，请先撤回迁移或等待迁入地接收。"})
    ordered = [c for c in effective_changes(changes) if c.kind != ChangeKind.CONFIRM]
    if ordered and effective_on < ordered[-1].effective_on:
        previous = ordered[-1]
        raise ValidationError(
            {
                "effective_on": f"生效日期不能早于上一次异动（{previous.get_kind_display()}，"
                f"{previous.effective_on:%Y-%m-%d}）。"
            }
        )
    if to_county is not None and kind != ChangeKind.TRANSFER_OUT:
        raise ValidationError({"to_county": "只有迁出才选择迁入县（区）。"})


def _check_to_county(person, to_county):
    if to_county is None:
        return
    if to_county.kind != UnitKind.COUNTY or not to_county.is_active:
        raise ValidationError({"to_county": "迁入地须是在用的县（区）。"})
    if person.township.path.startswith(to_county.path):
        raise ValidationError({"to_county": "迁入地不能是本县（区）；县内调整乡镇请修改基本信息。"})


@files_atomic(field="document")
def change_record(
    *,
    beneficiary,
    kind,
    effective_on,
    recorded_by,
    reason="",
    document=None,
    entitlement=None,
    new_grade=None,
    new_nature="",
    year=None,
    corrects=None,
    to_county=None,
    death_cause="",
):
    """Record one 异动 and apply its effect on status and entitlements; refuse what makes no sense."""
    person = Beneficiary.objects.select_for_update().select_related("township").get(pk=beneficiary.pk)
    if kind not in ChangeKind.values:
        raise ValidationError({"kind": "请选择异动类型。"})
    _check_effective_on(effective_on, person=person)
    changes = list(person.changes.order_by("effective_on", "recorded_at", "pk"))
    status, _ = derive_status(changes)
    reason = (reason or "").strip()
    change = StatusChange(
        beneficiary=person, kind=kind, effective_on=effective_on, reason=reason, recorded_by=recorded_by
    )
    if kind == ChangeKind.CORRECTION:
        _check_correction(person, changes, corrects)
        if effective_on < corrects.effective_on:
            raise ValidationError({"effective_on": "更正的生效日期不能早于被更正的异动。"})
        if not reason:
            raise ValidationError({"reason": "请填写更正原因。"})
        change.corrects = corrects
    else:
        _check_transition(person, kind, status, effective_on, changes, to_county=to_county)
    if kind == ChangeKind.TRANSFER_OUT:
        _check_to_county(person, to_county)
    if kind == ChangeKind.REGRADE:
        _regrade(person, change=change, entitlement=entitlement, new_grade=new_grade, new_nature=new_nature)
    if kind == ChangeKind.CONFIRM:
        year = year or effective_on.year
        if year > effective_on.year or year < effective_on.year - 1:
            raise ValidationError({"year": "确认年度应为生效日期当年或上一年。"})
        earlier = [c for c in changes if c.kind == ChangeKind.CONFIRM and c.year == year]
        if earlier and earlier[0] in effective_changes(changes):
            raise ValidationError({"year": f"该对象{year}年度已确认。"})
        if earlier:
            # The database keeps one 年度确认 row per person and year, corrected or not.
            raise ValidationError({"year": f"该对象{year}年度的确认已被更正，不能再次登记。"})
        change.year = year
    if kind in (ChangeKind.SUSPEND, ChangeKind.HOLD, ChangeKind.CANCEL) and not reason:
        raise ValidationError({"reason": f"请填写{ChangeKind(kind).label}原因。"})
    if death_cause:
        if kind != ChangeKind.DEATH:
            raise ValidationError({"death_cause": "只有登记死亡时才填写死亡原因。"})
        if death_cause not in DeathCause.values:
            raise ValidationError({"death_cause": "请选择死亡原因。"})
        change.death_cause = death_cause
    change.full_clean(exclude=["beneficiary", "entitlement", "corrects", "recorded_by", "document"])
    if document:
        change.document_name = _store_upload(change, "document", document, error_field="document")
    return _apply_change(person, change, year=year, to_county=to_county)


def _apply_change(person, change, *, year, to_county):
    try:
        with transaction.atomic():
            change.save()
    except IntegrityError as error:
        if change.kind == ChangeKind.CONFIRM:
            raise ValidationError({"year": f"该对象{year}年度已有确认记录（含已更正的），不能重复登记。"}) from error
        raise
    if change.kind == ChangeKind.DEATH:
        _end_entitlements(person, on=last_day_of_month(change.effective_on), change=change)
    elif change.kind == ChangeKind.CANCEL:
        _end_entitlements(person, on=change.effective_on, change=change)
    elif change.kind == ChangeKind.REGRADE:
        _apply_regrade(change)
    elif change.kind == ChangeKind.TRANSFER_OUT and to_county is not None:
        Transfer.objects.create(
            beneficiary=person, from_township=person.township, to_county=to_county, out_change=change
        )
    elif change.kind == ChangeKind.CORRECTION:
        _undo_entitlement_effects(change.corrects, user=change.recorded_by)
        Transfer.objects.filter(out_change=change.corrects, status=TransferStatus.PENDING).update(
            status=TransferStatus.WITHDRAWN
        )
    _refresh_person(person)
    if change.kind in PAY_STOP_KINDS:
        from .payment_services import payments_after_stop  # payment_services imports this module

        payments_after_stop(person=person, change=change)
    return change


# Transfers between counties


@transaction.atomic
def transfer_accept(*, transfer, township, village=None, accepted_by, effective_on=None):
    """Receive a person transferred from another county: a 迁入 event, a new township, status 在册."""
    transfer = Transfer.objects.select_for_update().select_related("out_change", "to_county").get(pk=transfer.pk)
    person = Beneficiary.objects.select_for_update().get(pk=transfer.beneficiary_id)
    if transfer.status != TransferStatus.PENDING:
        raise ValidationError(f"该迁移已{transfer.get_status_display()}，不能再接收。")
    _check_units(township=township, village=village)
    if not township.path.startswith(transfer.to_county.path):
        raise ValidationError({"township": f"请选择{transfer.to_county.name}的乡镇（街道）。"})
    effective_on = effective_on or timezone.localdate()
    _check_effective_on(effective_on, person=person)
    if effective_on < transfer.out_change.effective_on:
        raise ValidationError(
            {"effective_on": f"迁入日期不能早于迁出日期（{transfer.out_change.effective_on:%Y-%m-%d}）。"}
        )
    change = StatusChange(
        beneficiary=person,
        kind=ChangeKind.TRANSFER_IN,
        effective_on=effective_on,
        reason=f"由{transfer.from_township.parent.name if transfer.from_township.parent else ''}"
        f"{transfer.from_township.name}迁入",
        recorded_by=accepted_by,
    )
    change.full_clean(exclude=["beneficiary", "recorded_by", "document"])
    change.save()
    person.township, person.village = township, village
    person.version += 1
    person._history_user = accepted_by
    person.save()
    _refresh_person(person)
    transfer.status, transfer.to_township, transfer.in_change = TransferStatus.ACCEPTED, township, change
    transfer.accepted_at, transfer.accepted_by = timezone.now(), accepted_by
    transfer.save()
    return transfer


@transaction.atomic
def transfer_withdraw(*, transfer, withdrawn_by, reason="撤回跨县迁移"):
    """Withdraw a pending transfer: the 迁出 is corrected and the person is back where they were."""
    transfer = Transfer.objects.select_for_update().select_related("out_change").get(pk=transfer.pk)
    if transfer.status != TransferStatus.PENDING:
        raise ValidationError(f"该迁移已{transfer.get_status_display()}，不能撤回。")
    change_record(
        beneficiary=transfer.beneficiary,
        kind=ChangeKind.CORRECTION,
        effective_on=max(timezone.localdate(), transfer.out_change.effective_on),
        recorded_by=withdrawn_by,
        reason=reason,
        corrects=transfer.out_change,
    )
    transfer.refresh_from_db()
    return transfer


# Annual confirmation


@transaction.atomic
def confirmation_round_set(*, county, year, deadline):
    """Set (or move) a county's 年度确认 deadline for a year."""
    if county.kind != UnitKind.COUNTY:
        raise ValidationError({"county": "年度确认按县（区）安排。"})
    if not year or not 2000 <= year <= 2100:
        raise ValidationError({"year": "请填写正确的年度。"})
    if deadline is None:
        raise ValidationError({"deadline": "请填写截止日期。"})
    if deadline.year not in (year, year + 1):
        raise ValidationError({"deadline": f"截止日期应在{year}年或{year + 1}年。"})
    round_ = ConfirmationRound.objects.select_for_update().filter(county=county, year=year).first()
    if round_ and round_.applied_at:
        raise ValidationError({"deadline": "该年度已按期处理停发，不能再修改截止日期。"})
    round_ = round_ or ConfirmationRound(county=county, year=year)
    round_.deadline = deadline
    round_.full_clean()
    round_.save()
    return round_


def confirmation_bulk(*, people, year, recorded_by, effective_on=None):
    """Confirm each person for the year; return (confirmed, skipped) with a reason per skipped person."""
    effective_on = effective_on or timezone.localdate()
    confirmed, skipped = [], []
    for person in people:
        try:
            change_record(
                beneficiary=person,
                kind=ChangeKind.CONFIRM,
                effective_on=effective_on,
                year=year,
                reason="年度确认",
                recorded_by=recorded_by,
            )
        except ValidationError as error:
            skipped.append((person, "；".join(error.messages)))
        else:
            confirmed.append(person)
    return confirmed, skipped


@transaction.atomic
def confirmation_apply(*, round, applied_by, today=None):
    """After the deadline, put every unconfirmed 在册 person of the county on 停发 and return them."""
    today = today or timezone.localdate()
    round_ = ConfirmationRound.objects.select_for_update().select_related("county").get(pk=round.pk)
    if today <= round_.deadline:
        raise ValidationError(f"截止日期 {round_.deadline:%Y-%m-%d} 未过，不能处理停发。")
    reason = f"未按期完成{round_.year}年度确认"
    confirmed = StatusChange.objects.filter(kind=ChangeKind.CONFIRM, year=round_.year, corrections__isnull=True).values(
        "beneficiary_id"
    )
    people = (
        Beneficiary.objects.filter(township__path__startswith=round_.county.path, status=Status.ACTIVE)
        .exclude(pk__in=confirmed)
        .order_by("township__path", "name", "pk")
    )
    held = []
    for person in people:
        change_record(
            beneficiary=person, kind=ChangeKind.HOLD, effective_on=today, reason=reason, recorded_by=applied_by
        )
        held.append(person)
    if round_.applied_at is None:
        round_.applied_at, round_.applied_by = timezone.now(), applied_by
        round_.save(update_fields=["applied_at", "applied_by"])
    return held
