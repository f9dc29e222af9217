"""Subsidy standards (the table of amounts in force) and one-off payments to a person."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from shuangyong.lib.money import format_yuan, to_yuan
from units.constants import TOP_KINDS, Role
from units.models import Unit
from units.permissions import in_scope, memberships

from .constants import (
    ILLNESS_MAX_PENSION_GRADE,
    ONE_OFF_KINDS,
    REGULAR_KINDS,
    AwardLevel,
    Basis,
    BatchStatus,
    Category,
    DisabilityNature,
    PaymentKind,
    PayMethod,
    ServiceArea,
)
from .models import Award, Payment, Standard
from .services import last_day_of_month

# Kinds whose amount depends on the disability grade and nature.
GRADED_KINDS = [PaymentKind.DISABILITY, PaymentKind.NURSING]
# Regular kinds whose amount differs by category, so a standard must name one.
CATEGORY_REQUIRED_KINDS = [PaymentKind.PENSION, PaymentKind.DISABILITY, PaymentKind.LIVING, PaymentKind.NURSING]
CONSCRIPT_VARIANTS = [ServiceArea.TIBET.value, ServiceArea.XINJIANG.value, ServiceArea.HARDSHIP.value]
AWARD_VARIANTS = AwardLevel.values
REGULAR_BASES = [Basis.MONTH, Basis.YEAR, Basis.SERVICE_YEAR]


def _d(day):
    return f"{day:%Y-%m-%d}"


def _period(standard):
    end = _d(standard.effective_to) if standard.effective_to else "今"
    return f"{_d(standard.effective_from)} 至 {end}"


# Reads


def standards_in_force(*, user, on):
    """Return the standards the user may read that are in force on a date."""
    return standards_visible(user=user).in_force(on)


def standards_visible(*, user):
    """Return every standard the user may read, ended ones included, in table order."""
    return (
        Standard.objects.visible_to(user)
        .select_related("unit", "replaces")
        .order_by("kind", "category", "grade", "nature", "variant", "unit__path", "effective_from", "pk")
    )


def choose_standard(candidates, *, unit_ids, kind, category, grade, nature, variant, on):
    """Choose from preloaded standards the one that applies; None when none does.

    The deepest unit on the township's path that has a standard for the key wins. Within it an exact
    variant beats the blank one, an exact category the blank one, an exact grade or nature the blank one.
    Grade and nature count only for the graded kinds.
    """
    if kind not in GRADED_KINDS:
        grade, nature = None, ""
    depth = {unit_id: index for index, unit_id in enumerate(unit_ids)}
    best, best_rank = None, None
    for standard in candidates:
        if standard.kind != kind or standard.unit_id not in depth:
            continue
        if standard.effective_from > on or (standard.effective_to and standard.effective_to < on):
            continue
        if standard.category not in ("", category or ""):
            continue
        if standard.variant not in ("", variant or ""):
            continue
        if standard.grade not in (None, grade):
            continue
        if standard.nature not in ("", nature or ""):
            continue
        rank = (
            depth[standard.unit_id],
            bool(standard.variant),
            bool(standard.category),
            standard.grade is not None,
            bool(standard.nature),
        )
        if best_rank is None or rank > best_rank:
            best, best_rank = standard, rank
    return best


def township_unit_ids(township):
    """Return the ids of the units on a township's path, the root first."""
    return [int(part) for part in township.path.strip("/").split("/") if part]


def standard_for(*, township, kind, category="", grade=None, nature="", variant="", on):
    """Return the standard that applies to a person of this township on a date, or None."""
    unit_ids = township_unit_ids(township)
    candidates = Standard.objects.filter(unit_id__in=unit_ids, kind=kind).in_force(on)
    return choose_standard(
        list(candidates),
        unit_ids=unit_ids,
        kind=kind,
        category=category,
        grade=grade,
        nature=nature,
        variant=variant,
        on=on,
    )


def backpay_units(*, user, standard):
    """Return the jurisdictions in which the user may pay the 补发 a raised standard causes."""
    found = {}
    for path, role, _ in memberships(user):
        if role != Role.OFFICE:
            continue
        if path.startswith(standard.unit.path):
            unit = Unit.objects.filter(path=path, kind__in=TOP_KINDS, is_active=True).first()
        elif standard.unit.path.startswith(path):
            unit = standard.unit
        else:
            unit = None
        if unit is not None:
            found[unit.pk] = unit
    return sorted(found.values(), key=lambda unit: unit.path)


