"""Payment attempts (STYLE habit 13, SPEC "Payments"): every charge is preceded by a committed
PaymentAttempt and followed by its outcome. "We don't know" (a timeout) is an outcome, settled
by asking the gateway for the charge by its idempotency key, never by guessing; "the customer
must authenticate" is one too: the attempt stays pending until the gateway says how it ended.

The money path (checkout.payments.money_path) is the only caller: it opens an attempt under the
flow's locks, charges it here outside any transaction, and links it to what it paid or gives
it back.
"""

import logging
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Case, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from moneyed import Money

from billing_center import locks, metrics
from billing_center.models import User
from checkout.models import AttemptStatus, Order, PaymentAttempt, PaymentMethod
from checkout.payments.gateway import (
    ActionRequired,
    Charge,
    ChargeFailed,
    ChargeOutcomeUnknown,
    ChargeStatus,
    LookupFailed,
    PaymentDeclined,
    RefundFailed,
    gateway_customer,
    get_gateway,
)
from subscriptions.models import Account

logger = logging.getLogger(__name__)


class PaymentPending(Exception):
    """The outcome of the payment is not known yet; nothing will be charged twice. The
    reconciliation (or the next try) settles it."""

    def __init__(self, attempt: PaymentAttempt):
        super().__init__(attempt.idempotency_key)
        self.attempt = attempt


class PaymentRequiresAction(PaymentPending):
    """On-session: the customer must authenticate the payment with their bank at `url`, then
    comes back to the attempt's return URL. Nothing is captured until they do."""

    @property
    def url(self) -> str:
        return self.attempt.action_url


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


@dataclass(frozen=True)
class AttemptRequest:
    """What the money path asks to open: an attempt to pay `amount` for `reference` (what is
    paid, by its idempotency key; `pays` names it by foreign keys)."""

    account: Account
    purpose: str
    reference: str
    amount: Money
    payment_method: PaymentMethod
    on_session: bool
    actor: User | None
    pays: dict
    details: dict | None = None


def open_attempts(requests: list[AttemptRequest]) -> list[PaymentAttempt]:
    """The attempt for each request, in the caller's transaction, with the accounts locked (one
    statement to lock the earlier attempts of them all, one to write the new ones). An earlier
    attempt that is pending (its outcome unknown, or waiting for the customer's
    authentication) or captured and not used yet, for the same amount, is returned instead: it
    is settled or used, never charged again. Otherwise a new pending attempt, numbered after
    the earlier ones. Raises PaymentPending when an earlier attempt for another amount is still
    pending (settle it first: another amount cannot share its idempotency key)."""
    earlier = locks.lock_payment_attempts(references=[request.reference for request in requests])
    found: list[PaymentAttempt] = []
    new: list[PaymentAttempt] = []
    for request in requests:
        attempt = _still_open(earlier[request.reference], request.amount)
        if attempt is None:
            attempt = _new_attempt(request, earlier[request.reference])
            new.append(attempt)
        found.append(attempt)
    PaymentAttempt.objects.bulk_create(new)
    for attempt in new:
        attempt.opened_now = True  # this request charges it (see pay)
    return found


def _still_open(earlier: list[PaymentAttempt], amount: Money) -> PaymentAttempt | None:
    for attempt in earlier:
        unused_capture = attempt.status == AttemptStatus.CAPTURED and attempt.order_id is None
        if attempt.status == AttemptStatus.PENDING or unused_capture:
            if attempt.amount == amount:
                return attempt
            if attempt.status == AttemptStatus.PENDING:
                raise PaymentPending(attempt)
    return None


def _new_attempt(request: AttemptRequest, earlier: list[PaymentAttempt]) -> PaymentAttempt:
    number = earlier[0].number + 1 if earlier else 1
    actor = request.actor
    return PaymentAttempt(
        account=request.account,
        purpose=request.purpose,
        reference=request.reference,
        number=number,
        idempotency_key=request.reference if number == 1 else f"{request.reference}-{number}",
        amount=request.amount,
        payment_method=request.payment_method,
        card_token=request.payment_method.gateway_token,
        on_session=request.on_session,
        details=request.details or {},
        created_by=actor if actor is not None and actor.is_authenticated else None,
        **request.pays,
    )


