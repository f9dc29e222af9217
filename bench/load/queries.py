"""Queries per page of the load's mix, through Django's test client (Django loaded, DEBUG off).

Each page is opened for the role's account with the fewest and with the most people in scope, at 10 and at
100 rows per page; a page whose count grows with the rows or with the unit runs a query per row or per unit.
"""

import random
import time
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pages import MIX, page_name

from activities import log_views
from shuangyong.lib import pagination

PAGE_SIZES = (10, 100)
DETAIL_PAGES = {"person", "activity"}  # one record's page: the small and large unit open different records


@contextmanager
def page_size(size):
    kept = pagination.paginate.__defaults__, log_views.PER_PAGE
    pagination.paginate.__defaults__ = (size, None)
    log_views.PER_PAGE = size
    try:
        yield
    finally:
        pagination.paginate.__defaults__, log_views.PER_PAGE = kept


def count(client, method, path, data):
    fetch = client.post if method == "POST" else client.get
    fetch(path, data) if data else fetch(path)  # warm the session and the caches
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        response = fetch(path, data) if data else fetch(path)
    return len(queries), response.status_code, (time.perf_counter() - started) * 1000


def verdict(counts, statuses, detail):
    bad = [status for status in statuses if status != 200]
    if bad:
        return f"HTTP {bad[0]}"
    (small_few, small_many), (large_few, large_many) = counts
    if small_many > small_few or large_many > large_few:
        return "随行数增长"
    if large_few != small_few and detail:
        # Two different records: a prefetch runs only when there is something to fetch.
        return f"因记录而异（{min(small_few, large_few)}–{max(small_few, large_few)}）"
    if large_few > small_few or large_many > small_many:
        return "随单位增长"
    return "不变"


def page_counts(plan, extremes):
    """Return one row per page of the mix: role, page, the four counts and the verdict."""
    users = get_user_model().objects
    rows = []
    for role, (_, _, pages) in MIX.items():
        small, large = extremes(plan, role)
        clients = []
        for account in (small, large):
            client = Client(raise_request_exception=False)
            client.force_login(users.get(username=account["username"]))
            clients.append((account, client))
        for label, _, page in pages:
            counts, statuses = [], []
            for account, client in clients:
                method, path, data = page(account, random.Random(0))
                per_size = []
                for size in PAGE_SIZES:
                    with page_size(size):
                        n, status, ms = count(client, method, path, data)
                    per_size.append(n)
                    statuses.append(status)
                counts.append(per_size)
            rows.append(
                {
                    "page": page_name(role, label),
                    "small_unit": small["unit_name"],
                    "large_unit": large["unit_name"],
                    "counts": counts,
                    "large_ms": round(ms),  # one request, the large unit at 100 rows
                    "verdict": verdict(counts, statuses, detail=page.__name__ in DETAIL_PAGES),
                }
            )
    return rows
