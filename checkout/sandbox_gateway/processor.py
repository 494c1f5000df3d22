"""The sandbox processor's side: what a real processor does on its own servers. Its views (card
fields, hosted card page, authentication page) and its client (`client.SandboxGateway`, the
gateway our billing apps are given) both call this module; nothing else does.

Test cards behave like the big processors' public ones (SPEC "Payments"):
- 4242 4242 4242 4242 and 5555 5555 5555 4444 succeed;
- 4000 0000 0000 0002 is declined; 9995 insufficient funds; 0069 expired card; 0127 wrong CVC;
- 4000 0000 0000 0341 is saved fine, and every charge on it is declined;
- 4000 0025 0000 3155 needs authentication on-session, then works off-session once saved with
  authentication (a mandate);
- 4000 0027 6000 3184 needs authentication on every charge, off-session included;
- 4000 0000 0000 3220 needs authentication on-session only.
Any other valid number is refused as a live card in test mode.

Faults for tests and drills (settings.SANDBOX_GATEWAY_FAULTS, empty by default):
"fail_before_capture", "timeout_after_capture", "fail_refund", "lookup_unavailable";
settings.SANDBOX_GATEWAY_DELAY makes every charge answer that many seconds late. A charge or
setup that waits for authentication longer than settings.SANDBOX_AUTHENTICATION_SECONDS fails,
as a processor's abandoned authentication does.
"""

import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from moneyed import Money

from checkout.payments.gateway import (
    ActionRequired,
    CardSetup,
    Charge,
    ChargeFailed,
    ChargeOutcomeUnknown,
    InvalidCardToken,
    LookupFailed,
    PaymentDeclined,
    RefundFailed,
    TokenizedCard,
)
from checkout.sandbox_gateway.models import SandboxCard, SandboxCharge, SandboxMandate, SandboxSetup

SUCCEEDING = {"4242424242424242": "ok", "5555555555554444": "ok"}
DECLINING = {
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000000127": "incorrect_cvc",
}
# Saved fine, declined on every charge: the processors' 0341.
DECLINES_LATER = {"4000000000000341": "declines_later"}
# Strong Customer Authentication (3-D Secure) test cards.
AUTHENTICATING = {
    "4000002500003155": "auth_until_saved",
    "4000002760003184": "auth_always",
    "4000000000003220": "auth_on_session",
}
CARDS = {**SUCCEEDING, **DECLINING, **DECLINES_LATER, **AUTHENTICATING}
LIVE_CARD = "test_mode_live_card"
BEHAVIOURS = {"ok", LIVE_CARD, *CARDS.values()}


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4] or 0) <= 2720:
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    return "other"


def tokenize(*, number: str, exp_month: int, exp_year: int) -> TokenizedCard:
    """The card fields' call: a token for a checked card number (the number and the CVC are
    dropped here; only what a processor shows of a card is kept)."""
    behaviour = CARDS.get(number, LIVE_CARD)
    card = SandboxCard.objects.create(
        # The behaviour is in the token's name, as it is in the processors' ready-made test
        # tokens ("tok_sandbox_ok_visa" is the demo's saved Visa).
        token=f"tok_sandbox_{behaviour}_{uuid.uuid4().hex[:16]}",
        behaviour=behaviour,
        brand=card_brand(number),
        last4=number[-4:],
        exp_month=exp_month,
        exp_year=exp_year,
    )
    return _as_card(card)


def describe_card(token: str) -> TokenizedCard:
    card = SandboxCard.objects.filter(token=token).first()
    if card is None:
        raise InvalidCardToken(token)
    return _as_card(card)


def _as_card(card: SandboxCard) -> TokenizedCard:
    return TokenizedCard(
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        token=card.token,
    )


def behaviour_of(token: str) -> str:
    """What a token's card does. A ready-made test token says it in its name; anything the
    sandbox does not know is a declined card."""
    for behaviour in sorted(BEHAVIOURS, key=len, reverse=True):
        if token.startswith(f"tok_sandbox_{behaviour}_"):
            return behaviour
    return "card_declined"


def _faults() -> set[str]:
    return set(getattr(settings, "SANDBOX_GATEWAY_FAULTS", ()) or ())


def _has_mandate(token: str, mandate: str) -> bool:
    return bool(mandate) and SandboxMandate.objects.filter(token=token, reference=mandate).exists()


