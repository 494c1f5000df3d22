"""The money path: the one sequence every payment passes through (SPEC "Payments", STYLE
habits 5 and 13). Checkout, renewals, invoice payments (Pay now and dunning retries) and
corporate service orders each describe themselves as a PaymentFlow; `take_payment` runs them:

1. under the flow's locks (billing_center.locks: the account first), in one transaction: what
   the flow pays is re-read; if it was done already, that result is returned (a double submit,
   a repeated run); otherwise the flow says what to charge, and a payment attempt is opened
   and committed with it — its idempotency key derived from what is paid;
2. outside any transaction: the attempt is charged (checkout.payments.attempts), on- or
   off-session as the flow is. A decline, a failure before capture, an unknown outcome or the
   customer's authentication go to the flow's hook for it;
3. under the same locks again: re-read, and if still to do, the flow writes what was paid (the
   order writer, an invoice marked paid) with the captured attempt; a new card that paid is
   kept, with the mandate an authentication gave; the attempt is linked to the order.
   A payment nothing used is given back, whatever happened.

`resume` completes an attempt whose request is gone (the reconciliation) or whose customer
comes back from authenticating (the return page): the flow is rebuilt from the attempt's
foreign keys (`register_flow`, by purpose), never from a string parsed back.
"""

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db import transaction
from moneyed import Money

from billing_center.audit import audit_batch
from billing_center.models import User
from checkout.models import AttemptStatus, Order, PaymentAttempt, PaymentMethod
from checkout.payments import attempts
from checkout.payments.attempts import PaymentFailed, PaymentPending
from checkout.payments.cards import keep_card_of
from checkout.payments.gateway import PaymentDeclined
from subscriptions.models import Account

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Payment:
    """What a flow asks to be charged, as read under its locks."""

    account: Account
    amount: Money
    payment_method: PaymentMethod  # a saved card, or a card entered to pay this (not saved yet)
    reference: str  # the idempotency key's stem, derived from what is paid
    pays: dict[str, Any]  # what it pays, as the attempt's foreign keys
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Written:
    """What a flow wrote with a payment: its result, and the order the payment paid."""

    result: Any
    order: Order | None


class PaymentFlow:
    """One way of taking money. A flow supplies only what differs; the sequence is
    `take_payment`'s. Locks and reads happen in `lock` (in the money path's transactions),
    never in the constructor."""

    purpose: ClassVar[str]
    on_session: ClassVar[bool]
    # The flow's "cannot be done as asked" error: the payment is given back, then `refused`.
    refusal: ClassVar[type[Exception] | tuple[type[Exception], ...]] = ()
    # Why a payment nothing used is given back (stored with the refund).
    unused_reason: ClassVar[str] = "Nothing was completed with this payment."
    actor: User | None = None

    def lock(self) -> Any:
        """Take the flow's locks and read what it pays, as it is now."""
        raise NotImplementedError

    def done(self, state) -> Any | None:
        """The result if what it pays was done already (then nothing is charged)."""
        return None

    def payment(self, state) -> Payment | None:
        """What to charge; None when nothing is due."""
        raise NotImplementedError

    def attach(self, attempt: PaymentAttempt) -> None:
        """A new attempt was opened for this flow (in the same transaction)."""

    def write(self, state, attempt: PaymentAttempt | None) -> Written:
        """Under the locks: record what was paid with the captured attempt (None when nothing
        was due)."""
        raise NotImplementedError

    # What each way of not being paid does; by default the caller hears of it.

    def declined(self, attempt: PaymentAttempt, declined: PaymentDeclined):
        raise declined

    def failed(self, attempt: PaymentAttempt, failed: PaymentFailed):
        raise failed

    def pending(self, attempt: PaymentAttempt, pending: PaymentPending):
        """The outcome is not known yet, or (PaymentRequiresAction) the customer authenticates
        first. The attempt stays pending; `resume` finishes it."""
        raise pending

    def refused(self, attempt: PaymentAttempt | None, refusal: Exception, refunded: bool):
        raise refusal

    def abandoned(self, attempt: PaymentAttempt) -> None:
        """The attempt ended without a charge (or was given back) and no request waits for it:
        the reconciliation or the return from authentication tells the flow."""


class PricedOnce:
    """A flow's pricing, kept from its first lock to its second (after the charge) when every
    value of the rows it read under its locks is unchanged: then nothing its price depends on
    in them changed, and pricing again would say the same (issue 22: one pricing pass). A
    price or VAT rate staff change between the two is not seen: the charge was made at the
    price checked under the first lock."""

    def __init__(self):
        self._rows: tuple | None = None
        self._pricing = None

    def __call__(self, rows, price: Callable[[], Any]):
        values = tuple(
            tuple(getattr(row, field.attname) for field in row._meta.concrete_fields)
            for row in rows
        )
        if self._pricing is None or values != self._rows:
            self._pricing = price()
            self._rows = values
        return self._pricing


