"""What the Corporate Billing Portal allows (SPEC flow C preconditions), each refusal with its
own message. Services, the worker and the views all ask here."""

from datetime import date

from django.conf import settings
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from subscriptions.models import Account, Subscription, SubscriptionStatus
from subscriptions.services import can_join_account


class CorporateError(Exception):
    """Something the corporate portal cannot do; the message is for the billing contact."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def contact_services_message() -> str:
    return _(
        "Your account cannot add seats itself. Please contact Corporate Account Services at "
        "%(email)s."
    ) % {"email": settings.CORPORATE_ACCOUNT_SERVICES_EMAIL}


def eligibility_problem(*, account: Account, by_staff: bool = False) -> str | None:
    """Why the account cannot add seats in the portal, or None. Staff are Corporate Account
    Services themselves: what sends a customer to them does not stop them."""
    if not account.self_service_enabled and not by_staff:
        return contact_services_message()
    if not account.payment_methods.filter(is_default=True).exists():
        return _(
            "Your account needs a default automatic payment method (credit or debit card) "
            "before it can add seats."
        )
    return None


def product_problem(
    *, subscription: Subscription, today: date, by_staff: bool = False
) -> str | None:
    """Why this subscription cannot get seats through a quote, or None."""
    if not subscription.product.supports_additional_seats and not by_staff:
        return _(
            "%(product)s does not support additional seats here: please contact Corporate "
            "Account Services at %(email)s."
        ) % {"product": subscription.product, "email": settings.CORPORATE_ACCOUNT_SERVICES_EMAIL}
    if subscription.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE):
        return _("%(product)s cannot get more seats now.") % {"product": subscription.product}
    if subscription.current_period_end <= today:
        # Co-terming needs days left in the period: an ended period is renewed first.
        return _(
            "The billing period of %(product)s ended on %(date)s: seats can be added once it "
            "is renewed."
        ) % {
            "product": subscription.product,
            "date": date_format(subscription.current_period_end, "DATE_FORMAT"),
        }
    return None


def admin_contact_problem(*, email: str, account: Account) -> str | None:
    """Why this address cannot be the account's admin contact (staff, another account's), or
    None; the same words whatever the reason, so the form reveals no one's account."""
    if can_join_account(email=email, account=account):
        return None
    return _(
        "%(email)s cannot be the admin contact of your account: choose another email address."
    ) % {"email": email}
