from decimal import Decimal

import pytest
from django.db import IntegrityError
from moneyed import Money

from catalog.models import BillingCycle, SeatNoun, seat_count_label
from tests.factories import PlanFactory, PriceFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_price_must_be_positive():
    with pytest.raises(IntegrityError):
        PriceFactory(amount=Money(Decimal("0.00"), "EUR"))


def test_negative_price_is_refused():
    with pytest.raises(IntegrityError):
        PriceFactory(amount=Money(Decimal("-1.00"), "EUR"))


def test_one_price_per_plan_cycle_and_currency():
    price = PriceFactory(cycle=BillingCycle.ANNUAL, amount=Money("120", "EUR"))
    PriceFactory(plan=price.plan, cycle=BillingCycle.MONTHLY, amount=Money("12", "EUR"))
    PriceFactory(plan=price.plan, cycle=BillingCycle.ANNUAL, amount=Money("130", "USD"))
    with pytest.raises(IntegrityError):
        PriceFactory(plan=price.plan, cycle=BillingCycle.ANNUAL, amount=Money("99", "EUR"))


def test_unsupported_currency_is_refused():
    with pytest.raises(IntegrityError):
        PriceFactory(amount=Money("10", "JPY"))


def test_unknown_cycle_is_refused():
    with pytest.raises(IntegrityError):
        PriceFactory(cycle="weekly")


@pytest.mark.parametrize(("min_seats", "max_seats"), [(0, 10), (5, 4)])
def test_plan_seat_limits_must_make_sense(min_seats, max_seats):
    with pytest.raises(IntegrityError):
        PlanFactory(min_seats=min_seats, max_seats=max_seats)


def test_plan_names_are_unique_within_a_product():
    plan = PlanFactory(name="Business")
    PlanFactory(name="Business")  # another product: fine
    with pytest.raises(IntegrityError):
        PlanFactory(product=plan.product, name="Business")


def test_a_trial_needs_a_length():
    ProductFactory(trial_offered=False, trial_days=None)
    with pytest.raises(IntegrityError):
        ProductFactory(trial_offered=True, trial_days=None)


@pytest.mark.parametrize(
    ("noun", "count", "expected"),
    [
        (SeatNoun.ORGANIZER, 1, "1 organizer"),
        (SeatNoun.ORGANIZER, 10, "10 organizers"),
        (SeatNoun.AGENT, 3, "3 agents"),
        (SeatNoun.EXPERT, 1, "1 expert"),
        (SeatNoun.TECHNICIAN, 2, "2 technicians"),
    ],
)
def test_seat_count_label(noun, count, expected):
    assert seat_count_label(noun, count) == expected


def test_seat_count_label_is_translated_with_plurals():
    from django.utils import translation

    with translation.override("fr"):
        assert seat_count_label(SeatNoun.ORGANIZER, 1) == "1 organisateur"
        assert seat_count_label(SeatNoun.ORGANIZER, 10) == "10 organisateurs"
    with translation.override("es"):
        assert seat_count_label(SeatNoun.AGENT, 3) == "3 agentes"
