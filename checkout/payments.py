"""Taking money safely (STYLE habit 13, SPEC "Payments"): every charge is preceded by a
committed PaymentAttempt and followed by its outcome. "We don't know" (a timeout) is an outcome,
settled by asking the gateway for the charge by its idempotency key, never by guessing.

The flows that take money (checkout, corporate service orders, renewals, invoice payments):
1. under the account's lock, in their transaction: `open_attempt` (commits with it);
2. outside any transaction: `pay` — charge, or settle an earlier attempt of the same thing;
3. write what was paid for, and link the attempt to the order (`mark_used`), or `refund` it.
`reconcile_payments` brings every attempt left pending, or captured without an order, to an
end: it asks the gateway, then lets the flow that started it complete it (the resumers each
flow registers) or refunds it.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from moneyed import Money

from billing_center.models import User
from checkout.gateway import (
    ChargeFailed,
    ChargeOutcomeUnknown,
    LookupFailed,
    PaymentDeclined,
    RefundFailed,
    get_gateway,
)
from checkout.models import AttemptStatus, Order, PaymentAttempt, PaymentMethod
from subscriptions.models import Account

logger = logging.getLogger(__name__)

__all__ = [
    "PaymentDeclined",
    "PaymentFailed",
    "PaymentPending",
    "mark_used",
    "open_attempt",
    "pay",
    "reconcile_payments",
    "refund",
    "register_resumer",
]


class PaymentPending(Exception):
    """The outcome of the payment is not known yet; nothing will be charged twice. The
    reconciliation (or the next try) settles it."""

    def __init__(self, attempt: PaymentAttempt):
        super().__init__(attempt.idempotency_key)
        self.attempt = attempt


class PaymentFailed(Exception):
    """The gateway failed before charging: nothing was taken, it can be tried again."""

    def __init__(self, attempt: PaymentAttempt):
        super().__init__(attempt.idempotency_key)
        self.attempt = attempt

    @property
    def message(self) -> str:
        return _(
            "The payment service did not answer and nothing was charged. Please try again in "
            "a moment."
        )


def in_flight_window() -> timedelta:
    """How long a pending attempt is taken to be in the hands of the request that opened it."""
    return timedelta(seconds=settings.PAYMENT_IN_FLIGHT_SECONDS)


def open_attempt(
    *,
    account: Account,
    purpose: str,
    reference: str,
    amount: Money,
    card_token: str,
    payment_method: PaymentMethod | None,
    actor: User | None,
    details: dict | None = None,
) -> PaymentAttempt:
    """The attempt to pay `amount` for `reference`, in the caller's transaction, with the
    account locked. An earlier attempt that is pending (its outcome unknown) or captured and not
    used yet, for the same amount, is returned instead: it is settled or used, never charged
    again. Otherwise a new pending attempt, numbered after the earlier ones."""
    earlier = list(
        PaymentAttempt.objects.select_for_update().filter(reference=reference).order_by("-number")
    )
    for attempt in earlier:
        unused_capture = attempt.status == AttemptStatus.CAPTURED and attempt.order_id is None
        if attempt.status == AttemptStatus.PENDING or unused_capture:
            if attempt.amount == amount:
                return attempt
            if attempt.status == AttemptStatus.PENDING:
                # Settle it first: another amount cannot share its idempotency key.
                raise PaymentPending(attempt)
    number = earlier[0].number + 1 if earlier else 1
    attempt = PaymentAttempt.objects.create(
        account=account,
        purpose=purpose,
        reference=reference,
        number=number,
        idempotency_key=reference if number == 1 else f"{reference}-{number}",
        amount=amount,
        payment_method=payment_method,
        card_token=card_token,
        details=details or {},
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    attempt.opened_now = True  # this request charges it (see pay)
    return attempt


def pay(attempt: PaymentAttempt) -> PaymentAttempt:
    """Outside any transaction: charge a new attempt, or settle one opened earlier. Returns the
    captured attempt; raises PaymentDeclined (the card said no), PaymentFailed (nothing
    charged, try again) or PaymentPending (outcome not known yet)."""
    if attempt.status == AttemptStatus.CAPTURED:
        return attempt
    if attempt.status != AttemptStatus.PENDING:
        raise ValueError(f"Attempt {attempt.idempotency_key} is {attempt.status}")
    if not getattr(attempt, "opened_now", False):
        # Opened by another request. Still young and without news: that request is charging
        # it now. Otherwise it is gone or met a timeout: ask the gateway before charging
        # (charging again with the same key would be safe too; a lookup has no side effect).
        young = attempt.created_at >= timezone.now() - in_flight_window()
        if young and not attempt.error:
            return _outcome_of_the_other_request(attempt)
        found = _lookup(attempt)
        if found is not None:
            return found
    gateway = get_gateway()
    try:
        charge = gateway.charge(
            token=attempt.card_token, amount=attempt.amount, idempotency_key=attempt.idempotency_key
        )
    except PaymentDeclined as declined:
        _finish(attempt, AttemptStatus.DECLINED, decline_code=declined.code)
        raise
    except ChargeFailed as error:
        _finish(attempt, AttemptStatus.FAILED, error=str(error))
        raise PaymentFailed(attempt) from error
    except ChargeOutcomeUnknown as error:
        _note(attempt, f"outcome unknown: {error}")
        found = _lookup(attempt)
        if found is not None:
            return found
        raise PaymentPending(attempt) from error
    return _captured(attempt, charge.reference)


def _outcome_of_the_other_request(attempt: PaymentAttempt) -> PaymentAttempt:
    """A double submit: wait a little for the request that is charging this attempt, and end
    the same way it did. Still unknown after the wait: PaymentPending."""
    deadline = time.monotonic() + settings.PAYMENT_WAIT_SECONDS
    while attempt.status == AttemptStatus.PENDING and time.monotonic() < deadline:
        time.sleep(0.1)
        attempt.refresh_from_db()
    if attempt.status == AttemptStatus.CAPTURED:
        return attempt
    if attempt.status == AttemptStatus.DECLINED:
        raise PaymentDeclined(attempt.decline_code)
    if attempt.status == AttemptStatus.FAILED:
        raise PaymentFailed(attempt)
    raise PaymentPending(attempt)


def _lookup(attempt: PaymentAttempt) -> PaymentAttempt | None:
    """Settle an unknown outcome by asking the gateway. None if nothing was captured (the
    attempt stays pending: the caller decides whether to charge or give up)."""
    try:
        charge = get_gateway().find_charge(idempotency_key=attempt.idempotency_key)
    except LookupFailed as error:
        _note(attempt, f"lookup failed: {error}")
        raise PaymentPending(attempt) from error
    if charge is None:
        return None
    return _captured(attempt, charge.reference)


def _captured(attempt: PaymentAttempt, charge_reference: str) -> PaymentAttempt:
    return _settle(
        attempt,
        status=AttemptStatus.CAPTURED,
        charge_reference=charge_reference,
        error="",
    )


def _finish(attempt: PaymentAttempt, status: str, *, decline_code: str = "", error: str = ""):
    _settle(attempt, status=status, decline_code=decline_code, error=error[:300])


def _settle(attempt: PaymentAttempt, **outcome) -> PaymentAttempt:
    """Pending → its outcome, once: if another process settled it first, theirs stands."""
    outcome["updated_at"] = timezone.now()
    settled = PaymentAttempt.objects.filter(pk=attempt.pk, status=AttemptStatus.PENDING).update(
        **outcome
    )
    if settled:
        for field, value in outcome.items():
            setattr(attempt, field, value)
    else:
        attempt.refresh_from_db()
    return attempt


def _note(attempt: PaymentAttempt, error: str) -> None:
    PaymentAttempt.objects.filter(pk=attempt.pk).update(
        error=error[:300], updated_at=timezone.now()
    )
    attempt.error = error[:300]


def mark_used(attempt: PaymentAttempt, order: Order) -> None:
    """In the order's transaction: this captured attempt paid for `order`."""
    PaymentAttempt.objects.filter(pk=attempt.pk).update(order=order, updated_at=timezone.now())
    attempt.order = order


