"""Flow C in Chromium: Globex adds GoTo Webinar seats through a quote and a service order."""

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import Page, expect

from billing_center.models import User
from corporate_portal.models import Quote, ServiceOrder
from subscriptions.models import Subscription

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_globex_adds_seats_through_a_service_order(page: Page, live_server, demo, screenshot_dir):
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill("billing@globex.test")
    page.locator("#id_password").fill("demo-pass-2026")
    page.locator("main button[type=submit]").click()
    page.goto(f"{live_server.url}/corporate/")
    expect(page.locator(".brand__name")).to_have_text("Corporate Billing Portal")
    expect(page.get_by_text("RescueAssist does not support additional seats")).to_be_visible()
    page.screenshot(path=screenshot_dir / "corporate-subscriptions-en.png", full_page=True)

    page.get_by_role("link", name="Add Seats").click()
    page.get_by_label("GoTo Webinar").fill("3")
    page.get_by_role("button", name="Save Cart and Review").click()
    # The demo's open quote: warned first, then replaced.
    expect(page.get_by_text("Your account has an open quote")).to_be_visible()
    page.get_by_role("button", name="Replace the open quote").click()
    quote = Quote.objects.get(status="open")
    expect(page.get_by_role("heading", name=f"Quote {quote.number}")).to_be_visible()
    page.screenshot(path=screenshot_dir / "corporate-quote-en.png", full_page=True)

    page.get_by_role("link", name="Proceed to Payment").click()
    page.get_by_label("Full name").fill("Ada Admin")
    page.get_by_label("Email address").fill("ada.admin@globex.test")
    page.get_by_role("button", name="Save and Proceed to Service Order").click()
    expect(page.get_by_role("heading", name="Service Order Details")).to_be_visible()
    expect(page.get_by_text("Visa •••• 4242")).to_be_visible()
    page.get_by_role("button", name="Place Service Order").click()
    # Processed at once here (the demo's task backend): it says so, not "up to 24 hours".
    expect(page.get_by_text("Your service order is completed").first).to_be_visible()
    expect(page.get_by_text("Processing can take up to 24 hours")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "corporate-service-order-en.png", full_page=True)

    service_order = ServiceOrder.objects.get()
    assert service_order.status == "completed"  # the demo's backend runs the task at once
    webinar = Subscription.objects.get(account__name="Globex Corp", product__slug="goto-webinar")
    assert webinar.seat_count == 8
    admin = User.objects.get(email="ada.admin@globex.test")
    assert admin.membership.role == "admin_contact"
    assert webinar.seat_assignments.filter(user=admin).exists()
    receipt = [m for m in mail.outbox if "Receipt for service order" in m.subject]
    assert receipt
    assert receipt[0].to == ["billing@globex.test"]
