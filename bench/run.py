"""Benchmark the portal's pages on the scale profile, on SQLite and PostgreSQL, and print one table.

    .venv/bin/python bench/run.py [--db sqlite|postgres|both] [--profile province|county] [--regenerate]
        [--parts units,registry,import,export,payments,activities,summaries]

Each database keeps its generated data between runs: SQLite in a file under the temp directory,
PostgreSQL in the database shuangyong_bench (created when missing).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/shuangyong_bench"


def start_local_postgres():
    """Start the Debian cluster when PostgreSQL on this machine is down, as scripts/test.sh does."""
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if shutil.which("pg_ctlcluster") and versions:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"], capture_output=True
        )
        time.sleep(2)


def ensure_postgres_database(url):
    """Create the benchmark database when it is missing; return an error message or None."""
    import psycopg2

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    params = {
        "host": parts.hostname,
        "port": parts.port or 5432,
        "user": parts.username or "postgres",
        "password": parts.password or None,
        "dbname": "postgres",
        "connect_timeout": 5,
    }
    try:
        conn = psycopg2.connect(**params)
    except psycopg2.OperationalError:
        if parts.hostname not in ("127.0.0.1", "localhost"):
            raise
        start_local_postgres()
        try:
            conn = psycopg2.connect(**params)
        except psycopg2.OperationalError as error:
            return f"无法连接 PostgreSQL（{parts.hostname}:{params['port']}），已跳过：{str(error).strip()}"
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return None


def run_one(db, url, args):
    env = {**os.environ, "DATABASE_URL": url, "ALLOWED_HOSTS": "testserver", "DEBUG": "0", "PRODUCTION": "0"}
    # Jobs (the roster import) run at once in the measuring process; their files go to a scratch folder.
    env["TASKS_BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"
    env["MEDIA_ROOT"] = str(Path(tempfile.gettempdir()) / "shuangyong-bench" / "media")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [
        sys.executable,
        str(ROOT / "bench" / "measure.py"),
        "--profile",
        args.profile,
        "--requests",
        str(args.requests),
        "--warmup",
        str(args.warmup),
        "--parts",
        args.parts,
        *(["--regenerate"] if args.regenerate else []),
    ]
    print(f"==== {db}: {url}", file=sys.stderr, flush=True)
    done = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        return None, f"{db} 测量失败（退出码 {done.returncode}），见上方输出。"
    return json.loads(done.stdout.strip().splitlines()[-1]), None


def width(text):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text, size, right=False):
    space = " " * max(0, size - width(text))
    return space + text if right else text + space


def verdict(row):
    if row.get("status") not in (None, 200):
        return row["status"] if isinstance(row["status"], str) else f"HTTP {row['status']}"
    if row["target"] is None:
        return "对照"
    within = row["p95"] <= row["target"]
    if row.get("memory_target"):
        within = within and row["memory_mb"] <= row["memory_target"]
    return "达标" if within else "超标"


def cells(row):
    once = row.get("kind") == "once"
    unit = "s" if row.get("kind") in ("once", "seconds") else "ms"
    target = "" if row["target"] is None else f"{row['target']} {unit}"
    if row.get("memory_target"):
        target += f"，{row['memory_target']} MB"
    return [
        row["page"],
        row["db"],
        "" if once or row["p50"] is None else f"{row['p50']:.1f} {unit}",
        "" if row["p95"] is None else f"{row['p95']:.1f} {unit}",
        "" if row.get("queries") is None else f"{row['queries']:,}",
        "" if row.get("memory_mb") is None else f"{row['memory_mb']:.0f} MB",
        target,
        verdict(row),
        row.get("note") or "",
    ]


def print_table(rows):
    header = ["项目", "数据库", "p50", "p95 / 用时", "查询数", "峰值内存", "目标", "结果", "说明"]
    table = [header] + [cells(row) for row in rows]
    sizes = [max(width(line[i]) for line in table) for i in range(len(header))]
    for n, line in enumerate(table):
        print("  ".join(pad(cell, sizes[i], right=2 <= i <= 5) for i, cell in enumerate(line)).rstrip())
        if n == 0:
            print("  ".join("-" * size for size in sizes))


def main():
    parser = argparse.ArgumentParser(description="在规模数据上测量页面响应时间与查询数。")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--profile", choices=["county", "province"], default="province")
    parser.add_argument("--requests", type=int, default=30, help="每个页面计时的请求数")
    parser.add_argument("--warmup", type=int, default=3, help="每个页面预热请求数")
    parser.add_argument(
        "--sqlite-path", default=str(Path(tempfile.gettempdir()) / "shuangyong-bench" / "{profile}.sqlite3")
    )
    parser.add_argument("--regenerate", action="store_true", help="删除已有的规模数据并重新生成")
    parser.add_argument(
        "--parts",
        default="units,registry,import,export,payments,activities,summaries",
        help="要测的部分：units,registry,import,export,payments,activities,summaries（逗号分隔）",
    )
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    args = parser.parse_args()

    targets = []
    if args.db in ("sqlite", "both"):
        path = Path(args.sqlite_path.format(profile=args.profile))
        path.parent.mkdir(parents=True, exist_ok=True)
        targets.append(("sqlite", f"sqlite:///{path}"))
    if args.db in ("postgres", "both"):
        pg_url = args.pg_url if args.profile == "province" else f"{args.pg_url}_{args.profile}"
        targets.append(("postgres", pg_url))

    rows, problems = [], []
    for db, url in targets:
        if db == "postgres":
            problem = ensure_postgres_database(url)
            if problem:
                problems.append(problem)
                continue
        measured, problem = run_one(db, url, args)
        if problem:
            problems.append(problem)
            continue
        rows += [{**result, "db": db} for result in measured["results"]]

    order = list(dict.fromkeys(row["page"] for row in rows))
    rows.sort(key=lambda row: order.index(row["page"]))
    print()
    print(f"规模：{args.profile}；每页 {args.requests} 次计时请求（另预热 {args.warmup} 次）；进程内 Django 测试客户端")
    print("“对照”行是同一次运行中测得的参照实现；导入、导出为单次用时（秒），导出在子进程中运行以测峰值内存。")
    print("figures() 与总结 PDF 的 p50 / p95 以秒计（进程内多次调用）。")
    print_table(rows)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
