#!/usr/bin/env bash
# Lint, the suite on SQLite, again on PostgreSQL when reachable (required when CI=true), then browser journeys.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/shuangyong}
start=$(date +%s)
failed=()

step() { echo; echo "==== $1"; }

step "lint (ruff)"
$VENV/bin/ruff check . && $VENV/bin/ruff format --check . || failed+=("lint")

step "pytest on SQLite"
$VENV/bin/pytest -q || failed+=("sqlite")

step "pytest on PostgreSQL"
pg_up() { $VENV/bin/python -c "import psycopg2; psycopg2.connect(host='127.0.0.1', port=5432, user='postgres', dbname='postgres', connect_timeout=3).close()" 2>/dev/null; }
if ! pg_up && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start 2>/dev/null || true
  sleep 2
fi
if pg_up; then
  DATABASE_URL=$PG_URL $VENV/bin/pytest -q --create-db || failed+=("postgres")
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL 127.0.0.1:5432 不可用，CI 中这是失败。"
  failed+=("postgres-unreachable")
else
  echo "已跳过：PostgreSQL 127.0.0.1:5432 不可用（本地运行）。"
fi

step "browser journeys (Playwright + chromium)"
DJANGO_ALLOW_ASYNC_UNSAFE=true $VENV/bin/pytest -q -m e2e tests/e2e || failed+=("e2e")

echo
echo "用时 $(( $(date +%s) - start )) 秒"
if [ ${#failed[@]} -gt 0 ]; then
  echo "失败：${failed[*]}"
  exit 1
fi
echo "全部通过。"
