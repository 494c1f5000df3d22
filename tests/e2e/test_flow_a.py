"""Flow A in Chromium: buy in French with the Visa test card; start a trial in English."""

import re

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import Page, expect

from checkout.models import Order
from subscriptions.models import Subscription
from tests.e2e.cards import expiry

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def log_in(page: Page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill("demo-pass-2026")
    page.locator("main button[type=submit]").click()


def test_acme_buys_goto_training_in_french(page: Page, live_server, demo, screenshot_dir):
    log_in(page, live_server, "billing@acme.test")
    page.get_by_role("link", name="Ajouter un nouvel élément").click()
    page.get_by_role("link", name="Acheter GoTo Training").click()
    page.get_by_label("Nombre de postes").fill("4")
    page.get_by_role("button", name="Un poste de plus").click()  # JavaScript stepper: 5
    expect(page.get_by_label("Nombre de postes")).to_have_value("5")
    page.get_by_role("button", name="Suivant").click()

    page.get_by_text("Annuel", exact=True).click()
    expect(page.get_by_text("5\u202f700,00\xa0€ HT par an")).to_be_visible()
    page.get_by_role("button", name="Passer à la caisse").click()

    expect(page.get_by_role("heading", name="Passer à la caisse")).to_be_visible()
    expect(page.get_by_role("link", name="Modifier la commande").first).to_be_visible()
    expect(page.locator("[data-total-due]")).to_have_text("6\u202f840,00\xa0€")
    page.get_by_text("Une nouvelle carte").click()
    page.get_by_label("Numéro de carte").fill("4242 4242 4242 4242")  # the processor's fields
    page.get_by_label("Expiration (MM/AA)").fill(expiry())
    page.get_by_label("Cryptogramme (CVC)").fill("123")
    page.get_by_label("Nom sur la carte").fill("Camille Laurent")
    page.screenshot(path=screenshot_dir / "checkout-fr.png", full_page=True)
    page.get_by_role("button", name="Passer la commande").click()

    expect(page.get_by_role("heading", name="Merci : votre commande est passée")).to_be_visible()
    expect(page.get_by_role("link", name="Attribuer les postes de GoTo Training")).to_be_visible()
    page.screenshot(path=screenshot_dir / "order-confirmation-fr.png", full_page=True)

    order = Order.objects.get()
    assert order.amount_charged.amount == 6840
    assert Subscription.objects.get(product__slug="goto-training").seat_count == 5
    (email,) = [m for m in mail.outbox if order.number in m.subject]
    assert email.to == ["billing@acme.test"]
    assert "6\u202f840,00\xa0€" in email.body
    assert order.invoice.number in email.body

    page.get_by_role("link", name=order.invoice.number).click()
    expect(page.get_by_role("heading", name=re.compile(order.invoice.number))).to_be_visible()
    response = page.request.get(f"{live_server.url}/billing/invoices/{order.invoice.number}/pdf/")
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")


def test_a_billing_contact_starts_a_trial_in_english(page: Page, live_server, demo, screenshot_dir):
    from billing_center.models import User

    globex = User.objects.get(email="billing@globex.test")
    log_in(page, live_server, globex.email)
    # Globex is corporate: the Billing Center is its own only once it has moved there (C.7).
    page.goto(f"{live_server.url}/corporate/payment-method/")
    page.get_by_role("button", name="Go to the Billing Center").click()
    expect(page.get_by_role("heading", name="Payment methods")).to_be_visible()
    page.goto(f"{live_server.url}/billing/add/")
    page.get_by_role("link", name="Try GoTo Training").click()
    page.get_by_label("Number of seats").fill("3")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Free trial of GoTo Training")).to_be_visible()
    page.get_by_role("button", name="Start Trial").click()

    expect(page.get_by_role("heading", name="Confirmation")).to_be_visible()
    expect(
        page.get_by_text("Your free trial of GoTo Training Standard has started.")
    ).to_be_visible()
    page.screenshot(path=screenshot_dir / "trial-started-en.png", full_page=True)
    trial = Subscription.objects.get(account__name="Globex Corp", product__slug="goto-training")
    assert trial.status == "trialing"
    (email,) = mail.outbox
    assert email.subject == "Welcome to your free trial of GoTo Training"
    assert "3 organizers" in email.body
    assert email.alternatives[0][1] == "text/html"

    # Try is not offered again.
    page.goto(f"{live_server.url}/billing/add/")
    expect(page.get_by_role("link", name="Try GoTo Training")).to_have_count(0)
    expect(page.get_by_role("link", name="Buy GoTo Training")).to_be_visible()
