"""The one pricing module: the checkout page's preview and place_order both call price_order,
so the amount shown is exactly the amount charged (SPEC "Money rules", "VAT")."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from moneyed import Money

from billing_center.money import round_money
from catalog.models import BillingCycle, Plan
from checkout.models import OrderLineKind
from checkout.tax import TaxDecision, decide_tax
from subscriptions.models import Subscription
from subscriptions.periods import period_end
from subscriptions.proration import unused_credit


class PricingError(Exception):
    """Something in the order cannot be priced; the message is for the billing contact."""


@dataclass(frozen=True)
class PurchaseRequest:
    """One thing to buy: a plan of a product, a cycle, a number of seats; or, with
    `subscription`, what a live subscription becomes (its seats, tier or cycle changed)."""

    plan: Plan
    cycle: str
    seat_count: int
    subscription: Subscription | None = None


@dataclass(frozen=True)
class PricedLine:
    kind: str
    plan: Plan
    cycle: str
    seat_count: int
    unit_price: Money
    period_start: date
    period_end: date
    amount: Money
    subscription: Subscription | None = None

    @property
    def product(self):
        return self.plan.product

    @property
    def is_credit(self) -> bool:
        return self.kind == OrderLineKind.PRORATION_CREDIT


@dataclass(frozen=True)
class OrderPricing:
    lines: tuple[PricedLine, ...]
    subtotal: Money
    tax: TaxDecision
    tax_amount: Money
    total: Money
    credit_applied: Money
    amount_due: Money
    credit_added: Money

    @property
    def currency(self) -> str:
        return self.subtotal.currency.code


def catalog_unit_price(*, plan: Plan, cycle: str, currency: str) -> Money:
    """Today's price of one seat of a plan; prices prefetched on the plan are used as they are."""
    for price in plan.prices.all():
        if price.cycle == cycle and price.amount_currency == currency:
            return price.amount
    raise PricingError(
        _("%(plan)s is not sold in %(currency)s.") % {"plan": plan, "currency": currency}
    )


def annual_saving(*, plan: Plan, seat_count: int, currency: str) -> Money:
    """What paying yearly saves over twelve monthly payments, for the Monthly/Annual choice."""
    monthly = catalog_unit_price(plan=plan, cycle=BillingCycle.MONTHLY, currency=currency)
    annual = catalog_unit_price(plan=plan, cycle=BillingCycle.ANNUAL, currency=currency)
    return round_money((monthly * 12 - annual) * seat_count)


def price_line(*, request: PurchaseRequest, currency: str, start: date) -> PricedLine:
    """A whole period of the plan from `start`: a new subscription, or a changed one's charge."""
    unit_price = catalog_unit_price(plan=request.plan, cycle=request.cycle, currency=currency)
    return PricedLine(
        kind=OrderLineKind.CHANGE if request.subscription else OrderLineKind.NEW_SUBSCRIPTION,
        plan=request.plan,
        cycle=request.cycle,
        seat_count=request.seat_count,
        unit_price=unit_price,
        period_start=start,
        period_end=period_end(start, request.cycle),
        amount=round_money(unit_price * request.seat_count),
        subscription=request.subscription,
    )


def credit_line(*, subscription: Subscription, on: date) -> PricedLine:
    """The unused time of a live subscription's current period, credited (a negative line)."""
    credit = unused_credit(
        seat_count=subscription.seat_count,
        unit_price=subscription.unit_price,
        period_start=subscription.current_period_start,
        period_end=subscription.current_period_end,
        on=on,
    )
    return PricedLine(
        kind=OrderLineKind.PRORATION_CREDIT,
        plan=subscription.plan,
        cycle=subscription.cycle,
        seat_count=subscription.seat_count,
        unit_price=subscription.unit_price,
        period_start=on,
        period_end=max(on, subscription.current_period_end),
        amount=-credit,
        subscription=subscription,
    )


def request_lines(*, request: PurchaseRequest, currency: str, today: date) -> list[PricedLine]:
    lines = []
    if request.subscription is not None and request.subscription.status != "trialing":
        if request.subscription.unit_price.currency.code != currency:
            raise PricingError("A subscription in another currency than the order.")
        lines.append(credit_line(subscription=request.subscription, on=today))
    lines.append(price_line(request=request, currency=currency, start=today))
    return lines


def price_order(
    *,
    requests: list[PurchaseRequest],
    currency: str,
    today: date,
    country: str,
    vat_number: str,
    seller_country: str,
    credit_balance: Money,
) -> OrderPricing:
    """Lines rounded half-up one by one; tax on their sum (negative with it); credit used before
    any charge; a negative total becomes credit."""
    if credit_balance.currency.code != currency:
        raise PricingError("Credit in another currency than the order.")
    lines = tuple(
        line for r in requests for line in request_lines(request=r, currency=currency, today=today)
    )
    subtotal = sum((line.amount for line in lines), Money(0, currency))
    tax = decide_tax(country=country, vat_number=vat_number, seller_country=seller_country)
    tax_amount = round_money(subtotal * tax.rate / Decimal(100))
    total = subtotal + tax_amount
    credit_applied = Money(0, currency)
    if total.amount > 0 and credit_balance.amount > 0:
        credit_applied = min(credit_balance, total)
    credit_added = -total if total.amount < 0 else Money(0, currency)
    return OrderPricing(
        lines=lines,
        subtotal=subtotal,
        tax=tax,
        tax_amount=tax_amount,
        total=total,
        credit_applied=credit_applied,
        amount_due=max(total - credit_applied, Money(0, currency)),
        credit_added=credit_added,
    )
