"""Card numbers, security codes and expiry dates never come back in a page, after a decline or
any other error (issue 9: after a decline the full number and CVC were rendered back)."""

import re

import pytest
from django.urls import reverse

from cart.models import Cart
from catalog.models import BillingCycle
from tests.factories import CartItemFactory, plan_with_prices
from tests.helpers import checkout_fingerprint

pytestmark = pytest.mark.django_db

NUMBER, CVC, EXPIRY = "4000 0000 0000 0002", "987", "11/31"


def card_inputs(html):
    """The value attributes of the card inputs in the page."""
    return re.findall(r'<input[^>]*name="card_(?:number|cvc|expiry)"[^>]*>', html)


def assert_no_card_data(html):
    inputs = card_inputs(html)
    assert inputs  # the form is there again, to type the card in
    assert not any("value=" in tag for tag in inputs), inputs
    for secret in (NUMBER, NUMBER.replace(" ", ""), f'"{CVC}"', EXPIRY):
        assert secret not in html


@pytest.fixture
def item(billing_contact, account):
    cart = Cart.objects.create(owner=billing_contact, account=account)
    plan = plan_with_prices(monthly="119.00", annual="1140.00")
    return CartItemFactory(
        cart=cart, plan=plan, product=plan.product, seat_count=5, cycle=BillingCycle.ANNUAL
    )


def checkout_data(item, **overrides):
    return {
        "payment": "new",
        "card_number": NUMBER,
        "card_expiry": EXPIRY,
        "card_cvc": CVC,
        "cardholder_name": "Camille Laurent",
        "name": "Acme SARL",
        "address_line1": "12 rue de la Paix",
        "postal_code": "75002",
        "city": "Paris",
        "country": "FR",
        "vat_number": "",
        "cart_version": item.cart.version,
        "pricing_fingerprint": checkout_fingerprint(item.cart),
        **overrides,
    }


def test_after_a_decline_the_checkout_shows_no_card_data(contact_client, item):
    response = contact_client.post(reverse("checkout:checkout"), checkout_data(item))
    html = response.content.decode()
    assert "Your card was declined." in html
    assert_no_card_data(html)


def test_after_another_error_the_checkout_shows_no_card_data(contact_client, item):
    data = checkout_data(item, postal_code="", card_number="4242 4242 4242 4242")
    html = contact_client.post(reverse("checkout:checkout"), data).content.decode()
    assert "4242 4242 4242 4242" not in html
    assert_no_card_data(html)


def test_the_payment_methods_form_shows_no_card_data_after_an_error(contact_client):
    data = {"card_number": NUMBER, "card_expiry": EXPIRY, "card_cvc": CVC, "cardholder_name": ""}
    html = contact_client.post(reverse("checkout:payment_methods"), data).content.decode()
    assert "Enter the name on the card." in html
    assert_no_card_data(html)
