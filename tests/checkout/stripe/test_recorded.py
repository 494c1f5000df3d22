"""The Stripe adapter where localstripe does not behave as Stripe does: Stripe's answers,
recorded (abridged to the fields the adapter reads), played back through the library's HTTP
client. Each test names the Stripe behaviour it stands for."""

import json
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
import stripe
from django.utils import translation
from moneyed import Money

from checkout.payments.gateway import (
    ChargeFailed,
    ChargeOutcomeUnknown,
    ChargeStatus,
    GatewayCustomer,
    PaymentDeclined,
)
from checkout.stripe_gateway.client import StripeGateway
from checkout.stripe_gateway.models import StripeCustomer

pytestmark = pytest.mark.django_db

CUSTOMER = GatewayCustomer(reference="account-7", name="Acme")
CARD = {
    "id": "pm_1QrecordedVisa",
    "object": "payment_method",
    "type": "card",
    "customer": "cus_Recorded7",
    "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
}


def intent(status="succeeded", **fields):
    return {
        "id": "pi_3QrecordedFirst",
        "object": "payment_intent",
        "amount": 86400,
        "currency": "eur",
        "status": status,
        "customer": "cus_Recorded7",
        "latest_charge": "ch_3Qrecorded",
        "metadata": {"idempotency_key": "order-77", "return_url": ""},
        "created": 1795600000,
        **fields,
    }


def card_error(code, decline_code=None, payment_intent=None):
    error = {"type": "card_error", "code": code, "message": "Your card was declined."}
    if decline_code:
        error["decline_code"] = decline_code
    if payment_intent:
        error["payment_intent"] = payment_intent
    return 402, {"error": error}


class Recorded(stripe.HTTPClient):
    """Plays Stripe's recorded answers back, by method and path, and keeps what was sent."""

    name = "recorded"

    def __init__(self, answers):
        super().__init__()
        self.answers = {key: list(values) for key, values in answers.items()}
        self.sent = []

    def request(self, method, url, headers, post_data=None):
        path, _, query = ("/" + url.split("://", 1)[1].split("/", 1)[1]).partition("?")
        self.sent.append((method, path, dict(headers), parse_qs(post_data or query)))
        status, body = self.answers[(method, path)].pop(0)
        return json.dumps(body), status, {"Request-Id": "req_recorded"}

    def close(self):
        pass


def gateway(answers) -> tuple[StripeGateway, Recorded]:
    StripeCustomer.objects.create(reference=CUSTOMER.reference, customer_id="cus_Recorded7")
    http = Recorded(answers)
    client = stripe.StripeClient("sk_test_recorded", http_client=http, max_network_retries=0)
    return StripeGateway(client), http


def charge(gateway, *, on_session=True, key="order-77"):
    return gateway.charge(
        token=CARD["id"],
        amount=Money(Decimal("864.00"), "EUR"),
        idempotency_key=key,
        on_session=on_session,
        customer=CUSTOMER,
    )


def test_stripe_replays_the_first_answer_to_a_repeated_idempotency_key(settings):
    """Stripe: a request repeated with the same Idempotency-Key returns the first request's
    answer (header Idempotent-Replayed) and creates nothing. localstripe creates a second
    PaymentIntent. The adapter sends the attempt's key and takes the replay as the answer."""
    settings.STRIPE_API_BASE = ""
    first = intent()
    pm = ("get", "/v1/payment_methods/pm_1QrecordedVisa")
    create = ("post", "/v1/payment_intents")
    api, http = gateway({pm: [(200, CARD)] * 2, create: [(200, first), (200, first)]})
    one = charge(api)
    two = charge(api)
    assert one.reference == two.reference == "pi_3QrecordedFirst"
    creates = [sent for sent in http.sent if (sent[0], sent[1]) == create]
    assert [sent[2]["Idempotency-Key"] for sent in creates] == ["order-77", "order-77"]
    params = creates[0][3]
    assert params["amount"] == ["86400"]
    assert params["currency"] == ["eur"]
    assert params["metadata[idempotency_key]"] == ["order-77"]
    # Stripe (not a local server): the on-session payment sets the card up for renewals.
    assert params["setup_future_usage"] == ["off_session"]


def test_stripe_raises_authentication_required_off_session():
    """Stripe: an off-session PaymentIntent for a card whose bank wants authentication fails
    with a card_error `authentication_required` (the intent is left requires_payment_method).
    localstripe leaves it requires_action instead."""
    pm = ("get", "/v1/payment_methods/pm_1QrecordedVisa")
    failed = intent("requires_payment_method")
    api, http = gateway(
        {
            pm: [(200, CARD)],
            ("post", "/v1/payment_intents"): [
                card_error("authentication_required", "authentication_required", failed)
            ],
        }
    )
    with pytest.raises(PaymentDeclined) as declined:
        charge(api, on_session=False)
    assert declined.value.code == "authentication_required"
    assert http.sent[-1][3]["off_session"] == ["true"]
    assert "setup_future_usage" not in http.sent[-1][3]


