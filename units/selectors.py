from django.contrib.auth import get_user_model
from django.db.models import Count, F, Prefetch, Q

from .constants import GROUP_ROLE_ORDER, MILITARY_KINDS, TOP_KINDS, GroupRole, Role, UnitKind
from .models import Agreement, AuditEvent, GroupMember, LeadingGroup, Membership, Pairing, Unit
from .permissions import is_office, memberships, scope_q


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


def scope_attention(*, user, on, limit=10):
    """List what needs the office's attention: member units without a group, groups without a 组长, bare pairings."""
    member_units = (
        Unit.objects.visible_to(user).filter(is_active=True).exclude(kind__in=[*MILITARY_KINDS, UnitKind.VILLAGE])
    )
    leaders_now = GroupMember.objects.on(on).filter(role=GroupRole.LEADER).values("group_id")
    return {
        "without_group": member_units.filter(leading_group__isnull=True).order_by("path")[:limit],
        "without_leader": LeadingGroup.objects.visible_to(user)
        .filter(unit__is_active=True)
        .exclude(pk__in=leaders_now)
        .select_related("unit")
        .order_by("unit__path")[:limit],
        "pairings_without_agreement": Pairing.objects.visible_to(user)
        .active()
        .filter(agreements__isnull=True)
        .select_related("civil_unit", "military_unit")[:limit],
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


# 军民共建 pairings

PAIRING_ORDER = {
    "civil": ["civil_unit__path", "-signed_on", "military_unit__path", "pk"],
    "military": ["military_unit__path", "-signed_on", "civil_unit__path", "pk"],
}


def pairing_list(*, user, by="civil", status="", query=""):
    """Return the pairings a user may see, grouped by the civil or the military side, with agreement counts."""
    pairings = Pairing.objects.visible_to(user).select_related("civil_unit", "military_unit")
    if status == "active":
        pairings = pairings.active()
    elif status == "ended":
        pairings = pairings.filter(ended_on__isnull=False)
    if query:
        pairings = pairings.filter(Q(civil_unit__name__icontains=query) | Q(military_unit__name__icontains=query))
    return pairings.annotate(agreement_count=Count("agreements")).order_by(*PAIRING_ORDER[by])


def pairing_agreements(*, pairing):
    return pairing.agreements.select_related("uploaded_by__profile").order_by("-signed_on", "-pk")


def pairing_figures(*, unit, start, end):
    """Return what a period says of the pairings of the unit's subtree (civil side).

    {"active" (in force on `end`), "partners" (their military units' names), "signed" / "ended" (in the period),
     "agreements" (signed in the period)}
    """
    pairings = Pairing.objects.filter(civil_unit__path__startswith=unit.path)
    in_force = pairings.filter(Q(ended_on__isnull=True) | Q(ended_on__gte=end), signed_on__lte=end)
    return {
        "active": in_force.count(),
        "partners": sorted(set(in_force.values_list("military_unit__name", flat=True))),
        "signed": pairings.filter(signed_on__gte=start, signed_on__lte=end).count(),
        "ended": pairings.filter(ended_on__gte=start, ended_on__lte=end).count(),
        "agreements": Agreement.objects.filter(
            pairing__in=pairings.values("pk"), signed_on__gte=start, signed_on__lte=end
        ).count(),
    }


def pairing_civil_choices(*, user):
    """Return the civil units a user may pair: office staff and liaisons inside their own jurisdiction."""
    return (
        Unit.objects.filter(scope_q(user, "path", roles=[Role.OFFICE, Role.LIAISON]), is_active=True)
        .civil()
        .order_by("path")
    )


def pairing_military_choices(*, user):
    """Return the military units and partner forces a user may pair with.

    They are those stationed in the county (or city, province) that holds the user's unit, and those placed
    directly under its higher levels; a township liaison thus sees the county's 人武部, and no other county's.
    """
    paths = [path for path, role, _ in memberships(user) if role in (Role.OFFICE, Role.LIAISON)]
    ids_by_path = {path: [int(part) for part in path.strip("/").split("/")] for path in paths}
    ancestor_ids = {pk for ids in ids_by_path.values() for pk in ids}
    regions = Unit.objects.filter(pk__in=ancestor_ids, kind__in=TOP_KINDS).in_bulk()
    around = Q(pk__in=[])
    for path, ids in ids_by_path.items():
        home = next((regions[pk] for pk in reversed(ids) if pk in regions), None)
        around |= Q(path__startswith=home.path if home else path)
        if home:
            around |= Q(parent_id__in=[pk for pk in ids if pk in regions and pk != home.pk])
    return Unit.objects.filter(around, is_active=True).military().order_by("path")


# Leading groups

HISTORY_ACTIONS = {"+": "新增", "~": "修改", "-": "删除"}


def group_roster_by_role(*, group, on):
    """Return [(role label, members)] for the roles held on a date, in role order."""
    sections = {}
    for member in group_roster(group=group, on=on):
        sections.setdefault(member.role, []).append(member)
    return [(GroupRole(role).label, members) for role, members in sections.items()]


def group_figures(*, unit, start, end):
    """Return what a period says of the unit's leading group and of the groups below it.

    {"name" ("" without a group), "members" (on `end`), "roles": [{"role", "label", "count", "titles"}] in role order
     (job titles, never names), "joined" / "left" (members who started / ended in the period), "subunit_groups"
     (units below with a group that has members on `end`)}
    """
    group = LeadingGroup.objects.filter(unit=unit).first()
    members = list(group_roster(group=group, on=end)) if group else []
    roles = {}
    for member in members:
        row = roles.setdefault(
            member.role, {"role": member.role, "label": GroupRole(member.role).label, "count": 0, "titles": []}
        )
        row["count"] += 1
        row["titles"].append(member.job_title)
    everyone = group.members.all() if group else GroupMember.objects.none()
    return {
        "name": group.name if group else "",
        "members": len(members),
        "roles": list(roles.values()),
        "joined": everyone.filter(start_on__gte=start, start_on__lte=end).count(),
        "left": everyone.filter(end_on__gte=start, end_on__lte=end).count(),
        "subunit_groups": GroupMember.objects.on(end)
        .filter(group__unit__path__startswith=unit.path)
        .exclude(group__unit=unit)
        .values("group")
        .distinct()
        .count(),
    }


def group_memberships(*, group):
    """Return every membership of a group, the most recently started or ended first."""
    members = list(group.members.all())
    return sorted(members, key=lambda m: (max(m.start_on, m.end_on or m.start_on), m.pk), reverse=True)


def group_change_log(*, group, limit=30):
    """Return who recorded which change to a group and its members, newest first."""
    member_rows = GroupMember.history.filter(group_id=group.pk).select_related("history_user__profile")
    group_rows = LeadingGroup.history.filter(id=group.pk).select_related("history_user__profile")
    rows = sorted(
        [*member_rows.order_by("-history_date")[:limit], *group_rows.order_by("-history_date")[:limit]],
        key=lambda row: row.history_date,
        reverse=True,
    )[:limit]
    log = []
    for row in rows:
        if hasattr(row, "role"):
            start = f"{row.start_on:%Y-%m-%d}"
            period = f"{start} 至 {row.end_on:%Y-%m-%d}" if row.end_on else f"{start} 起"
            subject = f"{row.name}（{GroupRole(row.role).label}，{row.job_title}）{period}"
        else:
            subject = f"小组名称：{row.name}；办公室设置：{row.office_note or '未填'}"
        who = _display_name(row.history_user)
        action = HISTORY_ACTIONS.get(row.history_type, row.history_type)
        log.append({"when": row.history_date, "who": who, "action": action, "subject": subject})
    return log


def _display_name(user):
    if user is None:
        return ""
    profile = getattr(user, "profile", None)
    return (profile.full_name if profile else "") or user.get_username()
