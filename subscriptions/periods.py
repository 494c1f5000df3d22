"""Billing periods: start on the change date, end one calendar month or year later."""

import calendar
from datetime import date

from catalog.models import BillingCycle


def add_months(start: date, months: int) -> date:
    """Calendar months, clamped to the month's last day: Jan 31 + 1 month = Feb 28 (or 29)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def period_end(start: date, cycle: str) -> date:
    return add_months(start, 12 if cycle == BillingCycle.ANNUAL else 1)
