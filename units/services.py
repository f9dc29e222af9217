import datetime
import logging
import re
import secrets
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from shuangyong.lib.uploads import check_upload, original_name, random_name

from .constants import (
    MILITARY_KINDS,
    REGION_KINDS,
    REGION_PARENTS,
    SINGLE_HOLDER_ROLES,
    TOP_KINDS,
    AuditAction,
    GroupRole,
    Role,
)
from .models import Agreement, AuditEvent, GroupMember, LeadingGroup, Membership, Pairing, Unit, UserProfile
from .regions import check_region_code
from .selectors import account_queryset


def audit_log(*, action, actor=None, target=None, username="", ip_address=None, detail=""):
    """Record a security event; never pass a password or a full ID number here."""
    return AuditEvent.objects.create(
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        target=target,
        username=username or (target.get_username() if target else ""),
        ip_address=ip_address,
        detail=detail[:200],
    )


def _check_placement(*, kind, parent, unit=None):
    if parent is None:
        if kind not in TOP_KINDS:
            raise ValidationError({"parent": "只有省、市、县区可以作为顶级单位，请选择上级单位。"})
        return
    if unit is not None and parent.path.startswith(unit.path):
        raise ValidationError({"parent": "上级单位不能是本单位或其下级单位。"})
    if kind in REGION_KINDS:
        if parent.kind not in REGION_PARENTS[kind]:
            allowed = "、".join(k.label for k in REGION_PARENTS[kind])
            raise ValidationError({"parent": f"该类别的上级单位应为：{allowed}。"})
    elif parent.kind not in REGION_KINDS:
        raise ValidationError({"parent": "部门、学校、部队等单位应挂在行政区域（县区、乡镇等）之下。"})
    if not parent.is_active:
        raise ValidationError({"parent": "上级单位已停用。"})


def _validate(*, kind, parent, region_code, unit=None):
    _check_placement(kind=kind, parent=parent, unit=unit)
    message = check_region_code(kind=kind, code=region_code, parent=parent)
    if message:
        raise ValidationError({"region_code": message})
    if region_code:
        clash = Unit.objects.filter(region_code=region_code)
        if unit is not None:
            clash = clash.exclude(pk=unit.pk)
        if clash.exists():
            raise ValidationError({"region_code": f"区划代码 {region_code} 已被“{clash.first().name}”使用。"})


def unit_check(*, name, kind, parent, region_code=""):
    """Return the unsaved unit that unit_create would save, after the same checks; `parent` may be unsaved."""
    region_code = (region_code or "").strip()
    _validate(kind=kind, parent=parent, region_code=region_code)
    unit = Unit(name=name.strip(), kind=kind, parent=parent, region_code=region_code)
    unit.full_clean(exclude=["path"])
    return unit


@transaction.atomic
def unit_create(*, name, kind, parent, region_code=""):
    """Create a unit under a parent after checking placement and region code."""
    unit = unit_check(name=name, kind=kind, parent=parent, region_code=region_code)
    unit.save()
    return unit


@transaction.atomic
def unit_update(*, unit, name, kind, parent, region_code=""):
    """Change a unit; moving it to another parent moves its whole subtree."""
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    region_code = (region_code or "").strip()
    has_pairings = unit.civil_pairings.exists() or unit.military_pairings.exists()
    if (kind in MILITARY_KINDS) != unit.is_military and has_pairings:
        raise ValidationError({"kind": "该单位已有共建对子，不能在地方单位与部队之间改变类别。"})
    _validate(kind=kind, parent=parent, region_code=region_code, unit=unit)
    old_path = unit.path
    unit.name, unit.kind, unit.parent, unit.region_code = name.strip(), kind, parent, region_code
    unit.full_clean(exclude=["path"])
    unit.save()
    if unit.path != old_path:
        Unit.objects.filter(path__startswith=old_path).exclude(pk=unit.pk).update(
            path=Concat(Value(unit.path), Substr("path", len(old_path) + 1))
        )
        for child in Unit.objects.filter(path__startswith=unit.path).exclude(pk=unit.pk).only("pk", "path"):
            Unit.objects.filter(pk=child.pk).update(depth=child.path.count("/") - 2)
    return unit