def backpay_preview(*, standard, unit):
    """Summarise the regular pay approved or paid at the old rate for months the raise now covers.

    Draft rows are left out: generating the draft again pays them at the new rate.
    """
    old = standard.replaces
    rows = (
        Payment.objects.counted()
        .filter(
            standard=old,
            kind=standard.kind,
            is_backpay=False,
            month__gte=standard.effective_from.replace(day=1),
            township__path__startswith=unit.path,
        )
        .filter(Q(batch__isnull=True) | Q(batch__status__in=[BatchStatus.APPROVED, BatchStatus.PAID]))
    )
    if standard.effective_to:
        rows = rows.filter(month__lte=standard.effective_to)
    totals = rows.aggregate(
        people=Count("beneficiary", distinct=True),
        rows=Count("pk"),
        first=Min("month"),
        last=Max("month"),
    )
    per_month = list(rows.values("month").annotate(people=Count("beneficiary", distinct=True)).order_by("month"))
    difference = standard.amount - old.amount
    estimate = None
    if standard.basis == Basis.MONTH and old.basis == Basis.MONTH:
        estimate = difference * totals["rows"]
    return {
        "old": old,
        "people": totals["people"],
        "rows": totals["rows"],
        "first": totals["first"],
        "last": totals["last"],
        "per_month": per_month,
        "difference": difference,
        "estimate": estimate,
    }


# Writes


def _lock_unit(unit):
    """Serialize writes to one unit's table, so two overlapping standards cannot both pass the check."""
    return Unit.objects.select_for_update().get(pk=unit.pk)


def _check_office(unit, user):
    if unit is None:
        raise ValidationError({"unit": "请选择制定单位。"})
    if unit.kind not in TOP_KINDS:
        raise ValidationError({"unit": f"“{unit.name}”不是县（区）及以上单位：标准只能由县级及以上双拥办制定。"})
    if user is None or not in_scope(user, unit, roles=[Role.OFFICE]):
        raise ValidationError({"unit": f"您不是“{unit.name}”或其上级的双拥办工作人员，不能制定其标准。"})


def _money(value, field, label, *, required=True):
    if value is None or value == "":
        if required:
            raise ValidationError({field: f"请填写{label}。"})
        return None
    try:
        amount = to_yuan(value)
    except ValidationError as error:
        raise ValidationError({field: f"{label}：{error.messages[0]}"}) from error
    if amount < 0:
        raise ValidationError({field: f"{label}不能为负数。"})
    return amount


def _parts(amount, national_part, local_part):
    """Return (amount, national, local) with amount = national + local, local defaulting to the rest."""
    amount = _money(amount, "amount", "标准金额")
    national = _money(national_part, "national_part", "中央（国家）标准")
    local = _money(local_part, "local_part", "地方提标", required=False)
    if national > amount:
        raise ValidationError({"national_part": f"中央（国家）标准 {national} 元不能大于标准金额 {amount} 元。"})
    if local is None:
        local = amount - national
    elif national + local != amount:
        raise ValidationError(
            {
                "local_part": f"中央部分 {national} 元 + 地方提标 {local} 元 = {national + local} 元，"
                f"与标准金额 {amount} 元不符。"
            }
        )
    return amount, national, local


def _check_dates(effective_from, effective_to):
    if effective_from is None:
        raise ValidationError({"effective_from": "请填写执行起始日期。"})
    if effective_from.day != 1:
        raise ValidationError({"effective_from": "标准按月计发，执行起始日期须为某月1日（如 2025-08-01）。"})
    if effective_to is not None:
        if effective_to < effective_from:
            raise ValidationError({"effective_to": "执行截止日期不能早于起始日期。"})
        if effective_to != last_day_of_month(effective_to):
            raise ValidationError({"effective_to": "执行截止日期须为某月最后一天（如 2025-07-31）。"})


