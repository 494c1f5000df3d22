"""The Stripe adapter's contract, through Stripe's library against localstripe (started by the
suite): what the money path needs of any gateway — purchase, decline, on-session
authentication, a card saved then charged off-session, refund, lookup by idempotency key."""

import re
from decimal import Decimal

import pytest
from moneyed import Money

from checkout.payments.gateway import (
    ActionRequired,
    ChargeStatus,
    GatewayCustomer,
    InvalidCardToken,
    PaymentDeclined,
    get_gateway,
)
from checkout.stripe_gateway.client import StripeGateway, minor_units, read_authentication_token
from checkout.stripe_gateway.models import StripeCustomer
from tests.stripe_server import authenticate, payment_method, stripe_client

pytestmark = pytest.mark.django_db

CUSTOMER = GatewayCustomer(reference="account-1", name="Acme")
RETURN = "http://testserver/billing/payments/x/return/"


def eur(amount):
    return Money(Decimal(amount), "EUR")


@pytest.fixture
def gateway(stripe_gateway):
    gateway = get_gateway()
    assert isinstance(gateway, StripeGateway)
    return gateway


def charge(gateway, token, key, *, amount="12.34", on_session=True, customer=CUSTOMER):
    return gateway.charge(
        token=token,
        amount=eur(amount),
        idempotency_key=key,
        on_session=on_session,
        return_url=RETURN,
        customer=customer,
    )


def test_a_purchase_is_captured_in_cents_and_found_by_its_key(gateway, localstripe):
    token = payment_method(localstripe)
    card = gateway.describe_card(token=token)
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 12, 2030)

    captured = charge(gateway, token, "order-1")
    assert captured.status == ChargeStatus.SUCCEEDED
    assert captured.amount == eur("12.34")
    assert captured.mandate  # the authenticated on-session payment
    intent = stripe_client(localstripe).v1.payment_intents.retrieve(captured.reference)
    assert (intent.amount, intent.currency, intent.status) == (1234, "eur", "succeeded")
    assert intent.metadata["idempotency_key"] == "order-1"
    # One Stripe customer for the account, the card attached to it.
    customer = StripeCustomer.objects.get(reference="account-1")
    assert intent.customer == customer.customer_id
    assert stripe_client(localstripe).v1.payment_methods.retrieve(token).customer == (
        customer.customer_id
    )

    found = gateway.find_charge(idempotency_key="order-1")
    assert (found.reference, found.status, found.refunded) == (
        captured.reference,
        ChargeStatus.SUCCEEDED,
        False,
    )
    assert gateway.find_charge(idempotency_key="order-never-charged") is None


def test_a_second_account_gets_its_own_customer_and_cannot_use_the_firsts_card(
    gateway, localstripe
):
    token = payment_method(localstripe)
    charge(gateway, token, "order-a")
    other = GatewayCustomer(reference="account-2", name="Globex")
    with pytest.raises(PaymentDeclined):
        charge(gateway, token, "order-b", customer=other)
    assert StripeCustomer.objects.count() == 2


@pytest.mark.parametrize("number", ["4000000000000002", "4000000000000341"])
def test_a_declined_card_charges_nothing(gateway, localstripe, number):
    """0002 is refused when attached to the customer; 0341 attaches, then its charge fails."""
    with pytest.raises(PaymentDeclined) as declined:
        charge(gateway, payment_method(localstripe, number), f"order-{number}")
    assert declined.value.code == "card_declined"
    found = gateway.find_charge(idempotency_key=f"order-{number}")
    assert found is None or found.status == ChargeStatus.FAILED


def test_a_forged_token_is_not_a_card(gateway):
    for token in ["pm_doesnotexist", "tok_visa", "x" * 30]:
        with pytest.raises(InvalidCardToken):
            gateway.describe_card(token=token)


