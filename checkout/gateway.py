"""The payment gateway interface, chosen by settings.PAYMENT_GATEWAY, and the sandbox gateway.

Card numbers and CVCs go to the gateway and nowhere else: what comes back and is stored is the
brand, the last four digits, the expiry and a token. Every charge carries an idempotency key
tied to the order, so a retried charge returns the first answer and never charges twice.
"""

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
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return str(DECLINE_MESSAGES.get(self.code, DECLINE_MESSAGES["card_declined"]))


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


class PaymentGateway(ABC):
    @abstractmethod
    def tokenize_card(
        self, *, number: str, exp_month: int, exp_year: int, cvc: str, cardholder_name: str
    ) -> TokenizedCard: ...

    @abstractmethod
    def charge(self, *, token: str, amount: Money, idempotency_key: str) -> Charge:
        """Charge the card or raise PaymentDeclined; the same key always gets the same answer."""

    @abstractmethod
    def refund(self, *, reference: str) -> None: ...


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
    """Behaves like the big processors' public test cards (SPEC "Payments")."""

    SUCCEEDING = {"4242424242424242", "5555555555554444"}
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
    def _outcome(token: str) -> str:
        # Saved demo cards are "tok_sandbox_ok_<name>"; anything unknown is declined.
        for code in ("ok", *DECLINE_MESSAGES):
            if token.startswith(f"tok_sandbox_{code}_"):
                return code
        return "card_declined"

    def charge(self, *, token, amount, idempotency_key):
        existing = GatewayCharge.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
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
        if not existing.succeeded:
            raise PaymentDeclined(existing.decline_code)
        return Charge(reference=existing.reference, amount=existing.amount)

    def refund(self, *, reference):
        GatewayCharge.objects.filter(reference=reference).update(refunded=True)
