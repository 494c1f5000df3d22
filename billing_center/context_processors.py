from django.utils.translation import gettext as _

from subscriptions.models import Portal


def portal(request):
    """The portal the header names: the account's, or the Billing Center by default."""
    membership = getattr(request, "membership", None)
    is_corporate = membership is not None and membership.account.portal == Portal.CORPORATE
    return {
        "portal_name": _("Corporate Billing Portal") if is_corporate else _("Billing Center"),
        "current_membership": membership,
    }
