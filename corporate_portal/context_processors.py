from django.utils.functional import SimpleLazyObject

from corporate_portal.selectors import account_has_quotes


def quotes(request):
    """Whether the menu shows Quotes (read only if the menu asks)."""
    membership = getattr(request, "membership", None)

    def has_quotes() -> bool:
        if membership is None or not membership.is_billing_contact:
            return False
        return account_has_quotes(account=membership.account)

    return {"account_has_quotes": SimpleLazyObject(has_quotes)}
