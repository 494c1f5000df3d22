from datetime import date

import pytest

from catalog.models import BillingCycle
from subscriptions.periods import add_months, period_end


@pytest.mark.parametrize(
    ("start", "cycle", "end"),
    [
        (date(2026, 1, 1), BillingCycle.ANNUAL, date(2027, 1, 1)),
        (date(2026, 1, 31), BillingCycle.MONTHLY, date(2026, 2, 28)),
        (date(2028, 1, 31), BillingCycle.MONTHLY, date(2028, 2, 29)),
        (date(2028, 2, 29), BillingCycle.ANNUAL, date(2029, 2, 28)),
        (date(2026, 12, 15), BillingCycle.MONTHLY, date(2027, 1, 15)),
        (date(2026, 3, 31), BillingCycle.MONTHLY, date(2026, 4, 30)),
    ],
)
def test_period_end_is_one_calendar_month_or_year_later(start, cycle, end):
    assert period_end(start, cycle) == end


def test_add_months_crosses_years_both_ways():
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 1, 15), -1) == date(2025, 12, 15)