def refund(attempt: PaymentAttempt, *, reason: str) -> bool:
    """Give a captured attempt back. False if the gateway failed: the attempt stays captured,
    with the error, and the reconciliation tries again."""
    attempt.refresh_from_db()
    if attempt.status != AttemptStatus.CAPTURED or attempt.order_id is not None:
        return attempt.status == AttemptStatus.REFUNDED
    try:
        get_gateway().refund(reference=attempt.charge_reference)
    except RefundFailed as error:
        logger.warning("Refund of %s failed: %s", attempt.idempotency_key, error)
        _note(attempt, f"refund failed ({reason}): {error}")
        return False
    PaymentAttempt.objects.filter(pk=attempt.pk, status=AttemptStatus.CAPTURED).update(
        status=AttemptStatus.REFUNDED, error=reason[:300], updated_at=timezone.now()
    )
    attempt.refresh_from_db()
    return True


# What each flow does with an attempt whose request is gone: complete what it paid for (a
# captured attempt) or let go (a failed one). Registered by the flows in their AppConfig.ready.
Resumer = Callable[[PaymentAttempt], None]
_RESUMERS: dict[str, Resumer] = {}


def register_resumer(purpose: str, resumer: Resumer) -> None:
    _RESUMERS[purpose] = resumer


@dataclass
class Reconciliation:
    settled: int = 0
    completed: int = 0
    refunded: int = 0
    failed: int = 0
    still_open: int = 0

    def __str__(self):
        return (
            f"{self.settled} settled, {self.completed} completed, {self.refunded} refunded, "
            f"{self.failed} ended without a charge, {self.still_open} still open"
        )