# The attempts a billing run opens (or takes up again), so that its own reconciliation settles
# them at its end rather than leaving them to the next run (they are nobody else's to charge).
_opened: ContextVar[list[int] | None] = ContextVar("opened_attempts", default=None)


def remember_opened(attempts_: list[PaymentAttempt]) -> None:
    """The money path: these attempts were opened (or taken up again) and committed."""
    opened = _opened.get()
    if opened is not None:
        opened.extend(attempt.pk for attempt in attempts_)


@contextmanager
def remembering_opened_attempts():
    opened: list[int] = []
    token = _opened.set(opened)
    try:
        yield opened
    finally:
        _opened.reset(token)


def return_url(attempt: PaymentAttempt) -> str:
    """Where the processor sends the customer back after authenticating."""
    path = reverse("checkout:payment_return", kwargs={"public_id": attempt.public_id})
    return f"{settings.SITE_URL}{path}"


def pay(attempt: PaymentAttempt) -> PaymentAttempt:
    """Outside any transaction: charge a new attempt, or settle one opened earlier. Returns the
    captured attempt; raises PaymentDeclined (the card said no), PaymentRequiresAction (the
    customer authenticates first), PaymentFailed (nothing charged, try again) or
    PaymentPending (outcome not known yet)."""
    if attempt.status == AttemptStatus.CAPTURED:
        return attempt
    if attempt.status != AttemptStatus.PENDING:
        raise ValueError(f"Attempt {attempt.idempotency_key} is {attempt.status}")
    if not getattr(attempt, "opened_now", False):
        # Opened by another request. Still young and without news: that request is charging
        # it now. Waiting for the customer's authentication, gone, or met a timeout: ask the
        # gateway before charging (charging again with the same key would be safe too; a
        # lookup has no side effect).
        young = attempt.created_at >= timezone.now() - in_flight_window()
        if young and not attempt.error and not attempt.action_url:
            return _outcome_of_the_other_request(attempt)
        found = _lookup(attempt)
        if found is not None:
            return found
    gateway = get_gateway()
    card = attempt.payment_method
    try:
        charge = gateway.charge(
            token=attempt.card_token,
            amount=attempt.amount,
            idempotency_key=attempt.idempotency_key,
            on_session=attempt.on_session,
            return_url=return_url(attempt) if attempt.on_session else "",
            mandate=card.mandate if card is not None else "",
            customer=gateway_customer(attempt.account),
        )
    except PaymentDeclined as declined:
        _finish(attempt, AttemptStatus.DECLINED, decline_code=declined.code)
        raise
    except ActionRequired as action:
        return _awaits_action(attempt, url=action.url)
    except ChargeFailed as error:
        _finish(attempt, AttemptStatus.FAILED, error=str(error))
        raise PaymentFailed(attempt) from error
    except ChargeOutcomeUnknown as error:
        _note(attempt, f"outcome unknown: {error}")
        found = _lookup(attempt)
        if found is not None:
            return found
        raise PaymentPending(attempt) from error
    return _captured(attempt, charge)


def _awaits_action(attempt: PaymentAttempt, *, url: str) -> PaymentAttempt:
    """The processor asks for the customer's authentication. Off-session nobody is there to
    give it: a decline the billing contact answers with Pay now (`authentication_required`)."""
    if not attempt.on_session:
        _finish(attempt, AttemptStatus.DECLINED, decline_code="authentication_required")
        raise PaymentDeclined("authentication_required")
    if attempt.action_url != url:
        PaymentAttempt.objects.filter(pk=attempt.pk).update(
            action_url=url, updated_at=timezone.now()
        )
        attempt.action_url = url
    raise PaymentRequiresAction(attempt)


def _outcome_of_the_other_request(attempt: PaymentAttempt) -> PaymentAttempt:
    """A double submit: wait a little for the request that is charging this attempt, and end
    the same way it did. Still unknown after the wait: PaymentPending."""
    deadline = time.monotonic() + settings.PAYMENT_WAIT_SECONDS
    while (
        attempt.status == AttemptStatus.PENDING
        and not attempt.action_url
        and time.monotonic() < deadline
    ):
        time.sleep(0.1)
        attempt.refresh_from_db()
    if attempt.status == AttemptStatus.CAPTURED:
        return attempt
    if attempt.status == AttemptStatus.DECLINED:
        raise PaymentDeclined(attempt.decline_code)
    if attempt.status == AttemptStatus.FAILED:
        raise PaymentFailed(attempt)
    if attempt.action_url:
        raise PaymentRequiresAction(attempt)
    raise PaymentPending(attempt)


