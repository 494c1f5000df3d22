"""Stripe behind the gateway interface (checkout.payments.gateway), with Stripe's official
library.

- A Stripe Customer per account (StripeCustomer); cards are PaymentMethods attached to it.
- Card entry: Stripe's card element on our pages confirms a SetupIntent (usage off_session) that
  our card-setup URL started for the signed-in account, so every card we keep carries the
  customer's mandate for renewals; its authentication, when the card asks for it, happens
  there. Our forms receive the PaymentMethod id: never a card number.
- Charges: PaymentIntents confirmed at once with the saved PaymentMethod, on-session (checkout,
  Pay now) or off-session (renewals, dunning retries, corporate service orders). A
  PaymentIntent that needs the customer's authentication on-session sends them to our
  authentication page, where Stripe.js handles the next action and comes back to the money
  path's return URL; off-session it is the decline `authentication_required`.
- Every create carries the attempt's idempotency key, which is also kept in the
  PaymentIntent's metadata: `find_charge` finds a charge by it (search, then a list of the
  recent ones: the list is always up to date, the search may lag), so an unknown outcome is
  settled, never guessed. Refunds carry a key derived from the PaymentIntent.
- Amounts are in the currency's minor unit; Stripe's decline codes are mapped to ours.

STRIPE_API_BASE points the library at another server (localstripe in tests and the demo). A
local server does not know everything Stripe does; `local_server` says which parameters it
refuses (see `_intent_params`).
"""

import logging
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import stripe
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from moneyed import Money

from checkout.payments.gateway import (
    ActionRequired,
    CardEntry,
    CardSetup,
    Charge,
    ChargeFailed,
    ChargeOutcomeUnknown,
    ChargeStatus,
    GatewayCustomer,
    InvalidCardToken,
    LookupFailed,
    PaymentDeclined,
    PaymentGateway,
    RefundFailed,
    TokenizedCard,
)
from checkout.stripe_gateway.models import StripeCardSetup, StripeCustomer

logger = logging.getLogger(__name__)

STRIPE_JS = "https://js.stripe.com/v3/"
# How far back find_charge lists PaymentIntents when the search finds nothing.
LOOKUP_WINDOW = timedelta(days=3)
# Currencies Stripe counts without a minor unit (of ours: none, but a vendor may add one).
ZERO_DECIMAL = {"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"}

# Stripe's decline codes (error `code`, or `decline_code` for card_declined) → ours
# (checkout.payments.gateway.DECLINE_MESSAGES). A card reported lost, stolen or fraudulent is
# told as a plain decline, as Stripe advises.
DECLINE_CODES = {
    "insufficient_funds": "insufficient_funds",
    "expired_card": "expired_card",
    "incorrect_cvc": "incorrect_cvc",
    "invalid_cvc": "incorrect_cvc",
    "authentication_required": "authentication_required",
    "payment_intent_authentication_failure": "authentication_failed",
    "setup_intent_authentication_failure": "authentication_failed",
    "test_mode_live_card": "test_mode_live_card",
}


def decline_code(*codes: str | None) -> str:
    """Our code for what Stripe said, most specific first (decline_code, then code)."""
    for code in codes:
        if code in DECLINE_CODES:
            return DECLINE_CODES[code]
    return "card_declined"


def minor_units(amount: Money) -> int:
    currency = amount.currency.code
    exponent = 0 if currency in ZERO_DECIMAL else 2
    return int((amount.amount * (10**exponent)).to_integral_value())


def from_minor_units(value: int, currency: str) -> Money:
    exponent = 0 if currency.upper() in ZERO_DECIMAL else 2
    return Money(Decimal(value) / (10**exponent), currency.upper())


def _authentication_token(intent_id: str, return_url: str) -> str:
    return signing.dumps({"intent": intent_id, "return": return_url}, salt="stripe-authenticate")


def read_authentication_token(token: str) -> dict:
    """The intent and return URL an authentication link names; raises signing.BadSignature."""
    return signing.loads(token, salt="stripe-authenticate", max_age=timedelta(days=2))


