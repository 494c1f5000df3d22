"""Stripe's webhooks at /stripe/webhooks/: the signature is checked (a forged or replayed event
is refused and changes nothing), the matching attempt is settled through the money path, the
same event twice changes nothing more, unknown events are acknowledged. The last test has
localstripe itself deliver the event to a running server."""

import hashlib
import hmac
import json
import time

import pytest
from django.urls import reverse

from checkout.models import AttemptStatus, Order, PaymentAttempt
from checkout.payments.attempts import PaymentRequiresAction
from checkout.stripe_gateway.models import StripeEvent
from tests.checkout.stripe.flows import place
from tests.stripe_server import (
    WEBHOOK_SECRET,
    authenticate,
    intent_of_action,
    kept_captures,
    new_card,
    stripe_client,
)

pytestmark = pytest.mark.django_db

ALWAYS = "4000002760003184"
URL = "/stripe/webhooks/"


def signed(payload: bytes, *, secret=WEBHOOK_SECRET, at=None) -> str:
    """Stripe's Stripe-Signature header: t=<unix time>,v1=<HMAC-SHA256 of "t.payload">."""
    at = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def event(kind: str, obj: dict, event_id="evt_1") -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "data": {"object": obj},
        }
    ).encode()


def post(client, payload: bytes, signature: str):
    return client.post(
        URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


@pytest.fixture
def waiting(cart, stripe_faults, localstripe):
    """A checkout waiting for the customer's authentication, which they gave at Stripe; their
    browser never came back."""
    with pytest.raises(PaymentRequiresAction) as action:
        place(cart, new_card=new_card(localstripe, ALWAYS))
    intent_id = intent_of_action(action.value.url)
    authenticate(localstripe, intent_id)
    intent = stripe_client(localstripe).v1.payment_intents.retrieve(intent_id)
    return action.value.attempt, intent.to_dict()


def test_the_url_is_ours(stripe_gateway):
    assert reverse("stripe_gateway:webhook") == URL


def test_payment_intent_succeeded_completes_the_order_once(client, waiting, localstripe):
    attempt, intent = waiting
    payload = event("payment_intent.succeeded", intent)
    answer = post(client, payload, signed(payload))
    assert answer.status_code == 200
    order = Order.objects.get()
    attempt.refresh_from_db()
    assert (attempt.status, attempt.order) == (AttemptStatus.CAPTURED, order)
    assert StripeEvent.objects.get().type == "payment_intent.succeeded"

    again = post(client, payload, signed(payload))  # Stripe delivers at least once
    assert again.json()["outcome"] == "already handled"
    assert Order.objects.count() == 1
    assert len(kept_captures(localstripe, order.account)) == 1


def test_events_out_of_order_change_nothing_more(client, waiting):
    attempt, intent = waiting
    succeeded = event("payment_intent.succeeded", intent, event_id="evt_2")
    assert post(client, succeeded, signed(succeeded)).status_code == 200
    # A late payment_failed for the same intent (an earlier try): Stripe is asked, not the body.
    failed = event("payment_intent.payment_failed", {**intent, "status": "requires_payment_method"})
    assert post(client, failed, signed(failed)).status_code == 200
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.CAPTURED
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    "signature",
    [
        "t=1,v1=0000",  # nothing like it
        "",  # missing
        "forged",  # with the wrong secret, below
    ],
)
def test_a_forged_event_is_refused_and_changes_nothing(client, waiting, signature):
    attempt, intent = waiting
    payload = event("payment_intent.succeeded", intent)
    if signature == "forged":
        signature = signed(payload, secret="whsec_someone_else")
    assert post(client, payload, signature).status_code == 400
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.PENDING
    assert not Order.objects.exists()
    assert not StripeEvent.objects.exists()


def test_a_replayed_event_is_refused(client, waiting):
    """A genuine event captured and sent again later: its signed time is too old."""
    _attempt, intent = waiting
    payload = event("payment_intent.succeeded", intent)
    old = signed(payload, at=int(time.time()) - 600)
    assert post(client, payload, old).status_code == 400
    assert not Order.objects.exists()


def test_a_body_changed_after_signing_is_refused(client, waiting):
    _attempt, intent = waiting
    payload = event("payment_intent.succeeded", intent)
    signature = signed(payload)
    assert post(client, payload.replace(b"evt_1", b"evt_9"), signature).status_code == 400


def test_unknown_events_are_acknowledged_and_ignored(client, stripe_gateway):
    payload = event("customer.created", {"id": "cus_x", "object": "customer"})
    answer = post(client, payload, signed(payload))
    assert (answer.status_code, answer.json()["outcome"]) == (200, "ignored")
    payload = event("payment_intent.succeeded", {"id": "pi_unknown", "metadata": {}}, "evt_3")
    assert post(client, payload, signed(payload)).json()["outcome"] == "no payment attempt of ours"


def test_the_webhook_is_not_there_without_stripe(client, settings):
    settings.PAYMENT_GATEWAY = "checkout.sandbox_gateway.client.SandboxGateway"
    assert client.post(URL, data=b"{}", content_type="application/json").status_code == 404


def test_only_post(client, stripe_gateway):
    assert client.get(URL).status_code == 405


def register_webhook(base: str, url: str) -> None:
    """Where localstripe sends its signed events (its own configuration endpoint)."""
    import urllib.request

    body = json.dumps(
        {
            "url": url,
            "secret": WEBHOOK_SECRET,
            "events": ["payment_intent.succeeded", "payment_intent.payment_failed"],
        }
    ).encode()
    config = urllib.request.Request(
        f"{base}/_config/webhooks/billing-center", data=body, method="POST"
    )
    urllib.request.urlopen(config, timeout=5).close()


@pytest.mark.real_clock
@pytest.mark.django_db(transaction=True)
def test_localstripe_delivers_the_event_and_the_order_is_written(
    live_server,
    stripe_faults,
    localstripe,
    cart,
    settings,
    request,
):
    """localstripe signs and posts payment_intent.succeeded to our endpoint a second after the
    customer authenticated; nobody comes back to the return page, the webhook completes it."""
    settings.ALLOWED_HOSTS = ["*"]
    register_webhook(localstripe, f"{live_server.url}{URL}")
    # Afterwards localstripe's events (of other tests' intents) go nowhere.
    request.addfinalizer(lambda: register_webhook(localstripe, "http://127.0.0.1:9/"))
    with pytest.raises(PaymentRequiresAction) as action:
        place(cart, new_card=new_card(localstripe, ALWAYS))
    intent_id = intent_of_action(action.value.url)
    authenticate(localstripe, intent_id)
    handled = StripeEvent.objects.filter(type="payment_intent.succeeded", object_id=intent_id)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not handled.exists():  # recorded once handled
        time.sleep(0.25)
    order = Order.objects.get()
    assert PaymentAttempt.objects.get().order == order
    assert handled.get().outcome.endswith("pending → captured")
