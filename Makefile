# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORTAL_PORT ?= 8000
export PORTAL_PORT

.PHONY: run test test-awkward-clock smoke lint check-deploy bench load clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## Run the portal in embedded mode (SQLite, filesystem broker): web, worker and beat.
run: $(VENV)/.installed
	$(PY) manage.py migrate --no-input -v 0
	$(PY) manage.py createcachetable
	$(PY) manage.py collectstatic --no-input -v 0
	$(PY) manage.py seed_demo
	@echo ""
	@echo "Portal:        http://127.0.0.1:$(PORTAL_PORT)/"
	@echo "Legal admin:   http://127.0.0.1:$(PORTAL_PORT)/admin/"
	@echo "API docs:      http://127.0.0.1:$(PORTAL_PORT)/api/v1/docs/"
	@echo "Health:        http://127.0.0.1:$(PORTAL_PORT)/healthz"
	@echo "Stop with Ctrl-C."
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start -f Procfile

## Run the whole test suite on PostgreSQL and Redis (started if installed but down).
test: $(VENV)/.dev-installed
	./scripts/ensure_services.sh
	$(PY) -m pytest -n 2 --ignore=tests/e2e_worker --ignore=tests/resilience
	@# Tests that start their own worker, gunicorn and redis-server processes run in sessions
	@# of their own: the fault tests break their own process's broker connection on purpose.
	$(PY) -m pytest -q tests/e2e_worker
	$(PY) -m pytest -q tests/resilience

## The suite again on an awkward frozen instant (tests/conftest.py, frozen_clock): Saturday
## 27 Mar 2027 23:30 UTC is already Sunday 00:30 in Brussels, the night the clocks go forward,
## on Easter Sunday before the Easter Monday holiday. A date dependence shows here. Tests on
## the real (running) clock and sweeps of their own instants gain nothing from it and are skipped.
AWKWARD_INSTANT ?= 2027-03-27T23:30:00+00:00
test-awkward-clock: $(VENV)/.dev-installed
	./scripts/ensure_services.sh
	PORTAL_TEST_NOW=$(AWKWARD_INSTANT) $(PY) -m pytest -n 2 -q -m "not smoke and not running_clock and not clock_independent" \
		--ignore=tests/e2e_worker --ignore=tests/resilience

## The embedded-mode smoke test: Procfile processes on SQLite + filesystem broker.
smoke: $(VENV)/.dev-installed
	$(PY) -m pytest -m smoke -p no:cacheprovider tests/smoke

lint: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py workflow_docs --check
	$(PY) -m mypy .

## Every benchmark in bench/, each repeated 3 times with its floor in the same run (bench/run_all.py:
## intake, pipeline, rules, admin queue at 1M rows, audit contention, the CPU profile, bench/report.py if
## present, then the on-call e-mail latency, RSS and the transparency report); rewrites bench/RESULTS.md
## with median (min-max) and the machine. ~20 min on 2 cores; not part of `make test`.
## BENCH_ARGS="--runs 5 --skip pipeline" to change it.
BENCH_ARGS ?=
bench: $(VENV)/.dev-installed
	./scripts/ensure_services.sh
	$(PY) bench/run_all.py $(BENCH_ARGS)

## Locust load over a 1,000,000-request queue (database BENCH_LOAD_DB, default lrp_bench_load, seeded
## in SQL if missing), headless, loopback, bounded (120 s, 150 submissions per authority user, 16 users):
## authorities submit with an upload and poll, the legal team pages, filters and searches the admin queue;
## then the queue must drain, submitted = validated = audited and no request failed. Not part of `make test`.
## LOAD_ARGS="--users 24 --seconds 300" to change it.
LOAD_ARGS ?=
load: $(VENV)/.dev-installed
	./scripts/ensure_services.sh
	$(PY) bench/load.py $(LOAD_ARGS)

clean:
	rm -rf var/portal.sqlite3* var/broker var/static