@transaction.atomic
def unit_deactivate(*, unit):
    """Deactivate a unit; units are never deleted because records refer to them."""
    if unit.subtree().filter(is_active=True).exclude(pk=unit.pk).exists():
        raise ValidationError("请先停用其下级单位。")
    unit.is_active = False
    unit.save(update_fields=["is_active"])
    return unit


@transaction.atomic
def unit_activate(*, unit):
    if unit.parent and not unit.parent.is_active:
        raise ValidationError("上级单位已停用，请先启用上级单位。")
    unit.is_active = True
    unit.save(update_fields=["is_active"])
    return unit


# Accounts

security_logger = logging.getLogger("shuangyong.security")

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{3,30}")
PHONE_PATTERN = re.compile(r"[0-9+\- ()]{7,20}")
# No 0/O, 1/l/I: the password is read out or copied by hand once.
PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


def _one_time_password(length=14):
    while True:
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def _end_sessions(user):
    """Delete every stored session of the user (database-backed engines; others rely on the session hash)."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store_class, "get_model_class"):
        return
    user_id = str(user.pk)
    decoder = store_class()
    live = store_class.get_model_class().objects.filter(expire_date__gt=timezone.now())
    for key, data in live.values_list("session_key", "session_data").iterator():
        if decoder.decode(data).get(SESSION_KEY) == user_id:
            store_class(session_key=key).delete()


def _check_manageable(*, actor, user):
    if not account_queryset(user=actor).filter(pk=user.pk).exists():
        raise ValidationError("该账号不存在或不在您的管辖范围内。")
    if user.memberships.filter(is_director=True).exists() and not actor.memberships.filter(is_director=True).exists():
        raise ValidationError("双拥办主任的账号只能由主任或系统管理员处理。")


@transaction.atomic
def account_create(*, actor, username, full_name, phone, unit, role, ip_address=None):
    """Create a liaison, leader or office account with a one-time password; return (user, password)."""
    username, full_name, phone = (username or "").strip(), (full_name or "").strip(), (phone or "").strip()
    errors = {}
    if not USERNAME_PATTERN.fullmatch(username):
        errors["username"] = "用户名须为 3–30 位英文字母、数字或 . _ -。"
    elif get_user_model().objects.filter(username__iexact=username).exists():
        errors["username"] = f"用户名“{username}”已被使用，请换一个。"
    if not full_name:
        errors["full_name"] = "请填写姓名。"
    if phone and not PHONE_PATTERN.fullmatch(phone):
        errors["phone"] = "电话格式不正确，请填写手机号或带区号的座机号。"
    if unit is None or not Unit.objects.editable_by(actor).filter(pk=unit.pk, is_active=True).exists():
        errors["unit"] = "所选单位不存在或不在您的管辖范围内。"
    elif role not in Role.values:
        errors["role"] = "请选择角色。"
    elif role == Role.OFFICE and not actor.memberships.filter(unit=unit, role=Role.OFFICE).exists():
        errors["role"] = "只能为您本人所在的双拥办创建双拥办工作人员账号。"
    if errors:
        raise ValidationError(errors)

    password = _one_time_password()
    user = get_user_model()(username=username)
    user.set_password(password)
    user.full_clean()
    user.save()
    profile = UserProfile(user=user, full_name=full_name, phone=phone, must_change_password=True)
    profile.full_clean(exclude=["user"])
    profile.save()
    membership = Membership(user=user, unit=unit, role=role)
    membership.full_clean(exclude=["user"])
    membership.save()
    audit_log(
        action=AuditAction.ACCOUNT_CREATED,
        actor=actor,
        target=user,
        ip_address=ip_address,
        detail=f"{unit.name}·{Role(role).label}",
    )
    security_logger.info("account_created user=%s by=%s", user.get_username(), actor.get_username())
    return user, password


@transaction.atomic
def account_reset_password(*, actor, user, ip_address=None):
    """Give the account a new one-time password, end its sessions and lift any login lockout."""
    from axes.utils import reset as axes_reset

    _check_manageable(actor=actor, user=user)
    if user.pk == actor.pk:
        raise ValidationError("不能重置自己的密码，请在“修改密码”中修改。")
    password = _one_time_password()
    user.set_password(password)
    user.save(update_fields=["password"])
    UserProfile.objects.update_or_create(user=user, defaults={"must_change_password": True})
    _end_sessions(user)
    axes_reset(username=user.get_username())
    audit_log(action=AuditAction.PASSWORD_RESET, actor=actor, target=user, ip_address=ip_address)
    security_logger.info("password_reset user=%s by=%s", user.get_username(), actor.get_username())
    return password


@transaction.atomic
def account_set_active(*, actor, user, active, ip_address=None):
    """Deactivate an account (it can no longer log in and its sessions end) or activate it again."""
    _check_manageable(actor=actor, user=user)
    if user.pk == actor.pk and not active:
        raise ValidationError("不能停用自己的账号。")
    user.is_active = active
    user.save(update_fields=["is_active"])
    if not active:
        _end_sessions(user)
    action = AuditAction.ACCOUNT_ACTIVATED if active else AuditAction.ACCOUNT_DEACTIVATED
    audit_log(action=action, actor=actor, target=user, ip_address=ip_address)
    security_logger.info("%s user=%s by=%s", action, user.get_username(), actor.get_username())
    return user


REVEAL_GROUP_NAME = "个人信息查看"


def reveal_permission():
    return Permission.objects.get(content_type__app_label="beneficiaries", codename="reveal_personal_data")


def reveal_group():
    """Return the group whose members may reveal full ID numbers and bank accounts, creating it when missing."""
    group, _ = Group.objects.get_or_create(name=REVEAL_GROUP_NAME)
    group.permissions.add(reveal_permission())
    return group


@transaction.atomic
def account_set_reveal(*, actor, user, allowed, ip_address=None):
    """Grant or withdraw the permission to reveal full ID numbers and bank accounts (the 个人信息查看 group)."""
    _check_manageable(actor=actor, user=user)
    if user.pk == actor.pk:
        raise ValidationError("不能调整自己的个人信息查看权限，请由其他双拥办工作人员办理。")
    group = reveal_group()
    if allowed:
        if not user.is_active:
            raise ValidationError("该账号已停用，不能授予个人信息查看权限。")
        user.groups.add(group)
    else:
        permission = reveal_permission()
        user.groups.remove(group)
        user.user_permissions.remove(permission)
        others = list(user.groups.filter(permissions=permission).values_list("name", flat=True))
        if others:
            raise ValidationError(
                f"该账号还通过权限组“{'、'.join(others)}”拥有个人信息查看权限，请由系统管理员在后台收回。"
            )
    security_logger.info(
        "reveal_permission_%s user=%s by=%s ip=%s",
        "granted" if allowed else "withdrawn",
        user.get_username(),
        actor.get_username(),
        ip_address or "-",
    )
    return user


# Leading groups


def _clean_text(value):
    return (value or "").strip()


def _locked_group(group):
    # Every write to a group's roster takes this row lock first, so overlap checks cannot race.
    return LeadingGroup.objects.select_for_update().get(pk=group.pk)


def _check_dates(*, start_on, end_on, end_field="end_on", end_label="终止日期"):
    if start_on and end_on and end_on < start_on:
        raise ValidationError({end_field: f"{end_label}（{end_on:%Y-%m-%d}）不能早于起始日期（{start_on:%Y-%m-%d}）。"})


def _check_single_holder(*, group, role, start_on, end_on, exclude_pk=None):
    """Refuse a second holder of 组长, 第一副组长 or 办公室主任 at any moment."""
    if role not in SINGLE_HOLDER_ROLES:
        return
    overlapping = group.members.filter(role=role).filter(Q(end_on__isnull=True) | Q(end_on__gte=start_on))
    if end_on is not None:
        overlapping = overlapping.filter(start_on__lte=end_on)
    if exclude_pk is not None:
        overlapping = overlapping.exclude(pk=exclude_pk)
    holder = overlapping.order_by("start_on", "pk").first()
    if holder:
        since = max(holder.start_on, start_on)
        label = GroupRole(role).label
        raise ValidationError({"role": f"{since:%Y-%m-%d} 起已有{label}：{holder.name}，请先办理调整。"})


def _new_member(*, group, name, job_title, role, start_on, end_on=None, note=""):
    member = GroupMember(
        group=group,
        name=_clean_text(name),
        job_title=_clean_text(job_title),
        role=role,
        start_on=start_on,
        end_on=end_on,
        note=_clean_text(note),
    )
    member.full_clean(exclude=["group"], validate_constraints=False)
    return member


@transaction.atomic
def group_create(*, unit, name, office_note):
    """Set up a unit's 双拥工作领导小组."""
    if not unit.is_active:
        raise ValidationError({"name": f"“{unit.name}”已停用，不能新建领导小组。"})
    if LeadingGroup.objects.filter(unit=unit).exists():
        raise ValidationError({"name": f"“{unit.name}”已有领导小组，请直接调整成员。"})
    group = LeadingGroup(unit=unit, name=_clean_text(name) or "双拥工作领导小组", office_note=_clean_text(office_note))
    group.full_clean(exclude=["unit"])
    group.save()
    return group


