"""A read-only role (领导) changes nothing with POST, PUT or DELETE on any URL of the portal."""

from collections import defaultdict

from django.apps import apps
from django.db import transaction
from django.urls import reverse

from units.tests import test_access_matrix
from units.tests.test_access_matrix import MATRIX, TARGETS

world = test_access_matrix.world  # the fixture of every persona and object the matrix visits

# Rows that a request writes whoever sends it: the session, login bookkeeping and lockout counters.
BOOKKEEPING = {"sessions.session", "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog"}
IGNORED_FIELDS = {"auth.user": {"last_login"}}


def snapshot():
    """Every row of every table, as plain values."""
    state = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in BOOKKEEPING:
            continue
        names = [f.attname for f in model._meta.concrete_fields if f.attname not in IGNORED_FIELDS.get(label, ())]
        state[label] = sorted(map(repr, model.objects.values_list(*names)))
    return state


def by_target(names):
    grouped = defaultdict(list)
    for name in names:
        grouped[MATRIX[name][1]].append(name)
    return grouped


def test_the_leader_changes_nothing_with_post_put_or_delete_on_any_url(client, world):
    client.force_login(world["leader"])
    client.get(reverse("home"))
    changed, failed = [], []
    for target, names in sorted(by_target(MATRIX).items()):
        # Each target's objects live in a savepoint of their own: some targets cannot coexist.
        with transaction.atomic():
            args = TARGETS[target](world)
            urls = [reverse(name, args=args) for name in names]
            before = snapshot()
            for url in urls:
                for method in ("post", "put", "delete"):
                    status = getattr(client, method)(url).status_code
                    if status >= 500 or (method != "post" and status in (301, 302, 303)):
                        failed.append(f"{method.upper()} {url} -> {status}")
            after = snapshot()
            changed += [f"{target}: {label}" for label, rows in after.items() if rows != before[label]]
            transaction.set_rollback(True)
    assert changed == [], f"领导的请求改变了数据：{changed}"
    assert failed == []


def test_the_leader_may_not_post_put_or_delete_to_any_action_url(client, world):
    actions = [name for name, spec in MATRIX.items() if spec[0] == "post"]
    client.force_login(world["leader"])
    for target, names in sorted(by_target(actions).items()):
        with transaction.atomic():
            args = TARGETS[target](world)
            for name in names:
                url = reverse(name, args=args)
                for method in ("post", "put", "delete"):
                    assert getattr(client, method)(url).status_code in (403, 404, 405), f"{method} {name}"
            transaction.set_rollback(True)
