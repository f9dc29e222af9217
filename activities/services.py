"""Writes of the activity log: activities with their gifts, groups, registry visits (慰问金 in the ledger) and photos.

Every write checks who may make it (office staff or a liaison in scope; leaders never), validates the whole
input and saves all of it or nothing. What an activity gave (money, goods_value, recipient_count, photo_count)
is kept on the activity by `activity_totals_refresh` and by nothing else.
"""

import contextlib
import io
import warnings
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from beneficiaries.constants import PaymentKind, PayMethod
from beneficiaries.models import Beneficiary, Payment
from beneficiaries.standard_services import one_off_write
from reports.selectors import locking_report
from shuangyong.lib.idcard import mask_id_number, mask_name
from shuangyong.lib.money import ZERO, format_yuan, to_yuan
from shuangyong.lib.uploads import (
    check_quota,
    check_upload,
    display_name,
    files_atomic,
    original_name,
    random_name,
    store_file,
)
from shuangyong.lib.versions import stale_error
from units.constants import MILITARY_KINDS, TOP_KINDS, Role, UnitKind
from units.models import Pairing, Unit
from units.permissions import in_scope, memberships, scope_q

from .constants import COUNT_FIELDS, EARLY_OCCASIONS, ActivityType, Occasion
from .models import Activity, Gift, Photo, Recipient, RecipientGroup

EDITORS = [Role.OFFICE, Role.LIAISON]
OUT_OF_SCOPE = "所选单位不存在或不在您的管辖范围内。"
# The Activity fields a form or an import may set; totals, occasion_year and the audit fields are the service's.
COUNTS = ["participants", "soldiers", "reached", *COUNT_FIELDS]
TEXT_FIELDS = ["place", "title", "description", "leaders"]
FIELDS = ["type", "occasion", "start_date", "end_date", "cost", "imported", *TEXT_FIELDS, *COUNTS]
PHOTO_MAX_SIDE = 2000
THUMBNAIL_SIDE = 320
# Larger images are refused before they are decoded (a small file can hold a huge "decompression bomb").
PHOTO_MAX_PIXELS = 60_000_000
PHOTO_FORMATS = {"jpg": "JPEG", "png": "PNG"}


def _label(name):
    return Activity._meta.get_field(name).verbose_name


# Scope


def county_of(unit):
    """Return the county (县/区) that holds a unit; above or outside any county, the nearest region that holds it.

    Visits are paid from the county's registry: a township liaison may visit anyone of its county.
    """
    ids = [int(part) for part in unit.path.strip("/").split("/") if part]
    regions = Unit.objects.filter(pk__in=ids, kind__in=TOP_KINDS).order_by("-depth")
    return regions.filter(kind=UnitKind.COUNTY).first() or regions.first() or unit


def editable_units(user):
    """Return the civil units a user may record activities for: office staff and liaisons inside their scope."""
    return Unit.objects.filter(scope_q(user, "path", roles=EDITORS), is_active=True).civil().order_by("path")


def can_record(user):
    return editable_units(user).exists()


def _region_around(county):
    """Units in the county, and those placed directly under the regions above it (a city's garrison)."""
    above = [int(part) for part in county.path.strip("/").split("/") if part][:-1]
    return Q(path__startswith=county.path) | Q(parent_id__in=above)


def home_regions(user):
    """Return the counties (or higher regions) holding the units a user records for: where recipients come from."""
    paths = {path for path, role, _ in memberships(user) if role in EDITORS}
    regions = {}
    for unit in Unit.objects.filter(path__in=paths):
        region = county_of(unit)
        regions[region.pk] = region
    return list(regions.values())


def within_q(regions, field="path"):
    q = Q(pk__in=[])
    for region in regions:
        q |= Q(**{f"{field}__startswith": region.path})
    return q


def around_q(regions):
    q = Q(pk__in=[])
    for region in regions:
        q |= _region_around(region)
    return q


def military_choices(unit):
    """Return the military units and partner forces an activity of a unit may involve: those of its county."""
    county = county_of(unit)
    return Unit.objects.filter(_region_around(county), kind__in=MILITARY_KINDS, is_active=True).order_by("path")


