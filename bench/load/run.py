"""Load test: gunicorn (2 workers) on the province profile in PostgreSQL, driven by locust, one table per scenario.

    .venv/bin/python bench/load/run.py [--scenario a|b|both] [--duration 10m] [--users 50] [--skip-queries]

(a) 50 simulated users with 1–3 s between pages for 10 minutes (target: p95 ≤ 300 ms, no errors);
(b) 8 users with no pause for 2 minutes: the highest throughput at 8 concurrent connections.
Before the load the queries of every page of the mix are counted (queries.py). The CSV files of locust,
the plan and a JSON summary go to bench/load/results/<time>/.
"""

import argparse
import csv
import datetime
import http.client
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from urllib.parse import unquote

from pages import target_ms

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/shuangyong_bench"
# The page name the locustfile sends, the status, the milliseconds spent in the server, the path (no query:
# searches carry names and ID numbers).
ACCESS_FORMAT = '%({x-load-page}i)s %(s)s %(M)s "%(m)s %(U)s"'
SCENARIOS = {
    "a": {"title": "场景 a：50 个模拟用户，每页间隔 1–3 秒", "users": 50, "rate": 5, "duration": "10m", "think": "1-3"},
    "b": {"title": "场景 b：8 个并发连接，无间隔", "users": 8, "rate": 8, "duration": "2m", "think": "0"},
}


def log(message):
    print(message, file=sys.stderr, flush=True)


def width(text):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def print_table(header, rows, right_from=1):
    table = [header] + rows
    sizes = [max(width(str(line[i])) for line in table) for i in range(len(header))]
    for n, line in enumerate(table):
        cells = []
        for i, cell in enumerate(line):
            space = " " * (sizes[i] - width(str(cell)))
            cells.append(f"{space}{cell}" if i >= right_from else f"{cell}{space}")
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * size for size in sizes))


def load_average():
    one, five, fifteen = os.getloadavg()
    return {"1m": round(one, 2), "5m": round(five, 2), "15m": round(fifteen, 2)}


# ---- before the load: data, plan, queries per page ---------------------------------------------------------
def prepare(args, folder):
    """Check the data, write the plan and count the queries per page; return (plan path, query rows) or exit."""
    # The test client of queries.py calls itself "testserver".
    os.environ.update({**server_env(args), "ALLOWED_HOSTS": "127.0.0.1,testserver"})
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shuangyong.settings")
    import django

    django.setup()
    import plan
    import queries
    from django.db import OperationalError, connection

    try:
        migrate_and_analyze()
        the_plan = plan.build()
    except plan.MissingData as error:
        sys.exit(str(error))
    except OperationalError as error:
        sys.exit(f"无法连接数据库 {args.pg_url}：{str(error).strip()}。{plan.RESEED}。")
    plan_path = folder / "plan.json"
    plan_path.write_text(json.dumps(the_plan, ensure_ascii=False, indent=1), encoding="utf-8")
    counted = [] if args.skip_queries else queries.page_counts(the_plan, plan.extremes)
    connection.close()
    return plan_path, counted


