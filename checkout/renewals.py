"""Renewals (SPEC "D. Around the flows"): at the end of its period an active subscription gets
the next period of its cycle, an order and an invoice for its seats × its price per seat, taxed
by the account's current tax decision; the credit balance pays first and the rest is charged to
the account's default card — the automatic card of corporate accounts too.

Each renewal reads like place_order: lock and price, charge outside any transaction through a
payment attempt keyed `renewal-<subscription>-<period start>` (a retried or concurrent run
never charges twice), lock again and write through the one order writer. A declined charge
still renews the period, with an open invoice and the subscription past due: dunning
(checkout.invoice_payments) retries it. A run catches up every period missed, in order.
"""

import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction

from billing_center.claims import each_claimed
from checkout import payments
from checkout.billing import BillingDetails
from checkout.emails import send_payment_failed_email, send_renewal_receipt_email
from checkout.gateway import PaymentDeclined
from checkout.models import AttemptStatus, Invoice, InvoiceStatus, PaymentAttempt, PaymentPurpose
from checkout.orders import write_order
from checkout.pricing import OrderPricing, price_lines, renewal_line
from subscriptions import lifecycle
from subscriptions.locks import lock_account
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

    def add(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    @property
    def renewed(self) -> int:
        return self.counts.get(Outcome.PAID, 0) + self.counts.get(Outcome.DECLINED, 0)

    def __str__(self):
        parts = ", ".join(f"{n} {name}" for name, n in sorted(self.counts.items()))
        return f"{self.subscriptions} subscriptions due: {parts or 'nothing to renew'}"


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
    for pks in each_claimed(
        due_for_renewal(today=today), lease_field="billing_lease_until", batch_size=batch_size
    ):
        accounts = dict(Subscription.objects.filter(pk__in=pks).values_list("pk", "account_id"))
        for pk in pks:
            report.subscriptions += 1
            for outcome in renew(subscription_id=pk, account_id=accounts[pk], today=today):
                report.add(outcome)
        if on_progress is not None:
            on_progress(report)
    return report


def renew(*, subscription_id: int, today: date, account_id: int | None = None) -> list[str]:
    """Every period of the subscription that ended by `today`, one renewal each, in order; it
    stops at the first that is not paid (the others wait until it is)."""
    if account_id is None:
        account_id = Subscription.objects.values_list("account_id", flat=True).get(
            pk=subscription_id
        )
    outcomes = []
    still_due = True
    while still_due:
        outcome, still_due = renew_once(
            subscription_id=subscription_id, account_id=account_id, today=today
        )
        if outcome == Outcome.NOT_DUE:
            break
        outcomes.append(outcome)
        if outcome != Outcome.PAID:
            break
    return outcomes


def renewal_reference(subscription: Subscription, period_start: date) -> str:
    """The renewal's order idempotency key and its payments' reference."""
    return f"renewal-{subscription.pk}-{period_start.isoformat()}"


def renew_once(*, subscription_id: int, account_id: int, today: date) -> tuple[str, bool]:
    """One period renewed (or not): the outcome, and whether another period is due after it."""
    with transaction.atomic():
        locked = _lock_due(subscription_id, account_id, today)
        if locked is None:
            return Outcome.NOT_DUE, False
        account, subscription = locked
        start = subscription.current_period_end
        next_due = period_end(start, subscription.cycle) <= today
        reference = renewal_reference(subscription, start)
        pricing = _price(account, subscription, start)
        card = account.payment_methods.filter(is_default=True).first()
        attempt = None
        if pricing.amount_due.amount > 0 and card is not None:
            try:
                attempt = payments.open_attempt(
                    account=account,
                    purpose=PaymentPurpose.RENEWAL,
                    reference=reference,
                    amount=pricing.amount_due,
                    card_token=card.gateway_token,
                    payment_method=card,
                    actor=None,
                    details={"today": today.isoformat()},
                )
            except payments.PaymentPending:
                return Outcome.PENDING, next_due
    decline = ""
    if attempt is not None:
        try:
            attempt = payments.pay(attempt)
        except PaymentDeclined as declined:
            decline, attempt = declined.code, None
        except payments.PaymentFailed:
            return Outcome.GATEWAY_FAILED, next_due
        except payments.PaymentPending:
            return Outcome.PENDING, next_due
    elif pricing.amount_due.amount > 0:
        decline = "no_card"
    outcome = write_renewal(
        subscription_id=subscription_id,
        account_id=account_id,
        period_start=start,
        today=today,
        attempt=attempt,
        decline=decline,
    )
    return outcome, next_due


def write_renewal(
    *,
    subscription_id: int,
    account_id: int,
    period_start: date,
    today: date,
    attempt: PaymentAttempt | None,
    decline: str = "",
) -> str:
    """Under the locks again: the renewal's order and invoice, paid with `attempt`, or open
    after a decline. A payment no renewal used is given back."""
    try:
        with transaction.atomic():
            locked = _lock_due(subscription_id, account_id, today)
            if locked is None or locked[1].current_period_end != period_start:
                return Outcome.NOT_DUE  # renewed meanwhile (a concurrent run) or not due
            account, subscription = locked
            reference = renewal_reference(subscription, period_start)
            pricing = _price(account, subscription, period_start)
            if attempt is not None and pricing.amount_due != attempt.amount:
                return Outcome.NOT_DUE  # changed meanwhile: refunded below, the next run retries
            card = attempt.payment_method if attempt is not None else None
            order = write_order(
                account=account,
                subscriptions={subscription.product_id: subscription},  # locked above
                pricing=pricing,
                billing=BillingDetails.of_account(account),
                number=f"REN-{today:%Y%m%d}-{secrets.token_hex(4).upper()}",
                idempotency_key=reference,
                payment_method=card,
                charge_reference=attempt.charge_reference if attempt is not None else "",
                actor=None,
                today=today,
            )
            if attempt is not None:
                payments.mark_used(attempt, order)
            if order.invoice.status == InvoiceStatus.OPEN:
                _start_dunning(order.invoice, subscription, today)
                transaction.on_commit(
                    lambda: send_payment_failed_email.enqueue(order.invoice.pk, decline)
                )
                return Outcome.DECLINED
            transaction.on_commit(lambda: send_renewal_receipt_email.enqueue(order.pk))
            return Outcome.PAID
    finally:
        if attempt is not None and attempt.order_id is None:
            payments.refund(attempt, reason="The renewal could not be written.")


def _lock_due(
    subscription_id: int, account_id: int, today: date
) -> tuple[Account, Subscription] | None:
    """The account's lock, then the subscription's (the writers' order), and whether it is due."""
    account = lock_account(account_id)
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan__product", "product")
        .get(pk=subscription_id, account_id=account_id)
    )
    subscription.account = account
    due = (
        subscription.status == SubscriptionStatus.ACTIVE
        and not subscription.cancel_at_period_end
        and subscription.current_period_end <= today
    )
    return (account, subscription) if due else None


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
    invoice.next_retry_on = today + timedelta(days=settings.DUNNING_RETRY_DAYS[0])
    invoice.save(update_fields=["first_failed_on", "retries_done", "next_retry_on"])
    lifecycle.mark_past_due(subscription=subscription)


def resume_renewal(attempt: PaymentAttempt) -> None:
    """The reconciliation's way to finish a renewal whose run is gone: a captured charge renews
    the period it was for (or is refunded if that period is renewed already)."""
    if attempt.status != AttemptStatus.CAPTURED or attempt.order_id is not None:
        return
    subscription_part, _sep, start = attempt.reference.removeprefix("renewal-").partition("-")
    today = date.fromisoformat(attempt.details.get("today") or start)
    write_renewal(
        subscription_id=int(subscription_part),
        account_id=attempt.account_id,
        period_start=date.fromisoformat(start),
        today=max(today, date.fromisoformat(start)),
        attempt=attempt,
    )
