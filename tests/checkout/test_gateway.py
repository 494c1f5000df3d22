"""The sandbox processor through the gateway interface, as the billing apps use it: the public
test cards, idempotency, refunds, and Strong Customer Authentication on- and off-session."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from moneyed import Money

from checkout.payments.gateway import (
    ActionRequired,
    ChargeStatus,
    InvalidCardToken,
    PaymentDeclined,
    get_gateway,
)
from checkout.sandbox_gateway import processor
from checkout.sandbox_gateway.client import SandboxGateway
from checkout.sandbox_gateway.models import SandboxCard, SandboxCharge
from tests.helpers import sandbox_token

pytestmark = pytest.mark.django_db

AMOUNT = Money(Decimal("864.00"), "EUR")
RETURN = "http://127.0.0.1:8000/billing/payments/x/return/"


def charge(token, key, *, on_session=True, mandate=""):
    return SandboxGateway().charge(
        token=token,
        amount=AMOUNT,
        idempotency_key=key,
        on_session=on_session,
        return_url=RETURN if on_session else "",
        mandate=mandate,
    )


def test_the_gateway_is_chosen_by_a_setting(settings):
    settings.PAYMENT_GATEWAY = "checkout.sandbox_gateway.client.SandboxGateway"
    assert isinstance(get_gateway(), SandboxGateway)


@pytest.mark.parametrize(
    ("number", "brand"), [("4242424242424242", "visa"), ("5555555555554444", "mastercard")]
)
def test_succeeding_test_cards(number, brand):
    token = sandbox_token(number)
    card = SandboxGateway().describe_card(token=token)
    assert (card.brand, card.last4) == (brand, number[-4:])
    assert number not in token
    assert not SandboxCard.objects.filter(last4=number).exists()  # the number is never kept
    result = charge(token, "k1")
    assert result.amount == AMOUNT
    assert SandboxCharge.objects.get().succeeded


def test_an_unknown_token_is_refused():
    with pytest.raises(InvalidCardToken):
        SandboxGateway().describe_card(token="tok_forged")


@pytest.mark.parametrize(
    ("number", "code", "words"),
    [
        ("4000000000000002", "card_declined", "was declined"),
        ("4000000000009995", "insufficient_funds", "insufficient funds"),
        ("4000000000000069", "expired_card", "has expired"),
        ("4000000000000127", "incorrect_cvc", "security code"),
        ("4111111111111111", "test_mode_live_card", "sandbox"),
        ("4000000000000341", "card_declined", "was declined"),
    ],
)
def test_declining_test_cards(number, code, words):
    with pytest.raises(PaymentDeclined) as declined:
        charge(sandbox_token(number), "k2")
    assert declined.value.code == code
    assert words in declined.value.message


def test_a_retried_charge_returns_the_first_answer_and_charges_once():
    token = sandbox_token()
    first = charge(token, "order-1")
    again = charge(token, "order-1")
    assert first == again
    assert SandboxCharge.objects.count() == 1


def test_refund_marks_the_charge():
    result = charge(sandbox_token(), "order-2")
    SandboxGateway().refund(reference=result.reference)
    assert SandboxCharge.objects.get().refunded


class TestStrongCustomerAuthentication:
    @pytest.mark.parametrize("number", ["4000002500003155", "4000002760003184", "4000000000003220"])
    def test_every_authentication_card_asks_for_it_on_session(self, number):
        with pytest.raises(ActionRequired) as action:
            charge(sandbox_token(number), "k-sca")
        assert action.value.url.startswith("/sandbox-gateway/authenticate/")
        found = SandboxGateway().find_charge(idempotency_key="k-sca")
        assert (found.status, found.action_url) == (ChargeStatus.REQUIRES_ACTION, action.value.url)
        assert not SandboxCharge.objects.get().succeeded

    def test_authorized_it_captures_once_and_gives_a_mandate(self):
        token = sandbox_token("4000002760003184")
        with pytest.raises(ActionRequired) as action:
            charge(token, "k-auth")
        processor.authenticate(action.value.reference, authorized=True)
        processor.authenticate(action.value.reference, authorized=False)  # a late answer
        found = SandboxGateway().find_charge(idempotency_key="k-auth")
        assert found.status == ChargeStatus.SUCCEEDED
        assert found.mandate
        assert charge(token, "k-auth").reference == found.reference  # the same answer again

    def test_failed_authentication_declines_and_captures_nothing(self):
        with pytest.raises(ActionRequired) as action:
            charge(sandbox_token("4000002760003184"), "k-fail")
        processor.authenticate(action.value.reference, authorized=False)
        found = SandboxGateway().find_charge(idempotency_key="k-fail")
        assert (found.status, found.decline_code) == (
            ChargeStatus.FAILED,
            "authentication_failed",
        )
        with pytest.raises(PaymentDeclined):
            charge(sandbox_token("4000002760003184"), "k-fail")
        assert not SandboxCharge.objects.filter(succeeded=True).exists()

    def test_an_authentication_nobody_answers_fails_after_the_window(self, settings):
        with pytest.raises(ActionRequired):
            charge(sandbox_token("4000002500003155"), "k-gone")
        later = timezone.now() + timedelta(seconds=settings.SANDBOX_AUTHENTICATION_SECONDS + 1)
        with time_machine.travel(later):
            found = SandboxGateway().find_charge(idempotency_key="k-gone")
        assert (found.status, found.decline_code) == (
            ChargeStatus.FAILED,
            "authentication_failed",
        )

    def test_3184_needs_it_off_session_too_even_with_a_mandate(self):
        token = sandbox_token("4000002760003184")
        setup = SandboxGateway().set_up_card(token=token, idempotency_key="s1", return_url=RETURN)
        assert setup.status == ChargeStatus.REQUIRES_ACTION
        mandate = processor.authenticate(setup.reference, authorized=True).mandate
        with pytest.raises(PaymentDeclined) as declined:
            charge(token, "renewal", on_session=False, mandate=mandate)
        assert declined.value.code == "authentication_required"

    def test_3155_works_off_session_once_saved_with_authentication(self):
        token = sandbox_token("4000002500003155")
        with pytest.raises(PaymentDeclined) as declined:
            charge(token, "before", on_session=False)
        assert declined.value.code == "authentication_required"
        setup = SandboxGateway().set_up_card(token=token, idempotency_key="s2", return_url=RETURN)
        processor.authenticate(setup.reference, authorized=True)
        mandate = SandboxGateway().find_card_setup(idempotency_key="s2").mandate
        assert charge(token, "after", on_session=False, mandate=mandate).status == "succeeded"
        with pytest.raises(PaymentDeclined):  # someone else's mandate proves nothing
            charge(sandbox_token("4000002500003155"), "other", on_session=False, mandate=mandate)

    def test_3220_needs_it_on_session_only(self):
        token = sandbox_token("4000000000003220")
        assert charge(token, "off", on_session=False).status == "succeeded"

    def test_a_plain_card_is_saved_without_authentication(self):
        setup = SandboxGateway().set_up_card(
            token=sandbox_token(), idempotency_key="s3", return_url=RETURN
        )
        assert (setup.status, bool(setup.mandate)) == (ChargeStatus.SUCCEEDED, True)
