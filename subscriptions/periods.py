"""Billing periods: start on the change date, end one calendar month or year later, on the
subscription's anchor day (SPEC "Money rules"): the day of the month its current terms started,
clipped to each month's length — bought Jan 31, it renews Feb 28 (29 in a leap year), Mar 31,
Apr 30, May 31; an annual bought Feb 29 renews Feb 28, and Feb 29 again in leap years."""

import calendar
from datetime import date

from catalog.models import BillingCycle


def add_months(start: date, months: int, *, day: int | None = None) -> date:
    """Calendar months, clamped to the month's last day: Jan 31 + 1 month = Feb 28 (or 29).
    `day` is the day of the month to land on (the anchor), `start`'s own by default."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day or start.day, calendar.monthrange(year, month)[1]))


def period_end(start: date, cycle: str, *, anchor_day: int | None = None) -> date:
    """The end of the period that starts on `start`: one month or year later, on the anchor day
    (`start`'s day when the period starts new terms)."""
    return add_months(start, 12 if cycle == BillingCycle.ANNUAL else 1, day=anchor_day)
