"""The page mix of the load test: which pages each role opens, how often, and with which real ids.

Plain Python (no Django, no locust): the locustfile drives these pages over HTTP and run.py counts the
queries of the same pages through Django's test client. An account is a dict of the plan that run.py
writes (plan.py): username, unit, townships, people, activities, month, year.
"""

from urllib.parse import urlencode

REGISTRY = "/beneficiaries/"
LEDGER = "/payments/ledger/"
ACTIVITIES = "/activities/"
CATEGORIES = ["01", "03", "04", "07", "08", "09", "10"]


def get(path, params=None):
    return "GET", f"{path}?{urlencode(params)}" if params else path, None


def home(account, rng):
    return get("/")


def registry(account, rng):
    return get(REGISTRY)


def registry_filtered(account, rng):
    params = {"category": rng.choice(CATEGORIES)}
    if account["townships"]:
        params["township"] = rng.choice(account["townships"])
    return get(REGISTRY, params)


def registry_page(account, rng):
    return get(REGISTRY, {"page": rng.randint(2, account["registry_pages"])})


def registry_search_name(account, rng):
    return get(REGISTRY, {"q": rng.choice(account["people"])["name"]})


def registry_search_initials(account, rng):
    return get(REGISTRY, {"q": rng.choice(account["people"])["initials"]})


def registry_search_id(account, rng):
    # A full ID number is posted, so that it stays out of URLs and server logs.
    return "POST", REGISTRY, {"q": rng.choice(account["people"])["id_number"]}


def person(account, rng):
    return get(f"{REGISTRY}{rng.choice(account['people'])['id']}/")


def ledger(account, rng):
    return get(LEDGER)


def ledger_filtered(account, rng):
    params = {"kind": "living", "month_from": account["month"], "month_to": account["month"]}
    if account["townships"]:
        params["township"] = rng.choice(account["townships"])
    return get(LEDGER, params)


def payment_summary(account, rng):
    return get("/payments/summary/", {"year": account["year"] - 1})


def activity_log(account, rng):
    return get(ACTIVITIES)


def activity_log_filtered(account, rng):
    return get(ACTIVITIES, {"type": "visit", "occasion": "army_day", "year": account["year"] - 1})


def activity(account, rng):
    return get(f"{ACTIVITIES}{rng.choice(account['activities'])}/")


def activity_dashboard(account, rng):
    return get(f"{ACTIVITIES}dashboard/")


def quarterly_reports(account, rng):
    return get("/reports/quarterly/")


def summaries(account, rng):
    return get("/reports/summaries/")


def completeness(account, rng):
    return get("/reports/completeness/")


def units(account, rng):
    return get("/units/")


# Role -> (label, weight among the simulated users, [(page label, weight, page)]).
# A county's office staff do most of the day's work; township liaisons look after their own township;
# leaders glance at the figures; city and province offices look across the whole province. The yearly
# payment summary is a few clicks a day, and only the county's (a province's year is measured by make bench).
MIX = {
    "county_office": (
        "县双拥办",
        8,
        [
            ("首页", 2, home),
            ("优抚对象列表", 3, registry),
            ("优抚对象列表 筛选", 3, registry_filtered),
            ("优抚对象列表 翻页", 1, registry_page),
            ("优抚对象搜索 姓名", 3, registry_search_name),
            ("优抚对象搜索 拼音首字母", 1, registry_search_initials),
            ("优抚对象搜索 身份证号", 1, registry_search_id),
            ("优抚对象详情", 5, person),
            ("发放台账", 2, ledger),
            ("发放台账 筛选", 1, ledger_filtered),
            ("年度发放汇总", 1, payment_summary),
            ("活动台账", 2, activity_log),
            ("活动台账 筛选", 1, activity_log_filtered),
            ("活动详情", 2, activity),
            ("活动仪表盘", 1, activity_dashboard),
        ],
    ),
    "township_liaison": (
        "乡镇联络员",
        8,
        [
            ("首页", 2, home),
            ("优抚对象列表", 3, registry),
            ("优抚对象搜索 姓名", 2, registry_search_name),
            ("优抚对象详情", 3, person),
            ("发放台账", 1, ledger),
            ("活动台账", 2, activity_log),
            ("活动详情", 2, activity),
            ("季度报告", 2, quarterly_reports),
        ],
    ),
    "leader": (
        "县领导",
        2,
        [
            ("首页", 2, home),
            ("活动仪表盘", 3, activity_dashboard),
            ("年度总结", 2, summaries),
            ("报送情况", 2, completeness),
            ("优抚对象列表", 1, registry),
        ],
    ),
    "upper_office": (
        "市省双拥办",
        2,
        [
            ("首页", 1, home),
            ("单位列表", 1, units),
            ("优抚对象列表", 2, registry),
            ("优抚对象搜索 姓名", 2, registry_search_name),
            ("优抚对象详情", 2, person),
            ("发放台账", 1, ledger),
            ("活动台账", 2, activity_log),
            ("活动仪表盘", 1, activity_dashboard),
        ],
    ),
}


# p95 targets: lists and pages 300 ms; pages with every figure of a year 2 s, as in bench/activities.py and payments.py.
TARGET_MS = 300
YEAR_FIGURES_TARGET_MS = {"活动仪表盘": 2000, "年度发放汇总": 2000}


def target_ms(name):
    label = name.partition("（")[0]
    return YEAR_FIGURES_TARGET_MS.get(label, TARGET_MS)


def page_name(role, label):
    """The name a page's requests are counted under: the page and who opened it."""
    return f"{label}（{MIX[role][0]}）"
