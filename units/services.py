from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr

from .constants import MILITARY_KINDS, REGION_KINDS, REGION_PARENTS, TOP_KINDS, AuditAction
from .models import AuditEvent, Unit
from .regions import check_region_code


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


@transaction.atomic
def unit_create(*, name, kind, parent, region_code=""):
    """Create a unit under a parent after checking placement and region code."""
    region_code = (region_code or "").strip()
    _validate(kind=kind, parent=parent, region_code=region_code)
    unit = Unit(name=name.strip(), kind=kind, parent=parent, region_code=region_code)
    unit.full_clean(exclude=["path"])
    unit.save()
    return unit


@transaction.atomic
def unit_update(*, unit, name, kind, parent, region_code=""):
    """Change a unit; moving it to another parent moves its whole subtree."""
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    region_code = (region_code or "").strip()
    if (kind in MILITARY_KINDS) != unit.is_military and (unit.civil_pairings.exists() or unit.military_pairings.exists()):
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