def reconcile_payments() -> Reconciliation:
    """Every attempt left pending, or captured without an order, past the in-flight window:
    ask the gateway, then complete what it paid for or refund it. Idempotent; safe to run at
    any time, by several workers (each attempt is handled under its row lock)."""
    report = Reconciliation()
    cutoff = timezone.now() - in_flight_window()
    stale = PaymentAttempt.objects.filter(created_at__lt=cutoff).filter(
        status__in=[AttemptStatus.PENDING, AttemptStatus.CAPTURED], order__isnull=True
    )
    for pk in stale.order_by("pk").values_list("pk", flat=True):
        try:
            _reconcile_one(pk, report)
        except Exception:
            logger.exception("Reconciling payment attempt %s failed", pk)
            report.still_open += 1
    return report


def settle(attempt: PaymentAttempt) -> None:
    """Bring one attempt to an end now if its request is gone (past the in-flight window, or
    left unknown): the page a customer waits on calls this, as the reconciliation does."""
    young = attempt.created_at >= timezone.now() - in_flight_window()
    open_ = attempt.status == AttemptStatus.PENDING or (
        attempt.status == AttemptStatus.CAPTURED and attempt.order_id is None
    )
    if open_ and not (young and not attempt.error):
        _reconcile_one(attempt.pk, Reconciliation())
    attempt.refresh_from_db()


def _reconcile_one(pk: int, report: Reconciliation) -> None:
    # A lease instead of a row lock held across gateway calls: one worker handles an attempt at
    # a time, and nobody waits on a transaction while the gateway answers.
    now = timezone.now()
    claimed = (
        PaymentAttempt.objects.filter(pk=pk)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
    )
    if not claimed:
        return  # another worker has it
    try:
        _reconcile_claimed(PaymentAttempt.objects.get(pk=pk), report)
    finally:
        PaymentAttempt.objects.filter(pk=pk).update(lease_until=None)


LEASE = timedelta(minutes=5)


def _reconcile_claimed(attempt: PaymentAttempt, report: Reconciliation) -> None:
    if attempt.status == AttemptStatus.PENDING:
        try:
            found = _lookup(attempt)
        except PaymentPending:
            report.still_open += 1
            return
        report.settled += 1
        if found is None:
            _finish(attempt, AttemptStatus.FAILED, error="no charge found for this key")
            report.failed += 1
    resumer = _RESUMERS.get(attempt.purpose)
    if resumer is not None:
        resumer(attempt)
    attempt.refresh_from_db()
    if attempt.status == AttemptStatus.CAPTURED and attempt.order_id is None:
        refund(attempt, reason=_("Nothing could be completed with this payment."))
    if attempt.order_id is not None:
        report.completed += 1
    elif attempt.status == AttemptStatus.REFUNDED:
        report.refunded += 1
    elif attempt.status == AttemptStatus.CAPTURED:
        report.still_open += 1  # the refund failed: next run
