"""Who may see and do what: the one place that answers it."""

from django.db.models import Q

from .constants import Role


def memberships(user):
    """Return the user's (unit path, role, is_director) tuples, cached on the user object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_unit_memberships", None)
    if cached is None:
        cached = [
            (m.unit.path, m.role, m.is_director)
            for m in user.memberships.select_related("unit").filter(unit__is_active=True)
        ]
        user._unit_memberships = cached
    return cached


def scope_q(user, field, roles=None):
    """Return a Q that keeps rows whose `field` path lies inside the user's jurisdiction."""
    q = Q(pk__in=[])
    for path, role, _ in memberships(user):
        if roles is None or role in roles:
            q |= Q(**{f"{field}__startswith": path})
    return q


def roles_of(user):
    return {role for _, role, _ in memberships(user)}


def is_office(user):
    return Role.OFFICE in roles_of(user)


def is_director(user):
    return any(role == Role.OFFICE and director for _, role, director in memberships(user))


def can_edit_anything(user):
    return bool(roles_of(user) & {Role.OFFICE, Role.LIAISON})


def in_scope(user, unit, roles=None):
    return any(unit.path.startswith(path) for path, role, _ in memberships(user) if roles is None or role in roles)
