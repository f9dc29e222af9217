from django import template

from units.constants import Role
from units.permissions import in_scope

register = template.Library()


@register.filter
def can_pair(unit, user):
    """Tell whether the user may start a pairing from this unit's page."""
    roles = [Role.OFFICE] if unit.is_military else [Role.OFFICE, Role.LIAISON]
    return unit.is_active and in_scope(user, unit, roles=roles)