def pairing_choices(unit):
    """Return the pairings of the unit and the units below it, those still running first."""
    return (
        Pairing.objects.filter(civil_unit__path__startswith=unit.path)
        .select_related("civil_unit", "military_unit")
        .order_by(F("ended_on").asc(nulls_first=True), "civil_unit__path", "military_unit__name")
    )


def gift_unit_choices(unit):
    """Return the units a gift of an activity may go to: the county's units, troops first."""
    county = county_of(unit)
    return Unit.objects.filter(_region_around(county), is_active=True).order_by("-kind", "path")


def registry_of(unit):
    """Return the registry an activity of the unit visits: the people of its county."""
    return Beneficiary.objects.filter(township__path__startswith=county_of(unit).path)


def occasion_year_of(occasion, start_date):
    """The year an occasion belongs to: 元旦 and 春节 visits made in December count for the next year."""
    if occasion in EARLY_OCCASIONS and start_date.month == 12:
        return start_date.year + 1
    return start_date.year


def payment_reference(activity):
    return f"activity:{activity.pk}"


def activity_payments(activity):
    """The ledger rows of an activity's 慰问金: the first row of each person and any correction rows."""
    reference = payment_reference(activity)
    return Payment.objects.filter(
        Q(reference=reference) | Q(reference__startswith=f"{reference}:"), kind=PaymentKind.CONDOLENCE
    )


def _purpose(activity):
    occasion = Occasion(activity.occasion).label if activity.occasion else ""
    return f"{activity.occasion_year}年{occasion}{ActivityType(activity.type).label}"


def person_label(beneficiary):
    """A registry person as the activity pages show them: masked name, masked ID, township."""
    return f"{mask_name(beneficiary.name)}（{mask_id_number(beneficiary.id_number)}，{beneficiary.township.name}）"


def _check_editor(user, unit, field="unit"):
    if unit is None:
        raise ValidationError({field: "请选择组织单位。"})
    if user is None or unit.is_military or not unit.is_active or not in_scope(user, unit, roles=EDITORS):
        raise ValidationError({field: OUT_OF_SCOPE})


def lock_for(user, unit, day):
    """The accepted quarterly report that makes its quarter's activities read-only for this user, or None.

    The office may still correct them.
    """
    if Role.OFFICE in {role for _, role, _ in memberships(user)}:
        return None
    return locking_report(unit=unit, day=day)


def _check_unlocked(user, unit, day, field=None):
    report = lock_for(user, unit, day)
    if report is not None:
        message = f"{report}已通过，该季度的活动已锁定；如需修改，请联系双拥办。"
        raise ValidationError({field: message} if field else message)


# Checking the input


def _money(value, field, label, errors, prefix=""):
    if value in (None, ""):
        return ZERO
    try:
        amount = to_yuan(value)
    except ValidationError as error:
        errors.setdefault(field, []).append(f"{prefix}{label}：{error.messages[0]}")
        return ZERO
    if amount < 0:
        errors.setdefault(field, []).append(f"{prefix}{label}不能为负数。")
    return amount


def _count(value, field, label, errors, prefix=""):
    if value in (None, ""):
        return 0
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.setdefault(field, []).append(f"{prefix}{label}应为整数。")
        return 0
    if number != value and not isinstance(value, str):
        errors.setdefault(field, []).append(f"{prefix}{label}应为整数。")
    if number < 0:
        errors.setdefault(field, []).append(f"{prefix}{label}不能为负数。")
    return number


def date_errors(start, end):
    """Check an activity's dates: it has been held, so neither date is in the future, and it ends after it starts."""
    errors = {}
    today = timezone.localdate()
    if start is None:
        errors.setdefault("start_date", []).append("请填写活动日期。")
    elif start > today:
        errors.setdefault("start_date", []).append(
            f"活动日期 {start:%Y-%m-%d} 晚于今天：请在活动举行后登记（计划中的活动写入年度计划）。"
        )
    if end is not None and start is not None:
        if end < start:
            errors.setdefault("end_date", []).append(f"结束日期 {end:%Y-%m-%d} 早于开始日期 {start:%Y-%m-%d}。")
        elif end > today:
            errors.setdefault("end_date", []).append(f"结束日期 {end:%Y-%m-%d} 晚于今天：请在活动结束后登记。")
    return errors


