"""The cart with a seat decrease and a purchase in it, in the browser (issue 11): priced as the
checkout prices it — the credit for the unused time as a negative amount, the subtotal, the VAT
and the total the checkout page then shows — on a phone in French and on a laptop in Italian,
without sideways scroll and clean for axe-core.

Screenshots: test-artifacts/cart-<lang>-<width>.png.
"""

import pytest
from django.core.management import call_command
from django.utils import translation
from playwright.sync_api import Browser, Page, expect

from billing_center.models import User
from billing_center.money import format_money
from cart.models import Cart
from checkout.billing import BillingDetails
from checkout.placement import preview_order
from subscriptions.models import Subscription
from tests.e2e.audit import PageAudit
from tests.e2e.test_every_page import WORDS, log_in, open_page

pytestmark = pytest.mark.django_db(transaction=True)

FIGURES = ("subtotal", "tax", "total", "total-due")
CASES = [("fr", 390), ("it", 1280)]
# The words of the page, as the catalogs write them.
LABELS = {
    "fr": {"credit": "Crédit pour la période non utilisée", "summary": "Récapitulatif"},
    "it": {"credit": "Credito per il periodo non utilizzato", "summary": "Riepilogo"},
}


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def shown_figures(page: Page) -> dict[str, str]:
    return {name: page.locator(f"main [data-{name}]").inner_text() for name in FIGURES}


@pytest.mark.parametrize(("lang", "width"), CASES, ids=[f"{lang}-{w}" for lang, w in CASES])
def test_the_cart_is_priced_as_the_checkout(
    browser: Browser, live_server, demo, screenshot_dir, lang, width
):
    words = WORDS[lang]
    User.objects.filter(email="billing@acme.test").update(language=lang)
    page = open_page(browser, lang, width)
    audit = PageAudit(page, screenshot_dir, "cart")
    log_in(page, live_server, "billing@acme.test")

    # A seat decrease: GoTo Meeting from 10 organizers to 5 (4 are assigned).
    meeting = Subscription.objects.get(account__name="Acme SARL", product__slug="goto-meeting")
    page.goto(f"{live_server.url}/billing/subscriptions/{meeting.pk}/change/")
    page.get_by_label(words["seats"]).fill("5")
    page.locator("main form .actions button.button--primary").click()
    page.wait_for_url("**/billing/checkout/")
    # A purchase: RescueAssist, its first tier and seats, Annual, Add to Cart.
    page.goto(f"{live_server.url}/billing/add/rescueassist/buy/")
    page.locator("main form .actions button[type=submit]").click()
    page.locator("main form .actions button[type=submit]").click()
    page.wait_for_url("**/billing/cart/")

    main = page.locator("main")
    expect(main.locator(".cart-item")).to_have_count(2)
    credit = main.locator(".line--credit")
    expect(credit).to_have_count(1)
    expect(credit).to_contain_text(LABELS[lang]["credit"])
    credit_amount = credit.locator("[data-amount]").inner_text()
    assert credit_amount[:1] in {"-", "\u2212"}, credit_amount
    expect(main.get_by_role("heading", name=LABELS[lang]["summary"])).to_be_visible()
    on_cart = shown_figures(page)
    tax_label = main.locator(".cart-totals [data-tax]").locator("xpath=..").locator("th")
    cart_tax_label = tax_label.inner_text()
    audit.check(f"{lang}-{width}")

    # The same figures as the checkout prices them, and as its page shows them.
    cart = Cart.objects.get(owner__email="billing@acme.test")
    pricing = preview_order(cart=cart, billing=BillingDetails.of_account(cart.account))
    with translation.override(lang):
        expected = {
            "subtotal": format_money(pricing.subtotal),
            "tax": format_money(pricing.tax_amount),
            "total": format_money(pricing.total),
            "total-due": format_money(pricing.amount_due),
        }
        assert credit_amount == format_money(pricing.lines[0].amount)
    assert on_cart == expected
    assert pricing.lines[0].is_credit

    page.goto(f"{live_server.url}/billing/checkout/")
    assert shown_figures(page) == on_cart
    checkout_tax_label = (
        page.locator("main [data-tax]").locator("xpath=..").locator("th").inner_text()
    )
    assert checkout_tax_label == cart_tax_label
    page.context.close()
    audit.assert_clean()
