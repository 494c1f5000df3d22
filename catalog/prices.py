"""Today's catalog prices: what one seat of a plan costs, per cycle and currency."""

from django.utils.translation import gettext_lazy as _
from moneyed import Money

from billing_center.money import round_money
from catalog.models import BillingCycle, Plan


class PricingError(Exception):
    """Something cannot be priced; the message is for the billing contact."""


def unit_price(*, plan: Plan, cycle: str, currency: str) -> Money:
    """Today's price of one seat of a plan; prices prefetched on the plan are used as they are."""
    for price in plan.prices.all():
        if price.cycle == cycle and price.amount_currency == currency:
            return price.amount
    raise PricingError(
        _("%(plan)s is not sold in %(currency)s.") % {"plan": plan, "currency": currency}
    )


def annual_saving(*, plan: Plan, seat_count: int, currency: str) -> Money:
    """What paying yearly saves over twelve monthly payments, for the Monthly/Annual choice."""
    monthly = unit_price(plan=plan, cycle=BillingCycle.MONTHLY, currency=currency)
    annual = unit_price(plan=plan, cycle=BillingCycle.ANNUAL, currency=currency)
    return round_money((monthly * 12 - annual) * seat_count)
