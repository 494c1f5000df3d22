import os
import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from subscriptions.models import Role
from tests.factories import AccountFactory, MembershipFactory

# localstripe for the Stripe adapter's tests (a session fixture) and its settings.
pytest_plugins = ["tests.stripe_server"]

# Playwright's sync API runs an event loop in the test thread; the ORM calls a browser test makes
# around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
BROWSER_REQUIRED = os.environ.get("BROWSER_REQUIRED", "") == "1"


def pytest_collection_modifyitems(config, items):
    has_browser = shutil.which(CHROMIUM) is not None
    for item in items:
        if "e2e" in item.keywords and not has_browser:
            if BROWSER_REQUIRED:
                item.add_marker(pytest.mark.usefixtures("_fail_without_browser"))
            else:
                item.add_marker(pytest.mark.skip(reason=f"no browser at {CHROMIUM}"))


# The moment every test runs at, unless it moves the clock itself (time_machine nests) or drives
# a browser: results never depend on the day the suite runs.
FROZEN_NOW = datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("Europe/Dublin"))


@pytest.fixture(autouse=True)
def _frozen_clock(request):
    if request.node.get_closest_marker("e2e") or request.node.get_closest_marker("real_clock"):
        yield
        return
    with time_machine.travel(FROZEN_NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def _webhook_endpoints_read_again():
    """The webhook endpoints a test made are gone with its transaction: read them again."""
    yield
    from billing_center.integrations.events import forget_endpoints

    forget_endpoints()


@pytest.fixture(autouse=True)
def _language_restored():
    """Every test starts and ends in the default language, whatever it or a view activated."""
    from django.conf import settings
    from django.utils import translation

    yield
    # A view leaves its user's language active in the thread (each request sets its own); the
    # next test must not inherit it.
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Stored files (invoice PDFs) go to a folder of the test's own, never to var/media: two
    tests both issue INV-2026-000001."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def _fail_without_browser():
    pytest.fail(f"BROWSER_REQUIRED=1 but there is no Chromium at {CHROMIUM}")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium: Playwright cannot download its own browser on these machines.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def account(db):
    return AccountFactory()


@pytest.fixture
def billing_contact(account):
    """A billing contact of `account`: the person every billing page is for."""
    return MembershipFactory(account=account, role=Role.BILLING_CONTACT).user


@pytest.fixture
def member(account):
    """A member of the same account: holds seats, has no billing access."""
    return MembershipFactory(account=account, role=Role.MEMBER).user


@pytest.fixture
def outsider(db):
    """The billing contact of another account: must never see `account`'s objects."""
    return MembershipFactory(account=AccountFactory(), role=Role.BILLING_CONTACT).user


@pytest.fixture
def contact_client(client, billing_contact):
    client.force_login(billing_contact)
    return client


@pytest.fixture(autouse=True)
def _eu_vat_rates_after_flush(request):
    """Transactional tests (threads, live server) flush the database after each test, data
    migrations included: put the EU VAT rates back for them, and for any test with the database
    that runs after one (the order of the groups is pytest-django's, not ours)."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and marker.kwargs.get("transaction", False)
    if transactional or {"transactional_db", "live_server"} & set(request.fixturenames):
        request.getfixturevalue("transactional_db")
    elif marker is None and "db" not in request.fixturenames:
        return
    else:
        request.getfixturevalue("db")
    import importlib

    from checkout.models import VatRate

    rates = importlib.import_module(
        "checkout.migrations.0003_eu_standard_vat_rates"
    ).EU_STANDARD_RATES
    if VatRate.objects.count() >= len(rates):
        return
    for country, rate in rates.items():
        VatRate.objects.get_or_create(country=country, defaults={"rate": rate})


@pytest.fixture
def faults(settings):
    """Set the sandbox's faults (none to start with); the reconciliation's in-flight window is
    closed at once and a second submit does not wait for the first."""
    settings.PAYMENT_IN_FLIGHT_SECONDS = 0
    settings.PAYMENT_WAIT_SECONDS = 0

    def set_faults(*names):
        settings.SANDBOX_GATEWAY_FAULTS = list(names)

    set_faults()
    return set_faults