@pytest.mark.parametrize("number", ["4000002760003184", "4000002500003155"])
def test_on_session_authentication_then_the_lookup_says_captured(gateway, localstripe, number):
    token = payment_method(localstripe, number)
    with pytest.raises(ActionRequired) as action:
        charge(gateway, token, f"order-sca-{number}")
    path = action.value.url.split("/stripe/authenticate/", 1)[1].rstrip("/")
    assert read_authentication_token(path) == {"intent": action.value.reference, "return": RETURN}
    waiting = gateway.find_charge(idempotency_key=f"order-sca-{number}")
    assert waiting.status == ChargeStatus.REQUIRES_ACTION
    assert waiting.action_url

    authenticate(localstripe, action.value.reference, success=True)
    found = gateway.find_charge(idempotency_key=f"order-sca-{number}")
    assert (found.status, found.reference) == (ChargeStatus.SUCCEEDED, action.value.reference)


def test_a_failed_authentication_is_a_decline(gateway, localstripe):
    with pytest.raises(ActionRequired) as action:
        charge(gateway, payment_method(localstripe, "4000002760003184"), "order-sca-fail")
    authenticate(localstripe, action.value.reference, success=False)
    found = gateway.find_charge(idempotency_key="order-sca-fail")
    assert (found.status, found.decline_code) == (ChargeStatus.FAILED, "authentication_failed")


def test_a_saved_card_is_charged_off_session(gateway, localstripe):
    token = payment_method(localstripe)
    setup = gateway.set_up_card(
        token=token, idempotency_key="card-setup-1", return_url=RETURN, customer=CUSTOMER
    )
    assert (setup.status, bool(setup.mandate)) == (ChargeStatus.SUCCEEDED, True)
    assert gateway.find_card_setup(idempotency_key="card-setup-1").status == "succeeded"
    assert gateway.find_card_setup(idempotency_key="card-setup-never") is None

    renewal = charge(gateway, token, "renewal-1", amount="144.00", on_session=False)
    assert renewal.status == ChargeStatus.SUCCEEDED
    intent = stripe_client(localstripe).v1.payment_intents.retrieve(renewal.reference)
    assert intent.amount == minor_units(eur("144.00")) == 14400


def test_off_session_a_card_that_wants_authentication_is_declined_authentication_required(
    gateway, localstripe
):
    """Stripe raises authentication_required; localstripe leaves the intent waiting, which the
    adapter cancels: nobody is there to authenticate."""
    token = payment_method(localstripe, "4000002760003184")
    with pytest.raises(PaymentDeclined) as declined:
        charge(gateway, token, "renewal-sca", on_session=False)
    assert declined.value.code == "authentication_required"
    found = gateway.find_charge(idempotency_key="renewal-sca")
    assert found.status == ChargeStatus.FAILED


def test_a_refund_gives_the_money_back_once(gateway, localstripe):
    captured = charge(gateway, payment_method(localstripe), "order-refund")
    gateway.refund(reference=captured.reference)
    gateway.refund(reference=captured.reference)  # a second refund changes nothing
    refunds = stripe_client(localstripe).v1.refunds.list(
        params={"payment_intent": captured.reference}
    )
    assert [refund.amount for refund in refunds.data] == [1234]
    assert gateway.find_charge(idempotency_key="order-refund").refunded is True


def test_check_gateway_charges_and_refunds_the_smallest_amount(stripe_gateway, localstripe):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("check_gateway", stdout=out)
    printed = out.getvalue()
    assert f"Stripe at {localstripe}, test mode" in printed
    assert "Test card: visa •••• 4242" in printed
    assert re.search(r"Charged €\s0\.50: pi_\w+ \(succeeded\)", printed)
    assert "(refunded)" in printed
    reference = printed.split("Refunded ", 1)[1].split(": ", 1)[1].split(" ", 1)[0]
    refunds = stripe_client(localstripe).v1.refunds.list(params={"payment_intent": reference})
    assert [refund.amount for refund in refunds.data] == [50]


def test_check_gateway_refuses_live_keys(stripe_gateway, settings):
    from django.core.management import CommandError, call_command

    settings.STRIPE_SECRET_KEY = "sk_live_something"
    with pytest.raises(CommandError, match="test-mode key"):
        call_command("check_gateway")
