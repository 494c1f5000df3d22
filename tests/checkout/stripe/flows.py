"""Place Order as the checkout page does it, for the Stripe drills."""

from datetime import date

from checkout.billing import BillingDetails
from checkout.placement import place_order, preview_order

TODAY = date(2026, 11, 22)


def place(cart, **payment):
    billing = BillingDetails.of_account(cart.account)
    return place_order(
        cart=cart,
        cart_version=cart.version,
        billing=billing,
        expected_pricing=preview_order(cart=cart, billing=billing, today=TODAY).fingerprint,
        actor=cart.owner,
        today=TODAY,
        **payment,
    )
