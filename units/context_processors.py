from django.urls import NoReverseMatch, reverse

from .constants import Role
from .permissions import memberships

# (label, url name, roles that see it)
NAV = [
    ("首页", "home", None),
    ("单位", "units:list", None),
    ("共建对子", "units:pairings", None),
    ("优抚对象", "beneficiaries:list", [Role.OFFICE, Role.LIAISON, Role.LEADER]),
    ("抚恤发放", "payments:batches", [Role.OFFICE, Role.LEADER]),
    ("发放台账", "payments:ledger", [Role.LIAISON]),
    ("双拥活动", "activities:list", None),
    ("季度报告", "reports:quarterly", [Role.OFFICE, Role.LIAISON, Role.LEADER]),
    ("年度总结", "reports:summaries", [Role.OFFICE, Role.LEADER]),
    ("账号管理", "accounts:list", [Role.OFFICE]),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = {role for _, role, _ in memberships(user)}
    items = []
    for label, name, allowed in NAV:
        if not roles or (allowed is not None and not roles & set(allowed)):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        items.append({"label": label, "url": url, "active": False})
    matches = [
        item
        for item in items
        if request.path == item["url"] or (item["url"] != "/" and request.path.startswith(item["url"]))
    ]
    if matches:
        max(matches, key=lambda item: len(item["url"]))["active"] = True
    role_labels = sorted({Role(role).label for role in roles})
    return {"nav_items": items, "user_roles": role_labels}
