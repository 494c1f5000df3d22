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

The billing run takes its renewals through the same steps in batches (`take_payments`): one
transaction per step for a batch of flows, one account each; a batch in which anything goes
wrong takes the step again one flow at a time.

`resume` completes an attempt whose request is gone (the reconciliation) or whose customer
comes back from authenticating (the return page): the flow is rebuilt from the attempt's
foreign keys (`register_flow`, by purpose), never from a string parsed back.
"""

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.conf import settings
from django.db import transaction
from moneyed import Money

from billing_center.audit import audit_batch
from billing_center.models import User
from billing_center.pool import concurrently
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

    @classmethod
    def lock_together(cls, flows: list["PaymentFlow"]) -> list:
        """`lock` for several flows of this kind in one transaction (`take_payments`): their
        states, in order. A kind that is run in batches takes all their locks in the order of
        billing_center.locks and reads what they share once."""
        return [flow.lock() for flow in flows]

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

    @classmethod
    def write_together(cls, items: list[tuple["PaymentFlow", Any, PaymentAttempt | None]]):
        """`write` for several flows of this kind (flow, state, attempt), in one transaction:
        what each wrote, in order. A kind run in batches writes their rows together."""
        return [flow.write(state, attempt) for flow, state, attempt in items]

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
    return take_payments([flow])[0]


def take_payments(flows: list[PaymentFlow]) -> list:
    """Run flows of one kind through the money path together (the billing run's renewals, one
    per account): each step's locks, reads and writes for all of them in one transaction, the
    charges between the two (`_charge_all`). The results, in the order of `flows`.

    A batch is what its flows would do one after the other when nothing goes wrong; if any of
    them raises in a step, that step's transaction is rolled back whole and each flow takes the
    step alone (`take_payment`, `complete`), so an error, a refusal or a pending attempt is
    handled exactly as for one flow. The flows of a batch lock different rows (their
    `lock_together` says how): none reads what another writes."""
    flows = list(flows)
    if len(flows) > 1:
        try:
            opened = _open(flows)
        except Exception:
            logger.info("A batch of %d payments opens one at a time", len(flows), exc_info=True)
            return _each(take_payment, flows)
    else:
        try:
            opened = _open(flows)
        except PaymentPending as pending:  # an attempt for another amount is still open
            return [flows[0].pending(pending.attempt, pending)]
    results: list = [None] * len(flows)
    to_complete: list[tuple[int, PaymentAttempt | None]] = []
    charged = iter(
        _charge_all([attempt for done, attempt in opened if done is None and attempt is not None])
    )
    for index, (flow, (done, attempt)) in enumerate(zip(flows, opened, strict=True)):
        if done is not None:
            results[index] = done
            continue
        if attempt is not None:
            outcome = next(charged)
            if isinstance(outcome, PaymentDeclined):
                results[index] = flow.declined(attempt, outcome)
                continue
            if isinstance(outcome, PaymentFailed):
                results[index] = flow.failed(attempt, outcome)
                continue
            if isinstance(outcome, PaymentPending):
                results[index] = flow.pending(attempt, outcome)
                continue
            attempt = outcome
        to_complete.append((index, attempt))
    completed = _complete([(flows[index], attempt) for index, attempt in to_complete])
    for (index, _attempt), result in zip(to_complete, completed, strict=True):
        results[index] = result
    return results


def _open(flows: list[PaymentFlow]) -> list[tuple[Any, PaymentAttempt | None]]:
    """Step 1, in one transaction: for each flow, its result if what it pays was done already,
    or the attempt it charges (None when nothing is due)."""
    with transaction.atomic():
        states = type(flows[0]).lock_together(flows)
        opened: list[tuple[Any, PaymentAttempt | None]] = []
        requests: list[tuple[int, PaymentFlow, attempts.AttemptRequest]] = []
        for flow, state in zip(flows, states, strict=True):
            done = flow.done(state)
            payment = flow.payment(state) if done is None else None
            if payment is not None:
                requests.append(
                    (
                        len(opened),
                        flow,
                        attempts.AttemptRequest(
                            account=payment.account,
                            purpose=flow.purpose,
                            reference=payment.reference,
                            amount=payment.amount,
                            payment_method=payment.payment_method,
                            on_session=flow.on_session,
                            actor=flow.actor,
                            pays=payment.pays,
                            details=payment.details,
                        ),
                    )
                )
            opened.append((done, None))
        found = attempts.open_attempts([request for _index, _flow, request in requests])
        for (index, flow, _request), attempt in zip(requests, found, strict=True):
            if getattr(attempt, "opened_now", False):
                flow.attach(attempt)
            opened[index] = (None, attempt)
    attempts.remember_opened(found)
    return opened


def _charge_all(to_charge: list[PaymentAttempt]) -> list:
    """Step 2, outside any transaction: each attempt charged, giving the captured attempt or how
    it ended without a charge (PaymentDeclined, PaymentFailed, PaymentPending). One after the
    other while the processor answers quickly; once a charge has taken longer than
    PAYMENT_SLOW_CHARGE_SECONDS, the rest a few at a time (PAYMENT_CHARGES_AT_ONCE), so that a
    processor's latency does not set a batch's pace."""
    outcomes = []
    for position, attempt in enumerate(to_charge):
        started = time.monotonic()
        outcomes.append(_charge(attempt))
        rest = to_charge[position + 1 :]
        if rest and time.monotonic() - started > settings.PAYMENT_SLOW_CHARGE_SECONDS:
            outcomes.extend(concurrently(_charge, rest, workers=settings.PAYMENT_CHARGES_AT_ONCE))
            break
    return outcomes


def _charge(attempt: PaymentAttempt):
    try:
        return attempts.pay(attempt)
    except (PaymentDeclined, PaymentFailed, PaymentPending) as ended:
        return ended


def complete(flow: PaymentFlow, attempt: PaymentAttempt | None):
    """Step 3: under the locks again, write what the captured attempt paid — or, if it was
    done meanwhile, return that and give the payment back."""
    return _complete([(flow, attempt)])[0]


def _complete(pairs: list[tuple[PaymentFlow, PaymentAttempt | None]]) -> list:
    if not pairs:
        return []
    if len(pairs) > 1:
        try:
            with transaction.atomic(), audit_batch():  # the writes' audit events: one INSERT
                results = _write(pairs)
        except Exception:
            logger.info("A batch of %d payments completes one at a time", len(pairs), exc_info=True)
            for _flow, attempt in pairs:
                _forget_writes(attempt)
            return _each(lambda pair: complete(*pair), pairs)
        for flow, attempt in pairs:
            _give_back(attempt, reason=flow.unused_reason)
        return results
    [(flow, attempt)] = pairs
    try:
        with transaction.atomic(), audit_batch():  # the write's audit events: one INSERT
            [result] = _write(pairs)
    except flow.refusal as refusal:
        refunded = _give_back(attempt, reason=getattr(refusal, "message", "") or flow.unused_reason)
        return [flow.refused(attempt, refusal, refunded)]
    except BaseException:
        _give_back(attempt, reason=flow.unused_reason)
        raise
    _give_back(attempt, reason=flow.unused_reason)
    return [result]


def _write(pairs: list[tuple[PaymentFlow, PaymentAttempt | None]]) -> list:
    """Inside step 3's transaction: each flow re-read under its locks, and what its captured
    attempt paid written (the card that paid kept, the attempt linked to the order)."""
    kind = type(pairs[0][0])
    states = kind.lock_together([flow for flow, _attempt in pairs])
    results: list = []
    to_write = []
    for (flow, attempt), state in zip(pairs, states, strict=True):
        result = flow.done(state)
        if result is None:
            if attempt is not None:
                keep_card_of(attempt, actor=flow.actor)
            to_write.append((len(results), flow, state, attempt))
        results.append(result)
    written = kind.write_together([(flow, state, attempt) for _i, flow, state, attempt in to_write])
    used = []
    for (index, _flow, _state, attempt), one in zip(to_write, written, strict=True):
        if attempt is not None and one.order is not None:
            used.append((attempt, one.order))
        results[index] = one.result
    attempts.mark_used(used)
    return results


def _each(work: Callable, items: list) -> list:
    """`work` for each item of a batch taken one at a time: one item's error does not keep the
    others from being done; the first is raised once they are."""
    results, errors = [], []
    for item in items:
        try:
            results.append(work(item))
        except Exception as error:
            errors.append(error)
            results.append(None)
    if errors:
        raise errors[0]
    return results


def _forget_writes(attempt: PaymentAttempt | None) -> None:
    """A batch's write was rolled back: the attempt as it is stored, not as the write left it
    in memory (linked to an order that is gone)."""
    if attempt is not None:
        attempt.refresh_from_db()
        attempt._state.fields_cache.clear()


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
