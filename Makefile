# Everything runs inside .venv, created on first use from the machine's python3.11.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help run test lint format migrate seed clean check-deploy audit loadtest

help:  ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

migrate: $(VENV)/.runtime  ## Apply database migrations.
	$(PY) manage.py migrate --noinput

seed: migrate  ## Load the demo catalog and accounts (idempotent).
	$(PY) manage.py seed_demo

run: seed  ## Install, migrate, seed and serve the site on http://$(HOST):$(PORT).
	@$(PY) manage.py demo_banner --url http://$(HOST):$(PORT)
	$(PY) manage.py runserver $(HOST):$(PORT)

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

.PHONY: cluster
cluster: $(VENV)/.runtime  ## Two instances + a public-key-only resource server on shared PostgreSQL and Redis (Ctrl-C stops).
	$(PY) scripts/cluster.py $(CLUSTER_ARGS)

clean:  ## Remove the virtualenv, the SQLite database and collected static files.
	rm -rf $(VENV) db.sqlite3 staticfiles
