"""Small things several test modules need."""

from dataclasses import replace

from checkout.billing import BillingDetails
from checkout.placement import preview_order


def checkout_fingerprint(cart, **billing) -> str:
    """The priced-order fingerprint the checkout page of `cart` carries (its account's billing
    details, with `billing` changed), as a browser would post it back."""
    details = replace(BillingDetails.of_account(cart.account), **billing)
    return preview_order(cart=cart, billing=details).fingerprint