def _check_key(*, kind, category, grade, nature, variant, basis, payment_month, prorate):
    if kind not in PaymentKind.values:
        raise ValidationError({"kind": "请选择发放类别。"})
    if category and category not in Category.values:
        raise ValidationError({"category": "优抚类别不正确。"})
    kind_label = PaymentKind(kind).label
    if kind in CATEGORY_REQUIRED_KINDS and not category:
        raise ValidationError({"category": f"{kind_label}按优抚类别定标准，请选择优抚类别。"})
    if kind in GRADED_KINDS and category != Category.DISABLED:
        raise ValidationError({"category": f"{kind_label}标准的优抚类别应为“残疾军人”。"})
    if kind not in GRADED_KINDS:
        if grade is not None:
            raise ValidationError({"grade": "只有残疾抚恤金、护理费标准按残疾等级制定，请清空残疾等级。"})
        if nature:
            raise ValidationError({"nature": "只有残疾抚恤金、护理费标准按残疾性质制定，请清空残疾性质。"})
    if grade is not None and not 1 <= grade <= 10:
        raise ValidationError({"grade": "残疾等级应为一级至十级。"})
    if nature and nature not in DisabilityNature.values:
        raise ValidationError({"nature": "残疾性质不正确。"})
    if kind == PaymentKind.DISABILITY:
        if grade is None:
            raise ValidationError({"grade": "残疾抚恤金按等级发放，请选择残疾等级。"})
        if not nature:
            raise ValidationError({"nature": "残疾抚恤金因战、因公、因病标准不同，请选择残疾性质。"})
        if nature == DisabilityNature.ILLNESS and grade > ILLNESS_MAX_PENSION_GRADE:
            raise ValidationError(
                {"grade": f"因病致残{grade}级不享受残疾抚恤金（条例第二十七条：因病只评一级至六级），不能制定此标准。"}
            )
    if kind == PaymentKind.AWARD:
        if variant not in AWARD_VARIANTS:
            raise ValidationError({"variant": "立功奖励标准须选择奖励等级（一等功、二等功、三等功、优秀士兵）。"})
    elif kind == PaymentKind.CONSCRIPT:
        if variant and variant not in CONSCRIPT_VARIANTS:
            raise ValidationError({"variant": "义务兵家庭优待金的细分只能是进藏、新疆或艰苦边远地区（一般地区留空）。"})
    elif variant:
        raise ValidationError({"variant": f"{kind_label}标准不分细分，请清空“细分”。"})
    if kind in REGULAR_KINDS and basis not in REGULAR_BASES:
        raise ValidationError({"basis": f"{kind_label}是定期待遇，计发方式应为每月、每年或每服役一年每月。"})
    if kind in ONE_OFF_KINDS and basis != Basis.ONCE:
        raise ValidationError({"basis": f"{kind_label}是一次性发放，计发方式应为“一次性”。"})
    if basis == Basis.YEAR:
        if payment_month is None:
            raise ValidationError({"payment_month": "按年发放的标准须填写年度发放月份（如 8 月，八一前发放）。"})
        if not 1 <= payment_month <= 12:
            raise ValidationError({"payment_month": "年度发放月份应为 1 至 12。"})
    else:
        if payment_month is not None:
            raise ValidationError({"payment_month": "只有按年发放的标准填写年度发放月份，请清空。"})
        if prorate:
            raise ValidationError({"prorate": "只有按年发放的标准可以按月折算。"})


def _check_overlap(*, unit, kind, category, grade, nature, variant, effective_from, effective_to, exclude=None):
    clash = Standard.objects.filter(
        unit=unit, kind=kind, category=category, grade=grade, nature=nature, variant=variant
    ).filter(Q(effective_to__isnull=True) | Q(effective_to__gte=effective_from))
    if effective_to is not None:
        clash = clash.filter(effective_from__lte=effective_to)
    if exclude is not None:
        clash = clash.exclude(pk=exclude.pk)
    existing = clash.order_by("effective_from").first()
    if existing is not None:
        raise ValidationError(
            {
                "effective_from": f"与已有标准“{existing}”（{_period(existing)}）的执行期间重叠。"
                "同一单位同一项目的标准不能重叠；金额调整请在该标准上“调标”。"
            }
        )


@transaction.atomic
def standard_create(
    *,
    unit,
    kind,
    category="",
    grade=None,
    nature="",
    variant="",
    basis=Basis.MONTH,
    amount,
    national_part,
    local_part=None,
    effective_from,
    effective_to=None,
    payment_month=None,
    cumulative=False,
    prorate=False,
    document="",
    created_by,
):
    """Add a standard to an office's table; refuse one that overlaps the same key's period."""
    _check_office(unit, created_by)
    category, nature, variant = category or "", nature or "", variant or ""
    _check_key(
        kind=kind,
        category=category,
        grade=grade,
        nature=nature,
        variant=variant,
        basis=basis,
        payment_month=payment_month,
        prorate=prorate,
    )
    amount, national, local = _parts(amount, national_part, local_part)
    _check_dates(effective_from, effective_to)
    unit = _lock_unit(unit)
    key = {"kind": kind, "category": category, "grade": grade, "nature": nature, "variant": variant}
    _check_overlap(unit=unit, **key, effective_from=effective_from, effective_to=effective_to)
    standard = Standard(
        unit=unit,
        **key,
        basis=basis,
        amount=amount,
        national_part=national,
        local_part=local,
        effective_from=effective_from,
        effective_to=effective_to,
        payment_month=payment_month,
        cumulative=bool(cumulative),
        prorate=bool(prorate),
        document=(document or "").strip(),
        created_by=created_by,
    )
    standard.full_clean()
    standard._history_user = created_by
    standard.save()
    return standard


