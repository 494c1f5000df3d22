"""The one pricing module (SPEC "Money rules", "VAT"). Every amount a customer is shown or
charged comes from here: the cart and checkout pages and place_order (new subscriptions and
changes), the seat-change preview, corporate quotes and service orders (co-termed seats), and
renewals. The amount shown is exactly the amount charged because both call the same function.

Lines are rounded half-up one by one; tax is computed once on their sum (`tax_for`, negative
with a negative subtotal); credit is used before any charge; a negative total becomes credit.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from moneyed import Money

from billing_center.money import round_money
from catalog.models import Plan
from catalog.prices import PricingError, unit_price
from checkout.models import OrderLineKind
from checkout.tax import TaxDecision
from subscriptions.models import Subscription, SubscriptionStatus
from subscriptions.periods import period_end
from subscriptions.proration import prorate, unused_credit

__all__ = [
    "OrderPricing",
    "PricedLine",
    "PricingError",
    "PurchaseRequest",
    "coterm_line",
    "price_lines",
    "price_order",
    "purchase_lines",
    "renewal_line",
    "tax_for",
]


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
    """One line of an order, a quote or an invoice, and what it does to a subscription (its
    kind: a new subscription, a new period of a changed one, the credit for the unused time of
    the old terms, seats added until the next billing date)."""

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

    @property
    def kind_label(self) -> str:
        """What the line is, in the active language ("Credit for the unused time"…)."""
        return OrderLineKind(self.kind).label


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

    @property
    def renewals(self) -> list["Renewal"]:
        return renewals_of(lines=self.lines, tax=self.tax)

    @property
    def fingerprint(self) -> str:
        """A digest of everything priced: every line, the tax, the credit and the amount due.
        The checkout page carries it; place_order charges only if it is still the same."""
        parts = [
            "|".join(
                str(value)
                for value in (
                    line.kind,
                    line.plan.pk,
                    line.cycle,
                    line.seat_count,
                    line.unit_price.amount,
                    line.period_start,
                    line.period_end,
                    line.amount.amount,
                    line.subscription.pk if line.subscription else "",
                )
            )
            for line in self.lines
        ]
        parts += [
            str(value)
            for value in (
                self.currency,
                self.subtotal.amount,
                self.tax.treatment,
                self.tax.rate,
                self.tax_amount.amount,
                self.total.amount,
                self.credit_applied.amount,
                self.amount_due.amount,
                self.credit_added.amount,
            )
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Renewal:
    """What a subscription bought or changed now will charge by itself (SPEC "Prices and
    documents"): on which day, and how much with VAT, at today's terms and tax."""

    product_name: str
    subscription_id: int | None
    on: date
    amount: Money  # VAT included
    taxed: bool  # VAT is added (not reverse charge nor outside the scope)


# The lines that start a whole period, which the subscription then renews.
RENEWING_KINDS = {
    OrderLineKind.NEW_SUBSCRIPTION,
    OrderLineKind.CHANGE,
    OrderLineKind.TRIAL_CONVERSION,
}


def renewals_of(*, lines, tax: TaxDecision) -> list[Renewal]:
    """The automatic renewals an order (priced or placed) starts: each new period's seats ×
    price per seat, with the order's VAT decision, on the day the period ends."""
    renewals = []
    for line in lines:
        if line.kind not in RENEWING_KINDS:
            continue
        subtotal = round_money(line.unit_price * line.seat_count)
        renewals.append(
            Renewal(
                product_name=getattr(line, "product_name", None) or line.plan.product.name,
                subscription_id=getattr(line, "subscription_id", None),
                on=line.period_end,
                amount=subtotal + tax_for(subtotal, tax),
                taxed=tax.rate > 0,
            )
        )
    return renewals


def next_renewal(*, subscription: Subscription, tax: TaxDecision) -> Renewal:
    """What a live subscription's next renewal will charge, with VAT, and when (SPEC "Prices and
    documents": the dashboard and each subscription show it): the renewal line the billing run
    will price, taxed with the account's decision today."""
    line = renewal_line(subscription=subscription, period_start=subscription.current_period_end)
    return Renewal(
        product_name=subscription.product.name,
        subscription_id=subscription.pk,
        on=subscription.next_billing_date,
        amount=line.amount + tax_for(line.amount, tax),
        taxed=tax.rate > 0,
    )


def tax_for(subtotal: Money, decision: TaxDecision) -> Money:
    """The VAT on a subtotal, rounded half-up: the only place tax is computed."""
    return round_money(subtotal * decision.rate / Decimal(100))


def new_period_line(*, request: PurchaseRequest, currency: str, start: date) -> PricedLine:
    """A whole period of the plan from `start`: a new subscription, or a changed one's charge."""
    price = unit_price(plan=request.plan, cycle=request.cycle, currency=currency)
    return PricedLine(
        kind=OrderLineKind.CHANGE if request.subscription else OrderLineKind.NEW_SUBSCRIPTION,
        plan=request.plan,
        cycle=request.cycle,
        seat_count=request.seat_count,
        unit_price=price,
        period_start=start,
        period_end=period_end(start, request.cycle),
        amount=round_money(price * request.seat_count),
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


def purchase_lines(*, request: PurchaseRequest, currency: str, today: date) -> list[PricedLine]:
    """A new subscription: one line. A change of a paid subscription (flow B): the credit for
    the unused time of its current terms, then a whole new period from today. A trial being
    changed or bought has nothing to credit."""
    lines = []
    subscription = request.subscription
    if subscription is not None and subscription.status != SubscriptionStatus.TRIALING:
        if subscription.unit_price.currency.code != currency:
            raise PricingError("A subscription in another currency than the order.")
        lines.append(credit_line(subscription=subscription, on=today))
    lines.append(new_period_line(request=request, currency=currency, start=today))
    return lines


def coterm_line(*, subscription: Subscription, added_seats: int, on: date) -> PricedLine:
    """Seats added to a subscription until its next billing date (corporate quotes): added
    seats × price per seat × days left / days in the current period."""
    amount = prorate(
        amount=subscription.unit_price * added_seats,
        period_start=subscription.current_period_start,
        period_end=subscription.current_period_end,
        on=on,
    )
    return PricedLine(
        kind=OrderLineKind.ADDED_SEATS,
        plan=subscription.plan,
        cycle=subscription.cycle,
        seat_count=added_seats,
        unit_price=subscription.unit_price,
        period_start=on,
        period_end=subscription.current_period_end,
        amount=amount,
        subscription=subscription,
    )


def renewal_line(*, subscription: Subscription, period_start: date) -> PricedLine:
    """The next whole period of a subscription on its own terms: seats × its price per seat."""
    return PricedLine(
        kind=OrderLineKind.RENEWAL,
        plan=subscription.plan,
        cycle=subscription.cycle,
        seat_count=subscription.seat_count,
        unit_price=subscription.unit_price,
        period_start=period_start,
        period_end=period_end(period_start, subscription.cycle, anchor_day=subscription.anchor_day),
        amount=round_money(subscription.unit_price * subscription.seat_count),
        subscription=subscription,
    )


def price_lines(
    *, lines: Iterable[PricedLine], currency: str, tax: TaxDecision, credit_balance: Money
) -> OrderPricing:
    """The totals of priced lines: subtotal, tax on it, credit used first, amount due, and the
    credit a negative total adds to the balance."""
    lines = tuple(lines)
    if credit_balance.currency.code != currency:
        raise PricingError("Credit in another currency than the order.")
    subtotal = sum((line.amount for line in lines), Money(0, currency))
    tax_amount = tax_for(subtotal, tax)
    total = subtotal + tax_amount
    zero = Money(0, currency)
    credit_applied = min(credit_balance, total) if total > zero and credit_balance > zero else zero
    return OrderPricing(
        lines=lines,
        subtotal=subtotal,
        tax=tax,
        tax_amount=tax_amount,
        total=total,
        credit_applied=credit_applied,
        amount_due=max(total - credit_applied, zero),
        credit_added=-total if total < zero else zero,
    )


def price_order(
    *,
    requests: Iterable[PurchaseRequest],
    currency: str,
    today: date,
    tax: TaxDecision,
    credit_balance: Money,
) -> OrderPricing:
    """What a cart (or one seat change) costs today."""
    lines = [
        line
        for request in requests
        for line in purchase_lines(request=request, currency=currency, today=today)
    ]
    return price_lines(lines=lines, currency=currency, tax=tax, credit_balance=credit_balance)
