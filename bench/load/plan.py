"""The accounts and real ids the simulated users work with, read from the province profile (Django loaded).

For each role a few accounts of the generated profile, each with the people, activities and townships
it may see, so that every page the load opens exists and belongs to the user who opens it.
"""

import math
import random

from django.contrib.auth import get_user_model
from django.db.models import Max
from django.utils import timezone

from activities.models import Activity
from beneficiaries.constants import BatchStatus, PaymentKind
from beneficiaries.models import Beneficiary, Payment
from units.constants import Role, UnitKind
from units.management.commands.seed_scale import PROFILES, scale_roots, usernames_prefix
from units.models import Membership, Unit

PROFILE = PROFILES["province"]
PASSWORD = "Bench-scale-2025"
PER_PAGE = 50
# How many accounts of each role the simulated users take turns with, and ids kept per account.
ACCOUNTS = {"county_office": 25, "township_liaison": 40, "leader": 15, "upper_office": 15}
PEOPLE_PER_ACCOUNT = 40
ACTIVITIES_PER_ACCOUNT = 20
ROLE_MEMBERSHIPS = {
    "county_office": (Role.OFFICE, [UnitKind.COUNTY]),
    "township_liaison": (Role.LIAISON, [UnitKind.TOWNSHIP]),
    "leader": (Role.LEADER, [UnitKind.COUNTY]),
    "upper_office": (Role.OFFICE, [UnitKind.PROVINCE, UnitKind.CITY]),
}
RESEED = "请先运行 make bench，或 python manage.py seed_scale --profile province --password Bench-scale-2025"


class MissingData(Exception):
    """The province profile is not (wholly) in the database."""


def root_unit():
    root = scale_roots(PROFILE).first()
    if root is None:
        raise MissingData(f"数据库中没有省级规模数据。{RESEED}。")
    checks = [
        ("优抚对象", Beneficiary.objects.filter(township__path__startswith=root.path)),
        ("发放记录", Payment.objects.filter(township__path__startswith=root.path)),
        ("双拥活动", Activity.objects.filter(unit__path__startswith=root.path)),
    ]
    for label, rows in checks:
        if not rows.exists():
            raise MissingData(f"省级规模数据中没有{label}。{RESEED}（需要时加 --reset）。")
    account = get_user_model().objects.filter(username__startswith=usernames_prefix(PROFILE)).first()
    if account is None or not account.check_password(PASSWORD):
        # A wrong password would lock the accounts out (axes) in the first seconds of the load.
        raise MissingData(f"规模数据账号的密码不是 {PASSWORD}。{RESEED} --reset。")
    return root


def last_paid_month(root):
    month = Payment.objects.filter(
        township__path__startswith=root.path, kind=PaymentKind.LIVING, is_backpay=False, batch__status=BatchStatus.PAID
    ).aggregate(last=Max("month"))["last"]
    return f"{month:%Y-%m}"


def memberships(root, role):
    kind, unit_kinds = ROLE_MEMBERSHIPS[role]
    return (
        Membership.objects.filter(
            role=kind,
            unit__kind__in=unit_kinds,
            unit__path__startswith=root.path,
            user__username__startswith=usernames_prefix(PROFILE),
        )
        .select_related("user", "unit")
        .order_by("unit__path")
    )


def account_for(membership, *, month, year, seed):
    """One account's row of the plan: who it is and the ids its pages are picked from."""
    user, unit = membership.user, membership.unit
    people = Beneficiary.objects.visible_to(user)
    count = people.count()
    picked = list(
        people.order_by("?").values("pk", "name", "name_initials", "id_number")[:PEOPLE_PER_ACCOUNT]
        if count > 5 * PEOPLE_PER_ACCOUNT
        else people.values("pk", "name", "name_initials", "id_number")
    )
    random.Random(seed).shuffle(picked)
    activities = list(
        Activity.objects.visible_to(user).order_by("?").values_list("pk", flat=True)[:ACTIVITIES_PER_ACCOUNT]
    )
    townships = []
    if unit.kind == UnitKind.COUNTY:
        townships = list(
            Unit.objects.filter(parent=unit, kind=UnitKind.TOWNSHIP, is_active=True).values_list("pk", flat=True)
        )
    return {
        "username": user.username,
        "unit": unit.pk,
        "unit_name": unit.name,
        "unit_kind": unit.kind,
        "people_count": count,
        "registry_pages": max(2, min(20, math.ceil(count / PER_PAGE))),
        "people": [
            {"id": p["pk"], "name": p["name"], "initials": p["name_initials"], "id_number": p["id_number"]}
            for p in picked
        ],
        "activities": activities,
        "townships": townships,
        "month": month,
        "year": year,
    }


def build(seed=2026, accounts=None):
    """Return the plan: {"password", "roles": {role: [account, ...]}}; accounts overrides ACCOUNTS."""
    root = root_unit()
    month = last_paid_month(root)
    year = timezone.localdate().year
    rng = random.Random(seed)
    wanted = {**ACCOUNTS, **(accounts or {})}
    roles = {}
    for role, how_many in wanted.items():
        rows = list(memberships(root, role))
        chosen = rows if len(rows) <= how_many else rng.sample(rows, how_many)
        roles[role] = [account_for(m, month=month, year=year, seed=rng.randrange(1 << 30)) for m in chosen]
        roles[role] = [a for a in roles[role] if a["people"] and (a["activities"] or role == "leader")]
        if not roles[role]:
            raise MissingData(f"规模数据中找不到可用的账号（{role}）。{RESEED} --reset。")
    return {"password": PASSWORD, "roles": roles}


def extremes(plan, role):
    """The accounts of a role with the fewest and the most people in scope: the small and the large unit."""
    accounts = sorted(plan["roles"][role], key=lambda a: a["people_count"])
    return accounts[0], accounts[-1]