def take_payment(flow: PaymentFlow):
    """Run a flow through the money path; returns what the flow returns."""
    try:
        with transaction.atomic():
            state = flow.lock()
            done = flow.done(state)
            if done is not None:
                return done
            payment = flow.payment(state)
            attempt = None
            if payment is not None:
                attempt = attempts.open_attempt(
                    account=payment.account,
                    purpose=flow.purpose,
                    reference=payment.reference,
                    amount=payment.amount,
                    payment_method=payment.payment_method,
                    on_session=flow.on_session,
                    actor=flow.actor,
                    pays=payment.pays,
                    details=payment.details,
                )
                if getattr(attempt, "opened_now", False):
                    flow.attach(attempt)
    except PaymentPending as pending:  # an attempt for another amount is still open
        return flow.pending(pending.attempt, pending)
    if attempt is not None:
        try:
            attempt = attempts.pay(attempt)
        except PaymentDeclined as declined:
            return flow.declined(attempt, declined)
        except PaymentFailed as failed:
            return flow.failed(attempt, failed)
        except PaymentPending as pending:
            return flow.pending(attempt, pending)
    return complete(flow, attempt)


def complete(flow: PaymentFlow, attempt: PaymentAttempt | None):
    """Step 3: under the locks again, write what the captured attempt paid — or, if it was
    done meanwhile, return that and give the payment back."""
    try:
        with transaction.atomic(), audit_batch():  # the write's audit events: one INSERT
            state = flow.lock()
            result = flow.done(state)
            if result is None:
                if attempt is not None:
                    keep_card_of(attempt, actor=flow.actor)
                written = flow.write(state, attempt)
                if attempt is not None and written.order is not None:
                    attempts.mark_used(attempt, written.order)
                result = written.result
    except flow.refusal as refusal:
        refunded = _give_back(attempt, reason=getattr(refusal, "message", "") or flow.unused_reason)
        return flow.refused(attempt, refusal, refunded)
    except BaseException:
        _give_back(attempt, reason=flow.unused_reason)
        raise
    _give_back(attempt, reason=flow.unused_reason)
    return result


def _give_back(attempt: PaymentAttempt | None, *, reason: str) -> bool:
    """A captured payment nothing used goes back. True when nothing of it is kept (refunded,
    or nothing to give back); False when the refund failed (the reconciliation retries)."""
    if attempt is None or attempt.order_id is not None:
        return True  # nothing charged, or it paid what it was for
    attempt.refresh_from_db()
    if attempt.status == AttemptStatus.CAPTURED and attempt.order_id is None:
        return attempts.refund(attempt, reason=str(reason))
    return True


# Finishing attempts whose request is gone


FlowFactory = Callable[[PaymentAttempt], PaymentFlow]
_FLOWS: dict[str, FlowFactory] = {}


def register_flow(purpose: str, factory: FlowFactory) -> None:
    """How to rebuild the flow of an attempt of this purpose from its foreign keys (each app
    registers its flows in AppConfig.ready)."""
    _FLOWS[purpose] = factory


def flow_for(attempt: PaymentAttempt) -> PaymentFlow:
    return _FLOWS[attempt.purpose](attempt)


def resume(attempt: PaymentAttempt) -> None:
    """Finish what an attempt paid for: a captured one completes its flow (or is given back if
    that is done already or cannot be done any more); one that ended without a charge lets
    its flow know."""
    attempt.refresh_from_db()
    flow = flow_for(attempt)
    if attempt.status == AttemptStatus.CAPTURED and attempt.order_id is None:
        # A refusal: given back by complete; nobody is waiting for its message.
        with contextlib.suppress(flow.refusal or ()):
            complete(flow, attempt)
    elif attempt.status in (AttemptStatus.FAILED, AttemptStatus.DECLINED, AttemptStatus.REFUNDED):
        flow.abandoned(attempt)


def continue_after_authentication(attempt: PaymentAttempt) -> PaymentAttempt:
    """The customer is back from the processor's authentication page: ask the processor what
    happened (the visit itself proves nothing: a forged or repeated return changes nothing),
    then finish the flow. Returns the attempt as it now is."""
    attempt.refresh_from_db()
    if attempt.status == AttemptStatus.PENDING:
        attempts.settle_with_gateway(attempt)
    resume(attempt)
    attempt.refresh_from_db()
    return attempt
