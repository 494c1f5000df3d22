"""What the subscription pages (subscriptions app) show of the money checkout computes: the next
charge with VAT. A tag, so that the pages below checkout ask for it without importing it."""

from django import template

from checkout.billing import BillingDetails
from checkout.pricing import Renewal, next_renewal
from checkout.tax import MissingVatRate
from subscriptions.models import SubscriptionStatus

register = template.Library()


@register.simple_tag(takes_context=True)
def next_charge(context, subscription) -> Renewal | None:
    """{% next_charge subscription as charge %}: its next renewal ({{ charge.amount }} with VAT,
    {{ charge.on }}), or None when nothing will renew (a trial, a cancellation, a suspension)."""
    renews = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)
    if subscription.status not in renews or subscription.cancel_at_period_end:
        return None
    decisions = context.render_context.setdefault("next_charge_tax", {})
    request = context.get("request")
    account = getattr(request, "account", None)
    if account is None or account.pk != subscription.account_id:
        account = subscription.account
    if account.pk not in decisions:
        try:
            decisions[account.pk] = BillingDetails.of_account(account).tax_decision()
        except MissingVatRate:
            decisions[account.pk] = None
    tax = decisions[account.pk]
    return next_renewal(subscription=subscription, tax=tax) if tax is not None else None
