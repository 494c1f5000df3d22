"""Renewals (SPEC "D. Around the flows"): at the end of its period an active subscription gets
the next period of its cycle, an order and an invoice for its seats × its price per seat, taxed
by the account's current tax decision; the credit balance pays first and the rest is charged to
the account's default card — the automatic card of corporate accounts too.

Each renewal is a flow of the money path (RenewalPayment): lock and price, charge off-session
outside any transaction through a payment attempt keyed `renewal-<subscription>-<period
start>` (a retried or concurrent run never charges twice), lock again and write through the
one order writer. A declined charge still renews the period, with an open invoice and the
subscription past due: dunning (checkout.billing_run.dunning) retries it. A run catches up every
period missed, in order.

The run takes renewals of different accounts through the money path together
(`take_payments`): one transaction locks and prices a batch and opens its attempts, one writes
its orders (checkout.orders.write_orders); what a batch writes is what its renewals would have
written one at a time.
"""

import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction

from billing_center import locks, metrics
from billing_center.claims import ClaimedBatches
from billing_center.pool import concurrently
from checkout.billing import BillingDetails
from checkout.billing_run.dunning import next_retry_after, notify_payment_failed
from checkout.emails import send_renewal_receipt_email
from checkout.models import (
    Invoice,
    InvoiceStatus,
    Order,
    PaymentAttempt,
    PaymentMethod,
    PaymentPurpose,
)
from checkout.orders import OrderRequest, write_orders
from checkout.payments.money_path import (
    Payment,
    PaymentFlow,
    PricedOnce,
    Written,
    complete,
    take_payments,
)
from checkout.pricing import OrderPricing, price_lines, renewal_line
from checkout.tax import vat_rates_read_once
from subscriptions import lifecycle
from subscriptions.models import Account, Subscription, SubscriptionStatus
from subscriptions.periods import period_end


class Outcome:
    PAID = "paid"  # renewed, paid (by card, credit, or nothing due)
    DECLINED = "declined"  # renewed with an open invoice: past due
    PENDING = "pending"  # the charge's outcome is not known yet: the reconciliation finishes
    GATEWAY_FAILED = "gateway_failed"  # nothing charged nor written: the next run tries again
    NOT_DUE = "not_due"


