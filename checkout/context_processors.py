from django.utils.functional import SimpleLazyObject

from checkout.selectors import open_invoices


def invoices(request):
    """The account's open invoices, for the past-due banner (read only if a page shows it)."""
    membership = getattr(request, "membership", None)

    def load() -> list:
        if membership is None or not membership.is_billing_contact:
            return []
        return list(open_invoices(account=membership.account))

    return {"open_invoices": SimpleLazyObject(load)}
