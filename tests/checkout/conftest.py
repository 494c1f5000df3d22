"""The credit note scenario several checkout test modules share: a purchase, then a seat
decrease the same day, through the real services."""

import pytest

from catalog.models import SeatNoun
from tests.factories import PaymentMethodFactory, plan_with_prices
from tests.helpers import buy, change_seats


@pytest.fixture
def meeting_plan(db):
    return plan_with_prices(
        monthly="12.00",
        annual="120.00",
        product__name="GoTo Meeting",
        product__seat_noun=SeatNoun.ORGANIZER,
        name="Business",
    )


@pytest.fixture
def default_visa(account):
    return PaymentMethodFactory(account=account, gateway_token="tok_sandbox_ok_v", is_default=True)


@pytest.fixture
def purchase(account, billing_contact, meeting_plan, default_visa):
    """10 organizers a year at €120, French VAT: INV-2026-000001, €1,440.00."""
    return buy(account, billing_contact, meeting_plan, 10, default_visa)


@pytest.fixture
def decrease(account, billing_contact, purchase, django_capture_on_commit_callbacks):
    """The same day, down to 4: −€1,200.00 for the unused year + €480.00 for a new one =
    −€720.00, VAT −€144.00: CN-2026-000001 credits €864.00 to the balance. Its on-commit work
    (the PDF, the email) runs."""
    subscription = purchase.lines.get().subscription
    with django_capture_on_commit_callbacks(execute=True):
        return change_seats(account, billing_contact, subscription, 4)
