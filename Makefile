# The two README commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# -n 2: the machine has two cores; worksteal keeps both busy while one runs the browser
# journeys. Override with PYTEST_ARGS.
PYTEST_ARGS ?= -n 2 --dist worksteal

.PHONY: install lock run test e2e audit lint format bench clean worker beat bootstrap-run \
	bootstrap-test

# The machine's set-up (apt packages as root, PostgreSQL and Redis started): scripts/bootstrap.sh,
# also what .ci/run calls. Silent and near-instant when everything is there.
bootstrap-run:
	@scripts/bootstrap.sh run

bootstrap-test:
	@scripts/bootstrap.sh test

# Dependencies come from the lock files, every file checked against its hash: make install and
# CI install requirements/dev.txt, the Docker image requirements/prod.txt. `make lock` makes
# both from pyproject.toml. The project itself is installed editable, without dependencies.
$(VENV)/.installed: pyproject.toml requirements/dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

# Run after changing a dependency in pyproject.toml: pins it (and what it needs) with hashes,
# keeping every other pin. `make lock UPGRADE=1` moves every pin to the newest allowed release.
# One resolution for any platform (--universal), for Python 3.11 and later; prod.txt is held to
# the versions of dev.txt, so the image runs what CI tested.
LOCK_ARGS := --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)
lock: install
	$(VENV)/bin/uv pip compile $(LOCK_ARGS) --extra dev pyproject.toml -o requirements/dev.txt
	$(VENV)/bin/uv pip compile $(LOCK_ARGS) -c requirements/dev.txt pyproject.toml \
		-o requirements/prod.txt

# The embedded demo: SQLite, emails to var/mail/, two-factor sign-in relaxed; a Celery worker with
# beat (scripts/run_demo.py) on kombu's filesystem broker in var/broker/ runs the tasks, and every
# periodic job once at start and then every minute (PERIODIC_JOBS_EVERY). Links follow PORT.
# DEBUG off, so that it shows the product's pages (its 404 and 500 too), not Django's debug ones;
# WhiteNoise serves the static files straight from their folders (no collectstatic).
# DEMO ONLY: a signing key published in this file (with DEBUG=0 the portal refuses to start
# without a key; `check --deploy` flags this one). A deployment sets its own SECRET_KEY.
DEMO_SECRET_KEY := django-insecure-demo-only-published-in-the-Makefile-never-use-in-production
RUN_ENV := DEBUG=0 SECRET_KEY=$(DEMO_SECRET_KEY) TWO_FACTOR_REQUIRED=0 WHITENOISE_USE_FINDERS=1 \
	LOG_FORMAT=console PORT=$(PORT) CELERY_BROKER_URL=filesystem://localhost/ \
	PERIODIC_JOBS_EVERY=60

run: bootstrap-run install
	mkdir -p var/mail
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py seed_demo
	@echo ""
	@echo "Portal: http://127.0.0.1:$(PORT)/  (emails are written to var/mail/)"
	@echo "Two-factor sign-in is OFF for this demo (TWO_FACTOR_REQUIRED=0); production requires it."
	@echo "SECRET_KEY is the Makefile's public demo key; production sets its own (required with DEBUG=0)."
	@echo "Periodic jobs (re-sends, purge, trial expiry, DNS checks) run at start, then every minute."
	$(RUN_ENV) $(PY) scripts/run_demo.py $(PORT)

test: bootstrap-test install
	$(PY) scripts/run_tests.py $(PYTEST_ARGS) $(ARGS)

# The real-browser journeys alone (Debian's Chromium, which the bootstrap installs as root).
e2e: bootstrap-test install
	$(PY) scripts/run_tests.py tests/e2e $(ARGS)

audit: install
	$(PY) scripts/audit.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# A worker or beat of their own, on a CELERY_BROKER_URL (Redis), with the demo's key so that links
# match (`make run` starts its own worker with beat).
worker: install
	SECRET_KEY=$(DEMO_SECRET_KEY) $(VENV)/bin/celery -A portal worker -l info

beat: install
	SECRET_KEY=$(DEMO_SECRET_KEY) $(VENV)/bin/celery -A portal beat -l info

clean:
	rm -rf var/*.sqlite3 var/*.sqlite3-wal var/*.sqlite3-shm var/broker staticfiles .pytest_cache

# Benchmarks at scale (PostgreSQL; not part of `make test`). Writes bench/results/latest.json.
bench: install
	@command -v wrk >/dev/null 2>&1 || (apt-get install -y -qq wrk >/dev/null 2>&1 || echo "wrk missing: load test skipped")
	SECRET_KEY=$(DEMO_SECRET_KEY) $(PY) bench/run.py