def _grant_mandate(token: str) -> str:
    reference = f"mandate_sandbox_{uuid.uuid4().hex[:20]}"
    SandboxMandate.objects.create(token=token, reference=reference)
    return reference


def _needs_authentication(behaviour: str, *, on_session: bool, has_mandate: bool) -> bool:
    if behaviour == "auth_always":
        return True
    if behaviour == "auth_until_saved":
        return on_session or not has_mandate
    if behaviour == "auth_on_session":
        return on_session
    return False


def _action_deadline():
    return timezone.now() + timedelta(seconds=settings.SANDBOX_AUTHENTICATION_SECONDS)


def authentication_url(reference: str) -> str:
    return reverse("sandbox_gateway:authenticate", args=[reference])


# Charges


def charge(
    *,
    token: str,
    amount: Money,
    idempotency_key: str,
    on_session: bool,
    return_url: str,
    mandate: str,
) -> Charge:
    delay = float(getattr(settings, "SANDBOX_GATEWAY_DELAY", 0) or 0)
    if delay:
        time.sleep(delay)
    faults = _faults()
    row = SandboxCharge.objects.filter(idempotency_key=idempotency_key).first()
    if row is None:
        if "fail_before_capture" in faults:
            raise ChargeFailed("sandbox: failed before capture")
        row = _new_charge(
            token=token,
            amount=amount,
            idempotency_key=idempotency_key,
            on_session=on_session,
            return_url=return_url,
            mandate=mandate,
        )
    if "timeout_after_capture" in faults:
        raise ChargeOutcomeUnknown("sandbox: no answer after the charge was sent")
    row = _expire_if_abandoned(row)
    if row.status == SandboxCharge.Status.REQUIRES_ACTION:
        raise ActionRequired(url=authentication_url(row.reference), reference=row.reference)
    if row.status == SandboxCharge.Status.FAILED:
        raise PaymentDeclined(row.decline_code)
    return _as_charge(row)


def _new_charge(
    *, token, amount, idempotency_key, on_session, return_url, mandate
) -> SandboxCharge:
    behaviour = behaviour_of(token)
    fields = {"status": SandboxCharge.Status.SUCCEEDED, "decline_code": ""}
    if behaviour in DECLINING.values() or behaviour == LIVE_CARD:
        fields = {"status": SandboxCharge.Status.FAILED, "decline_code": behaviour}
    elif behaviour == "declines_later":
        fields = {"status": SandboxCharge.Status.FAILED, "decline_code": "card_declined"}
    elif _needs_authentication(
        behaviour, on_session=on_session, has_mandate=_has_mandate(token, mandate)
    ):
        if on_session:
            fields = {
                "status": SandboxCharge.Status.REQUIRES_ACTION,
                "decline_code": "",
                "return_url": return_url,
                "action_expires_at": _action_deadline(),
            }
        else:
            # Merchant-initiated, and the bank wants the customer: the processors decline it
            # with "authentication_required".
            fields = {
                "status": SandboxCharge.Status.FAILED,
                "decline_code": "authentication_required",
            }
    succeeded = fields["status"] == SandboxCharge.Status.SUCCEEDED
    try:
        with transaction.atomic():
            row = SandboxCharge.objects.create(
                idempotency_key=idempotency_key,
                token=token,
                amount=amount,
                on_session=on_session,
                succeeded=succeeded,
                reference=f"ch_sandbox_{uuid.uuid4().hex[:20]}",
                # An on-session payment saves the card for later off-session charges (Stripe's
                # setup_future_usage): its mandate.
                mandate=_grant_mandate(token) if succeeded and on_session else "",
                **fields,
            )
    except IntegrityError:
        # Another request charged with this key at the same moment: its answer stands.
        row = SandboxCharge.objects.get(idempotency_key=idempotency_key)
    return row


def _expire_if_abandoned(row):
    """A charge or setup still waiting for the customer after the window has failed."""
    if (
        row.status == SandboxCharge.Status.REQUIRES_ACTION
        and row.action_expires_at < timezone.now()
    ):
        type(row).objects.filter(pk=row.pk, status=SandboxCharge.Status.REQUIRES_ACTION).update(
            status=SandboxCharge.Status.FAILED, decline_code="authentication_failed"
        )
        row.refresh_from_db()
    return row


