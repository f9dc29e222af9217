# Set-up and checks for the 双拥 portal. `make run` serves the demo, `make test` runs every check.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
DEBIAN_PACKAGES := python3 python3-venv python3-dev build-essential chromium fonts-noto-cjk poppler-utils \
	libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libffi-dev shared-mime-info postgresql-client
PG_URL ?= postgres://postgres@127.0.0.1:5432/shuangyong

.PHONY: run test lint test-sqlite test-postgres test-e2e bench bench-load audit deps system-deps python-deps

deps: system-deps python-deps

system-deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "安装系统软件包：$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(VENV)/bin/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@

python-deps: $(VENV)/bin/.installed

run: deps
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@scripts/run.sh

lint: python-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: deps
	@scripts/test.sh

test-sqlite: python-deps
	$(VENV)/bin/pytest -q

test-postgres: python-deps
	DATABASE_URL=$(PG_URL) $(VENV)/bin/pytest -q --create-db

test-e2e: deps
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(VENV)/bin/pytest -q -m e2e tests/e2e

bench: deps
	$(PY) -m pip install -q -r requirements-bench.txt
	$(PY) bench/run.py --db both --profile province

bench-load: deps
	$(PY) -m pip install -q -r requirements-bench.txt
	$(PY) bench/load/run.py

# Known vulnerabilities in the pinned requirements (pip-audit); not part of `make test`, needs the network.
audit: python-deps
	$(PY) -m pip install -q -r requirements-audit.txt
	$(PY) scripts/audit.py
