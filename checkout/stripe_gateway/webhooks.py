"""Stripe's webhook events, settled through the money path. Every event is only a hint: the
attempt is settled by asking Stripe (continue_after_authentication), never from the event's
body, so the same event twice, or events out of order, change nothing more. Reconciliation
(checkout.payments.reconciliation) does the same without webhooks."""

import logging

from django.core.mail import mail_admins
from django.db import IntegrityError, transaction

from checkout.models import AttemptStatus, PaymentAttempt, PaymentMethod
from checkout.payments import attempts
from checkout.payments.cards import PaymentMethodError, finish_card_setup
from checkout.payments.gateway import GatewayError
from checkout.payments.money_path import continue_after_authentication, resume
from checkout.stripe_gateway.models import StripeCardSetup, StripeEvent

logger = logging.getLogger(__name__)


class EventError(Exception):
    """The event could not be handled now (Stripe unreachable): Stripe sends it again."""


def _field(obj, name, default=None):
    try:
        return obj[name]
    except (KeyError, TypeError):
        return default


def handle_event(event) -> str:
    """What the event changed, in a few words (kept with the event)."""
    if StripeEvent.objects.filter(event_id=event.id).exists():
        return "already handled"
    obj = event.data.object
    handler = HANDLERS.get(event.type)
    try:
        outcome = handler(obj) if handler else "ignored"
    except GatewayError as error:
        raise EventError(str(error)) from error
    try:
        with transaction.atomic():
            StripeEvent.objects.create(
                event_id=event.id,
                type=event.type,
                object_id=_field(obj, "id", "") or "",
                outcome=outcome[:300],
            )
    except IntegrityError:
        return "already handled"
    return outcome


def _attempt_of_intent(intent) -> PaymentAttempt | None:
    key = _field(_field(intent, "metadata"), "idempotency_key", "") or ""
    if key:
        found = PaymentAttempt.objects.filter(idempotency_key=key).first()
        if found is not None:
            return found
    return PaymentAttempt.objects.filter(charge_reference=_field(intent, "id", "")).first()


def payment_intent_changed(intent) -> str:
    """payment_intent.succeeded / payment_failed / canceled: the attempt is settled and its
    flow finished (an order written, an invoice marked paid, a payment given back)."""
    attempt = _attempt_of_intent(intent)
    if attempt is None:
        return "no payment attempt of ours"
    before = attempt.status
    if attempt.status == AttemptStatus.PENDING:
        attempt = continue_after_authentication(attempt)
    elif attempt.status == AttemptStatus.CAPTURED and attempt.order_id is None:
        resume(attempt)
        attempt.refresh_from_db()
    return f"attempt {attempt.idempotency_key}: {before} → {attempt.status}"


def charge_refunded(charge) -> str:
    """charge.refunded: our own refund whose answer was lost is recorded; a refund made in
    Stripe's dashboard of a payment that paid an order is reported to staff (a credit note is
    theirs to issue), never guessed."""
    intent_id = _field(charge, "payment_intent") or ""
    attempt = PaymentAttempt.objects.filter(charge_reference=intent_id).first()
    if attempt is None:
        return "no payment attempt of ours"
    if attempt.status == AttemptStatus.CAPTURED and attempt.order_id is None:
        attempts.refund(attempt, reason="Refunded (Stripe confirmed).")
        attempt.refresh_from_db()
        return f"attempt {attempt.idempotency_key}: {attempt.status}"
    if attempt.status == AttemptStatus.CAPTURED:
        mail_admins(
            f"Payment {attempt.idempotency_key} refunded in Stripe",
            f"Stripe reports payment {intent_id} ({attempt.amount}) refunded. It paid order "
            f"{attempt.order.number}; issue a credit note if the refund was meant.",
        )
        return "refunded outside Billing Center: staff told"
    return f"attempt {attempt.idempotency_key}: already {attempt.status}"


def setup_intent_succeeded(intent) -> str:
    """setup_intent.succeeded: the card it set up is saved, if one of ours waits for it."""
    method = _field(intent, "payment_method") or ""
    StripeCardSetup.objects.filter(setup_intent_id=_field(intent, "id", "")).update(
        payment_method=method
    )
    card = PaymentMethod.objects.filter(
        gateway_token=method, saved=False, removed_at__isnull=True
    ).first()
    if card is None:
        return "no card of ours waiting"
    try:
        finish_card_setup(payment_method=card, make_default=False, actor=None)
    except PaymentMethodError as error:
        return f"card {card.pk}: {error.message}"
    return f"card {card.pk} saved"


HANDLERS = {
    "payment_intent.succeeded": payment_intent_changed,
    "payment_intent.payment_failed": payment_intent_changed,
    "payment_intent.canceled": payment_intent_changed,
    "charge.refunded": charge_refunded,
    "setup_intent.succeeded": setup_intent_succeeded,
}