def _check_fields(values, errors):
    """Check the activity's own fields in place: types, dates (held, so not in the future), no negatives."""
    if values.get("type") not in ActivityType.values:
        errors.setdefault("type", []).append("请选择活动类型。")
    values["occasion"] = values.get("occasion") or ""
    if values["occasion"] not in Occasion.values:
        errors.setdefault("occasion", []).append("请选择时机（或“无”）。")
    for name in TEXT_FIELDS:
        values[name] = (values.get(name) or "").strip()
    if not values["title"]:
        errors.setdefault("title", []).append("请填写标题。")
    for field, messages in date_errors(values.get("start_date"), values.get("end_date")).items():
        errors.setdefault(field, []).extend(messages)
    for name in COUNTS:
        values[name] = _count(values.get(name), name, _label(name), errors)
    values["cost"] = _money(values.get("cost"), "cost", "活动经费", errors)


def _check_links(unit, military_units, pairings, errors):
    military_units, pairings = list(military_units or ()), list(pairings or ())
    allowed = set(military_choices(unit).values_list("pk", flat=True))
    for military in military_units:
        if military.pk not in allowed:
            errors.setdefault("military_units", []).append(
                f"“{military.name}”不是{county_of(unit).name}的部队或共建力量。"
            )
    for pairing in pairings:
        if not pairing.civil_unit.path.startswith(unit.path):
            errors.setdefault("pairings", []).append(f"共建对子“{pairing}”不属于{unit.name}及其下属单位。")
    return military_units, pairings


def _check_gifts(unit, gifts, errors):
    rows, allowed = [], None
    for number, gift in enumerate(gifts or (), start=1):
        prefix = f"慰问单位第 {number} 行："
        recipient_unit = gift.get("recipient_unit")
        name = (gift.get("recipient_name") or "").strip()
        if recipient_unit is None and not name:
            errors.setdefault("gifts", []).append(f"{prefix}请选择受赠单位或填写单位名称。")
        if recipient_unit is not None:
            if allowed is None:
                allowed = set(gift_unit_choices(unit).values_list("pk", flat=True))
            if recipient_unit.pk not in allowed:
                errors.setdefault("gifts", []).append(f"{prefix}“{recipient_unit.name}”不在{county_of(unit).name}。")
        rows.append(
            Gift(
                recipient_unit=recipient_unit,
                recipient_name=name[:100],
                money=_money(gift.get("money"), "gifts", "慰问金", errors, prefix),
                goods=(gift.get("goods") or "").strip()[:200],
                goods_value=_money(gift.get("goods_value"), "gifts", "物品折价", errors, prefix),
            )
        )
    return rows


def _check_groups(groups, errors):
    rows = []
    for number, group in enumerate(groups or (), start=1):
        prefix = f"慰问群体第 {number} 行："
        description = (group.get("description") or "").strip()
        if not description:
            errors.setdefault("groups", []).append(f"{prefix}请填写慰问群体（如：军退干部、困难群众）。")
        people = 0
        if group.get("people") in (None, ""):
            errors.setdefault("groups", []).append(f"{prefix}请填写人数。")
        else:
            people = _count(group.get("people"), "groups", "人数", errors, prefix)
            if people == 0:
                errors.setdefault("groups", []).append(f"{prefix}人数应大于 0。")
        rows.append(
            RecipientGroup(
                description=description[:100],
                people=people,
                money=_money(group.get("money"), "groups", "慰问金", errors, prefix),
                goods=(group.get("goods") or "").strip()[:200],
                goods_value=_money(group.get("goods_value"), "groups", "物品折价", errors, prefix),
            )
        )
    return rows