@transaction.atomic
def group_update(*, group, name, office_note):
    group = _locked_group(group)
    group.name = _clean_text(name) or "双拥工作领导小组"
    group.office_note = _clean_text(office_note)
    group.full_clean(exclude=["unit"])
    group.save()
    return group


@transaction.atomic
def group_member_add(*, group, name, job_title, role, start_on, end_on=None, note=""):
    """Add a person to a group from a date; single-holder roles must be free for the whole period."""
    group = _locked_group(group)
    _check_dates(start_on=start_on, end_on=end_on)
    member = _new_member(
        group=group, name=name, job_title=job_title, role=role, start_on=start_on, end_on=end_on, note=note
    )
    _check_single_holder(group=group, role=role, start_on=start_on, end_on=end_on)
    member.save()
    return member


@transaction.atomic
def group_member_end(*, member, end_on):
    """End a membership on a date (the last day in office)."""
    _locked_group(member.group)
    member = GroupMember.objects.select_for_update().get(pk=member.pk)
    if end_on is None:
        raise ValidationError({"end_on": "请填写终止日期。"})
    if member.end_on is not None:
        raise ValidationError({"end_on": f"{member.name}的任职已于 {member.end_on:%Y-%m-%d} 终止。"})
    _check_dates(start_on=member.start_on, end_on=end_on)
    member.end_on = end_on
    member.save(update_fields=["end_on"])
    return member