def find_charge(*, idempotency_key: str) -> Charge | None:
    if "lookup_unavailable" in _faults():
        raise LookupFailed("sandbox: lookups are unavailable")
    row = SandboxCharge.objects.filter(idempotency_key=idempotency_key).first()
    if row is None:
        return None
    row = _expire_if_abandoned(row)
    if row.status == SandboxCharge.Status.FAILED and not row.decline_code.startswith(
        "authentication_"
    ):
        return None  # declined: nothing was captured under this key
    return _as_charge(row)


def refund(*, reference: str) -> None:
    if "fail_refund" in _faults():
        raise RefundFailed("sandbox: the refund failed")
    SandboxCharge.objects.filter(reference=reference, succeeded=True).update(refunded=True)


def _as_charge(row: SandboxCharge) -> Charge:
    return Charge(
        reference=row.reference,
        amount=row.amount,
        status=row.status,
        refunded=row.refunded,
        mandate=row.mandate,
        action_url=authentication_url(row.reference)
        if row.status == SandboxCharge.Status.REQUIRES_ACTION
        else "",
        decline_code=row.decline_code,
    )


# Card setups (saving a card for later, on-session)


def set_up_card(*, token: str, idempotency_key: str, return_url: str) -> CardSetup:
    if "fail_before_capture" in _faults():
        raise ChargeFailed("sandbox: failed before the setup")
    row = SandboxSetup.objects.filter(idempotency_key=idempotency_key).first()
    if row is None:
        behaviour = behaviour_of(token)
        if behaviour in DECLINING.values() or behaviour == LIVE_CARD:
            raise PaymentDeclined(behaviour)
        needs = _needs_authentication(behaviour, on_session=True, has_mandate=False)
        try:
            with transaction.atomic():
                row = SandboxSetup.objects.create(
                    idempotency_key=idempotency_key,
                    token=token,
                    status=SandboxCharge.Status.REQUIRES_ACTION
                    if needs
                    else SandboxCharge.Status.SUCCEEDED,
                    reference=f"seti_sandbox_{uuid.uuid4().hex[:20]}",
                    mandate="" if needs else _grant_mandate(token),
                    return_url=return_url if needs else "",
                    action_expires_at=_action_deadline() if needs else None,
                )
        except IntegrityError:
            row = SandboxSetup.objects.get(idempotency_key=idempotency_key)
    return _as_setup(_expire_if_abandoned(row))


def find_card_setup(*, idempotency_key: str) -> CardSetup | None:
    if "lookup_unavailable" in _faults():
        raise LookupFailed("sandbox: lookups are unavailable")
    row = SandboxSetup.objects.filter(idempotency_key=idempotency_key).first()
    return _as_setup(_expire_if_abandoned(row)) if row else None


def _as_setup(row: SandboxSetup) -> CardSetup:
    return CardSetup(
        reference=row.reference,
        status=row.status,
        mandate=row.mandate,
        action_url=authentication_url(row.reference)
        if row.status == SandboxCharge.Status.REQUIRES_ACTION
        else "",
        decline_code=row.decline_code,
    )


# The authentication page


def pending_authentication(reference: str):
    """The charge or setup this authentication page is for (None if there is none)."""
    model = SandboxSetup if reference.startswith("seti_") else SandboxCharge
    row = model.objects.filter(reference=reference).first()
    return _expire_if_abandoned(row) if row is not None else None


def authenticate(reference: str, *, authorized: bool):
    """The customer's answer on the authentication page: the charge captures (or the setup
    succeeds) with a mandate for later, or it fails. Only once; a late answer changes nothing.
    Returns the row, as it now is."""
    row = pending_authentication(reference)
    if row is None or row.status != SandboxCharge.Status.REQUIRES_ACTION:
        return row
    if authorized:
        outcome = {"status": SandboxCharge.Status.SUCCEEDED, "decline_code": ""}
    else:
        outcome = {"status": SandboxCharge.Status.FAILED, "decline_code": "authentication_failed"}
    if isinstance(row, SandboxCharge):
        outcome["succeeded"] = authorized
    with transaction.atomic():
        # Pending → answered, once: a second answer (another tab, a replay) finds it answered.
        answered = (
            type(row)
            .objects.filter(pk=row.pk, status=SandboxCharge.Status.REQUIRES_ACTION)
            .update(**outcome)
        )
        if answered and authorized:
            type(row).objects.filter(pk=row.pk).update(mandate=_grant_mandate(row.token))
    row.refresh_from_db()
    return row