def _check_recipients(unit, recipients, errors):
    """Return [(beneficiary, amount, goods, goods_value)] for people of the unit's county, each once."""
    rows, seen, county = [], set(), None
    for recipient in recipients or ():
        person = recipient.get("beneficiary")
        if person is None:
            errors.setdefault("recipients", []).append("慰问对象：请从名册中选择。")
            continue
        prefix = f"慰问对象“{mask_name(person.name)}”："
        if county is None:
            county = county_of(unit)
        if not person.township.path.startswith(county.path):
            errors.setdefault("recipients", []).append(
                f"{prefix}不在{county.name}的优抚对象名册中，只能慰问组织单位所在县（区）的优抚对象。"
            )
        if person.pk in seen:
            errors.setdefault("recipients", []).append(f"{prefix}在名单中出现了两次。")
        seen.add(person.pk)
        rows.append(
            (
                person,
                _money(recipient.get("amount"), "recipients", "慰问金", errors, prefix),
                (recipient.get("goods") or "").strip()[:200],
                _money(recipient.get("goods_value"), "recipients", "物品折价", errors, prefix),
            )
        )
    return rows


# Photos


def _encode(image, fmt, icc_profile):
    buffer = io.BytesIO()
    options = {"quality": 85, "optimize": True} if fmt == "JPEG" else {}
    if icc_profile:
        options["icc_profile"] = icc_profile
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@contextlib.contextmanager
def _strict_decoding():
    """Refuse a cut-off image: WeasyPrint, once imported, tells Pillow to pad truncated images silently."""
    saved = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved


def photo_prepare(file, *, field="photos"):
    """Check an uploaded photo by its content and re-encode it without metadata (GPS!), upright and downscaled.

    Return a dict with the image and thumbnail bytes and what the Photo row records; raise ValidationError.
    """
    name = display_name(file)
    try:
        kind, content_type = check_upload(file, allowed=tuple(PHOTO_FORMATS), max_bytes=settings.PHOTO_MAX_BYTES)
    except ValidationError as error:
        raise ValidationError({field: f"照片：{error.messages[0]}"}) from error
    fmt = PHOTO_FORMATS[kind]
    try:
        with warnings.catch_warnings(), _strict_decoding():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            file.seek(0)
            image = Image.open(file)
            if image.format != fmt:
                raise UnidentifiedImageError
            width, height = image.size
            if width * height > PHOTO_MAX_PIXELS:
                raise ValidationError(
                    {field: f"照片“{name}”尺寸 {width}×{height} 像素过大，请用手机相册导出较小的照片再上传。"}
                )
            # A JPEG decodes straight to a smaller scale: a 50-megapixel photo never fills the memory.
            image.draft("RGB", (PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            icc_profile = image.info.get("icc_profile")
            image = ImageOps.exif_transpose(image)
            image.load()
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ValidationError({field: f"照片“{name}”不是有效的 JPEG/PNG 图片。"}) from error
    except (OSError, SyntaxError, ValueError) as error:
        raise ValidationError({field: f"照片“{name}”已损坏或不完整，无法打开。"}) from error
    if fmt == "JPEG" and image.mode != "RGB":
        image = image.convert("RGB")
    elif fmt == "PNG" and (image.mode not in ("RGB", "RGBA", "L") or "transparency" in image.info):
        # Palette and transparency live in the metadata that is dropped below: keep them as pixels.
        image = image.convert("RGBA")
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), Image.Resampling.LANCZOS)
    # Drop what the file says about itself (EXIF with GPS, XMP, text chunks); the colour profile is kept on purpose.
    image.info = {}
    thumbnail = image.copy()
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    data = _encode(image, fmt, icc_profile)
    return {
        "kind": kind,
        "content_type": content_type,
        "data": data,
        "thumbnail": _encode(thumbnail, fmt, icc_profile),
        "width": image.width,
        "height": image.height,
        "original_name": original_name(file),
    }


def _store_photos(activity, prepared, *, uploaded_by, captions=None):
    """Write the files, then the rows; the caller's `files_atomic` removes the files again if anything fails."""
    photos = []
    for index, item in enumerate(prepared):
        photo = Photo(
            activity=activity,
            original_name=item["original_name"],
            content_type=item["content_type"],
            width=item["width"],
            height=item["height"],
            size=len(item["data"]),
            caption=((captions or {}).get(index) or "").strip()[:100],
            uploaded_by=uploaded_by,
        )
        photos.append(photo)
        store_file(photo.image, random_name(item["kind"]), ContentFile(item["data"]))
        store_file(photo.thumbnail, random_name(item["kind"]), ContentFile(item["thumbnail"]))
        photo.full_clean(exclude=["image", "thumbnail"])
        photo.save()
    return photos


