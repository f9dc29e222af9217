#!/usr/bin/env bash
# Start one background-task worker and the development server on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG=${DEBUG:-1}
PY=.venv/bin/python
mkdir -p var
if [ -f var/worker.pid ] && kill -0 "$(cat var/worker.pid)" 2>/dev/null; then
  kill "$(cat var/worker.pid)" || true
fi
$PY manage.py jobs_cleanup >/dev/null
$PY manage.py db_worker --no-reload >var/worker.log 2>&1 &
echo $! >var/worker.pid
trap 'kill "$(cat var/worker.pid)" 2>/dev/null || true' EXIT
echo "后台任务进程已启动（日志 var/worker.log）。"
echo "门户地址：http://127.0.0.1:8000/"
$PY manage.py demo_logins
exec_status=0
$PY manage.py runserver 127.0.0.1:8000 --noreload || exec_status=$?
exit $exec_status