@pytest.mark.parametrize(
    ("code", "decline_code", "ours"),
    [
        ("card_declined", "insufficient_funds", "insufficient_funds"),
        ("card_declined", "generic_decline", "card_declined"),
        ("card_declined", "fraudulent", "card_declined"),  # told as a plain decline
        ("card_declined", "lost_card", "card_declined"),
        ("expired_card", None, "expired_card"),
        ("incorrect_cvc", None, "incorrect_cvc"),
        ("card_declined", "test_mode_live_card", "test_mode_live_card"),
    ],
)
def test_stripes_decline_codes_map_to_ours(code, decline_code, ours):
    """Stripe: a declined charge is a 402 card_error with `code` and, for card_declined, a
    `decline_code` from the issuer. localstripe only ever says card_declined."""
    api, _ = gateway(
        {
            ("get", "/v1/payment_methods/pm_1QrecordedVisa"): [(200, CARD)],
            ("post", "/v1/payment_intents"): [card_error(code, decline_code)],
        }
    )
    with pytest.raises(PaymentDeclined) as declined:
        charge(api)
    assert declined.value.code == ours


def test_insufficient_funds_is_told_in_the_readers_language():
    api, _ = gateway(
        {
            ("get", "/v1/payment_methods/pm_1QrecordedVisa"): [(200, CARD)],
            ("post", "/v1/payment_intents"): [card_error("card_declined", "insufficient_funds")],
        }
    )
    with pytest.raises(PaymentDeclined) as declined:
        charge(api)
    with translation.override("fr"):
        assert declined.value.message == (
            "Le solde de votre carte est insuffisant. Utilisez une autre carte."
        )
    with translation.override("it"):
        assert declined.value.message == "Fondi insufficienti sulla carta. Usa un'altra carta."


@pytest.mark.parametrize(
    ("status", "body", "raised"),
    [
        (500, {"error": {"type": "api_error", "message": "Internal"}}, ChargeOutcomeUnknown),
        (429, {"error": {"type": "invalid_request_error", "code": "rate_limit"}}, ChargeFailed),
        (400, {"error": {"type": "invalid_request_error", "message": "Bad"}}, ChargeFailed),
        (
            400,
            {"error": {"type": "idempotency_error", "message": "Keys for idempotent requests"}},
            ChargeOutcomeUnknown,
        ),
    ],
)
def test_what_stripes_errors_mean_for_the_money(status, body, raised):
    """Stripe: a 500 may have charged (its outcome is settled by the lookup); a 429 or a 400
    did nothing; an idempotency_error means the key was used with other parameters."""
    api, _ = gateway(
        {
            ("get", "/v1/payment_methods/pm_1QrecordedVisa"): [(200, CARD)],
            ("post", "/v1/payment_intents"): [(status, body)],
        }
    )
    with pytest.raises(raised):
        charge(api)


def test_the_lookup_uses_stripes_search_first(settings):
    """Stripe: PaymentIntents are searchable by metadata (the search may lag about a minute;
    when it finds nothing, the adapter lists the recent ones, which are always current)."""
    settings.STRIPE_API_BASE = ""
    search = ("get", "/v1/payment_intents/search")
    listing = ("get", "/v1/payment_intents")
    api, http = gateway(
        {
            search: [
                (200, {"object": "search_result", "data": [intent()], "has_more": False}),
                (200, {"object": "search_result", "data": [], "has_more": False}),
            ],
            listing: [
                (
                    200,
                    {
                        "object": "list",
                        "url": "/v1/payment_intents",
                        "data": [intent(id="pi_listed", metadata={"idempotency_key": "late"})],
                        "has_more": False,
                    },
                )
            ],
            ("get", "/v1/charges/ch_3Qrecorded"): [(200, {"id": "ch_3Qrecorded", "refunded": 0})]
            * 2,
        }
    )
    found = api.find_charge(idempotency_key="order-77")
    assert (found.reference, found.status) == ("pi_3QrecordedFirst", ChargeStatus.SUCCEEDED)
    assert [sent[1] for sent in http.sent].count("/v1/payment_intents") == 0
    late = api.find_charge(idempotency_key="late")
    assert late.reference == "pi_listed"
    listed = [sent for sent in http.sent if sent[1] == "/v1/payment_intents"]
    assert (listed and "created[gte]" in listed[0][3]) or "created" in str(listed[0])


def test_a_refund_stripe_says_was_made_already_is_done():
    """Stripe: refunding a charge refunded in full answers charge_already_refunded."""
    api, _ = gateway(
        {
            ("get", "/v1/payment_intents/pi_3QrecordedFirst"): [(200, intent())],
            ("get", "/v1/charges/ch_3Qrecorded"): [
                (200, {"id": "ch_3Qrecorded", "refunded": False})
            ],
            ("post", "/v1/refunds"): [
                (
                    400,
                    {
                        "error": {
                            "type": "invalid_request_error",
                            "code": "charge_already_refunded",
                            "message": "Charge ch_3Qrecorded has already been refunded.",
                        }
                    },
                )
            ],
        }
    )
    api.refund(reference="pi_3QrecordedFirst")  # no RefundFailed