# Recipients and the ledger


def _pay(activity, person, amount, *, reference, purpose, created_by, field="recipients"):
    """Write one 慰问金 row of the ledger: cash, paid on the activity date; each reference once per person."""
    if field == "amount":
        message = "刚刚有人登记了此人的另一笔更正，请刷新页面核对后再试。"
    else:
        message = f"“{mask_name(person.name)}”本次活动的慰问金已记入发放台账，不能重复发放。"
    return one_off_write(
        beneficiary=person,
        kind=PaymentKind.CONDOLENCE,
        amount=amount,
        reference=reference,
        purpose=purpose,
        method=PayMethod.CASH,
        paid_on=activity.start_date,
        created_by=created_by,
        refused=lambda: ValidationError({field: message}),
    )


def _add_recipient(activity, person, amount, goods, goods_value, *, created_by):
    recipient = Recipient(
        activity=activity,
        beneficiary=person,
        amount=amount,
        goods=goods,
        goods_value=goods_value,
        created_by=created_by,
    )
    recipient.full_clean(exclude=["activity", "beneficiary", "payment"], validate_constraints=False)
    if amount > 0:
        recipient.payment = _pay(
            activity,
            person,
            amount,
            reference=payment_reference(activity),
            purpose=_purpose(activity),
            created_by=created_by,
        )
    try:
        with transaction.atomic():
            recipient.save()
    except IntegrityError as error:
        raise ValidationError({"recipients": f"“{mask_name(person.name)}”已在本次活动的慰问对象中。"}) from error
    return recipient


def previous_condolences(*, beneficiaries, occasion, year, exclude_activity=None):
    """Return {person pk: [earlier visits with 慰问金 for the same occasion and year]} for a warning."""
    if not occasion or not beneficiaries:
        return {}
    visits = (
        Recipient.objects.filter(
            beneficiary__in=beneficiaries, amount__gt=0, activity__occasion=occasion, activity__occasion_year=year
        )
        .select_related("activity__unit")
        .order_by("activity__start_date", "pk")
    )
    if exclude_activity is not None:
        visits = visits.exclude(activity=exclude_activity)
    found = {}
    for visit in visits:
        found.setdefault(visit.beneficiary_id, []).append(visit)
    return found


def previous_condolence(*, beneficiary, occasion, year, exclude_activity=None):
    """Return the visits at which the person already received 慰问金 for the same occasion and year."""
    found = previous_condolences(
        beneficiaries=[beneficiary], occasion=occasion, year=year, exclude_activity=exclude_activity
    )
    return found.get(beneficiary.pk, [])


def visit_text(visit):
    """One earlier visit in words: “2026-07-28 溧东镇 走访慰问 500.00 元”."""
    return f"{visit.activity.start_date:%Y-%m-%d} {visit.activity.unit.name}慰问 {format_yuan(visit.amount)}"


def repeat_warnings(*, activity):
    """Return a line per recipient of the activity who had 慰问金 for the same occasion and year elsewhere."""
    recipients = list(activity.recipients.select_related("beneficiary__township"))
    earlier = previous_condolences(
        beneficiaries=[r.beneficiary for r in recipients if r.amount > 0],
        occasion=activity.occasion,
        year=activity.occasion_year,
        exclude_activity=activity,
    )
    occasion = Occasion(activity.occasion).label if activity.occasion else ""
    return [
        f"“{mask_name(r.beneficiary.name)}”已领取过{activity.occasion_year}年{occasion}慰问金："
        + "；".join(visit_text(v) for v in earlier[r.beneficiary_id])
        for r in recipients
        if r.beneficiary_id in earlier
    ]


# Totals