@dataclass
class RenewalReport:
    counts: dict[str, int] = field(default_factory=dict)
    subscriptions: int = 0
    # Due, but held by another run past the wait: not renewed by this run.
    left_behind: int = 0

    def add(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    @property
    def renewed(self) -> int:
        return self.counts.get(Outcome.PAID, 0) + self.counts.get(Outcome.DECLINED, 0)

    def __str__(self):
        parts = ", ".join(f"{n} {name}" for name, n in sorted(self.counts.items()))
        left = f"; {self.left_behind} held by another run" if self.left_behind else ""
        return f"{self.subscriptions} subscriptions due: {parts or 'nothing to renew'}{left}"


def due_for_renewal(*, today: date):
    return Subscription.objects.filter(
        status=SubscriptionStatus.ACTIVE,
        cancel_at_period_end=False,
        current_period_end__lte=today,
    )


def renew_due_subscriptions(
    *, today: date, batch_size: int = 200, on_progress=None
) -> RenewalReport:
    """Renew every subscription due on `today`, each for all the periods it missed. Batches are
    claimed with SKIP LOCKED, so several workers share the work."""
    report = RenewalReport()
    batches = ClaimedBatches(
        due_for_renewal(today=today),
        lease_field="billing_lease_until",
        batch_size=batch_size,
        wait=timedelta(seconds=settings.BILLING_RUN_WAIT_SECONDS),
    )
    for pks in batches:
        accounts = dict(Subscription.objects.filter(pk__in=pks).values_list("pk", "account_id"))
        # Round after round: an account's second subscription waits for its first.
        for pieces in _rounds(pks, accounts):
            for outcomes in concurrently(
                lambda due: renew_together(due, today=today),
                pieces,
                workers=settings.BILLING_RUN_CONCURRENCY,
            ):
                for outcome in outcomes:
                    report.add(outcome)
        report.subscriptions += len(pks)
        if on_progress is not None:
            on_progress(report)
    report.left_behind = batches.left_behind
    return report


def _rounds(pks: list[int], accounts: dict[int, int]) -> list[list[list[tuple[int, int]]]]:
    """A claimed batch as rounds of batches of the money path (`renew_together`): one
    subscription per account in a round (one credit balance, one card), so an account's second
    subscription is renewed in a round after its first (and sees the credit the first used);
    each round cut into pieces so that every worker has one, of BILLING_RUN_CHUNK at most, taken
    a few at a time."""
    rounds: list[list[tuple[int, int]]] = []
    seen: dict[int, int] = {}
    for pk in pks:
        account_id = accounts[pk]
        turn = seen.get(account_id, 0)
        seen[account_id] = turn + 1
        if turn == len(rounds):
            rounds.append([])
        rounds[turn].append((pk, account_id))
    workers = max(1, settings.BILLING_RUN_CONCURRENCY)
    pieces = []
    for due in rounds:
        size = max(1, min(settings.BILLING_RUN_CHUNK, -(-len(due) // workers)))
        pieces.append([due[start : start + size] for start in range(0, len(due), size)])
    return pieces


def renew(*, subscription_id: int, today: date, account_id: int | None = None) -> list[str]:
    """Every period of the subscription that ended by `today`, one renewal each, in order; it
    stops at the first that is not paid (the others wait until it is)."""
    if account_id is None:
        account_id = Subscription.objects.values_list("account_id", flat=True).get(
            pk=subscription_id
        )
    return renew_together([(subscription_id, account_id)], today=today)


def renew_together(due: list[tuple[int, int]], *, today: date) -> list[str]:
    """`renew` for subscriptions of different accounts ((subscription id, account id) pairs),
    on the money path together (`take_payments`): their next periods in one batch, then the
    periods due after those for the ones that were paid, and so on."""
    outcomes = []
    flows = [
        RenewalPayment(
            subscription_id=subscription_id, account_id=account_id, today=today, period_start=None
        )
        for subscription_id, account_id in due
    ]
    while flows:
        following = []
        for flow, outcome in zip(flows, take_payments(flows), strict=True):
            metrics.RENEWALS.labels(outcome).inc()
            if outcome == Outcome.NOT_DUE:
                continue
            outcomes.append(outcome)
            if outcome == Outcome.PAID and flow.next_due:
                following.append(flow.following())
        flows = following
    return outcomes


def renewal_reference(subscription: Subscription, period_start: date) -> str:
    """The renewal's order idempotency key and its payments' reference."""
    return f"renewal-{subscription.pk}-{period_start.isoformat()}"


@dataclass
class _DueRenewal:
    account: Account
    subscription: Subscription
    pricing: OrderPricing
    # The default cards of a batch's accounts, read with its locks (None: read when asked).
    cards: dict[int, PaymentMethod] | None = None

    def default_card(self) -> PaymentMethod | None:
        if self.cards is not None:
            return self.cards.get(self.account.pk)
        return self.account.payment_methods.filter(is_default=True).first()


class RenewalPayment(PaymentFlow):
    """One period of a subscription renewed on the money path: merchant-initiated
    (off-session) on the account's default card, under its mandate. A decline — the bank
    asking for an authentication nobody can give included — still renews the period, with an
    open invoice and the subscription past due (dunning)."""

    purpose = PaymentPurpose.RENEWAL
    on_session = False
    unused_reason = "The renewal could not be written."

    def __init__(
        self, *, subscription_id: int, account_id: int, today: date, period_start: date | None
    ):
        self.subscription_id = subscription_id
        self.account_id = account_id
        self.today = today
        self.period_start = period_start  # fixed at the first look, for the whole run
        self.next_due = False
        self.decline = ""
        self._priced = PricedOnce()  # priced under the first lock, reused if unchanged

    @classmethod
    def of_attempt(cls, attempt: PaymentAttempt) -> "RenewalPayment":
        today = date.fromisoformat(attempt.details.get("today") or str(attempt.period_start))
        return cls(
            subscription_id=attempt.subscription_id,
            account_id=attempt.account_id,
            today=max(today, attempt.period_start),
            period_start=attempt.period_start,
        )

    def following(self) -> "RenewalPayment":
        """The renewal of the period after this one (a run catching up)."""
        return RenewalPayment(
            subscription_id=self.subscription_id,
            account_id=self.account_id,
            today=self.today,
            period_start=None,
        )

    def lock(self) -> _DueRenewal | None:
        account = locks.lock_account(self.account_id)
        subscription = locks.lock_subscription(
            self.subscription_id, related=("plan__product", "product")
        )
        return self._due(account, subscription, cards=None)

    @classmethod
    def lock_together(cls, flows: list["RenewalPayment"]) -> list[_DueRenewal | None]:
        """A batch's accounts, then their subscriptions, each in primary-key order, their
        default cards and VAT rates read once for all."""
        if len(flows) == 1:
            return [flows[0].lock()]
        account_ids = [flow.account_id for flow in flows]
        if len(set(account_ids)) < len(account_ids):
            raise ValueError("A batch of renewals has one subscription per account.")
        accounts = locks.lock_accounts(account_ids)
        subscriptions = {
            row.pk: row
            for row in locks.lock_subscriptions(
                Subscription.objects.filter(
                    pk__in=[flow.subscription_id for flow in flows]
                ).select_related("plan__product", "product")
            )
        }
        cards = {
            card.account_id: card
            for card in PaymentMethod.objects.filter(account__in=account_ids, is_default=True)
        }
        with vat_rates_read_once():
            return [
                flow._due(accounts[flow.account_id], subscriptions[flow.subscription_id], cards)
                for flow in flows
            ]

    def _due(
        self, account: Account, subscription: Subscription, cards: dict | None
    ) -> _DueRenewal | None:
        """The renewal as it stands under the locks: None when it is not due (any more)."""
        if subscription.account_id != account.pk or not _is_due(subscription, self.today):
            return None
        subscription.account = account
        if self.period_start is None:
            self.period_start = subscription.current_period_end
            self.next_due = (
                period_end(
                    self.period_start, subscription.cycle, anchor_day=subscription.anchor_day
                )
                <= self.today
            )
        if subscription.current_period_end != self.period_start:
            return None  # renewed meanwhile (a concurrent run)
        pricing = self._priced(
            (account, subscription), lambda: _price(account, subscription, self.period_start)
        )
        return _DueRenewal(account, subscription, pricing, cards)

    def done(self, state: _DueRenewal | None) -> str | None:
        return Outcome.NOT_DUE if state is None else None

    def payment(self, state: _DueRenewal) -> Payment | None:
        if state.pricing.amount_due.amount <= 0:
            return None
        card = state.default_card()
        if card is None:
            self.decline = "no_card"
            return None
        return Payment(
            account=state.account,
            amount=state.pricing.amount_due,
            payment_method=card,
            reference=renewal_reference(state.subscription, self.period_start),
            pays={"subscription_id": state.subscription.pk, "period_start": self.period_start},
            details={"today": self.today.isoformat()},
        )

    def declined(self, attempt, declined) -> str:
        self.decline = declined.code
        return complete(self, None)  # renewed all the same, with an open invoice

    def failed(self, attempt, failed) -> str:
        return Outcome.GATEWAY_FAILED  # nothing charged nor written: the next run tries again

    def pending(self, attempt, pending) -> str:
        return Outcome.PENDING  # the reconciliation finishes it

    def write(self, state: _DueRenewal, attempt: PaymentAttempt | None) -> Written:
        return self.write_together([(self, state, attempt)])[0]

    @classmethod
    def write_together(
        cls, items: list[tuple["RenewalPayment", _DueRenewal, PaymentAttempt | None]]
    ) -> list[Written]:
        """The renewals' orders and invoices, written together (checkout.orders.write_orders);
        a declined one starts its dunning, a paid one sends its receipt."""
        written: list[Written | None] = [None] * len(items)
        to_write = []
        for index, (flow, state, attempt) in enumerate(items):
            if attempt is not None and state.pricing.amount_due != attempt.amount:
                # Changed meanwhile: the payment goes back, the next run renews at the new price.
                written[index] = Written(result=Outcome.NOT_DUE, order=None)
            else:
                to_write.append((index, flow, state, attempt))
        orders = write_orders(
            [flow._order(state, attempt) for _i, flow, state, attempt in to_write]
        )
        for (index, flow, state, _attempt), order in zip(to_write, orders, strict=True):
            written[index] = flow._after(state, order)
        return written

    def _order(self, state: _DueRenewal, attempt: PaymentAttempt | None) -> OrderRequest:
        account, subscription = state.account, state.subscription
        return OrderRequest(
            account=account,
            subscriptions={subscription.product_id: subscription},  # locked above
            pricing=state.pricing,
            billing=BillingDetails.of_account(account),
            number=f"REN-{self.today:%Y%m%d}-{secrets.token_hex(4).upper()}",
            idempotency_key=renewal_reference(subscription, self.period_start),
            payment_method=attempt.payment_method if attempt is not None else None,
            charge_reference=attempt.charge_reference if attempt is not None else "",
            actor=None,
            today=self.today,
        )

    def _after(self, state: _DueRenewal, order: Order) -> Written:
        if order.invoice.status == InvoiceStatus.OPEN:
            _start_dunning(order.invoice, state.subscription, self.today)
            decline = self.decline or "card_declined"
            notify_payment_failed(
                account_id=state.account.pk, invoice_id=order.invoice.pk, decline=decline
            )
            return Written(result=Outcome.DECLINED, order=order)
        transaction.on_commit(lambda: send_renewal_receipt_email.enqueue(order.pk))
        return Written(result=Outcome.PAID, order=order)


def _is_due(subscription: Subscription, today: date) -> bool:
    return (
        subscription.status == SubscriptionStatus.ACTIVE
        and not subscription.cancel_at_period_end
        and subscription.current_period_end <= today
    )


def _price(account: Account, subscription: Subscription, period_start: date) -> OrderPricing:
    return price_lines(
        lines=[renewal_line(subscription=subscription, period_start=period_start)],
        currency=account.currency,
        tax=BillingDetails.of_account(account).tax_decision(),
        credit_balance=account.credit_balance,
    )


def _start_dunning(invoice: Invoice, subscription: Subscription, today: date) -> None:
    """A declined renewal: past due, retried on the schedule's first day."""
    invoice.first_failed_on = today
    invoice.retries_done = 0
    invoice.next_retry_on = next_retry_after(retries_done=0, attempted_on=today)
    invoice.save(update_fields=["first_failed_on", "retries_done", "next_retry_on"])
    lifecycle.mark_past_due(subscription=subscription)