def authentication_url(intent_id: str, return_url: str) -> str:
    """Our page where Stripe.js asks the customer to authenticate an intent, then sends them to
    `return_url`. Signed: nobody can make it show another intent."""
    token = _authentication_token(intent_id, return_url)
    path = reverse("stripe_gateway:authenticate", kwargs={"token": token})
    return f"{settings.SITE_URL}{path}"


def client() -> stripe.StripeClient:
    kwargs = {}
    if settings.STRIPE_API_BASE:
        kwargs["base_addresses"] = {"api": settings.STRIPE_API_BASE}
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=stripe.new_default_http_client(timeout=settings.STRIPE_TIMEOUT_SECONDS),
        **kwargs,
    )


def local_server() -> bool:
    """The library talks to a local imitation of Stripe (localstripe), not to Stripe."""
    return bool(settings.STRIPE_API_BASE) and "api.stripe.com" not in settings.STRIPE_API_BASE


def _value(obj, name, default=None):
    """A field of a Stripe object or of a plain dict (expanded or not)."""
    if obj is None:
        return default
    try:
        return obj[name]
    except (KeyError, TypeError):
        return getattr(obj, name, default)


class StripeGateway(PaymentGateway):
    def __init__(self, stripe_client: stripe.StripeClient | None = None):
        self.stripe = stripe_client or client()

    # Card entry

    def card_entry(self):
        library = STRIPE_JS
        if settings.STRIPE_API_BASE and local_server():
            library = f"{settings.STRIPE_API_BASE.rstrip('/')}/js.stripe.com/v3/"
        return CardEntry(
            script_url=static("stripe_gateway/card-fields.js"),
            hosted_page_url="",  # Stripe's card element needs JavaScript
            publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
            library_url=library,
            setup_url=reverse("stripe_gateway:card_setup"),
        )

    def start_card_setup(self, *, customer: GatewayCustomer) -> str:
        """A SetupIntent for the card about to be typed in; returns its client secret, which
        only Stripe.js on the customer's page uses."""
        customer_row = self._customer(customer)
        with _stripe_errors(ChargeFailed):
            intent = self.stripe.v1.setup_intents.create(
                params={
                    "customer": customer_row.customer_id,
                    "usage": "off_session",
                    "payment_method_types": ["card"],
                    "metadata": {"customer_reference": customer.reference},
                }
            )
        StripeCardSetup.objects.create(customer=customer_row, setup_intent_id=intent.id)
        return intent.client_secret

    def describe_card(self, *, token):
        if not token.startswith("pm_"):
            raise InvalidCardToken(token)
        try:
            method = self.stripe.v1.payment_methods.retrieve(token)
        except stripe.InvalidRequestError as error:
            raise InvalidCardToken(token) from error
        except stripe.StripeError as error:
            raise InvalidCardToken(f"{token}: {error}") from error
        card = _value(method, "card")
        if card is None:
            raise InvalidCardToken(token)
        return TokenizedCard(
            brand=str(_value(card, "brand", "card")).lower(),
            last4=str(_value(card, "last4", "")),
            exp_month=int(_value(card, "exp_month", 0)),
            exp_year=int(_value(card, "exp_year", 0)),
            token=method.id,
        )

    # Customers and their cards

    def _customer(self, customer: GatewayCustomer | None) -> StripeCustomer:
        if customer is None:
            raise ChargeFailed("Stripe needs the paying account to charge a card.")
        found = StripeCustomer.objects.filter(reference=customer.reference).first()
        if found is not None:
            return found
        with _stripe_errors(ChargeFailed):
            created = self.stripe.v1.customers.create(
                params={"name": customer.name, "metadata": {"reference": customer.reference}},
                options={"idempotency_key": f"customer-{customer.reference}"},
            )
        try:
            with transaction.atomic():
                return StripeCustomer.objects.create(
                    reference=customer.reference, customer_id=created.id
                )
        except IntegrityError:  # another request created it first (the same key: the same one)
            return StripeCustomer.objects.get(reference=customer.reference)

    def _attach(self, token: str, customer: StripeCustomer) -> None:
        """The card belongs to the account's customer: attached if it is not yet (a card Stripe
        refuses to attach is a decline); a card of another customer is refused."""
        with _stripe_errors(ChargeFailed):
            method = self.stripe.v1.payment_methods.retrieve(token)
        owner = _value(method, "customer")
        if owner == customer.customer_id:
            return
        if owner:
            raise PaymentDeclined("card_declined")
        with _stripe_errors(ChargeFailed):
            self.stripe.v1.payment_methods.attach(token, params={"customer": customer.customer_id})

    # Charges

    def _intent_params(self, *, on_session: bool) -> dict:
        if on_session:
            # The customer's authenticated payment also sets the card up for later
            # off-session charges (renewals). localstripe refuses the parameter; its cards
            # come set up from the SetupIntent of card entry anyway.
            return {} if local_server() else {"setup_future_usage": "off_session"}
        return {"off_session": True}

    def charge(
        self,
        *,
        token,
        amount,
        idempotency_key,
        on_session,
        return_url="",
        mandate="",
        customer=None,
    ):
        customer_row = self._customer(customer)
        if on_session or not mandate:
            # A saved card with its mandate was attached when it was saved: a renewal makes
            # one call to Stripe, not three.
            self._attach(token, customer_row)
        params = {
            "amount": minor_units(amount),
            "currency": amount.currency.code.lower(),
            "customer": customer_row.customer_id,
            "payment_method": token,
            "payment_method_types": ["card"],
            "confirm": True,
            "metadata": {"idempotency_key": idempotency_key, "return_url": return_url},
            **self._intent_params(on_session=on_session),
        }
        try:
            intent = self.stripe.v1.payment_intents.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except stripe.CardError as error:
            raise PaymentDeclined(_decline_of(error)) from error
        except stripe.IdempotencyError as error:
            # The key was used with other parameters: a charge may exist under it.
            raise ChargeOutcomeUnknown(str(error)) from error
        except (stripe.APIConnectionError, stripe.APIError) as error:
            # No answer, or Stripe failed while handling it: it may have captured.
            raise ChargeOutcomeUnknown(str(error)) from error
        except stripe.StripeError as error:
            # Refused before anything was charged (bad request, rate limit, keys).
            raise ChargeFailed(str(error)) from error
        charge = self._charge_of(intent, return_url=return_url)
        if charge.status == ChargeStatus.SUCCEEDED:
            return Charge(
                reference=charge.reference,
                amount=charge.amount,
                mandate=intent.id if on_session else mandate,
            )
        if charge.status == ChargeStatus.REQUIRES_ACTION:
            if not on_session:
                # Stripe raises authentication_required for an off-session charge; a local
                # server may leave it waiting instead: nobody is there to authenticate.
                self._cancel(intent.id)
                raise PaymentDeclined("authentication_required")
            raise ActionRequired(url=charge.action_url, reference=intent.id)
        raise PaymentDeclined(charge.decline_code or "card_declined")

    def _cancel(self, intent_id: str) -> None:
        try:
            self.stripe.v1.payment_intents.cancel(intent_id)
        except stripe.StripeError as error:
            logger.warning("Could not cancel %s: %s", intent_id, error)

    def _charge_of(self, intent, *, return_url: str = "", lookup: bool = False) -> Charge:
        """Our view of a PaymentIntent (with whether it was refunded, for a lookup)."""
        status = _value(intent, "status")
        amount = from_minor_units(_value(intent, "amount"), _value(intent, "currency"))
        metadata = _value(intent, "metadata") or {}
        if status == "succeeded":
            return Charge(
                reference=intent.id,
                amount=amount,
                refunded=lookup and self._refunded(intent),
                mandate=intent.id,
            )
        if status == "requires_action":
            url = authentication_url(intent.id, return_url or _value(metadata, "return_url", ""))
            return Charge(
                reference=intent.id,
                amount=amount,
                status=ChargeStatus.REQUIRES_ACTION,
                action_url=url,
            )
        if status in ("requires_payment_method", "canceled"):
            error = _value(intent, "last_payment_error") or {}
            code = decline_code(_value(error, "decline_code"), _value(error, "code"))
            if status == "canceled" and not error:
                code = "authentication_failed"
            return Charge(
                reference=intent.id, amount=amount, status=ChargeStatus.FAILED, decline_code=code
            )
        # processing, requires_confirmation, requires_capture: not ended yet.
        raise LookupFailed(f"{intent.id} is {status}")

    def _refunded(self, intent) -> bool:
        latest = _value(intent, "latest_charge")
        if isinstance(latest, str):
            try:
                latest = self.stripe.v1.charges.retrieve(latest)
            except stripe.StripeError:
                return False
        return bool(_value(latest, "refunded", False))

    def find_charge(self, *, idempotency_key):
        intent = self._find_intent(idempotency_key)
        if intent is None:
            return None
        return self._charge_of(intent, lookup=True)

    def _find_intent(self, idempotency_key: str):
        query = f"metadata['idempotency_key']:'{idempotency_key}'"
        try:
            found = self.stripe.v1.payment_intents.search(params={"query": query, "limit": 10})
            matches = list(found.data)
        except stripe.InvalidRequestError:
            matches = []  # a server without the search API
        except stripe.StripeError as error:
            raise LookupFailed(str(error)) from error
        if not matches:
            matches = self._list_recent(idempotency_key)
        if not matches:
            return None
        # Stripe returns the first answer to a repeated key; a server that made two keeps the
        # succeeded one first.
        matches.sort(key=lambda intent: (_value(intent, "status") != "succeeded", -intent.created))
        return matches[0]

    def _list_recent(self, idempotency_key: str) -> list:
        params = {"limit": 100}
        if not local_server():
            since = timezone.now() - LOOKUP_WINDOW
            params["created"] = {"gte": int(since.timestamp())}
        try:
            page = self.stripe.v1.payment_intents.list(params=params)
            return [
                intent
                for intent in page.auto_paging_iter()
                if _value(_value(intent, "metadata"), "idempotency_key") == idempotency_key
            ]
        except stripe.StripeError as error:
            raise LookupFailed(str(error)) from error

    def refund(self, *, reference):
        try:
            intent = self.stripe.v1.payment_intents.retrieve(reference)
            if self._refunded(intent):
                return  # refunded already: a second refund changes nothing
            self.stripe.v1.refunds.create(
                params={"payment_intent": reference},
                options={"idempotency_key": f"refund-{reference}"},
            )
        except stripe.InvalidRequestError as error:
            if _value(error, "code") == "charge_already_refunded":
                return
            raise RefundFailed(str(error)) from error
        except stripe.StripeError as error:
            raise RefundFailed(str(error)) from error

    # Cards saved for off-session charges

    def set_up_card(self, *, token, idempotency_key, return_url, customer=None):
        """A card entered through our card fields was set up in the browser (its SetupIntent,
        with the customer's authentication): this checks it and returns the mandate. A card
        from elsewhere is set up here, asking for authentication where it must."""
        customer_row = self._customer(customer)
        found = self._browser_setup(token, customer_row)
        if found is not None:
            return found
        self._attach(token, customer_row)
        try:
            intent = self.stripe.v1.setup_intents.create(
                params={
                    "customer": customer_row.customer_id,
                    "usage": "off_session",
                    "payment_method_types": ["card"],
                    "metadata": {"idempotency_key": idempotency_key, "return_url": return_url},
                },
                options={"idempotency_key": idempotency_key},
            )
            StripeCardSetup.objects.get_or_create(
                setup_intent_id=intent.id,
                defaults={"customer": customer_row, "idempotency_key": idempotency_key},
            )
            intent = self.stripe.v1.setup_intents.confirm(
                intent.id,
                params={"payment_method": token},
                options={"idempotency_key": f"{idempotency_key}-confirm"},
            )
        except stripe.CardError as error:
            raise PaymentDeclined(_decline_of(error)) from error
        except stripe.StripeError as error:
            raise ChargeFailed(str(error)) from error
        return self._setup_of(intent, return_url=return_url)

    def _browser_setup(self, token: str, customer: StripeCustomer) -> CardSetup | None:
        """The succeeded SetupIntent of this account's that set up this card, if any."""
        known = customer.card_setups.filter(payment_method=token).first()
        if known is not None:
            return CardSetup(
                reference=known.setup_intent_id,
                status=ChargeStatus.SUCCEEDED,
                mandate=known.setup_intent_id,
            )
        # Started in the last day and not matched yet, newest first (the card just entered).
        recent = customer.card_setups.filter(
            payment_method="", created_at__gte=timezone.now() - timedelta(days=1)
        ).order_by("-pk")
        for setup in recent[:5]:
            try:
                intent = self.stripe.v1.setup_intents.retrieve(setup.setup_intent_id)
            except stripe.StripeError:
                continue
            if _value(intent, "payment_method") == token and intent.status == "succeeded":
                setup.payment_method = token
                setup.save(update_fields=["payment_method"])
                return CardSetup(
                    reference=intent.id, status=ChargeStatus.SUCCEEDED, mandate=intent.id
                )
        return None

    def _setup_of(self, intent, *, return_url: str = "") -> CardSetup:
        status = intent.status
        if status == "succeeded":
            StripeCardSetup.objects.filter(setup_intent_id=intent.id).update(
                payment_method=_value(intent, "payment_method") or ""
            )
            return CardSetup(reference=intent.id, status=ChargeStatus.SUCCEEDED, mandate=intent.id)
        if status == "requires_action":
            metadata = _value(intent, "metadata") or {}
            url = authentication_url(intent.id, return_url or _value(metadata, "return_url", ""))
            return CardSetup(
                reference=intent.id, status=ChargeStatus.REQUIRES_ACTION, action_url=url
            )
        if status in ("requires_payment_method", "canceled"):
            error = _value(intent, "last_setup_error") or {}
            code = decline_code(_value(error, "decline_code"), _value(error, "code"))
            if not error:
                code = "authentication_failed"
            return CardSetup(reference=intent.id, status=ChargeStatus.FAILED, decline_code=code)
        raise LookupFailed(f"{intent.id} is {status}")

    def find_card_setup(self, *, idempotency_key):
        # Kept before it was confirmed: without a row, nothing was set up under this key.
        setup = StripeCardSetup.objects.filter(idempotency_key=idempotency_key).last()
        if setup is None:
            return None
        try:
            return self._setup_of(self.stripe.v1.setup_intents.retrieve(setup.setup_intent_id))
        except stripe.StripeError as error:
            raise LookupFailed(str(error)) from error

    # For operators

    def test_card_token(self):
        if not settings.STRIPE_SECRET_KEY.startswith("sk_test_"):
            raise ChargeFailed("check_gateway runs with a test-mode key (sk_test_…) only.")
        return "pm_card_visa"  # Stripe's ready-made test Visa, in every test-mode account

    def demo_card_token(self, label):
        if not local_server():
            raise ChargeFailed("Demo cards are made on a local Stripe server (localstripe) only.")
        with _stripe_errors(ChargeFailed):
            method = self.stripe.v1.payment_methods.create(
                params={
                    "type": "card",
                    "card": {
                        "number": "4242424242424242",
                        "exp_month": 12,
                        "exp_year": timezone.localdate().year + 4,
                        "cvc": "123",
                    },
                    "metadata": {"demo": label},
                }
            )
        return method.id

    def describe(self):
        where = settings.STRIPE_API_BASE or "https://api.stripe.com"
        mode = "test mode" if settings.STRIPE_SECRET_KEY.startswith("sk_test_") else "LIVE mode"
        return f"Stripe at {where}, {mode}"


@contextmanager
def _stripe_errors(error_class):
    """Stripe's errors as the gateway's: a card error is a decline, any other `error_class`."""
    try:
        yield
    except stripe.CardError as error:
        raise PaymentDeclined(_decline_of(error)) from error
    except stripe.StripeError as error:
        raise error_class(str(error)) from error


def _decline_of(error: stripe.CardError) -> str:
    body = error.json_body or {}
    details = body.get("error", {}) if isinstance(body, dict) else {}
    return decline_code(details.get("decline_code"), error.code)