def activity_totals_refresh(*, activity):
    """Recompute what the activity gave from its gifts, recipients and groups (each yuan once), and its photos."""
    gifts = activity.gifts.aggregate(money=Sum("money"), goods=Sum("goods_value"))
    recipients = activity.recipients.aggregate(money=Sum("amount"), goods=Sum("goods_value"), people=Count("pk"))
    groups = activity.groups.aggregate(money=Sum("money"), goods=Sum("goods_value"), people=Sum("people"))
    totals = {
        "money": sum((row["money"] or ZERO for row in (gifts, recipients, groups)), ZERO),
        "goods_value": sum((row["goods"] or ZERO for row in (gifts, recipients, groups)), ZERO),
        "recipient_count": recipients["people"] + (groups["people"] or 0),
        "photo_count": activity.photos.filter(is_removed=False).count(),
    }
    # An update, not a save: totals are derived and would only add noise to the edit history.
    Activity.objects.filter(pk=activity.pk).update(**totals)
    for name, value in totals.items():
        setattr(activity, name, value)
    return activity


# Activities


class _Checked(NamedTuple):
    military_units: list
    pairings: list
    gift_rows: list  # None: the gifts stay as they are
    group_rows: list  # None: the groups stay as they are
    recipient_rows: list
    photos: list


def _prepare(*, unit, user, values, military_units, pairings, gifts, groups, recipients, photos):
    """Check everything an activity write brings and return the checked parts; raise one ValidationError."""
    errors = {}
    _check_fields(values, errors)
    military_units, pairings = _check_links(unit, military_units, pairings, errors)
    gift_rows = _check_gifts(unit, gifts, errors) if gifts is not None else None
    group_rows = _check_groups(groups, errors) if groups is not None else None
    recipient_rows = _check_recipients(unit, recipients, errors) if recipients is not None else None
    prepared = []
    for file in photos or ():
        try:
            prepared.append(photo_prepare(file))
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return _Checked(military_units, pairings, gift_rows, group_rows, recipient_rows, prepared)


def _save(activity, checked, *, user, new_recipients):
    """Save the activity as written by `user`: its units, pairings, gifts and groups (when given), the new
    recipients (paid in the ledger) and the photos; return it with its totals."""
    activity.occasion_year = occasion_year_of(activity.occasion, activity.start_date)
    activity.full_clean(exclude=["created_by"])
    activity._history_user = user
    activity.save()
    activity.military_units.set(checked.military_units)
    activity.pairings.set(checked.pairings)
    if checked.gift_rows is not None:
        activity.gifts.all().delete()
        for gift in checked.gift_rows:
            gift.activity = activity
            gift.full_clean(exclude=["activity", "recipient_unit"])
        Gift.objects.bulk_create(checked.gift_rows)
    if checked.group_rows is not None:
        activity.groups.all().delete()
        for group in checked.group_rows:
            group.activity = activity
            group.full_clean(exclude=["activity"])
        RecipientGroup.objects.bulk_create(checked.group_rows)
    for person, amount, goods, goods_value in new_recipients:
        _add_recipient(activity, person, amount, goods, goods_value, created_by=user)
    _store_photos(activity, checked.photos, uploaded_by=user)
    return activity_totals_refresh(activity=activity)


def _fields(fields):
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"not an Activity field the service sets: {sorted(unknown)}")
    return dict(fields)


@files_atomic(field="photos")
def activity_create(
    *,
    unit,
    created_by,
    recipients=(),
    gifts=(),
    groups=(),
    photos=(),
    military_units=(),
    pairings=(),
    **fields,
):
    """Record an activity with what it gave; each registry recipient's money becomes a 慰问金 row in the ledger."""
    _check_editor(created_by, unit)
    values = _fields(fields)
    _check_unlocked(created_by, unit, values.get("start_date"), "start_date")
    checked = _prepare(
        unit=unit,
        user=created_by,
        values=values,
        military_units=military_units,
        pairings=pairings,
        gifts=gifts,
        groups=groups,
        recipients=recipients,
        photos=photos,
    )
    activity = Activity(unit=unit, created_by=created_by, **values)
    return _save(activity, checked, user=created_by, new_recipients=checked.recipient_rows)


