from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone
from moneyed import Money

from billing_center.models import User
from catalog.models import BillingCycle, Price, Product
from checkout.models import PaymentMethod
from subscriptions.models import Account, Role, SubscriptionStatus
from subscriptions.periods import period_end

pytestmark = pytest.mark.django_db

SEEDED_APPS = ("billing_center", "catalog", "subscriptions", "checkout", "corporate_portal")


def database_snapshot():
    """Every row of every model the seed touches, as plain values."""
    snapshot = {}
    for app_label in SEEDED_APPS:
        for model in apps.get_app_config(app_label).get_models():
            snapshot[model._meta.label] = sorted(
                (
                    tuple(sorted((k, str(v)) for k, v in row.items()))
                    for row in model.objects.values()
                ),
            )
    return snapshot


def seed():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_running_it_twice_changes_nothing():
    seed()
    first = database_snapshot()
    seed()
    assert database_snapshot() == first


def test_it_prints_the_logins(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    for email in ("billing@acme.test", "billing@globex.test", "admin@vendor.test"):
        assert email in out
    assert "demo-pass-2026" in out


def test_catalog_has_the_six_products_in_three_currencies():
    seed()
    assert set(Product.objects.values_list("name", flat=True)) == {
        "RescueAssist",
        "GoToAssist Remote Support v5",
        "GoToAssist v4",
        "GoTo Meeting",
        "GoTo Webinar",
        "GoTo Training",
    }
    assert set(Price.objects.values_list("amount_currency", flat=True)) == {"EUR", "USD", "GBP"}
    supports = set(
        Product.objects.filter(supports_additional_seats=True).values_list("name", flat=True)
    )
    assert supports == {
        "GoTo Meeting",
        "GoTo Webinar",
        "GoTo Training",
        "GoToAssist v4",
        "GoToAssist Remote Support v5",
    }


def test_every_plan_has_both_cycles_in_every_currency_and_annual_is_cheaper():
    seed()
    for product in Product.objects.prefetch_related("plans__prices"):
        for plan in product.plans.all():
            prices = {(p.cycle, p.amount_currency): p.amount for p in plan.prices.all()}
            assert len(prices) == 6, plan
            for currency in ("EUR", "USD", "GBP"):
                annual = prices[(BillingCycle.ANNUAL, currency)]
                monthly = prices[(BillingCycle.MONTHLY, currency)]
                assert annual < monthly * 12, plan


def test_acme():
    seed()
    acme = Account.objects.get(name="Acme SARL")
    assert (acme.country.code, acme.currency, acme.language, acme.portal) == (
        "FR",
        "EUR",
        "fr",
        "billing_center",
    )
    contact = User.objects.get(email="billing@acme.test")
    assert contact.check_password("demo-pass-2026")
    assert contact.membership.account == acme
    assert contact.membership.role == Role.BILLING_CONTACT
    (meeting,) = acme.subscriptions.all()
    assert (meeting.product.name, meeting.plan.name, meeting.cycle, meeting.seat_count) == (
        "GoTo Meeting",
        "Business",
        BillingCycle.ANNUAL,
        10,
    )
    assert meeting.status == SubscriptionStatus.ACTIVE
    assert meeting.unit_price.currency.code == "EUR"
    assert meeting.current_period_start == timezone.localdate() - timedelta(days=90)
    assert meeting.current_period_end == period_end(meeting.current_period_start, "annual")
    assert meeting.seat_assignments.count() == 4
    assert all(
        a.user.membership.account == acme and a.user.membership.role == Role.MEMBER
        for a in meeting.seat_assignments.all()
    )
    card = PaymentMethod.objects.get(account=acme)
    assert (card.brand, card.last4, card.is_default) == ("visa", "4242", True)


def test_globex():
    seed()
    globex = Account.objects.get(name="Globex Corp")
    assert (globex.country.code, globex.currency, globex.language, globex.portal) == (
        "US",
        "USD",
        "en",
        "corporate",
    )
    assert globex.self_service_enabled
    contact = User.objects.get(email="billing@globex.test")
    assert contact.membership.role == Role.BILLING_CONTACT
    subscriptions = {
        s.product.name: (s.cycle, s.seat_count, s.unit_price.currency.code)
        for s in globex.subscriptions.all()
    }
    assert subscriptions == {
        "GoToAssist Remote Support v5": (BillingCycle.MONTHLY, 25, "USD"),
        "GoTo Webinar": (BillingCycle.ANNUAL, 5, "USD"),
        "RescueAssist": (BillingCycle.ANNUAL, 3, "USD"),
    }
    assert not Product.objects.get(name="RescueAssist").supports_additional_seats
    card = PaymentMethod.objects.get(account=globex)
    assert (card.last4, card.is_default) == ("4242", True)


def test_staff_superuser():
    seed()
    admin = User.objects.get(email="admin@vendor.test")
    assert admin.is_staff
    assert admin.is_superuser
    assert admin.check_password("demo-pass-2026")


def test_subscription_prices_come_from_the_catalog():
    seed()
    acme = Account.objects.get(name="Acme SARL")
    meeting = acme.subscriptions.get()
    price = Price.objects.get(plan=meeting.plan, cycle=meeting.cycle, amount_currency="EUR")
    assert meeting.unit_price == price.amount
    assert isinstance(meeting.unit_price, Money)


def test_globex_has_one_open_quote_for_two_more_webinar_organizers():
    from corporate_portal.models import Quote

    seed()
    (quote,) = Quote.objects.filter(account__name="Globex Corp")
    assert quote.status == "open"
    assert quote.number.startswith("Q-")
    (line,) = quote.lines.all()
    assert (line.product.name, line.added_seats) == ("GoTo Webinar", 2)
    assert line.amount.currency.code == "USD"