def _lookup(attempt: PaymentAttempt) -> PaymentAttempt | None:
    """Settle an unknown outcome by asking the gateway. Returns the captured attempt; raises
    what the gateway's answer means (a failed authentication is a decline; one still waited
    for needs the customer); None if nothing was captured (the attempt stays pending: the
    caller decides whether to charge or give up)."""
    try:
        charge = get_gateway().find_charge(idempotency_key=attempt.idempotency_key)
    except LookupFailed as error:
        _note(attempt, f"lookup failed: {error}")
        raise PaymentPending(attempt) from error
    if charge is None:
        return None
    if charge.status == ChargeStatus.REQUIRES_ACTION:
        return _awaits_action(attempt, url=charge.action_url)
    if charge.status == ChargeStatus.FAILED:
        _finish(attempt, AttemptStatus.DECLINED, decline_code=charge.decline_code)
        raise PaymentDeclined(charge.decline_code)
    return _captured(attempt, charge)


def _captured(attempt: PaymentAttempt, charge: Charge) -> PaymentAttempt:
    return _settle(
        attempt,
        status=AttemptStatus.CAPTURED,
        charge_reference=charge.reference,
        mandate=charge.mandate,
        error="",
    )


def _finish(attempt: PaymentAttempt, status: str, *, decline_code: str = "", error: str = ""):
    _settle(attempt, status=status, decline_code=decline_code, error=error[:300])
    forget_entered_card(attempt)


def forget_entered_card(attempt: PaymentAttempt) -> None:
    """A card typed in for a payment that ended without paying anything is not kept: a decline
    changes nothing, not even the account's cards. (The attempt keeps its token.)"""
    if attempt.payment_method_id is None:
        return
    open_ = [AttemptStatus.PENDING, AttemptStatus.CAPTURED]
    PaymentMethod.objects.filter(pk=attempt.payment_method_id, saved=False).exclude(
        payment_attempts__status__in=open_
    ).delete()


def _settle(attempt: PaymentAttempt, **outcome) -> PaymentAttempt:
    """Pending → its outcome, once: if another process settled it first, theirs stands."""
    outcome["updated_at"] = timezone.now()
    settled = PaymentAttempt.objects.filter(pk=attempt.pk, status=AttemptStatus.PENDING).update(
        **outcome
    )
    if settled:
        metrics.PAYMENT_ATTEMPTS.labels(outcome["status"]).inc()
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


def settle_with_gateway(attempt: PaymentAttempt) -> None:
    """A pending attempt whose request is gone: ask the gateway how it ended. Leaves it pending
    when the gateway cannot tell or the customer may still authenticate; marks it failed when
    nothing was captured under its key."""
    try:
        found = _lookup(attempt)
    except (PaymentDeclined, PaymentPending):
        return  # settled as declined, or still open
    if found is None:
        _finish(attempt, AttemptStatus.FAILED, error="no charge found for this key")


def mark_used(used: list[tuple[PaymentAttempt, Order]]) -> None:
    """In the orders' transaction: each captured attempt paid for its order (one statement)."""
    if not used:
        return
    PaymentAttempt.objects.filter(pk__in=[attempt.pk for attempt, _order in used]).update(
        order=Case(*(When(pk=attempt.pk, then=Value(order.pk)) for attempt, order in used)),
        updated_at=timezone.now(),
    )
    for attempt, order in used:
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
    forget_entered_card(attempt)
    return True


def give_back_if_unused(attempt: PaymentAttempt | None, *, reason: str) -> None:
    """Whatever happened, a captured payment that paid nothing is given back. A failed refund
    stays captured for the reconciliation to retry."""
    if attempt is None:
        return
    attempt.refresh_from_db()
    if attempt.status == AttemptStatus.CAPTURED and attempt.order_id is None:
        refund(attempt, reason=reason)
