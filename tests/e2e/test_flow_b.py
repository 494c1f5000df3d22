"""Flow B in Chromium, in French: Acme adds 3 GoTo Meeting organizers and pays the prorated
amount, then removes 2 and finds the credit on its balance page; it cannot go below the 4
assigned organizers."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from billing_center.money import format_money
from checkout.models import Order
from subscriptions.models import Account, Subscription

pytestmark = pytest.mark.django_db(transaction=True)

CENT = Decimal("0.01")


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def money_fr(amount: Decimal) -> str:
    from moneyed import Money

    return format_money(Money(amount, "EUR"), "fr")


def expected_due(subscription: Subscription, new_seats: int) -> Decimal:
    """SPEC's rule, computed independently of the code under test: credit the unused days, charge
    a whole new year, then French VAT at 20 %."""
    today = timezone.localdate()
    start, end = subscription.current_period_start, subscription.current_period_end
    price = subscription.unit_price.amount
    credit = (subscription.seat_count * price * (end - today).days / (end - start).days).quantize(
        CENT, ROUND_HALF_UP
    )
    subtotal = new_seats * price - credit
    return subtotal + (subtotal * Decimal("0.20")).quantize(CENT, ROUND_HALF_UP)


def test_acme_adds_then_removes_organizers(page: Page, live_server, demo, screenshot_dir):
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill("billing@acme.test")
    page.locator("#id_password").fill("demo-pass-2026")
    page.locator("main button[type=submit]").click()
    meeting = Subscription.objects.get(account__name="Acme SARL", product__slug="goto-meeting")

    # Below the 4 assigned organizers: refused, with how many to unassign.
    page.get_by_role("link", name="Ajouter des organisateurs").click()
    page.get_by_label("Nombre de postes").fill("3")
    page.get_by_role("button", name="Ajouter au panier").click()
    # Summarised at the top of the page (focused) and shown beside the preview.
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_text("4 postes sont attribués : retirez-en 1 d'abord")).to_be_visible()
    expect(page.locator("#change-preview")).to_contain_text("retirez-en 1 d'abord")

    # Add 3 organizers: the live preview shows the prorated amount before anything is placed.
    due = expected_due(meeting, 13)
    page.get_by_label("Nombre de postes").fill("13")
    expect(page.locator("[data-total-due]")).to_have_text(money_fr(due))
    page.screenshot(path=screenshot_dir / "add-organizers-fr.png", full_page=True)
    page.get_by_role("button", name="Ajouter au panier").click()
    expect(page.locator("[data-total-due]")).to_have_text(money_fr(due))
    expect(page.get_by_text("Crédit pour la période non utilisée")).to_be_visible()
    page.get_by_role("button", name="Passer la commande").click()  # the saved Visa is chosen
    expect(page.get_by_role("heading", name="Merci : votre commande est passée")).to_be_visible()
    order = Order.objects.latest("pk")
    assert order.amount_charged.amount == due
    meeting.refresh_from_db()
    assert meeting.seat_count == 13
    assert meeting.current_period_start == timezone.localdate()

    # Remove 2: a whole unused year is credited, the total is negative, it becomes credit.
    page.goto(f"{live_server.url}/billing/subscriptions/{meeting.pk}/change/")
    page.get_by_label("Nombre de postes").fill("11")
    page.get_by_role("button", name="Ajouter au panier").click()
    expect(
        page.get_by_text("Rien n'est dû : aucun paiement n'est nécessaire pour cette commande.")
    ).to_be_visible()
    page.get_by_role("button", name="Passer la commande").click()
    expect(page.get_by_role("heading", name="Merci : votre commande est passée")).to_be_visible()

    credit = (2 * meeting.unit_price.amount * Decimal("1.20")).quantize(CENT)
    page.get_by_role("link", name="Solde du compte").click()
    expect(page.locator(".balance")).to_have_text(money_fr(credit))
    page.screenshot(path=screenshot_dir / "balance-fr.png", full_page=True)
    account = Account.objects.get(name="Acme SARL")
    assert account.credit_balance.amount == credit
    assert sum(e.amount.amount for e in account.credit_entries.all()) == credit