def _check_kept_recipients(activity, recipient_rows, errors):
    """Existing visits stay: their money is in the ledger, so only goods change here; the rest are new."""
    existing = {r.beneficiary_id: r for r in activity.recipients.select_related("beneficiary")}
    given = {person.pk for person, *_ in recipient_rows}
    for pk, recipient in existing.items():
        if pk not in given:
            errors.setdefault("recipients", []).append(
                f"慰问对象“{mask_name(recipient.beneficiary.name)}”已登记，不能从活动中删除；"
                "如金额有误，请由双拥办登记更正。"
            )
    kept, new = [], []
    for person, amount, goods, goods_value in recipient_rows:
        recipient = existing.get(person.pk)
        if recipient is None:
            new.append((person, amount, goods, goods_value))
            continue
        if amount != recipient.amount:
            errors.setdefault("recipients", []).append(
                f"慰问对象“{mask_name(person.name)}”的慰问金 {format_yuan(recipient.amount)}已记入发放台账，"
                "不能在此修改；如有错误，请由双拥办登记更正。"
            )
        kept.append((recipient, goods, goods_value))
    return kept, new


@files_atomic(field="photos")
def activity_update(
    *,
    activity,
    updated_by,
    version=None,
    recipients=None,
    gifts=None,
    groups=None,
    photos=(),
    military_units=None,
    pairings=None,
    **fields,
):
    """Change an activity; gifts and groups given are replaced, new recipients are paid, earlier ones kept.

    `recipients` is the whole list: people already visited must be in it with their amount unchanged
    (their money is in the ledger; the office corrects it with `recipient_correct`). With the `version` the user
    loaded, an edit is refused once someone else has saved the activity since.
    """
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if version is not None and version != activity.version:
        raise stale_error(activity)
    activity.version += 1
    _check_editor(updated_by, activity.unit)
    _check_unlocked(updated_by, activity.unit, activity.start_date)
    unit = fields.pop("unit", activity.unit)
    if unit != activity.unit:
        _check_editor(updated_by, unit)
    values = {name: getattr(activity, name) for name in FIELDS}
    values.update(_fields(fields))
    _check_unlocked(updated_by, unit, values.get("start_date"), "start_date")
    if military_units is None:
        military_units = list(activity.military_units.all())
    if pairings is None:
        pairings = list(activity.pairings.all())
    if recipients is None:
        recipients = [
            {"beneficiary": r.beneficiary, "amount": r.amount, "goods": r.goods, "goods_value": r.goods_value}
            for r in activity.recipients.select_related("beneficiary__township")
        ]
    checked = _prepare(
        unit=unit,
        user=updated_by,
        values=values,
        military_units=military_units,
        pairings=pairings,
        gifts=gifts,
        groups=groups,
        recipients=recipients,
        photos=photos,
    )
    errors = {}
    kept, new = _check_kept_recipients(activity, checked.recipient_rows, errors)
    paid = activity_payments(activity).exists()
    if paid and values["start_date"] != activity.start_date:
        errors.setdefault("start_date", []).append(
            f"本次活动的慰问金已于 {activity.start_date:%Y-%m-%d} 记入发放台账，活动日期不能再改。"
        )
    if errors:
        raise ValidationError(errors)
    for recipient, goods, goods_value in kept:
        if (recipient.goods, recipient.goods_value) != (goods, goods_value):
            recipient.goods, recipient.goods_value = goods, goods_value
            recipient.save(update_fields=["goods", "goods_value"])
    for name, value in values.items():
        setattr(activity, name, value)
    activity.unit = unit
    return _save(activity, checked, user=updated_by, new_recipients=new)


@transaction.atomic
def recipient_add(*, activity, beneficiary, amount, goods="", goods_value=0, created_by):
    """Add a registry person to an activity; the money is a 慰问金 row in the ledger, paid on the activity date."""
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    _check_editor(created_by, activity.unit)
    _check_unlocked(created_by, activity.unit, activity.start_date)
    errors = {}
    rows = _check_recipients(
        activity.unit,
        [{"beneficiary": beneficiary, "amount": amount, "goods": goods, "goods_value": goods_value}],
        errors,
    )
    if errors:
        raise ValidationError(errors)
    recipient = _add_recipient(activity, *rows[0], created_by=created_by)
    activity_totals_refresh(activity=activity)
    return recipient


