"""Proration (SPEC "Money rules"): what a part of a billing period is worth.

At a date t inside a period [start, end), the part left is days left / days in period:
- a self-service change credits the unused part of the old terms:
      credit = round(old seats × old price per seat × days left / days in period)
- a corporate quote co-terms added seats to the current period:
      amount = round(added seats × price per seat × days left / days in period)
Both are `prorate`, the one formula.
"""

from datetime import date
from decimal import Decimal

from moneyed import Money

from billing_center.money import round_money


def days_in_period(period_start: date, period_end: date) -> int:
    return (period_end - period_start).days


def days_left(period_end: date, on: date) -> int:
    return max(0, (period_end - on).days)


def prorate(*, amount: Money, period_start: date, period_end: date, on: date) -> Money:
    """The part of `amount` (the price of the whole period) that the days left are worth,
    rounded half-up: whole on the first day, nothing on or after the last."""
    total_days = days_in_period(period_start, period_end)
    remaining = min(days_left(period_end, on), total_days)
    exact = amount.amount * Decimal(remaining) / Decimal(total_days)
    return round_money(Money(exact, amount.currency))


def unused_credit(
    *, seat_count: int, unit_price: Money, period_start: date, period_end: date, on: date
) -> Money:
    """What the unused days of the current period are worth (a positive amount, to credit)."""
    return prorate(
        amount=unit_price * seat_count, period_start=period_start, period_end=period_end, on=on
    )
