"""A checkout through Stripe's adapter in Chromium, against localstripe's JavaScript and API
(started by the suite): the card is typed into Stripe's card element (localstripe's stand-in),
which confirms a SetupIntent our server started; only the PaymentMethod id reaches our form
(the autouse guard in conftest.py records every request to our origin). 4242 goes straight to
the confirmation; 3184 asks for the bank's authentication when the card is set up and again
for the payment, on our authentication page, then the money path resumes on the return."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from billing_center.models import User
from checkout.models import Order
from tests.e2e.audit import PageAudit
from tests.stripe_server import kept_captures

pytestmark = pytest.mark.django_db(transaction=True)

# localstripe's card element: its own inputs, named by their placeholders. Real Stripe's is an
# iframe of Stripe's; either way the processor's, so axe-core leaves it out.
STRIPE_ELEMENT = ".stripe-card"
CONFIRMED = {"fr": "Merci : votre commande est passée", "it": "Grazie: il tuo ordine è stato"}


@pytest.fixture
def demo(stripe_gateway, transactional_db, settings):
    settings.ALLOWED_HOSTS = ["*"]
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def sign_in(page: Page, live_server):
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill("billing@acme.test")
    page.locator("#id_password").fill("demo-pass-2026")
    page.locator("main button[type=submit]").click()
    expect(page.locator("main h1").first).to_be_visible()


def type_card(page: Page, number: str):
    element = page.locator(STRIPE_ELEMENT)
    element.locator("input[placeholder=number]").fill(number)
    element.locator("input[placeholder=exp_month]").fill("12")
    element.locator("input[placeholder=exp_year]").fill("30")
    element.locator("input[placeholder=cvc]").fill("123")
    element.locator("input[placeholder=postal_code]").fill("75001")
    page.locator("#id_cardholder_name").fill("Camille Laurent")


def complete_authentication(page: Page):
    """The bank's window (localstripe's 3-D Secure stand-in)."""
    page.get_by_role("button", name="Complete authentication").click()


@pytest.mark.parametrize(
    ("language", "width", "number"),
    [("fr", 390, "4242424242424242"), ("it", 1280, "4000002760003184")],
)
def test_checkout_through_stripe(
    page: Page,
    live_server,
    demo,
    localstripe,
    screenshot_dir,
    language,
    width,
    number,
    card_numbers_never_reach_our_views,
):
    page.set_viewport_size({"width": width, "height": 900})
    audit = PageAudit(page=page, screenshot_dir=screenshot_dir, prefix=f"stripe-{language}")
    User.objects.filter(email="billing@acme.test").update(language=language)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/billing/add/rescueassist/buy/")
    page.locator("#id_seat_count").fill("5")
    page.locator("main form .actions button[type=submit]").click()
    page.locator("input[name=cycle][value=annual]").check()
    page.locator("main form .actions button[type=submit]").click()
    page.locator("input[name=payment][value=new]").check()
    expect(page.locator(f"{STRIPE_ELEMENT} input")).to_have_count(5)  # Stripe.js mounted it
    type_card(page, number)
    audit.check("checkout", exclude=(STRIPE_ELEMENT,))
    page.locator("main form button[type=submit].button--large").click()

    if number.endswith("3184"):
        complete_authentication(page)  # the card's setup (SetupIntent)
        expect(page).to_have_url(re.compile(r"/stripe/authenticate/[\w:.-]+/$"))
        expect(page.locator("main h1")).to_contain_text("Conferma il pagamento con la tua banca")
        audit.check("authenticate")
        complete_authentication(page)  # the payment (PaymentIntent)

    expect(page).to_have_url(re.compile(r"/billing/orders/ORD-[\w-]+/$"))
    expect(page.locator("main h1")).to_contain_text(CONFIRMED[language])
    audit.check("confirmation")
    order = Order.objects.get(lines__product__slug="rescueassist")
    attempt = order.payment_attempts.get()
    assert attempt.charge_reference.startswith("pi_")
    assert order.payment_method.last4 == number[-4:]
    assert order.payment_method.gateway_token.startswith("pm_")
    [intent] = [
        i for i in kept_captures(localstripe, order.account) if i.id == attempt.charge_reference
    ]
    assert intent.amount == int(order.amount_charged.amount * 100)
    # The card was sent to Stripe (localstripe), never to us.
    assert card_numbers_never_reach_our_views.requests
    audit.assert_clean()
