"""The payment gateway interface, chosen by settings.PAYMENT_GATEWAY, and the sandbox gateway.

Card numbers and CVCs go to the gateway and nowhere else: what comes back and is stored is the
brand, the last four digits, the expiry and a token. Every charge carries an idempotency key
tied to what is being paid, so a retried charge returns the first answer and never charges
twice.

A charge ends in one of four ways, as with a real processor:
- a Charge: captured;
- PaymentDeclined: the customer's card said no (nothing captured);
- ChargeFailed: the gateway failed before capturing (nothing captured; safe to retry);
- ChargeOutcomeUnknown: no answer (a timeout): it may or may not have captured. Only
  `find_charge` with the same idempotency key can tell; never guess.
"""

import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from moneyed import Money

from checkout.models import CardBrand, GatewayCharge

DECLINE_MESSAGES = {
    "card_declined": _("Your card was declined. Use another card or contact your bank."),
    "insufficient_funds": _("Your card has insufficient funds. Use another card."),
    "expired_card": _("Your card has expired. Use another card."),
    "incorrect_cvc": _("The card's security code (CVC) is incorrect. Check it and try again."),
    "test_mode_live_card": _(
        "This is the sandbox: pay with one of the test cards, such as 4242 4242 4242 4242."
    ),
}


class PaymentDeclined(Exception):
    """The card said no. Nothing was captured."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return str(DECLINE_MESSAGES.get(self.code, DECLINE_MESSAGES["card_declined"]))


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


@dataclass(frozen=True)
class TokenizedCard:
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    token: str


@dataclass(frozen=True)
class Charge:
    reference: str
    amount: Money
    refunded: bool = False


class PaymentGateway(ABC):
    @abstractmethod
    def tokenize_card(
        self, *, number: str, exp_month: int, exp_year: int, cvc: str, cardholder_name: str
    ) -> TokenizedCard: ...

    @abstractmethod
    def charge(self, *, token: str, amount: Money, idempotency_key: str) -> Charge:
        """Capture the amount, or raise PaymentDeclined, ChargeFailed or ChargeOutcomeUnknown.
        The same key always gets the same answer and never charges twice."""

    @abstractmethod
    def find_charge(self, *, idempotency_key: str) -> Charge | None:
        """The captured charge made with this key, or None if none was captured. Raises
        LookupFailed when the gateway cannot tell."""

    @abstractmethod
    def refund(self, *, reference: str) -> None:
        """Give a captured charge back in full, once (a second refund changes nothing).
        Raises RefundFailed."""


def get_gateway() -> PaymentGateway:
    return import_string(settings.PAYMENT_GATEWAY)()


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return CardBrand.VISA
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4] or 0) <= 2720:
        return CardBrand.MASTERCARD
    if number[:2] in {"34", "37"}:
        return CardBrand.AMEX
    return CardBrand.OTHER


class SandboxGateway(PaymentGateway):
    """Behaves like the big processors' public test cards (SPEC "Payments").

    Faults for tests and drills (settings.SANDBOX_GATEWAY_FAULTS, empty by default):
    "fail_before_capture", "timeout_after_capture", "fail_refund", "lookup_unavailable";
    settings.SANDBOX_GATEWAY_DELAY makes every charge answer that many seconds late.
    """

    SUCCEEDING = {"4242424242424242", "5555555555554444"}
    # Saved fine, declined on every charge after (renewals, dunning): the processors' 0341.
    DECLINES_LATER = {"4000000000000341"}
    DECLINING = {
        "4000000000000002": "card_declined",
        "4000000000009995": "insufficient_funds",
        "4000000000000069": "expired_card",
        "4000000000000127": "incorrect_cvc",
    }

    def tokenize_card(self, *, number, exp_month, exp_year, cvc, cardholder_name):
        # The token carries the test card's outcome, the way a processor's token stands for it.
        if number in self.SUCCEEDING:
            outcome = "ok"
        elif number in self.DECLINES_LATER:
            outcome = "card_declined"
        else:
            outcome = self.DECLINING.get(number, "test_mode_live_card")
        return TokenizedCard(
            brand=card_brand(number),
            last4=number[-4:],
            exp_month=exp_month,
            exp_year=exp_year,
            token=f"tok_sandbox_{outcome}_{uuid.uuid4().hex[:16]}",
        )

    @staticmethod
    def _faults() -> set[str]:
        return set(getattr(settings, "SANDBOX_GATEWAY_FAULTS", ()) or ())

    @staticmethod
    def _outcome(token: str) -> str:
        # Saved demo cards are "tok_sandbox_ok_<name>"; anything unknown is declined.
        for code in ("ok", *DECLINE_MESSAGES):
            if token.startswith(f"tok_sandbox_{code}_"):
                return code
        return "card_declined"

    def charge(self, *, token, amount, idempotency_key):
        delay = float(getattr(settings, "SANDBOX_GATEWAY_DELAY", 0) or 0)
        if delay:
            time.sleep(delay)
        faults = self._faults()
        existing = GatewayCharge.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            if "fail_before_capture" in faults:
                raise ChargeFailed("sandbox: failed before capture")
            outcome = self._outcome(token)
            try:
                with transaction.atomic():
                    existing = GatewayCharge.objects.create(
                        idempotency_key=idempotency_key,
                        token=token,
                        amount=amount,
                        succeeded=outcome == "ok",
                        decline_code="" if outcome == "ok" else outcome,
                        reference=f"ch_sandbox_{uuid.uuid4().hex[:20]}",
                    )
            except IntegrityError:
                # Another request charged with this key at the same moment: its answer stands.
                existing = GatewayCharge.objects.get(idempotency_key=idempotency_key)
        if "timeout_after_capture" in faults:
            raise ChargeOutcomeUnknown("sandbox: no answer after the charge was sent")
        if not existing.succeeded:
            raise PaymentDeclined(existing.decline_code)
        return self._as_charge(existing)

    def find_charge(self, *, idempotency_key):
        if "lookup_unavailable" in self._faults():
            raise LookupFailed("sandbox: lookups are unavailable")
        found = GatewayCharge.objects.filter(
            idempotency_key=idempotency_key, succeeded=True
        ).first()
        return self._as_charge(found) if found else None

    def refund(self, *, reference):
        if "fail_refund" in self._faults():
            raise RefundFailed("sandbox: the refund failed")
        GatewayCharge.objects.filter(reference=reference).update(refunded=True)

    @staticmethod
    def _as_charge(row: GatewayCharge) -> Charge:
        return Charge(reference=row.reference, amount=row.amount, refunded=row.refunded)
