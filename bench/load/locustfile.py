"""Simulated users of every role against a running portal: log in through the login form, then open pages.

    locust -f bench/load/locustfile.py --host http://127.0.0.1:8000 --plan plan.json --think 1-3

The plan (bench/load/plan.py, written by bench/load/run.py) names the accounts and the real ids to open.
`--think 1-3` waits 1–3 s between pages (scenario a); `--think 0` does not wait (scenario b).
A request fails on any status but 200, and on any redirect (a redirect to the login page included).
"""

import itertools
import json
import os
import random
import re
import sys
from urllib.parse import quote

from locust import FastHttpUser, events
from locust.exception import StopUser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pages import MIX, page_name  # noqa: E402

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@events.init_command_line_parser.add_listener
def add_options(parser):
    parser.add_argument("--plan", default=os.environ.get("BENCH_LOAD_PLAN", ""), help="plan.json from run.py")
    parser.add_argument("--think", default="1-3", help="seconds between pages: 'least-most' or '0'")


_plans = {}


def load_plan(path):
    if path not in _plans:
        with open(path, encoding="utf-8") as file:
            _plans[path] = json.load(file)
    return _plans[path]


class Persona(FastHttpUser):
    """One simulated person: logs in as the next account of its role and opens the role's pages."""

    abstract = True
    role = ""

    def wait_time(self):
        think = str(self.environment.parsed_options.think)
        least, _, most = think.partition("-")
        return random.uniform(float(least), float(most or least))

    def on_start(self):
        plan = load_plan(self.environment.parsed_options.plan)
        accounts = plan["roles"][self.role]
        self.account = accounts[next(self.turns) % len(accounts)]
        self.rng = random.Random()
        self.log_in(self.account["username"], plan["password"])

    def log_in(self, username, password):
        with self.client.get("/login/", name="登录页", catch_response=True) as response:
            token = CSRF_INPUT.search(response.text or "")
            if response.status_code != 200 or token is None:
                response.failure(f"登录页 HTTP {response.status_code}，无 CSRF 令牌")
                raise StopUser()
        data = {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1), "next": ""}
        with self.client.post(
            "/login/", data=data, name="登录", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302 or "/login/" in (response.headers.get("Location") or ""):
                response.failure(f"{username} 登录失败：HTTP {response.status_code}")
                raise StopUser()
            response.success()

    def open(self, label, page):
        method, path, data = page(self.account, self.rng)
        name = page_name(self.role, label)
        # Named in gunicorn's access log too, where run.py reads the time spent in the server.
        headers = {"X-Load-Page": quote(name)}
        if method == "POST":
            headers.update({"X-CSRFToken": self.csrf_token(), "Referer": self.host + path})
        with self.client.request(
            method,
            path,
            data=data,
            headers=headers,
            name=name,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code in (301, 302, 303, 307, 308):
                location = response.headers.get("Location") or ""
                where = "登录页" if "/login/" in location else location
                response.failure(f"HTTP {response.status_code} 跳转到 {where}")
            elif response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")

    def csrf_token(self):
        for cookie in self.client.cookiejar:
            if cookie.name == "csrftoken":
                return cookie.value
        return ""


def page_task(label, page):
    def run(user):
        user.open(label, page)

    run.__name__ = f"open_{page.__name__}"
    return run


def persona(role):
    label, weight, pages = MIX[role]
    tasks = {page_task(page_label, page): page_weight for page_label, page_weight, page in pages}
    return type(
        f"Persona_{role}",
        (Persona,),
        {"role": role, "weight": weight, "tasks": tasks, "turns": itertools.count(), "__doc__": label},
    )


CountyOffice = persona("county_office")
TownshipLiaison = persona("township_liaison")
Leader = persona("leader")
UpperOffice = persona("upper_office")
