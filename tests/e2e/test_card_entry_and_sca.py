"""Card entry and Strong Customer Authentication in Chromium (issue 17), on the demo: the card is
typed into the processor's card fields (or, without JavaScript, on its hosted card page), never
posted to our views — every request of these tests is recorded by the autouse guard in
conftest.py — and a card the bank wants confirmed goes through the sandbox's 3-D Secure page:
Authorize places the order once, Fail authentication leaves the checkout with a message and
nothing charged. Off-session, a renewal on such a card leaves an open invoice and an email
asking to confirm, which Pay now does with the bank's page."""

import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import translation
from playwright.sync_api import Browser, Page, expect

from billing_center.models import User
from checkout.models import Invoice, InvoiceStatus, Order
from checkout.sandbox_gateway.models import SandboxCharge
from subscriptions.models import Subscription, SubscriptionStatus
from tests.e2e.audit import PageAudit
from tests.e2e.cards import RequestRecorder, expiry, type_card

pytestmark = pytest.mark.django_db(transaction=True)

ALWAYS = "4000 0027 6000 3184"

WORDS = {
    "fr": {
        "failed": "Votre banque n'a pas pu confirmer que c'est bien vous",
        "paid": "est payée",
        "confirm_email": "Votre banque vous demande de confirmer ce paiement",
    },
    "it": {
        "failed": "La tua banca non ha potuto confermare la tua identità",
        "paid": "è pagata",
        "confirm_email": "La tua banca ti chiede di confermare questo pagamento",
    },
    "es": {
        "failed": "Su banco no ha podido confirmar que es usted",
        "paid": "está pagada",
        "confirm_email": "Su banco le pide que confirme este pago",
    },
    "en": {
        "failed": "Your bank could not confirm that it is you",
        "paid": "is paid",
        "confirm_email": "Your bank asks you to confirm this payment",
    },
}


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def sign_in(page: Page, live_server, email="billing@acme.test"):
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill("demo-pass-2026")
    page.locator("main button[type=submit]").click()
    expect(page.locator("main h1").first).to_be_visible()


def to_checkout(page: Page, live_server):
    """Add New Subscription → GoTo Training, 5 seats, annual → Checkout."""
    page.goto(f"{live_server.url}/billing/add/goto-training/buy/")
    page.locator("#id_seat_count").fill("5")
    page.locator("main form .actions button[type=submit]").click()
    page.locator("input[name=cycle][value=annual]").check()
    page.locator("main form .actions button[type=submit]").click()
    expect(page.locator("[data-total-due]").first).to_be_visible()


def place_order(page: Page):
    page.locator("main form button[type=submit].button--large").click()


@pytest.mark.parametrize(("language", "width"), [("fr", 390), ("it", 1280)])
def test_checkout_with_a_card_the_bank_wants_confirmed(
    page: Page,
    live_server,
    demo,
    screenshot_dir,
    language,
    width,
    card_numbers_never_reach_our_views,
):
    page.set_viewport_size({"width": width, "height": 900})
    audit = PageAudit(page=page, screenshot_dir=screenshot_dir, prefix=f"sca-{language}-{width}")
    User.objects.filter(email="billing@acme.test").update(language=language)
    sign_in(page, live_server)

    # Fail authentication: back on the checkout with a message; nothing ordered nor charged.
    to_checkout(page, live_server)
    page.locator("input[name=payment][value=new]").check()
    type_card(page, ALWAYS, "Camille Laurent")
    audit.check("checkout")
    place_order(page)
    expect(page).to_have_url(re.compile(r"/sandbox-gateway/authenticate/ch_sandbox_\w+/$"))
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    page.screenshot(path=screenshot_dir / f"sca-bank-page-{width}.png", full_page=True)
    page.get_by_role("button", name="Fail authentication").click()
    expect(page).to_have_url(f"{live_server.url}/billing/checkout/")
    expect(page.locator(".message")).to_contain_text(WORDS[language]["failed"])
    audit.check("checkout-authentication-failed")
    assert not Order.objects.filter(lines__product__slug="goto-training").exists()
    assert not SandboxCharge.objects.filter(succeeded=True, amount__gt=0).exists()

    # Authorize: the confirmation, one order, one charge.
    page.locator("input[name=payment][value=new]").check()
    type_card(page, ALWAYS, "Camille Laurent")
    place_order(page)
    expect(page).to_have_url(re.compile(r"/sandbox-gateway/authenticate/"))
    page.get_by_role("button", name="Authorize").click()
    expect(page.locator(".confirmation")).to_be_visible()
    audit.check("confirmation")
    order = Order.objects.get(lines__product__slug="goto-training")
    assert order.payment_method.last4 == "3184"
    assert SandboxCharge.objects.filter(succeeded=True).count() == 1
    page.go_back()  # the bank's page again: answered already, on to where it returned
    assert Order.objects.filter(lines__product__slug="goto-training").count() == 1
    assert card_numbers_never_reach_our_views.to_processor >= 2  # the cards went there
    audit.assert_clean()


