from decimal import Decimal

import pytest
from moneyed import Money

from checkout.gateway import PaymentDeclined, SandboxGateway, get_gateway
from checkout.models import GatewayCharge

pytestmark = pytest.mark.django_db

AMOUNT = Money(Decimal("864.00"), "EUR")


def tokenize(number):
    return SandboxGateway().tokenize_card(
        number=number, exp_month=12, exp_year=2030, cvc="123", cardholder_name="Camille Laurent"
    )


def test_the_gateway_is_chosen_by_a_setting(settings):
    settings.PAYMENT_GATEWAY = "checkout.gateway.SandboxGateway"
    assert isinstance(get_gateway(), SandboxGateway)


@pytest.mark.parametrize(
    ("number", "brand"), [("4242424242424242", "visa"), ("5555555555554444", "mastercard")]
)
def test_succeeding_test_cards(number, brand):
    card = tokenize(number)
    assert (card.brand, card.last4) == (brand, number[-4:])
    assert number not in card.token
    charge = SandboxGateway().charge(token=card.token, amount=AMOUNT, idempotency_key="k1")
    assert charge.amount == AMOUNT
    assert GatewayCharge.objects.get().succeeded


@pytest.mark.parametrize(
    ("number", "code", "words"),
    [
        ("4000000000000002", "card_declined", "was declined"),
        ("4000000000009995", "insufficient_funds", "insufficient funds"),
        ("4000000000000069", "expired_card", "has expired"),
        ("4000000000000127", "incorrect_cvc", "security code"),
        ("4111111111111111", "test_mode_live_card", "sandbox"),
    ],
)
def test_declining_test_cards(number, code, words):
    card = tokenize(number)
    with pytest.raises(PaymentDeclined) as declined:
        SandboxGateway().charge(token=card.token, amount=AMOUNT, idempotency_key="k2")
    assert declined.value.code == code
    assert words in declined.value.message


def test_a_retried_charge_returns_the_first_answer_and_charges_once():
    card = tokenize("4242424242424242")
    first = SandboxGateway().charge(token=card.token, amount=AMOUNT, idempotency_key="order-1")
    again = SandboxGateway().charge(token=card.token, amount=AMOUNT, idempotency_key="order-1")
    assert first == again
    assert GatewayCharge.objects.count() == 1


def test_refund_marks_the_charge():
    card = tokenize("4242424242424242")
    charge = SandboxGateway().charge(token=card.token, amount=AMOUNT, idempotency_key="order-2")
    SandboxGateway().refund(reference=charge.reference)
    assert GatewayCharge.objects.get().refunded
