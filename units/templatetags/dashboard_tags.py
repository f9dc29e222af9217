from django import template

from units.constants import Role
from units.permissions import roles_of

register = template.Library()


@register.filter
def sees_dashboard(user):
    """Tell whether the user has the dashboard and the 双拥经费 page: office staff and leaders."""
    return bool(roles_of(user) & {Role.OFFICE, Role.LEADER})
