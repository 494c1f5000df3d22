# Two commands a newcomer needs (README "Quick start"): `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO_ENV := DEBUG=1

.PHONY: install messages demo test lint lock worker

$(VENV)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.lock
	touch $@

install: $(VENV)/.installed

# Compiled catalogs (.mo) are built, not committed.
messages: install
	$(DEMO_ENV) $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v0

# SQLite, migrations, demo data, then the server on 127.0.0.1:8000. Tasks run in the request
# (ImmediateBackend), so no worker is needed for the demo.
demo: messages
	$(DEMO_ENV) $(PY) manage.py migrate --noinput -v0
	$(DEMO_ENV) $(PY) manage.py seed_demo
	$(DEMO_ENV) $(PY) manage.py runserver 127.0.0.1:8000

# The whole suite. Browser tests run when /usr/bin/chromium exists; BROWSER_REQUIRED=1 makes a
# missing browser a failure (CI). DATABASE_URL=postgres://… runs it on PostgreSQL.
test: messages
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .

# The database task worker for production (TASKS_BACKEND=django_tasks_db.DatabaseBackend).
worker: install
	$(PY) manage.py db_worker

# Re-pin every dependency after changing pyproject.toml.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet ".[dev]"
	{ echo "# Exact versions CI installs: regenerate with 'make lock' after changing pyproject.toml."; \
	  .lock-venv/bin/pip freeze --exclude-editable | grep -v '^billing-center'; } > requirements.lock
	rm -rf .lock-venv

# The load benchmark (README "Benchmarks"): a PostgreSQL database of its own (bc_bench_run),
# gunicorn and Locust on 127.0.0.1, a few minutes. Longer runs: make bench BENCH_ARGS="--duration 60".
.PHONY: bench
bench: messages
	$(PY) -m bench.run $(BENCH_ARGS)
