"""The billing lifecycle in Chromium, in French (issue 10): Acme's demo clock is moved past its
period end with `run_billing --today`; the dashboard shows the new period and the invoices page
the renewal invoice. Then Acme's default card becomes the sandbox's 0341 card (saved fine,
declined later): the next renewal leaves the past-due banner, and "Payer maintenant" with the
4242 card clears it."""

import pytest
from django.core.management import call_command
from django.utils.formats import date_format
from django.utils.translation import override
from playwright.sync_api import Page, expect

from checkout.models import Invoice, InvoiceStatus
from subscriptions.models import Subscription, SubscriptionStatus
from tests.e2e.audit import PageAudit
from tests.e2e.cards import type_card

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def run_billing(day):
    call_command("run_billing", "--today", day.isoformat(), stdout=open("/dev/null", "w"))  # noqa: SIM115


def french_date(day) -> str:
    with override("fr"):
        return date_format(day, "DATE_FORMAT")


@pytest.mark.parametrize("width", [1280, 390])
def test_acme_renews_then_pays_a_past_due_invoice(
    page: Page, live_server, demo, screenshot_dir, width
):
    page.set_viewport_size({"width": width, "height": 900})
    audit = PageAudit(page=page, screenshot_dir=screenshot_dir, prefix=f"lifecycle-fr-{width}")
    meeting = Subscription.objects.get(account__name="Acme SARL", product__slug="goto-meeting")
    first_end = meeting.current_period_end

    # The demo's billing clock moved to the end of Acme's period.
    run_billing(first_end)
    meeting.refresh_from_db()
    assert meeting.current_period_start == first_end
    renewal = Invoice.objects.filter(account=meeting.account).latest("pk")

    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill("billing@acme.test")
    page.locator("#id_password").fill("demo-pass-2026")
    page.locator("main button[type=submit]").click()
    expect(page.get_by_role("heading", name="Abonnements")).to_be_visible()
    expect(page.locator("main")).to_contain_text(french_date(meeting.current_period_end))
    audit.check("renewed-dashboard")

    page.goto(f"{live_server.url}/billing/invoices/")
    row = page.get_by_role("row", name=renewal.number)
    expect(row).to_contain_text("Payée")
    audit.check("invoices")

    # A default card that is saved fine and declined at every later charge.
    page.goto(f"{live_server.url}/billing/payment-methods/")
    type_card(page, "4000 0000 0000 0341", "Camille Laurent")
    page.locator("#id_make_default").check()
    page.locator("main form[novalidate] button[type=submit].button--primary").click()
    expect(page.locator("main")).to_contain_text("0341")

    run_billing(meeting.current_period_end)  # the next renewal is declined
    meeting.refresh_from_db()
    assert meeting.status == SubscriptionStatus.PAST_DUE
    open_invoice = Invoice.objects.get(account=meeting.account, status=InvoiceStatus.OPEN)

    page.goto(f"{live_server.url}/billing/")
    banner = page.locator(".past-due-banner")
    expect(banner).to_contain_text("Paiement en retard")
    expect(banner).to_contain_text(open_invoice.number)
    expect(page.locator("main")).to_contain_text("Paiement en retard")  # the row's status
    audit.check("past-due")

    banner.get_by_role("link", name="Payer maintenant").click()
    page.get_by_text("Une nouvelle carte").click()
    type_card(page, "4242 4242 4242 4242", "Camille Laurent")
    audit.check("pay-now")
    page.locator("main form button[type=submit].button--primary").click()
    expect(page.locator(".message")).to_contain_text("est payée")
    audit.check("paid")

    page.goto(f"{live_server.url}/billing/")
    expect(page.locator(".past-due-banner")).to_have_count(0)
    meeting.refresh_from_db()
    assert meeting.status == SubscriptionStatus.ACTIVE
    open_invoice.refresh_from_db()
    assert open_invoice.status == InvoiceStatus.PAID
    assert meeting.current_period_start > first_end  # two renewals: paid, then declined
    audit.assert_clean()


@pytest.mark.parametrize(("language", "width"), [("en", 1280), ("fr", 390)])
def test_globex_pays_a_declined_renewal_from_the_corporate_portal(
    page: Page, live_server, demo, screenshot_dir, language, width
):
    """A corporate account renews on its automatic card too; when that card is declined, the
    Corporate Billing Portal shows the open invoice and "Pay now" works there."""
    from billing_center.models import User
    from checkout.models import PaymentMethod

    page.set_viewport_size({"width": width, "height": 900})
    audit = PageAudit(
        page=page, screenshot_dir=screenshot_dir, prefix=f"corporate-past-due-{language}-{width}"
    )
    User.objects.filter(email="billing@globex.test").update(language=language)
    PaymentMethod.objects.filter(account__name="Globex Corp", is_default=True).update(
        gateway_token="tok_sandbox_card_declined_0341"
    )
    due = (
        Subscription.objects.filter(account__name="Globex Corp")
        .order_by("current_period_end")
        .first()
    )
    run_billing(due.current_period_end)
    open_invoice = Invoice.objects.get(account__name="Globex Corp", status=InvoiceStatus.OPEN)
    past_due = "Past due" if language == "en" else "Paiement en retard"
    pay_now = "Pay now" if language == "en" else "Payer maintenant"

    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill("billing@globex.test")
    page.locator("#id_password").fill("demo-pass-2026")
    page.locator("main button[type=submit]").click()
    banner = page.locator(".past-due-banner")
    expect(banner).to_contain_text(past_due)
    expect(banner).to_contain_text(open_invoice.number)
    audit.check("subscriptions")

    banner.get_by_role("link", name=pay_now).click()
    expect(page).to_have_url(f"{live_server.url}/billing/invoices/{open_invoice.number}/pay/")
    page.locator("input[name=payment][value=new]").check()
    type_card(page, "4242 4242 4242 4242", "Dana Whitfield")
    audit.check("pay-now")
    page.locator("main form button[type=submit].button--primary").click()
    expect(page.locator(".message")).to_contain_text(open_invoice.number)
    audit.check("paid")

    page.goto(f"{live_server.url}/corporate/invoices/")
    expect(page.locator(".past-due-banner")).to_have_count(0)
    expect(page.get_by_role("row", name=open_invoice.number)).to_contain_text(
        "Paid" if language == "en" else "Payée"
    )
    audit.check("invoices")
    open_invoice.refresh_from_db()
    assert open_invoice.status == InvoiceStatus.PAID
    due.refresh_from_db()
    assert due.status == SubscriptionStatus.ACTIVE
    audit.assert_clean()
