"""The cart page (cart:detail, served by checkout) is priced as the checkout prices the same cart:
per item its lines (a seat change: the credit for the unused time, negative, then the new
period), then the subtotal, the VAT with its mention, the total, the credit and the total due."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from moneyed import Money

from billing_center.money import format_money
from checkout.billing import BillingDetails
from checkout.placement import preview_order
from tests.factories import (
    CartFactory,
    CartItemFactory,
    SubscriptionFactory,
    plan_with_prices,
)

pytestmark = pytest.mark.django_db

CART = reverse("cart:detail")
CHECKOUT = reverse("checkout:checkout")
FIGURES = ("subtotal", "tax", "total", "total-due")


@pytest.fixture
def cart(account, billing_contact):
    return CartFactory(account=account, owner=billing_contact)


@pytest.fixture
def meeting(account):
    """10 organizers a year at €120 from 2026-11-01; the clock stands at 2026-11-22: most of
    the year is unused, so a decrease to 4 costs less than its credit."""
    plan = plan_with_prices(
        monthly="12.00", annual="120.00", product__name="GoTo Meeting", max_seats=250
    )
    return SubscriptionFactory(
        account=account,
        plan=plan,
        seat_count=10,
        unit_price=Money("120.00", "EUR"),
        current_period_start=date(2026, 11, 1),
    )


def buy(cart, seats=5):
    plan = plan_with_prices(annual="1140.00", product__name="GoTo Training", max_seats=50)
    return CartItemFactory(cart=cart, plan=plan, product=plan.product, seat_count=seats)


def change(cart, subscription, seats):
    return CartItemFactory(
        cart=cart,
        plan=subscription.plan,
        product=subscription.product,
        cycle=subscription.cycle,
        seat_count=seats,
        subscription=subscription,
    )


def figures(html: str) -> dict[str, str]:
    """The totals a page shows, as written (data-subtotal, data-tax, data-total…)."""
    return {
        name: re.search(rf"data-{name}>([^<]*)<", html).group(1)
        for name in FIGURES
        if f"data-{name}>" in html
    }


def priced(cart):
    cart.refresh_from_db()
    return preview_order(cart=cart, billing=BillingDetails.of_account(cart.account))


def assert_cart_page_is_priced_as_checkout(client, cart) -> str:
    pricing = priced(cart)
    cart_html = client.get(CART).content.decode()
    checkout_html = client.get(CHECKOUT).content.decode()
    assert figures(cart_html) == figures(checkout_html)
    assert figures(cart_html) == {
        "subtotal": format_money(pricing.subtotal),
        "tax": format_money(pricing.tax_amount),
        "total": format_money(pricing.total),
        "total-due": format_money(pricing.amount_due),
    }
    for line in pricing.lines:
        assert f"data-amount>{format_money(line.amount)}<" in cart_html
    return cart_html


def test_a_purchase(contact_client, cart):
    buy(cart)
    html = assert_cart_page_is_priced_as_checkout(contact_client, cart)
    # 5 × €1,140.00, French VAT 20 %
    assert figures(html) == {
        "subtotal": "€5,700.00",
        "tax": "€1,140.00",
        "total": "€6,840.00",
        "total-due": "€6,840.00",
    }
    assert "New subscription" in html
    assert "VAT 20 %" in html


def test_a_seat_increase_shows_the_credit_then_the_new_period(contact_client, cart, meeting):
    change(cart, meeting, 13)
    html = assert_cart_page_is_priced_as_checkout(contact_client, cart)
    pricing = priced(cart)
    credit, new_period = pricing.lines
    assert credit.amount < Money(0, "EUR") < new_period.amount
    assert new_period.amount == Money("1560.00", "EUR")  # 13 × €120.00, a year from today
    # The credit (negative) comes before the new period, in the item's own lines.
    assert html.index("Credit for the unused time") < html.index("New period from today")
    assert f"data-amount>{format_money(credit.amount)}<" in html
    assert format_money(credit.amount).startswith("-")
    # The item's amount is the net of its lines, not the new period's full price.
    assert f"data-item-amount>{format_money(credit.amount + new_period.amount)}<" in html


def test_a_seat_decrease_is_a_negative_amount_added_as_credit(contact_client, cart, meeting):
    change(cart, meeting, 4)
    html = assert_cart_page_is_priced_as_checkout(contact_client, cart)
    pricing = priced(cart)
    assert pricing.subtotal < Money(0, "EUR")
    assert figures(html)["subtotal"].startswith("-")
    assert figures(html)["total"].startswith("-")
    assert figures(html)["total-due"] == "€0.00"
    assert f"data-item-amount>{format_money(pricing.subtotal)}<" in html
    assert "Added to your account balance" in html
    assert f"data-credit-added>{format_money(pricing.credit_added)}<" in html


def test_a_seat_decrease_and_a_purchase(contact_client, cart, meeting):
    change(cart, meeting, 4)
    buy(cart, seats=2)
    assert_cart_page_is_priced_as_checkout(contact_client, cart)


def test_the_credit_balance_is_applied_as_checkout_applies_it(contact_client, account, cart):
    account.credit_balance_amount = Decimal("100.00")
    account.save()
    buy(cart)
    html = assert_cart_page_is_priced_as_checkout(contact_client, cart)
    assert "data-credit-applied>−€100.00<" in html
    assert figures(html)["total-due"] == "€6,740.00"


def test_the_reverse_charge_mention_is_shown_as_checkout_shows_it(contact_client, account, cart):
    account.country = "DE"
    account.vat_number = "DE136695976"
    account.save()
    buy(cart)
    html = assert_cart_page_is_priced_as_checkout(contact_client, cart)
    assert "VAT (reverse charge)" in html
    assert "Article 196, Council Directive 2006/112/EC" in html


def test_a_country_without_a_vat_rate_shows_the_items_and_why_it_cannot_be_priced(
    contact_client, account, cart
):
    from checkout.models import VatRate

    VatRate.objects.filter(country="FR").delete()
    buy(cart)
    html = contact_client.get(CART).content.decode()
    assert "GoTo Training" in html
    assert "We cannot sell to your country right now." in html
    assert "data-total-due" not in html
    assert reverse("checkout:checkout") not in html.split("<main", 1)[1]
