from django.utils.translation import gettext as _

from subscriptions.models import Portal


def account(request):
    """The signed-in person's membership and the portal the header names: the account's, or
    the Billing Center by default."""
    membership = getattr(request, "membership", None)
    is_corporate = membership is not None and membership.account.portal == Portal.CORPORATE
    return {
        "portal_name": _("Corporate Billing Portal") if is_corporate else _("Billing Center"),
        "current_membership": membership,
    }