def migrate_and_analyze():
    """Apply migrations newer than the generated data (the server would fail on a missing column), then ANALYZE."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        log("应用新的数据库迁移：" + "、".join(f"{m.app_label}.{m.name}" for m, _ in pending))
        call_command("migrate", verbosity=0)
    if connection.vendor == "postgresql":
        # Fresh planner statistics, as autovacuum keeps them on a server: without them (autovacuum off,
        # or data loaded since the last ANALYZE) PostgreSQL picks nested loops over 40,000-row bitmaps.
        log("更新 PostgreSQL 统计信息（ANALYZE）……")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def print_queries(rows):
    print()
    print(f"每页查询数（Django 测试客户端；每页 {' / '.join(str(s) for s in (10, 100))} 行，小单位与大单位）")
    table = []
    for row in rows:
        (small_few, small_many), (large_few, large_many) = row["counts"]
        table.append([row["page"], small_few, small_many, large_few, large_many, row["verdict"], row["large_ms"]])
    header = ["页面", "小单位 10 行", "小单位 100 行", "大单位 10 行", "大单位 100 行", "结论", "大单位用时 (ms)"]
    print_table(header, table)
    pairs = {(row["small_unit"], row["large_unit"]) for row in rows}
    print("小单位 / 大单位：" + "；".join(f"{small} / {large}" for small, large in sorted(pairs)))


# ---- the server ----------------------------------------------------------------------------------------------
def server_env(args):
    env = {
        "DATABASE_URL": args.pg_url,
        "DEBUG": "0",
        "PRODUCTION": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(Path(tempfile.gettempdir()) / "shuangyong-load" / "static"),
        "MEDIA_ROOT": str(Path(tempfile.gettempdir()) / "shuangyong-load" / "media"),
    }
    return env


def start_server(args, folder):
    env = {**os.environ, **server_env(args)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    python = str(Path(sys.executable))
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], cwd=ROOT, env=env, check=True
    )
    command = [str(Path(sys.executable).parent / "gunicorn"), "shuangyong.wsgi:application"]
    config = ROOT / "deploy" / "gunicorn.conf.py"
    if config.exists():
        command += ["--config", str(config)]
    # Given after the configuration, these win over it: loopback, two workers, logs beside the results.
    command += [
        "--bind",
        f"127.0.0.1:{args.port}",
        "--workers",
        "2",
        "--access-logfile",
        str(folder / "access.log"),
        "--access-logformat",
        ACCESS_FORMAT,
        "--error-logfile",
        str(folder / "gunicorn.log"),
        "--pid",
        str(folder / "gunicorn.pid"),
    ]
    if not config.exists():
        command += ["--timeout", "60", "--max-requests", "2000", "--max-requests-jitter", "200"]
    log("启动 gunicorn：" + " ".join(command[1:]))
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{args.port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn 未能启动（退出码 {server.returncode}），见 {folder / 'gunicorn.log'}。")
        try:
            probe = http.client.HTTPConnection("127.0.0.1", args.port, timeout=5)
            probe.request("GET", "/login/")
            if probe.getresponse().status == 200:
                probe.close()
                return server, url, config.exists()
        except OSError:
            time.sleep(0.5)
    stop_server(server)
    sys.exit(f"gunicorn 60 秒内没有应答，见 {folder / 'gunicorn.log'}。")


def stop_server(server):
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# ---- the load -----------------------------------------------------------------------------------------------
def run_scenario(name, scenario, url, plan_path, folder):
    prefix = folder / f"scenario_{name}"
    command = [
        str(Path(sys.executable).parent / "locust"),
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "--only-summary",
        "--host",
        url,
        "-u",
        str(scenario["users"]),
        "-r",
        str(scenario["rate"]),
        "-t",
        scenario["duration"],
        "--stop-timeout",
        "10",
        "--csv",
        str(prefix),
        "--plan",
        str(plan_path),
        "--think",
        scenario["think"],
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    log(f"{scenario['title']}：{scenario['users']} 个用户，{scenario['duration']} ……")
    before = load_average()
    access_log = folder / "access.log"
    start = access_log.stat().st_size if access_log.exists() else 0
    with open(folder / f"scenario_{name}_locust.log", "w", encoding="utf-8") as output:
        done = subprocess.run(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    after = load_average()
    if done.returncode != 0:
        sys.exit(f"locust 退出码 {done.returncode}，见 {folder / f'scenario_{name}_locust.log'}。")
    result = summarize(name, scenario, prefix, before, after)
    server = server_times(access_log, start)
    for page in result["pages"]:
        page["server_p95"] = server.get(page["page"])
    return result


def percentile(values, share):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def server_times(access_log, start):
    """p95 of the time each page spent in gunicorn (without the wait for a free worker), from the access log."""
    times = {}
    with open(access_log, "rb") as file:
        file.seek(start)
        for line in file.read().decode("utf-8", "replace").splitlines():
            page, _, rest = line.partition(" ")
            parts = rest.split(" ", 2)
            if page == "-" or len(parts) < 2 or not parts[1].isdigit():
                continue
            times.setdefault(unquote(page), []).append(int(parts[1]))
    return {page: percentile(values, 0.95) for page, values in times.items()}


def number(text):
    return float(text) if text not in ("", "N/A") else None


def summarize(name, scenario, prefix, before, after):
    with open(f"{prefix}_stats.csv", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    failures = []
    if Path(f"{prefix}_failures.csv").exists():
        with open(f"{prefix}_failures.csv", encoding="utf-8") as file:
            failures = [
                {"page": row["Name"], "error": row["Error"], "count": int(row["Occurrences"])}
                for row in csv.DictReader(file)
            ]

    def figures(row):
        return {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "rps": number(row["Requests/s"]),
            "p50": number(row["50%"]),
            "p95": number(row["95%"]),
            "p99": number(row["99%"]),
            "max": number(row["Max Response Time"]),
        }

    total = next(row for row in rows if row["Name"] == "Aggregated")
    pages = sorted(
        ({"page": row["Name"], **figures(row)} for row in rows if row["Name"] != "Aggregated"),
        key=lambda page: -(page["p95"] or 0),
    )
    return {
        "scenario": name,
        "title": scenario["title"],
        "users": scenario["users"],
        "duration": scenario["duration"],
        "think": scenario["think"],
        "total": figures(total),
        "pages": pages,
        "failures": failures,
        "load_average": {"before": before, "after": after},
    }


def print_scenario(result):
    total = result["total"]
    print()
    print(result["title"])
    print_table(
        ["请求数", "每秒请求", "p50 (ms)", "p95 (ms)", "p99 (ms)", "错误", "负载 前 → 后"],
        [
            [
                f"{total['requests']:,}",
                f"{total['rps']:.1f}",
                f"{total['p50']:.0f}",
                f"{total['p95']:.0f}",
                f"{total['p99']:.0f}",
                total["failures"],
                f"{result['load_average']['before']['1m']} → {result['load_average']['after']['1m']}",
            ]
        ],
        right_from=0,
    )
    print()
    print_table(
        ["页面", "请求数", "p50 (ms)", "p95 (ms)", "服务器内 p95 (ms)", "错误", "结果（p95 目标 ms）"],
        [
            [
                page["page"],
                page["requests"],
                f"{page['p50']:.0f}",
                f"{page['p95']:.0f}",
                "" if page.get("server_p95") is None else page["server_p95"],
                page["failures"],
                f"{'超标' if page['p95'] > target_ms(page['page']) else '达标'}（{target_ms(page['page'])}）",
            ]
            for page in result["pages"]
        ],
    )
    for failure in result["failures"]:
        print(f"  错误：{failure['page']}：{failure['error']}（{failure['count']} 次）")


def main():
    parser = argparse.ArgumentParser(description="负载测试：gunicorn 与 PostgreSQL 上的省级规模数据，locust 模拟用户。")
    parser.add_argument("--scenario", choices=["a", "b", "both"], default="both")
    parser.add_argument("--duration", help="每个场景的时长，如 1m、90s（默认 a 10m，b 2m）")
    parser.add_argument("--users", type=int, help="场景 a 的模拟用户数（默认 50）")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--skip-queries", action="store_true", help="不统计每页查询数")
    parser.add_argument("--results", default=str(HERE / "results"), help="结果目录")
    args = parser.parse_args()

    folder = Path(args.results) / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    scenarios = {key: dict(value) for key, value in SCENARIOS.items() if args.scenario in (key, "both")}
    for scenario in scenarios.values():
        scenario["duration"] = args.duration or scenario["duration"]
    if args.users and "a" in scenarios:
        scenarios["a"]["users"] = args.users
        scenarios["a"]["title"] = scenarios["a"]["title"].replace("50 个", f"{args.users} 个")

    log("检查规模数据、选取账号与页面、统计每页查询数 ……")
    plan_path, counted = prepare(args, folder)
    if counted:
        print_queries(counted)

    server, url, configured = start_server(args, folder)
    results = []
    try:
        for name, scenario in scenarios.items():
            results.append(run_scenario(name, scenario, url, plan_path, folder))
    finally:
        stop_server(server)
    for result in results:
        print_scenario(result)
    summary = {
        "when": datetime.datetime.now().isoformat(timespec="seconds"),
        "database": args.pg_url,
        "gunicorn": "deploy/gunicorn.conf.py, 2 workers" if configured else "2 workers (no deploy/gunicorn.conf.py)",
        "cpus": os.cpu_count(),
        "queries": counted,
        "scenarios": results,
    }
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    print()
    print(f"CSV 与 summary.json：{folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
