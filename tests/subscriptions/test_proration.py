"""Proration to the cent (SPEC "Money rules") and its properties for any valid input."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money

from catalog.models import BillingCycle
from checkout.billing import BillingDetails
from checkout.placement import place_order, preview_order
from subscriptions.periods import period_end
from subscriptions.proration import unused_credit
from tests.factories import (
    AccountFactory,
    CartFactory,
    CartItemFactory,
    SubscriptionFactory,
    plan_with_prices,
)


def eur(amount):
    return Money(Decimal(amount), "EUR")


def test_the_spec_example():
    credit = unused_credit(
        seat_count=10,
        unit_price=eur("120.00"),
        period_start=date(2026, 1, 1),
        period_end=date(2027, 1, 1),
        on=date(2026, 7, 2),
    )
    assert credit == eur("601.64")


def test_nothing_is_left_on_the_last_day_and_everything_on_the_first():
    args = {"seat_count": 3, "unit_price": eur("10.00"), "period_start": date(2026, 1, 31)}
    end = period_end(date(2026, 1, 31), BillingCycle.MONTHLY)
    assert unused_credit(**args, period_end=end, on=end) == eur("0.00")
    assert unused_credit(**args, period_end=end, on=date(2026, 1, 31)) == eur("30.00")
    assert unused_credit(**args, period_end=end, on=end + timedelta(days=3)) == eur("0.00")


dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
seats = st.integers(min_value=1, max_value=500)
cycles = st.sampled_from([BillingCycle.MONTHLY, BillingCycle.ANNUAL])


@given(start=dates, cycle=cycles, price=prices, seat_count=seats, data=st.data())
def test_credit_properties(start, cycle, price, seat_count, data):
    end = period_end(start, cycle)
    on = data.draw(st.dates(min_value=start, max_value=end))
    paid = Decimal(seat_count) * price
    credit = unused_credit(
        seat_count=seat_count,
        unit_price=Money(price, "EUR"),
        period_start=start,
        period_end=end,
        on=on,
    )
    assert Decimal(0) <= credit.amount <= paid
    exact = paid * Decimal((end - on).days) / Decimal((end - start).days)
    assert credit.amount == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if on == end:
        assert credit.amount == 0
    if on == start:
        assert credit.amount == paid


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    days_in=st.integers(min_value=0, max_value=364),
    old_seats=st.integers(min_value=1, max_value=40),
    new_seats=st.integers(min_value=1, max_value=40),
    price=st.decimals(min_value=Decimal("1.00"), max_value=Decimal("900"), places=2),
)
def test_the_preview_equals_what_is_placed(days_in, old_seats, new_seats, price):
    if old_seats == new_seats:
        return
    with transaction.atomic():
        start = date(2026, 1, 1)
        today = start + timedelta(days=days_in)
        account = AccountFactory(country="US", currency="EUR")
        plan = plan_with_prices(monthly="10.00", annual=str(price))
        subscription = SubscriptionFactory(
            account=account,
            plan=plan,
            seat_count=old_seats,
            unit_price=Money(price, "EUR"),
            current_period_start=start,
            cycle=BillingCycle.ANNUAL,
        )
        cart = CartFactory(account=account)
        CartItemFactory(
            cart=cart,
            plan=plan,
            product=plan.product,
            cycle=BillingCycle.ANNUAL,
            seat_count=new_seats,
            subscription=subscription,
        )
        cart.refresh_from_db()
        billing = BillingDetails.of_account(account)
        preview = preview_order(cart=cart, billing=billing, today=today)
        order = place_order(
            cart=cart,
            cart_version=cart.version,
            billing=billing,
            expected_pricing=preview.fingerprint,
            actor=cart.owner,
            new_card=_card() if preview.amount_due.amount else None,
            today=today,
        )
        assert order.total == preview.total
        assert order.amount_charged == preview.amount_due
        assert order.credit_added == preview.credit_added
        account.refresh_from_db()
        ledger = sum((e.amount.amount for e in account.credit_entries.all()), Decimal(0))
        assert account.credit_balance_amount == ledger
        transaction.set_rollback(True)


def _card():
    from tests.helpers import sandbox_new_card

    return sandbox_new_card(cardholder_name="X")