@pytest.mark.parametrize(("language", "width"), [("es", 390), ("en", 1280)])
def test_a_renewal_the_bank_wants_confirmed_is_paid_with_pay_now(
    page: Page, live_server, demo, screenshot_dir, language, width
):
    page.set_viewport_size({"width": width, "height": 900})
    audit = PageAudit(
        page=page, screenshot_dir=screenshot_dir, prefix=f"sca-renewal-{language}-{width}"
    )
    User.objects.filter(email="billing@acme.test").update(language=language)
    meeting = Subscription.objects.get(account__name="Acme SARL", product__slug="goto-meeting")
    meeting.account.language = language
    meeting.account.save(update_fields=["language"])
    sign_in(page, live_server)

    # A card the bank confirms when it is saved, made the default.
    page.goto(f"{live_server.url}/billing/payment-methods/")
    type_card(page, ALWAYS, "Camille Laurent")
    page.locator("#id_make_default").check()
    page.locator("main form[novalidate] button[type=submit].button--primary").click()
    expect(page).to_have_url(re.compile(r"/sandbox-gateway/authenticate/seti_sandbox_\w+/$"))
    page.get_by_role("button", name="Authorize").click()
    expect(page.locator("main")).to_contain_text("3184")
    audit.check("card-saved")

    # The renewal, merchant-initiated: the bank wants the customer, so the invoice stays open
    # and the email asks to confirm with Pay now.
    call_command(
        "run_billing",
        "--today",
        meeting.current_period_end.isoformat(),
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )
    invoice = Invoice.objects.get(account=meeting.account, status=InvoiceStatus.OPEN)
    email = next(m for m in mail.outbox if invoice.number in m.subject)
    assert WORDS[language]["confirm_email"] in email.body
    assert f"/billing/invoices/{invoice.number}/pay/" in email.body

    page.goto(f"{live_server.url}/billing/invoices/{invoice.number}/pay/")
    audit.check("pay-now")
    page.locator("main form button[type=submit].button--large").click()
    expect(page).to_have_url(re.compile(r"/sandbox-gateway/authenticate/ch_sandbox_\w+/$"))
    page.get_by_role("button", name="Authorize").click()
    expect(page.locator(".message")).to_contain_text(WORDS[language]["paid"])
    audit.check("paid")
    invoice.refresh_from_db()
    meeting.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert meeting.status == SubscriptionStatus.ACTIVE
    audit.assert_clean()


def test_without_javascript_the_card_is_typed_on_the_processors_page(
    browser: Browser, live_server, demo, screenshot_dir
):
    """No script: Place Order with a new card goes to the hosted card page, which sends the
    customer back with a token; what they typed on the checkout is still there."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 900})
    page = context.new_page()
    recorder = RequestRecorder(live_server.url)
    page.on("request", recorder)
    with translation.override("fr"):
        sign_in(page, live_server)
        to_checkout(page, live_server)
    expect(page.locator("[data-card-fields]")).to_be_hidden()
    page.locator("input[name=payment][value=new]").check()
    page.locator("#id_cardholder_name").fill("Camille Laurent")
    place_order(page)
    expect(page).to_have_url(re.compile(r"/sandbox-gateway/cards/new/\?return="))
    page.screenshot(path=screenshot_dir / "hosted-card-page-fr-390.png", full_page=True)
    page.locator("#id_number").fill("4242 4242 4242 4242")
    page.locator("#id_expiry").fill(expiry())
    page.locator("#id_cvc").fill("123")
    page.locator("form button[type=submit].button--primary").click()
    expect(page.locator("[data-entered-card]")).to_contain_text("•••• 4242")
    expect(page.locator("#id_cardholder_name")).to_have_value("Camille Laurent")
    page.screenshot(path=screenshot_dir / "card-entered-fr-390.png", full_page=True)
    place_order(page)
    expect(page.locator(".confirmation")).to_be_visible()
    assert Order.objects.get(lines__product__slug="goto-training").payment_method.last4 == "4242"
    assert not recorder.offending, recorder.offending
    assert recorder.to_processor >= 2
    context.close()
