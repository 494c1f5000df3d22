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


class TestAnchorDay:
    """SPEC "Money rules": every renewal keeps the day the terms started, clipped to the month."""

    @staticmethod
    def renewals(start, cycle, count, anchor_day):
        ends, current = [], start
        for _ in range(count):
            current = period_end(current, cycle, anchor_day=anchor_day)
            ends.append(current)
        return ends

    def test_bought_on_the_31st_it_renews_on_each_months_last_day_or_31st(self):
        assert self.renewals(date(2026, 1, 31), BillingCycle.MONTHLY, 5, 31) == [
            date(2026, 2, 28),
            date(2026, 3, 31),
            date(2026, 4, 30),
            date(2026, 5, 31),
            date(2026, 6, 30),
        ]

    def test_in_a_leap_year_february_has_its_29th(self):
        assert self.renewals(date(2028, 1, 30), BillingCycle.MONTHLY, 2, 30) == [
            date(2028, 2, 29),
            date(2028, 3, 30),
        ]

    def test_an_annual_bought_on_february_29_comes_back_to_it_in_leap_years(self):
        assert self.renewals(date(2028, 2, 29), BillingCycle.ANNUAL, 4, 29) == [
            date(2029, 2, 28),
            date(2030, 2, 28),
            date(2031, 2, 28),
            date(2032, 2, 29),
        ]

    def test_without_an_anchor_the_start_is_the_anchor(self):
        assert period_end(date(2026, 1, 31), BillingCycle.MONTHLY) == date(2026, 2, 28)
