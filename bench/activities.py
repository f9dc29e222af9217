"""Benchmarks of the activity log on the scale profile.

Called by bench/measure.py (Django already set up for the database under test):
- `prepare(root, profile)`: adds the profile's activities when the data was generated before they existed;
The file is loaded by path (the name `activities` is the Django app's).
- `pages(root)`: the log (first page, a filtered page 走访慰问 + 八一, a deep page) and the dashboard, for the office
  of the top unit, a county office and a township liaison (timed like the other pages);
- `page_size_results(root)`: the log's first page at two page sizes: the query count must be the same;
- `export_results(root, requests)`: the filtered Excel export (走访慰问 + 八一) and one year of the top unit, timed.
"""

import math
import sys
import time
from contextlib import contextmanager
from urllib.parse import urlencode

from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from registry import count_queries, county_of, log, office_user, once, township_liaison

from activities import log_views
from activities.constants import ActivityType, Occasion
from activities.models import Activity
from units.constants import UnitKind

LIST_TARGET_MS = 300
DASHBOARD_TARGET_MS = 2000  # all figures of a year, as for the annual summary
EXPORT_TARGET_S = 30
PAGE_SIZES = (20, 200)
VISITS_ON_ARMY_DAY = {"type": ActivityType.VISIT, "occasion": Occasion.ARMY_DAY}


def prepare(root, profile):
    """Generate the profile's activities when the tree has none yet."""
    if Activity.objects.filter(unit__path__startswith=root.path).exists():
        return
    log(f"[{connection.vendor}] 生成规模活动数据 {profile} ……")
    call_command("seed_scale", profile=profile, activities_only=True, stdout=sys.stderr)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _deep_page(root):
    count = Activity.objects.filter(unit__path__startswith=root.path).count()
    return max(1, int(math.ceil(count / log_views.PER_PAGE) * 0.9))


def pages(root):
    """Return [(label, user, url, target ms, POST data or None)] for the log and the dashboard."""
    office = office_user(root)
    log_url = reverse("activities:list")
    dashboard = reverse("activities:dashboard")
    top = "省" if root.kind == UnitKind.PROVINCE else "县"
    deep = _deep_page(root)
    rows = [
        (f"活动台账 首页（{top}双拥办）", office, log_url, LIST_TARGET_MS, None),
        (
            f"活动台账 走访慰问+八一（{top}双拥办）",
            office,
            f"{log_url}?{urlencode(VISITS_ON_ARMY_DAY)}",
            LIST_TARGET_MS,
            None,
        ),
        (f"活动台账 第 {deep} 页（{top}双拥办）", office, f"{log_url}?page={deep}", LIST_TARGET_MS, None),
        (f"活动仪表盘 本年（{top}双拥办）", office, dashboard, DASHBOARD_TARGET_MS, None),
        (
            f"活动仪表盘 上年（{top}双拥办）",
            office,
            f"{dashboard}?year={timezone.localdate().year - 1}",
            DASHBOARD_TARGET_MS,
            None,
        ),
    ]
    county = county_of(root)
    if county is not None:
        county_office = office_user(county)
        rows += [
            ("活动台账 首页（县双拥办）", county_office, log_url, LIST_TARGET_MS, None),
            ("活动仪表盘 本年（县双拥办）", county_office, dashboard, DASHBOARD_TARGET_MS, None),
        ]
    rows.append(("活动台账 首页（乡镇联络员）", township_liaison(root), log_url, LIST_TARGET_MS, None))
    return rows


@contextmanager
def page_size(size):
    kept = log_views.PER_PAGE
    log_views.PER_PAGE = size
    try:
        yield
    finally:
        log_views.PER_PAGE = kept


def page_size_results(root):
    """The log's first page at two page sizes: the same number of queries, whatever the size."""
    office = office_user(root)
    client = Client()
    client.force_login(office)
    results = []
    for query in ("", urlencode(VISITS_ON_ARMY_DAY)):
        url = f"{reverse('activities:list')}?{query}"
        counts = {}
        for size in PAGE_SIZES:
            with page_size(size):
                client.get(url)  # warm the session and caches
                with count_queries() as queries:
                    status = client.get(url).status_code
            counts[size] = queries["n"]
        same = len(set(counts.values())) == 1
        label = f"活动台账 每页 {PAGE_SIZES[0]} / {PAGE_SIZES[1]} 行的查询数{'（走访慰问+八一）' if query else ''}"
        verdict = ("一致" if same else "随页长增加") if status == 200 else status
        row = once(label, None, None, queries=counts[PAGE_SIZES[-1]], status=verdict)
        row["kind"] = "page"
        row["p50"] = None
        row["note"] = " / ".join(f"{counts[size]} 次" for size in PAGE_SIZES)
        log(f"  {label}: {row['note']}")
        results.append(row)
    return results


def export_results(root, *, requests=3):
    """Time the Excel export of the log as filtered (the best of a few runs, each with its query count)."""
    office = office_user(root)
    client = Client()
    client.force_login(office)
    year = timezone.localdate().year - 1
    activities = Activity.objects.filter(unit__path__startswith=root.path)
    results = []
    for label, params, rows in (
        ("导出 走访慰问+八一", VISITS_ON_ARMY_DAY, activities.filter(type="visit", occasion=Occasion.ARMY_DAY).count()),
        (f"导出 {year} 年全部", {"year": year}, activities.filter(start_date__year=year).count()),
    ):
        url = f"{reverse('activities:export')}?{urlencode(params)}"
        times, size, status = [], 0, None
        for _ in range(max(1, requests)):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            size, status = len(response.content), response.status_code
        with count_queries() as queries:
            client.get(url)
        row = once(f"{label}（{rows:,} 项）", min(times), EXPORT_TARGET_S, queries=queries["n"], status=status)
        row["note"] = f"文件 {size / 1e6:.1f} MB；{len(times)} 次中最快"
        log(f"  {row['page']}: {min(times):.2f} s, {queries['n']} 次查询, HTTP {status}")
        results.append(row)
    return results