@transaction.atomic
def group_member_replace(*, member, end_on, name, job_title, role, start_on):
    """Adjust a group: end one membership and start its successor (or the same person in a new role)."""
    group = _locked_group(member.group)
    member = GroupMember.objects.select_for_update().get(pk=member.pk)
    if end_on is None:
        raise ValidationError({"end_on": "请填写原成员的终止日期。"})
    if member.end_on is not None:
        raise ValidationError({"end_on": f"{member.name}的任职已于 {member.end_on:%Y-%m-%d} 终止，不能再调整。"})
    _check_dates(start_on=member.start_on, end_on=end_on)
    if start_on is None:
        start_on = end_on + datetime.timedelta(days=1)
    if start_on < end_on:
        message = f"接任日期（{start_on:%Y-%m-%d}）不能早于原成员终止日期（{end_on:%Y-%m-%d}）。"
        raise ValidationError({"start_on": message})
    successor = _new_member(group=group, name=name, job_title=job_title, role=role, start_on=start_on)
    if start_on == end_on and role == member.role and role in SINGLE_HOLDER_ROLES:
        raise ValidationError(
            {"start_on": f"{GroupRole(role).label}同一时间只能一人担任，接任日期应在 {end_on:%Y-%m-%d} 之后。"}
        )
    member.end_on = end_on
    member.save(update_fields=["end_on"])
    _check_single_holder(group=group, role=role, start_on=start_on, end_on=None)
    successor.save()
    return successor


# 军民共建 pairings and their agreements


def _check_pairing_sides(*, civil_unit, military_unit):
    if civil_unit.is_military:
        raise ValidationError(
            {"civil_unit": f"地方单位一栏应选择地方单位，“{civil_unit.name}”是{civil_unit.get_kind_display()}。"}
        )
    if not military_unit.is_military:
        raise ValidationError(
            {
                "military_unit": f"部队/共建力量一栏应选择驻地部队或消防救援等共建力量，"
                f"“{military_unit.name}”是{military_unit.get_kind_display()}。"
            }
        )
    for field, unit in (("civil_unit", civil_unit), ("military_unit", military_unit)):
        if not unit.is_active:
            raise ValidationError({field: f"“{unit.name}”已停用，不能新建共建对子。"})


