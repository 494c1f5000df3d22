"""Proration of a change to a live subscription (SPEC "Money rules").

At the change date t the unused part of the current period is credited:
    credit = round(old seats × old price per seat × days left / days in period)
and a whole new period starting at t is charged at the new seats and price.
"""

from datetime import date
from decimal import Decimal

from moneyed import Money

from billing_center.money import round_money


def days_in_period(period_start: date, period_end: date) -> int:
    return (period_end - period_start).days


def days_left(period_end: date, on: date) -> int:
    return max(0, (period_end - on).days)


def unused_credit(
    *, seat_count: int, unit_price: Money, period_start: date, period_end: date, on: date
) -> Money:
    """What the unused days of the current period are worth (a positive amount, to credit)."""
    total_days = days_in_period(period_start, period_end)
    remaining = min(days_left(period_end, on), total_days)
    exact = unit_price.amount * seat_count * Decimal(remaining) / Decimal(total_days)
    return round_money(Money(exact, unit_price.currency))
