"""localstripe, a local imitation of Stripe's API, Stripe.js and webhooks, started by the suite
on a free loopback port (a session fixture: a server that does not start fails the tests that
need it, never skips them), and the settings that point the Stripe adapter at it.

Where localstripe differs from Stripe, tests/checkout/stripe/test_recorded.py covers the
adapter with Stripe's recorded answers instead:
- a repeated idempotency key creates a second PaymentIntent (Stripe returns the first);
- no `insufficient_funds` (or other) decline code: every decline is `card_declined`;
- an off-session charge of a card that wants authentication is left `requires_action`
  (Stripe raises `authentication_required`);
- no search API, no `setup_future_usage`, no `created` filter on lists, no `charge.refunded`
  or `setup_intent.succeeded` events.
"""

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import stripe

SECRET_KEY = "sk_test_billing_center"
PUBLISHABLE_KEY = "pk_test_billing_center"
WEBHOOK_SECRET = "whsec_billing_center_tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_localstripe(log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{base}/js.stripe.com/v3/", timeout=1) as answer:
                if answer.status == 200:
                    return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"localstripe did not start on {base}: see {log_path}")


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory):
    """The base URL of a running localstripe."""
    try:
        process, base = start_localstripe(tmp_path_factory.mktemp("localstripe") / "log")
    except RuntimeError as error:
        pytest.fail(str(error))
    yield base
    process.terminate()
    process.wait(timeout=10)


def configure(settings, base: str) -> None:
    """Point the gateway at the local server, as the environment would."""
    settings.PAYMENT_GATEWAY = "checkout.stripe_gateway.client.StripeGateway"
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = base
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    directives = dict(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])
    directives["script-src"] = ["'self'", base]
    directives["connect-src"] = ["'self'", base]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": directives}


@pytest.fixture
def stripe_gateway(settings, localstripe):
    """Stripe (localstripe) as the gateway for this test."""
    configure(settings, localstripe)
    return localstripe


def stripe_client(base: str) -> stripe.StripeClient:
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": base})


def payment_method(base: str, number: str = "4242424242424242") -> str:
    """What Stripe.js makes of a card typed into the card element: a PaymentMethod id."""
    method = stripe_client(base).v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    return method.id


def authenticate(base: str, intent_id: str, *, success: bool = True) -> None:
    """What the customer does in Stripe's 3-D Secure window (localstripe's endpoint for it)."""
    client = stripe_client(base)
    intent = client.v1.payment_intents.retrieve(intent_id)
    body = f"key={PUBLISHABLE_KEY}&client_secret={intent.client_secret}".encode()
    request = urllib.request.Request(
        f"{base}/v1/payment_intents/{intent_id}/_authenticate?success={str(success).lower()}",
        data=body,
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5):
        pass


class FaultyHTTPClient(stripe.HTTPClient):
    """Stripe's HTTP client with the sandbox's faults, for the money path's fault drills:
    - fail_before_capture: creating a PaymentIntent is refused (429, nothing done);
    - timeout_after_capture: it is created, then the answer is lost (a connection error);
    - lookup_unavailable: reading PaymentIntents fails (connection error);
    - fail_refund: Stripe answers a refund with a server error."""

    name = "faulty"

    def __init__(self, faults):
        super().__init__()
        self.inner = stripe.new_default_http_client(timeout=10)
        self.faults = faults  # a set, changed by the test

    def request(self, method, url, headers, post_data=None):
        path = url.split("://", 1)[-1].split("/", 1)[-1].split("?")[0]
        creating = method == "post" and path == "v1/payment_intents"
        if creating and "fail_before_capture" in self.faults:
            return _error_body("rate_limit", "Too many requests."), 429, {}
        reading = method == "get" and path.startswith("v1/payment_intents")
        if reading and "lookup_unavailable" in self.faults:
            raise stripe.APIConnectionError("lookup unavailable (injected)")
        if method == "post" and path == "v1/refunds" and "fail_refund" in self.faults:
            return _error_body("api_error", "Refund failed (injected)."), 500, {}
        answer = self.inner.request(method, url, headers, post_data)
        if creating and "timeout_after_capture" in self.faults:
            raise stripe.APIConnectionError("timed out after capture (injected)")
        return answer

    def close(self):
        self.inner.close()


def _error_body(kind: str, message: str) -> str:
    import json

    return json.dumps({"error": {"type": kind, "message": message}})


@pytest.fixture
def stripe_faults(stripe_gateway, monkeypatch, settings):
    """Stripe (localstripe) as the gateway, with faults the test sets: stripe_faults("…")."""
    from checkout.stripe_gateway import client as stripe_module

    settings.PAYMENT_IN_FLIGHT_SECONDS = 0
    settings.PAYMENT_WAIT_SECONDS = 0
    active: set[str] = set()

    def faulty_client():
        return stripe.StripeClient(
            SECRET_KEY,
            base_addresses={"api": stripe_gateway},
            max_network_retries=0,
            http_client=FaultyHTTPClient(active),
        )

    monkeypatch.setattr(stripe_module, "client", faulty_client)

    def set_faults(*names):
        active.clear()
        active.update(names)

    return set_faults


def authenticate_setup(base: str, setup_intent_id: str) -> None:
    """The customer completes the bank's authentication of a card setup (what localstripe's
    Stripe.js sends on "Complete authentication")."""
    intent = stripe_client(base).v1.setup_intents.retrieve(setup_intent_id)
    body = json.dumps({"key": PUBLISHABLE_KEY, "client_secret": intent.client_secret}).encode()
    request = urllib.request.Request(
        f"{base}/v1/setup_intents/{setup_intent_id}/confirm", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5):
        pass


def intent_of_action(url: str) -> str:
    """The intent an authentication link of ours names."""
    from checkout.stripe_gateway.client import read_authentication_token

    return read_authentication_token(url.split("/stripe/authenticate/", 1)[1].rstrip("/"))["intent"]


def new_card(base: str, number: str = "4242424242424242", name: str = "Camille"):
    """A new card as a form hands it to the services: Stripe's PaymentMethod, described by it."""
    from checkout.payments.cards import NewCard
    from checkout.payments.gateway import get_gateway

    card = get_gateway().describe_card(token=payment_method(base, number))
    return NewCard(card=card, cardholder_name=name)


def kept_captures(base: str, account) -> list:
    """Money Stripe took from the account's customer and kept: succeeded, not refunded."""
    from checkout.stripe_gateway.models import StripeCustomer

    customer = StripeCustomer.objects.filter(reference=f"account-{account.pk}").first()
    if customer is None:
        return []
    client = stripe_client(base)
    kept = []
    for intent in client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter():
        if intent.customer != customer.customer_id or intent.status != "succeeded":
            continue
        charge = intent.latest_charge
        if isinstance(charge, str):
            charge = client.v1.charges.retrieve(charge)
        if not charge.refunded:
            kept.append(intent)
    return kept