@transaction.atomic
def pairing_create(*, civil_unit, military_unit, signed_on, goals="", agreement_file=None, uploaded_by=None):
    """Pair a civil unit with a military unit or partner force, optionally with the first agreement file."""
    _check_pairing_sides(civil_unit=civil_unit, military_unit=military_unit)
    if signed_on > timezone.localdate():
        raise ValidationError({"signed_on": "结对日期不能晚于今天。"})
    if agreement_file is not None:
        try:
            check_upload(agreement_file)
        except ValidationError as error:
            raise ValidationError({"agreement_file": error.messages}) from error
    # Lock the civil unit so that two requests cannot both create the same active pairing.
    Unit.objects.select_for_update().filter(pk=civil_unit.pk).first()
    current = Pairing.objects.active().filter(civil_unit=civil_unit, military_unit=military_unit).first()
    if current is not None:
        raise ValidationError(
            {
                "military_unit": f"“{civil_unit.name}”与“{military_unit.name}”已有进行中的共建对子"
                f"（{current.signed_on:%Y-%m-%d} 结对），不能重复建立；如重新签订协议，请在该对子中上传新协议。"
            }
        )
    pairing = Pairing(civil_unit=civil_unit, military_unit=military_unit, signed_on=signed_on, goals=goals.strip())
    pairing.full_clean()
    pairing.save()
    if agreement_file is not None:
        try:
            agreement_add(pairing=pairing, signed_on=signed_on, file=agreement_file, uploaded_by=uploaded_by)
        except ValidationError as error:
            raise ValidationError({"agreement_file": error.messages}) from error
    return pairing


@transaction.atomic
def agreement_add(*, pairing, signed_on, file, uploaded_by, note=""):
    """Keep a signed agreement of a pairing; re-signing adds one and keeps the earlier ones."""
    try:
        kind, content_type = check_upload(file, user=uploaded_by)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from error
    if signed_on > timezone.localdate():
        raise ValidationError({"signed_on": "签订日期不能晚于今天。"})
    if signed_on < pairing.signed_on:
        raise ValidationError({"signed_on": f"签订日期不能早于结对日期（{pairing.signed_on:%Y-%m-%d}）。"})
    if pairing.ended_on and signed_on > pairing.ended_on:
        raise ValidationError({"signed_on": f"签订日期不能晚于共建结束日期（{pairing.ended_on:%Y-%m-%d}）。"})
    agreement = Agreement(
        pairing=pairing,
        signed_on=signed_on,
        original_name=original_name(file),
        content_type=content_type,
        size=file.size,
        note=note.strip(),
        uploaded_by=uploaded_by,
    )
    # The uploader is set by the caller and may be absent (imports, shell), so it is not user input to validate.
    agreement.full_clean(exclude=["file", "uploaded_by"])
    agreement.file.save(random_name(kind), file, save=False)
    try:
        agreement.save()
    except Exception:
        agreement.file.delete(save=False)
        raise
    return agreement


@transaction.atomic
def pairing_end(*, pairing, ended_on, reason):
    """End a pairing on a date with a reason; its agreements stay on record."""
    pairing = Pairing.objects.select_for_update().get(pk=pairing.pk)
    if pairing.ended_on:
        raise ValidationError(f"该共建对子已于 {pairing.ended_on:%Y-%m-%d} 结束。")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"end_reason": "请填写结束原因。"})
    if ended_on < pairing.signed_on:
        raise ValidationError({"ended_on": f"结束日期不能早于结对日期（{pairing.signed_on:%Y-%m-%d}）。"})
    if ended_on > timezone.localdate():
        raise ValidationError({"ended_on": "结束日期不能晚于今天。"})
    last_signed = pairing.agreements.order_by("-signed_on").values_list("signed_on", flat=True).first()
    if last_signed and ended_on < last_signed:
        raise ValidationError({"ended_on": f"结束日期不能早于最近一份协议的签订日期（{last_signed:%Y-%m-%d}）。"})
    pairing.ended_on, pairing.end_reason = ended_on, reason
    pairing.full_clean()
    pairing.save()
    return pairing


@transaction.atomic
def pairing_update(*, pairing, goals):
    """Change a pairing's goals."""
    pairing.goals = (goals or "").strip()
    pairing.full_clean()
    pairing.save()
    return pairing
