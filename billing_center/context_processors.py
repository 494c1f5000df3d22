from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from subscriptions.models import Portal


def portal(request):
    """The portal the header names: the account's, or the Billing Center by default."""
    membership = getattr(request, "membership", None)
    is_corporate = membership is not None and membership.account.portal == Portal.CORPORATE
    return {
        "portal_name": _("Corporate Billing Portal") if is_corporate else _("Billing Center"),
        "current_membership": membership,
        "cart_item_count": SimpleLazyObject(lambda: _cart_item_count(request, membership)),
        "account_has_quotes": SimpleLazyObject(lambda: _has_quotes(membership)),
    }


def _has_quotes(membership) -> bool:
    if membership is None or not membership.is_billing_contact:
        return False
    return membership.account.quotes.exists()


def _cart_item_count(request, membership) -> int:
    if membership is None or not membership.is_billing_contact:
        return 0
    from cart.selectors import cart_item_count

    return cart_item_count(owner=request.user)
