"""Measure page times on the database named by DATABASE_URL; print one JSON line of results.

Run by bench/run.py, once per database, so that Django settings are loaded for that database.
"""

import argparse
import importlib.util
import json
import logging
import math
import os
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shuangyong.settings")

import django  # noqa: E402

django.setup()
logging.getLogger("shuangyong.security").setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message="No directory at")

import payments  # noqa: E402
import registry  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from beneficiaries.models import Beneficiary  # noqa: E402
from units.constants import Role, UnitKind  # noqa: E402
from units.management.commands.seed_scale import PROFILES, scale_roots  # noqa: E402
from units.models import Membership, Unit  # noqa: E402

LIST_TARGET_MS = 300
SEARCH_TARGET_MS = 100
PER_PAGE = 50


def load_bench(name):
    """Load bench/<name>.py by path: bench/activities.py shares its name with the Django app."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", Path(__file__).resolve().parent / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def log(message):
    print(message, file=sys.stderr, flush=True)


def prepare(profile, regenerate=False):
    """Migrate, generate the profile unless it is there, and return its root unit."""
    call_command("migrate", verbosity=0)
    root = scale_roots(PROFILES[profile]).first()
    if root is not None and not Beneficiary.objects.filter(township__path__startswith=root.path).exists():
        regenerate = True  # data generated before the registry had people
    if root is None or regenerate:
        log(f"[{connection.vendor}] 生成规模数据 {profile} ……")
        call_command("seed_scale", profile=profile, reset=regenerate, password="Bench-scale-2025", stdout=sys.stderr)
        root = scale_roots(PROFILES[profile]).get()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
    return root


def pages(root):
    """Return [(label, user, url, target ms)] for an office user at the root and a township liaison."""
    subtree = Unit.objects.filter(path__startswith=root.path, is_active=True)
    office = Membership.objects.get(unit=root, role=Role.OFFICE).user
    liaison_membership = (
        Membership.objects.filter(role=Role.LIAISON, unit__kind=UnitKind.TOWNSHIP, unit__path__startswith=root.path)
        .select_related("user", "unit")
        .order_by("unit__path")
        .first()
    )
    liaison, township = liaison_membership.user, liaison_membership.unit
    county = subtree.filter(kind=UnitKind.COUNTY).order_by("path").last()
    deep_page = max(1, int(math.ceil(subtree.count() / PER_PAGE) * 0.9))
    village = subtree.filter(kind=UnitKind.VILLAGE).order_by("path").last()
    units = reverse("units:list")
    return [
        ("单位列表 首页（双拥办）", office, units, LIST_TARGET_MS),
        (f"单位列表 第 {deep_page} 页（双拥办）", office, f"{units}?page={deep_page}", LIST_TARGET_MS),
        ("单位搜索 村名（双拥办）", office, f"{units}?{urlencode({'q': village.name})}", SEARCH_TARGET_MS),
        ("单位搜索 民政局（双拥办）", office, f"{units}?{urlencode({'q': '民政局'})}", SEARCH_TARGET_MS),
        ("单位搜索 区划代码（双拥办）", office, f"{units}?q={township.region_code[:9]}", SEARCH_TARGET_MS),
        ("单位详情 顶级单位（双拥办）", office, reverse("units:detail", args=[root.pk]), LIST_TARGET_MS),
        ("单位详情 县（双拥办）", office, reverse("units:detail", args=[county.pk]), LIST_TARGET_MS),
        ("领导小组 县（双拥办）", office, reverse("units:group", args=[county.pk]), LIST_TARGET_MS),
        ("共建对子列表（双拥办）", office, reverse("units:pairings"), LIST_TARGET_MS),
        ("单位列表 首页（乡镇联络员）", liaison, units, LIST_TARGET_MS),
        ("单位详情 本乡镇（乡镇联络员）", liaison, reverse("units:detail", args=[township.pk]), LIST_TARGET_MS),
        ("领导小组 本乡镇（乡镇联络员）", liaison, reverse("units:group", args=[township.pk]), LIST_TARGET_MS),
    ]


def percentile(values, share):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def measure(client, url, requests, warmup, data=None):
    """Time GET url (or POST data to it when data is given)."""

    def fetch():
        return client.post(url, data) if data is not None else client.get(url)

    for _ in range(warmup):
        fetch()
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = fetch()
        times.append((time.perf_counter() - started) * 1000)
    # Counted apart so that recording queries does not slow the timed requests.
    with CaptureQueriesContext(connection) as queries:
        response = fetch()
    return {
        "kind": "page",
        "status": response.status_code,
        "p50": percentile(times, 0.50),
        "p95": percentile(times, 0.95),
        "queries": len(queries),
        "bytes": len(response.content),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="province")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--parts", default="units,registry,import,export,payments,activities,summaries")
    args = parser.parse_args()
    parts = set(args.parts.split(","))

    started = time.perf_counter()
    root = prepare(args.profile, args.regenerate)
    log(f"[{connection.vendor}] 数据就绪（{time.perf_counter() - started:.1f} 秒），开始测量 ……")
    results = []
    clients = {}
    timed = [(*page, None) for page in pages(root)] if "units" in parts else []
    if "registry" in parts:
        timed += registry.pages(root)
    if "payments" in parts:
        payments.prepare(root, args.profile)
        timed += payments.pages(root)
    if "activities" in parts:
        activity_bench = load_bench("activities")
        activity_bench.prepare(root, args.profile)
        timed += activity_bench.pages(root)
    for label, user, url, target, data in timed:
        if user.pk not in clients:
            clients[user.pk] = Client()
            clients[user.pk].force_login(user)
        result = measure(clients[user.pk], url, args.requests, args.warmup, data)
        result.update(page=label, url=url, target=target)
        log(f"  {label}: p95 {result['p95']:.1f} ms, {result['queries']} 次查询, HTTP {result['status']}")
        results.append(result)
    if "import" in parts:
        results += registry.import_results(root)
    if "export" in parts:
        results += registry.export_results(args.profile)
    if "payments" in parts:
        results += payments.summary_results(root, requests=args.requests, warmup=args.warmup)
        results += payments.batch_results(root)
    if "activities" in parts:
        results += activity_bench.page_size_results(root)
        results += activity_bench.export_results(root)
    if "summaries" in parts:
        summary_bench = load_bench("summaries")
        results += summary_bench.figures_results(root, requests=max(5, args.requests // 6))
        results += summary_bench.pdf_results(root, requests=max(3, args.requests // 10))
    print(json.dumps({"vendor": connection.vendor, "results": results}, ensure_ascii=False))


if __name__ == "__main__":
    main()