@transaction.atomic
def recipient_correct(*, recipient, amount, reason, corrected_by):
    """Correct a visit's 慰问金 (office only): a new ledger row with the difference; paid rows are never edited."""
    recipient = (
        Recipient.objects.select_for_update()
        .select_related("activity__unit", "beneficiary__township")
        .get(pk=recipient.pk)
    )
    activity = recipient.activity
    if corrected_by is None or not in_scope(corrected_by, activity.unit, roles=[Role.OFFICE]):
        raise ValidationError("只有双拥办工作人员可以更正已发放的慰问金。")
    errors = {}
    new_amount = _money(amount, "amount", "更正后金额", errors)
    if amount in (None, ""):
        errors.setdefault("amount", []).append("请填写更正后金额。")
    reason = (reason or "").strip()
    if not reason:
        errors.setdefault("reason", []).append("请填写更正原因。")
    if not errors and new_amount == recipient.amount:
        errors.setdefault("amount", []).append(f"更正后金额与原金额 {format_yuan(recipient.amount)}相同，无需更正。")
    if errors:
        raise ValidationError(errors)
    difference = new_amount - recipient.amount
    person = recipient.beneficiary
    base = payment_reference(activity)
    purpose = _purpose(activity)
    if recipient.payment_id is None:
        # Nothing was paid yet (goods only): this is the person's first row for the activity.
        recipient.payment = _pay(
            activity, person, difference, reference=base, purpose=purpose, created_by=corrected_by, field="amount"
        )
    else:
        done = activity_payments(activity).filter(beneficiary=person, reference__startswith=f"{base}:").count()
        _pay(
            activity,
            person,
            difference,
            reference=f"{base}:更正{done + 1}",
            purpose=f"{purpose}（更正：{reason}）",
            created_by=corrected_by,
            field="amount",
        )
    recipient.amount = new_amount
    recipient.save(update_fields=["amount", "payment"])
    activity_totals_refresh(activity=activity)
    return recipient


def recipient_payments(*, recipient):
    """The ledger rows behind a visit: the first payment and its corrections, oldest first."""
    return activity_payments(recipient.activity).filter(beneficiary_id=recipient.beneficiary_id).order_by("pk")


@files_atomic(field="photos")
def photos_add(*, activity, files, caption="", uploaded_by):
    """Add photos to an activity's gallery: every file is checked before any is kept (all or nothing)."""
    _check_editor(uploaded_by, activity.unit)
    _check_unlocked(uploaded_by, activity.unit, activity.start_date)
    errors, prepared = [], []
    for file in files:
        try:
            prepared.append(photo_prepare(file))
        except ValidationError as error:
            errors.extend(error.message_dict["photos"])
    if not files:
        errors.append("请选择要上传的照片。")
    if not errors:
        try:
            check_quota(uploaded_by, sum(len(item["data"]) for item in prepared))
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError({"photos": errors})
    photos = _store_photos(
        activity, prepared, uploaded_by=uploaded_by, captions=dict.fromkeys(range(len(files)), caption)
    )
    activity_totals_refresh(activity=activity)
    return photos


def photo_add(*, activity, file, caption="", uploaded_by):
    (photo,) = photos_add(activity=activity, files=[file], caption=caption, uploaded_by=uploaded_by)
    return photo


@transaction.atomic
def photo_remove(*, photo, removed_by):
    """Take a photo out of the gallery; the file stays, as every record does."""
    _check_editor(removed_by, photo.activity.unit)
    _check_unlocked(removed_by, photo.activity.unit, photo.activity.start_date)
    if not photo.is_removed:
        photo.is_removed = True
        photo.save(update_fields=["is_removed"])
        activity_totals_refresh(activity=photo.activity)
    return photo


def can_correct(user, activity):
    return in_scope(user, activity.unit, roles=[Role.OFFICE])
