# Two commands a newcomer needs (README "Quick start"): `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO_ENV := DEBUG=1

.PHONY: install messages demo test e2e-deps lint lock worker

$(VENV)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.lock
	touch $@

install: $(VENV)/.installed

# Compiled catalogs (.mo) are built, not committed.
messages: install
	$(DEMO_ENV) $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules --ignore=tests -v0

# SQLite, migrations, demo data, then the server on 127.0.0.1:$(PORT) (`make demo PORT=8001`);
# links in emails (SITE_URL) follow the port. Tasks run in the request (ImmediateBackend), so no
# worker is needed for the demo.
#
# `make demo GATEWAY=stripe` takes payments through Stripe's adapter instead of the sandbox:
# localstripe (a local imitation of Stripe's API, Stripe.js and webhooks) on 127.0.0.1:8420,
# its webhooks sent to /stripe/webhooks/, and a database of its own (db-stripe.sqlite3).
PORT ?= 8000
SITE_URL ?= http://127.0.0.1:$(PORT)
GATEWAY ?= sandbox
LOCALSTRIPE_PORT ?= 8420
ifeq ($(GATEWAY),stripe)
DEMO_ENV += PAYMENT_GATEWAY=checkout.stripe_gateway.client.StripeGateway \
	STRIPE_API_BASE=http://127.0.0.1:$(LOCALSTRIPE_PORT) STRIPE_SECRET_KEY=sk_test_demo \
	STRIPE_PUBLISHABLE_KEY=pk_test_demo STRIPE_WEBHOOK_SECRET=whsec_demo \
	DATABASE_URL=sqlite:///$(CURDIR)/db-stripe.sqlite3
endif
# Waits for localstripe, then has it send its signed events to our webhook endpoint.
define LOCALSTRIPE_WEBHOOKS
import sys, time, urllib.parse, urllib.request
base, url = sys.argv[1:3]
for _ in range(100):
    try:
        urllib.request.urlopen(base + "/js.stripe.com/v3/", timeout=1).close()
        break
    except OSError:
        time.sleep(0.2)
body = urllib.parse.urlencode({"url": url, "secret": "whsec_demo"}).encode()
urllib.request.urlopen(urllib.request.Request(base + "/_config/webhooks/demo", data=body)).close()
print("localstripe on", base, "sends its webhooks to", url)
endef
export LOCALSTRIPE_WEBHOOKS
demo: messages
ifeq ($(GATEWAY),stripe)
	$(PY) -m localstripe --port $(LOCALSTRIPE_PORT) > localstripe.log 2>&1 & echo $$! > localstripe.pid
	$(PY) -c "$$LOCALSTRIPE_WEBHOOKS" http://127.0.0.1:$(LOCALSTRIPE_PORT) $(SITE_URL)/stripe/webhooks/
endif
	$(DEMO_ENV) $(PY) manage.py migrate --noinput -v0
	$(DEMO_ENV) $(PY) manage.py seed_demo
	$(DEMO_ENV) SITE_URL=$(SITE_URL) $(PY) manage.py runserver 127.0.0.1:$(PORT)

# The whole suite. Browser tests run when /usr/bin/chromium exists; BROWSER_REQUIRED=1 makes a
# missing browser a failure (CI). DATABASE_URL=postgres://… runs it on PostgreSQL.
test: messages e2e-deps
	$(PY) -m pytest

# axe-core for the browser tests (tests/e2e/package-lock.json), from the npm registry.
e2e-deps: tests/e2e/node_modules/.package-lock.json
tests/e2e/node_modules/.package-lock.json: tests/e2e/package-lock.json
	cd tests/e2e && npm ci --no-audit --no-fund

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

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
# gunicorn, wrk and Locust on 127.0.0.1, a few minutes (bench/README.md). Longer: BENCH_ARGS="--duration 60".
.PHONY: bench
bench: messages
	$(PY) -m bench.run $(BENCH_ARGS)
