"""The payment processor's interface, chosen by settings.PAYMENT_GATEWAY.

Our views never receive a card number or a CVC. The browser sends the card to the processor's
own card fields (its script on our pages, or its hosted card page without JavaScript) and our
forms receive a token; the processor tells us what the token stands for (brand, last 4,
expiry). Every charge carries an idempotency key tied to what is being paid, so a retried
charge returns the first answer and never charges twice.

Every charge says whether the customer is there (on-session: checkout, Pay now, saving a card)
or not (off-session, merchant-initiated under the mandate given when the card was saved:
renewals, dunning retries, corporate service orders). A charge ends in one of five ways, as
with a real processor:
- a Charge whose status is `succeeded`: captured;
- PaymentDeclined: the card said no (nothing captured); off-session, a processor asking for
  authentication is a decline with the code `authentication_required`;
- ActionRequired (on-session only): the customer must authenticate (3-D Secure) at `url`, then
  comes back to the return URL; nothing is captured until they do;
- ChargeFailed: the processor failed before capturing (nothing captured; safe to retry);
- ChargeOutcomeUnknown: no answer (a timeout): it may have captured. Only `find_charge` with the
  same idempotency key can tell; never guess.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from moneyed import Money

DECLINE_MESSAGES = {
    "card_declined": _("Your card was declined. Use another card or contact your bank."),
    "insufficient_funds": _("Your card has insufficient funds. Use another card."),
    "expired_card": _("Your card has expired. Use another card."),
    "incorrect_cvc": _("The card's security code (CVC) is incorrect. Check it and try again."),
    "test_mode_live_card": _(
        "This is the sandbox: pay with one of the test cards, such as 4242 4242 4242 4242."
    ),
    "authentication_failed": _(
        "Your bank could not confirm that it is you: nothing was charged. Try again or use "
        "another card."
    ),
    # Not the processor's: a renewal found no card to charge.
    "no_card": _("Your account has no default card to charge."),
    "authentication_required": _(
        "Your bank asks you to confirm this payment. Pay it with Pay now, where your bank can "
        "ask you to confirm it."
    ),
}


class PaymentDeclined(Exception):
    """The card said no. Nothing was captured."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return decline_message(self.code)


def decline_message(code: str) -> str:
    """Why a charge failed, as the billing contact reads it, in the active language."""
    return str(decline_reason(code))


def decline_reason(code: str):
    """The same, translated when it is rendered: an email renders it in the account's
    language, whatever language the worker that sends it runs in."""
    return DECLINE_MESSAGES.get(code, DECLINE_MESSAGES["card_declined"])


class GatewayError(Exception):
    """The gateway did not do what was asked (see the subclasses for what that means)."""


class ChargeFailed(GatewayError):
    """The gateway failed before capturing: nothing was charged."""


class ChargeOutcomeUnknown(GatewayError):
    """No answer after the charge was sent: it may have captured. Look it up by its key."""


class RefundFailed(GatewayError):
    """The refund was not made; the money is still captured. Try again later."""


class LookupFailed(GatewayError):
    """The gateway could not say whether a charge exists."""


class InvalidCardToken(GatewayError):
    """The token names no card the processor knows (forged, expired or used up)."""


class ActionRequired(Exception):
    """On-session: the customer authenticates at `url` (the processor's page), then comes back
    to the return URL given with the charge. `reference` is the processor's name for it."""

    def __init__(self, *, url: str, reference: str):
        super().__init__(reference)
        self.url = url
        self.reference = reference


@dataclass(frozen=True)
class TokenizedCard:
    """What the processor tells of a card token: never the number, never the CVC."""

    brand: str
    last4: str
    exp_month: int
    exp_year: int
    token: str


class ChargeStatus:
    SUCCEEDED = "succeeded"  # captured
    REQUIRES_ACTION = "requires_action"  # waiting for the customer's authentication
    FAILED = "failed"  # ended without a capture (declined, authentication failed or abandoned)


