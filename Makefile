# The two README commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# -n 2: the machine has two cores; worksteal keeps both busy while one runs the browser
# journeys. Override with PYTEST_ARGS.
PYTEST_ARGS ?= -n 2 --dist worksteal

.PHONY: install run test e2e audit lint format bench clean worker beat

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# The embedded demo: SQLite, tasks in-process, emails to var/mail/, two-factor sign-in relaxed.
# DEBUG off, so that it shows the product's pages (its 404 and 500 too), not Django's debug ones;
# WhiteNoise serves the static files straight from their folders (no collectstatic).
RUN_ENV := DEBUG=0 TWO_FACTOR_REQUIRED=0 WHITENOISE_USE_FINDERS=1

run: install
	mkdir -p var/mail
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py seed_demo
	@echo ""
	@echo "Portal: http://127.0.0.1:$(PORT)/  (emails are written to var/mail/)"
	@echo "Two-factor sign-in is OFF for this demo (TWO_FACTOR_REQUIRED=0); production requires it."
	$(RUN_ENV) $(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(PY) scripts/run_tests.py $(PYTEST_ARGS) $(ARGS)

# The real-browser journeys alone (Debian's Chromium: apt-get install -y chromium).
e2e: install
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

worker: install
	$(VENV)/bin/celery -A portal worker -l info

beat: install
	$(VENV)/bin/celery -A portal beat -l info

clean:
	rm -rf var/*.sqlite3 staticfiles .pytest_cache

# Benchmarks at scale (PostgreSQL; not part of `make test`). Writes bench/results/latest.json.
bench: install
	@command -v wrk >/dev/null 2>&1 || (apt-get install -y -qq wrk >/dev/null 2>&1 || echo "wrk missing: load test skipped")
	$(PY) bench/run.py
