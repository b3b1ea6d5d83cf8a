# Everything runs inside .venv, created on first use from the machine's python3 (3.11 or
# newer; scripts/preflight.py checks). PYTHON=python3.12 picks another one.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help run test lint format migrate seed clean check-deploy audit loadtest bench bench-quick bench-wrk

help:  ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.runtime: requirements.txt
	@$(PYTHON) scripts/preflight.py
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt
	@$(PYTHON) scripts/preflight.py
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

migrate: $(VENV)/.runtime  ## Apply database migrations.
	$(PY) manage.py migrate --noinput

seed: migrate  ## Load the demo catalog and accounts (idempotent).
	$(PY) manage.py seed_demo

# The port is checked first, so a busy one is reported before anything is installed.
run: run-port-free seed  ## Install, migrate, seed and serve the site (PORT=8000, HOST=127.0.0.1).
	@$(PY) manage.py demo_banner --url http://$(HOST):$(PORT)
	$(PY) manage.py runserver $(HOST):$(PORT)

unlock: migrate  ## Clear sign-in lockouts (EMAIL=alice@example.com for one account only).
	$(PY) manage.py lockout_clear $(if $(EMAIL),--email $(EMAIL))

screenshots: $(VENV)/.dev  ## Regenerate docs/screenshots/*.png in Chromium (throwaway database, demo data).
	$(PY) scripts/screenshots.py

xss-table: $(VENV)/.dev  ## Measure in Chromium what an injected script gets under each credential pattern; render the table.
	$(PY) scripts/xss_exposure.py

.PHONY: run-port-free unlock screenshots xss-table
run-port-free:
	@$(PYTHON) scripts/preflight.py --host $(HOST) --port $(PORT)

test: $(VENV)/.dev  ## Install the test tools and run the whole suite.
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev  ## Check lint and formatting with ruff.
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev  ## Fix lint where safe and format the code.
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-deploy: $(VENV)/.runtime  ## Serve production settings under gunicorn + whitenoise and probe them.
	$(PY) scripts/check_deploy.py

loadtest: $(VENV)/.runtime  ## Mixed load under gunicorn, then check stock and totals (LOADTEST_ARGS="--duration 60 --clients 8").
	$(PY) scripts/loadtest.py $(LOADTEST_ARGS)

audit: $(VENV)/.dev  ## Check the pinned requirements for known vulnerabilities (pip-audit).
	$(VENV)/bin/pip-audit --strict --progress-spinner off --requirement requirements.txt

.PHONY: failover-table
FAILOVER_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/failover_table
failover-table: $(VENV)/.dev  ## Kill the cluster's Redis primary under load (needs PostgreSQL); write docs/failover.json and render it into the guide.
	DATABASE_URL=$(FAILOVER_DATABASE_URL) FAILOVER_RESULTS=$(CURDIR)/docs/failover.json \
	  $(PY) -m pytest -q -p no:cacheprovider "tests/test_failover.py::test_the_site_survives_the_redis_primary_dying_under_load[stock]"
	$(PY) scripts/render_comparison.py

.PHONY: cluster
cluster: $(VENV)/.runtime  ## HAProxy round robin over 2 instances (CLUSTER_ARGS="--instances 3"), a public-key-only resource server, shared PostgreSQL, Redis with Sentinel failover (Ctrl-C stops).
	$(PY) scripts/cluster.py $(CLUSTER_ARGS)

# The benchmark (docs/benchmark.md). Redis: keys under the "bench" prefix in
# BENCH_REDIS_URL, removed afterwards; BENCH_SCALE_REDIS_URL must be a database of its own
# (empty, or pass BENCH_ARGS=--flush-scale-db). DATABASE_URL as usual (default: SQLite in var/).
BENCH_REDIS_URL ?= $(or $(REDIS_URL),redis://127.0.0.1:6379/5)
BENCH_SCALE_REDIS_URL ?= redis://127.0.0.1:6379/6
BENCH := DJANGO_SETTINGS_MODULE=config.settings.bench REDIS_URL=$(BENCH_REDIS_URL) \
	BENCH_SCALE_REDIS_URL=$(BENCH_SCALE_REDIS_URL) $(PY) manage.py bench

bench: $(VENV)/.runtime bench-wrk  ## Benchmark sessions vs JWT under gunicorn and uvicorn + wrk (about 30 min).
	$(BENCH) $(BENCH_ARGS)

bench-quick: $(VENV)/.runtime bench-wrk  ## The same benchmark, every mode briefly, stock and fast (about 2 min).
	$(BENCH) --quick $(BENCH_ARGS)

bench-wrk:  ## Install wrk if missing (apt-get, as root); else the bench falls back to Python.
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing wrk with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else \
	    echo "wrk is missing (apt-get install -y wrk as root); using the less accurate Python load generator"; \
	  fi; }

clean:  ## Remove the virtualenv, the SQLite database and collected static files.
	rm -rf $(VENV) db.sqlite3 staticfiles