@dataclass(frozen=True)
class Charge:
    reference: str
    amount: Money
    status: str = ChargeStatus.SUCCEEDED
    refunded: bool = False
    # The processor's record that the customer authenticated this card for later off-session
    # charges (given with an authenticated on-session payment or card setup).
    mandate: str = ""
    action_url: str = ""  # where the customer authenticates, while it requires action
    decline_code: str = ""  # why it failed


@dataclass(frozen=True)
class CardSetup:
    """A card saved for later off-session charges: the mandate the processor recorded."""

    reference: str
    status: str  # ChargeStatus: succeeded, requires_action or failed
    mandate: str = ""
    action_url: str = ""
    decline_code: str = ""


@dataclass(frozen=True)
class CardEntry:
    """What our pages need to show the processor's card fields: its script (card entry with
    JavaScript), its hosted card page (without; empty when the processor has none), and the
    key the script identifies us by. Some processors' fields need two more: the processor's
    own library, loaded before the script (Stripe.js), and a URL of ours where the script
    starts a card setup for the signed-in account (a Stripe SetupIntent)."""

    script_url: str
    hosted_page_url: str
    publishable_key: str
    library_url: str = ""
    setup_url: str = ""


@dataclass(frozen=True)
class GatewayCustomer:
    """Who pays, for a processor that keeps customers (Stripe saves cards on a Customer): our
    reference for the account, which never changes, and its name."""

    reference: str
    name: str = ""


class PaymentGateway(ABC):
    @abstractmethod
    def card_entry(self) -> CardEntry:
        """Where the processor's card fields come from (templates)."""

    @abstractmethod
    def describe_card(self, *, token: str) -> TokenizedCard:
        """What the processor knows of a token made by its card fields. Raises
        InvalidCardToken. Never trust the brand or last 4 a browser posts with it."""

    @abstractmethod
    def charge(
        self,
        *,
        token: str,
        amount: Money,
        idempotency_key: str,
        on_session: bool,
        return_url: str = "",
        mandate: str = "",
        customer: GatewayCustomer | None = None,
    ) -> Charge:
        """Capture the amount, or raise PaymentDeclined, ActionRequired (on-session),
        ChargeFailed or ChargeOutcomeUnknown. The same key always gets the same answer and
        never charges twice."""

    @abstractmethod
    def find_charge(self, *, idempotency_key: str) -> Charge | None:
        """What became of the charge made with this key: captured, waiting for the customer's
        authentication or failed — or None if nothing was captured. Raises LookupFailed when
        the gateway cannot tell."""

    @abstractmethod
    def refund(self, *, reference: str) -> None:
        """Give a captured charge back in full, once (a second refund changes nothing).
        Raises RefundFailed."""

    @abstractmethod
    def set_up_card(
        self,
        *,
        token: str,
        idempotency_key: str,
        return_url: str,
        customer: GatewayCustomer | None = None,
    ) -> CardSetup:
        """On-session: save a card for later off-session charges, with the customer's
        authentication where the card asks for it (the setup's status is then
        `requires_action`, with its URL). Raises PaymentDeclined, ChargeFailed."""

    @abstractmethod
    def find_card_setup(self, *, idempotency_key: str) -> CardSetup | None:
        """What became of a card setup. Raises LookupFailed."""

    # For operators (manage.py check_gateway)

    def test_card_token(self) -> str:
        """A card of the processor's test mode that pays without authentication."""
        raise NotImplementedError

    def demo_card_token(self, label: str) -> str:
        """A saved Visa for a demo account (seed_demo), which pays without authentication."""
        raise NotImplementedError

    def describe(self) -> str:
        """Which processor this is, and where (never a secret)."""
        return type(self).__name__


def gateway_customer(account) -> GatewayCustomer:
    """The processor's customer for one of our accounts."""
    return GatewayCustomer(reference=f"account-{account.pk}", name=account.name)


def get_gateway() -> PaymentGateway:
    return import_string(settings.PAYMENT_GATEWAY)()
