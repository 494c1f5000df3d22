from django.utils.functional import SimpleLazyObject

from cart.selectors import cart_item_count


def cart(request):
    """How many items the billing contact's cart holds, for the menu (read only if shown)."""
    membership = getattr(request, "membership", None)

    def count() -> int:
        if membership is None or not membership.is_billing_contact:
            return 0
        return cart_item_count(owner=request.user)

    return {"cart_item_count": SimpleLazyObject(count)}
