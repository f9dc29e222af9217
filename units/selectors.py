from django.contrib.auth import get_user_model
from django.db.models import Count, F, Prefetch, Q

from .constants import GROUP_ROLE_ORDER, Role, UnitKind
from .models import AuditEvent, LeadingGroup, Membership, Pairing, Unit
from .permissions import is_office, memberships


def unit_list(*, user, query="", kind="", include_inactive=False):
    top = min((path.count("/") - 2 for path, _, _ in memberships(user)), default=0)
    units = Unit.objects.visible_to(user).select_related("parent").annotate(level=F("depth") - top)
    if not include_inactive:
        units = units.filter(is_active=True)
    if kind:
        units = units.filter(kind=kind)
    if query:
        units = units.filter(Q(name__icontains=query) | Q(region_code__startswith=query))
    return units.order_by("path")


def unit_children(*, unit, user):
    return Unit.objects.visible_to(user).filter(parent=unit).order_by("kind", "name")


def unit_liaisons(*, unit):
    return (
        Membership.objects.filter(unit=unit, role=Role.LIAISON, user__is_active=True)
        .select_related("user", "user__profile")
        .order_by("user__username")
    )


def group_roster(*, group, on):
    """Return the members of a leading group on a date, in role order."""
    members = list(group.members.on(on))
    return sorted(members, key=lambda m: (GROUP_ROLE_ORDER.index(m.role), m.start_on, m.pk))


def unit_group(*, unit):
    return LeadingGroup.objects.filter(unit=unit).first()


def unit_pairings(*, unit, user):
    return (
        Pairing.objects.visible_to(user)
        .filter(Q(civil_unit=unit) | Q(military_unit=unit))
        .select_related("civil_unit", "military_unit")
        .annotate(agreement_count=Count("agreements"))
    )


def scope_overview(*, user):
    """Count what a user's jurisdiction holds, for the home page."""
    units = Unit.objects.visible_to(user).filter(is_active=True)
    counts = dict(units.values_list("kind").annotate(n=Count("pk")).values_list("kind", "n"))
    return {
        "townships": counts.get(UnitKind.TOWNSHIP, 0),
        "villages": counts.get(UnitKind.VILLAGE, 0),
        "military": counts.get(UnitKind.MILITARY, 0) + counts.get(UnitKind.PARTNER_FORCE, 0),
        "units": sum(counts.values()),
        "groups": LeadingGroup.objects.visible_to(user).filter(unit__is_active=True).count(),
        "pairings": Pairing.objects.visible_to(user).active().count(),
    }


def account_queryset(*, user):
    """Return the accounts an office user manages: those whose every membership lies in the user's jurisdiction.

    Accounts without a membership, staff and superusers are managed in Django admin only.
    """
    users = get_user_model().objects
    if not is_office(user):
        return users.none()
    inside = Membership.objects.editable_by(user)
    outside = Membership.objects.exclude(pk__in=inside.values("pk"))
    return users.filter(pk__in=inside.values("user_id"), is_staff=False, is_superuser=False).exclude(
        pk__in=outside.values("user_id")
    )


def account_list(*, user, query=""):
    accounts = account_queryset(user=user)
    if query:
        accounts = accounts.filter(Q(username__icontains=query) | Q(profile__full_name__icontains=query))
    memberships = Membership.objects.select_related("unit").order_by("unit__path")
    return (
        accounts.select_related("profile")
        .prefetch_related(Prefetch("memberships", queryset=memberships))
        .order_by("username")
    )


def account_events(*, account, limit=20):
    """Return the latest security events about an account, failed logins under its username included."""
    return AuditEvent.objects.filter(
        Q(target=account) | Q(target__isnull=True, username=account.get_username())
    ).select_related("actor")[:limit]