@transaction.atomic
def standard_raise(*, standard, amount, national_part, local_part=None, effective_from, document="", created_by):
    """Replace a standard from a date: the old one ends the day before, the new one points back to it."""
    _check_office(standard.unit, created_by)
    unit = _lock_unit(standard.unit)
    old = Standard.objects.select_for_update().get(pk=standard.pk)
    amount, national, local = _parts(amount, national_part, local_part)
    _check_dates(effective_from, None)
    if effective_from <= old.effective_from:
        raise ValidationError(
            {"effective_from": f"调整后标准的执行起始日期须晚于原标准的起始日期（{_d(old.effective_from)}）。"}
        )
    successor = old.raises.first()
    if successor is not None:
        raise ValidationError(
            {"effective_from": f"该标准已于 {_d(successor.effective_from)} 调整为“{successor}”，请在现行标准上调标。"}
        )
    if old.effective_to is not None and effective_from > old.effective_to:
        raise ValidationError(
            {"effective_from": f"原标准已于 {_d(old.effective_to)} 停止执行，调整日期不能晚于其截止日期的次日。"}
        )
    end_on = old.effective_to
    old.effective_to = effective_from - datetime.timedelta(days=1)
    old._history_user = created_by
    old.save(update_fields=["effective_to"])
    key = {k: getattr(old, k) for k in ("kind", "category", "grade", "nature", "variant")}
    _check_overlap(unit=unit, **key, effective_from=effective_from, effective_to=end_on, exclude=old)
    new = Standard(
        unit=unit,
        **key,
        basis=old.basis,
        amount=amount,
        national_part=national,
        local_part=local,
        effective_from=effective_from,
        effective_to=end_on,
        payment_month=old.payment_month,
        cumulative=old.cumulative,
        prorate=old.prorate,
        document=(document or "").strip(),
        replaces=old,
        created_by=created_by,
    )
    new.full_clean()
    new._history_user = created_by
    new.save()
    return new


# One-off payments


def award_reference(award):
    return f"award:{award.pk}"


def award_standard(*, award, township):
    """Return the 立功奖励 standard for the award's level in force on the award date."""
    return standard_for(
        township=township,
        kind=PaymentKind.AWARD,
        category=award.entitlement.category,
        variant=award.level,
        on=award.awarded_on,
    )


def _already_paid(beneficiary, kind, reference):
    return (
        Payment.objects.counted()
        .filter(beneficiary=beneficiary, kind=kind, reference=reference, is_backpay=False)
        .order_by("pk")
        .first()
    )


def _paid_twice_message(kind, reference, paid):
    what = "该立功奖励" if kind == PaymentKind.AWARD else f"“{reference}”的{PaymentKind(kind).label}"
    when = f"于 {_d(paid.paid_on)} " if paid and paid.paid_on else ""
    amount = f"（{format_yuan(paid.amount)}）" if paid else ""
    return f"{what}已{when}发放{amount}，不能重复发放。"


@transaction.atomic
def one_off_pay(*, beneficiary, kind, amount=None, award=None, purpose="", reference="", paid_on, method, created_by):
    """Pay a one-off (立功奖励, 慰问金 ...) directly, outside a batch; each reference is paid once."""
    if created_by is None or not in_scope(created_by, beneficiary.township, roles=[Role.OFFICE]):
        raise ValidationError("只有该对象所在县（区）的双拥办工作人员可以登记一次性发放。")
    if kind not in ONE_OFF_KINDS:
        raise ValidationError({"kind": "请选择一次性发放的类别（立功奖励、慰问金、丧葬补助等）。"})
    if paid_on is None:
        raise ValidationError({"paid_on": "请填写发放日期。"})
    if paid_on > timezone.localdate():
        raise ValidationError({"paid_on": "发放日期不能晚于今天。"})
    if method not in PayMethod.values:
        raise ValidationError({"method": "请选择发放方式（打卡、存折或现金）。"})
    purpose, reference = (purpose or "").strip(), (reference or "").strip()
    fields = {}
    if kind == PaymentKind.AWARD:
        if award is None:
            raise ValidationError({"award": "请选择要发放奖励的立功受奖记录。"})
        entitlement = award.entitlement
        if entitlement.beneficiary_id != beneficiary.pk:
            raise ValidationError({"award": "所选立功受奖记录不属于该对象。"})
        if paid_on < award.awarded_on:
            raise ValidationError({"paid_on": f"发放日期不能早于立功（受奖）日期 {_d(award.awarded_on)}。"})
        standard = award_standard(award=award, township=beneficiary.township)
        if standard is None:
            raise ValidationError(
                {
                    "award": f"未找到 {_d(award.awarded_on)} 时执行的“{award.get_level_display()}”立功奖励标准，"
                    "请先在标准表中登记。"
                }
            )
        given = _money(amount, "amount", "金额", required=False)
        if given is not None and given != standard.amount:
            raise ValidationError(
                {"amount": f"立功奖励按标准计发 {format_yuan(standard.amount)}，不能另行填写为 {format_yuan(given)}。"}
            )
        amount = standard.amount
        reference = award_reference(award)
        purpose = purpose or f"{entitlement.serving_member_name or ''}{award.get_level_display()}奖励".strip()
        fields = {
            "award": award,
            "entitlement": entitlement,
            "category": entitlement.category,
            "standard": standard,
            "rate": standard.amount,
        }
    else:
        if award is not None:
            raise ValidationError({"award": "只有立功奖励需要选择立功受奖记录。"})
        amount = _money(amount, "amount", "金额")
        if amount <= 0:
            raise ValidationError({"amount": "金额应大于 0。"})
        if not purpose:
            raise ValidationError({"purpose": "请填写用途（如：2026年春节走访慰问）。"})
        if not reference:
            raise ValidationError({"reference": "请填写关联事项（如：2026春节慰问），同一事项只发放一次。"})
        if reference.startswith("award:"):
            raise ValidationError({"reference": "“award:”开头的关联事项由立功奖励使用，请换一个写法。"})
        if len(reference) > Payment._meta.get_field("reference").max_length:
            raise ValidationError({"reference": "关联事项最多 60 个字。"})
    field = "award" if award else "reference"
    paid = _already_paid(beneficiary, kind, reference)
    if paid is not None:
        raise ValidationError({field: _paid_twice_message(kind, reference, paid)})
    return one_off_write(
        beneficiary=beneficiary,
        kind=kind,
        amount=amount,
        reference=reference,
        purpose=purpose,
        method=method,
        paid_on=paid_on,
        created_by=created_by,
        # Another request paid the same reference between the check and the insert.
        refused=lambda: ValidationError(
            {field: _paid_twice_message(kind, reference, _already_paid(beneficiary, kind, reference))}
        ),
        **fields,
    )


def one_off_write(*, beneficiary, kind, amount, reference, purpose, method, paid_on, created_by, refused, **fields):
    """Write a checked one-off row to the ledger, in the month it is paid.

    The database refuses a second one-off of a kind and reference for the person: `refused()` returns the
    ValidationError to raise then.
    """
    payment = Payment(
        beneficiary=beneficiary,
        township=beneficiary.township,
        kind=kind,
        month=paid_on.replace(day=1),
        months=1,
        amount=amount,
        reference=reference,
        purpose=purpose[:200],
        method=method,
        paid_on=paid_on,
        created_by=created_by,
        **fields,
    )
    payment.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            payment.save()
    except IntegrityError as error:
        raise refused() from error
    return payment


def award_choices(*, beneficiary):
    """Return the person's awards with the standard amount and the payment already made for each."""
    awards = list(
        Award.objects.filter(entitlement__beneficiary=beneficiary).select_related("entitlement").order_by("awarded_on")
    )
    paid = {
        p.reference: p
        for p in Payment.objects.counted().filter(
            beneficiary=beneficiary,
            kind=PaymentKind.AWARD,
            reference__in=[award_reference(a) for a in awards],
            is_backpay=False,
        )
    }
    rows = []
    for award in awards:
        standard = award_standard(award=award, township=beneficiary.township)
        rows.append({"award": award, "standard": standard, "paid": paid.get(award_reference(award))})
    return rows
