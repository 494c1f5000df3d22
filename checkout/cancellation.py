"""A suspended subscription canceled at once (SPEC "D. Around the flows"): it ends on the day its
seats stopped being usable, and its open invoice is corrected by a credit note for the days from
that suspension to the end of the invoiced period. The days before stay due, payable with Pay
now (the invoice's amount due = total − credit notes − payments).

The page that asks for the confirmation and the cancellation itself both read the correction
from `suspended_cancellation`, so the amounts shown are the amounts credited."""

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils.translation import gettext as _
from moneyed import Money

from billing_center import locks
from billing_center.models import User
from checkout.billing import BillingDetails
from checkout.emails import send_suspended_cancellation_email
from checkout.invoices.payments import locked_invoice
from checkout.models import Invoice, InvoiceStatus
from checkout.orders import write_order
from checkout.pricing import OrderPricing, credit_line, price_lines
from checkout.tax import TaxDecision
from subscriptions import lifecycle
from subscriptions.models import Subscription, SubscriptionStatus


@dataclass(frozen=True)
class SuspendedCancellation:
    """What canceling a suspended subscription now does to its open invoice."""

    subscription: Subscription
    ends_on: date  # its last day of use: the suspension
    invoice: Invoice | None  # the open invoice of the period, if any
    credit: OrderPricing | None  # the credit note's lines and totals (VAT of the invoice)

    @property
    def credited(self) -> Money | None:
        """The credit note's total (positive), VAT included."""
        return -self.credit.total if self.credit is not None else None

    @property
    def still_due(self) -> Money | None:
        """What the invoice owes once corrected."""
        if self.invoice is None:
            return None
        if self.credited is None:
            return self.invoice.amount_due
        return max(self.invoice.amount_due - self.credited, Money(0, self.credited.currency))


def open_invoice_of(subscription: Subscription) -> Invoice | None:
    """The open invoice of a subscription's unpaid period (the renewal whose payment failed)."""
    return (
        Invoice.objects.filter(
            account=subscription.account_id,
            status=InvoiceStatus.OPEN,
            order__lines__subscription=subscription,
        )
        .order_by("-issued_at", "-pk")
        .first()
    )


def suspended_cancellation(
    *, subscription: Subscription, today: date, invoice: Invoice | None = None
) -> SuspendedCancellation:
    """The correction canceling `subscription` (suspended) on `today` makes: a credit for its
    seats from the suspension to the end of the invoiced period, taxed as that invoice was."""
    # Its seats were used at least on the first day of the period (and a clock set back never
    # ends it before it began).
    first_day = subscription.current_period_start + timedelta(days=1)
    ends_on = max(min(subscription.suspended_on or today, today), first_day)
    invoice = invoice if invoice is not None else open_invoice_of(subscription)
    credit = None
    if invoice is not None and ends_on < subscription.current_period_end:
        order = invoice.order
        line = credit_line(subscription=subscription, on=ends_on)
        if line.amount.amount:
            currency = line.amount.currency.code
            credit = price_lines(
                lines=[line],
                currency=currency,
                tax=TaxDecision.of(order),
                credit_balance=Money(0, currency),
            )
    return SuspendedCancellation(
        subscription=subscription, ends_on=ends_on, invoice=invoice, credit=credit
    )


def cancel_suspended_now(
    *,
    subscription: Subscription,
    actor: User | None,
    today: date,
    reason: str = "",
    comment: str = "",
) -> SuspendedCancellation:
    """Cancel a suspended subscription at once and correct its open invoice by a credit note.
    Raises lifecycle.LifecycleError (nothing changed) when it is not suspended any more."""
    with transaction.atomic():
        account = locks.lock_account(subscription.account_id)
        found = open_invoice_of(subscription)
        invoice = locked_invoice(found.pk) if found is not None else None
        live = locks.lock_live_subscriptions(account=account, subscription_ids=[subscription.pk])
        subscription = next(iter(live.values()), None)
        if subscription is None or subscription.status != SubscriptionStatus.UNPAID:
            raise lifecycle.LifecycleError(_("This subscription cannot be canceled."))
        subscription.account = account
        correction = suspended_cancellation(subscription=subscription, today=today, invoice=invoice)
        if correction.credit is not None:
            write_order(
                account=account,
                subscriptions=live,
                pricing=correction.credit,
                billing=BillingDetails.of_account(account),
                number=f"CAN-{today:%Y%m%d}-{secrets.token_hex(4).upper()}",
                idempotency_key=f"cancel-suspended:{subscription.pk}",
                payment_method=None,
                charge_reference="",
                actor=actor,
                today=today,
                corrects=invoice,
            )
        lifecycle.cancel_suspended(
            subscription=subscription,
            actor=actor,
            ends_on=correction.ends_on,
            reason=reason,
            comment=comment,
        )
        invoice_id = invoice.pk if invoice is not None else None
        transaction.on_commit(
            lambda: send_suspended_cancellation_email.enqueue(subscription.pk, invoice_id)
        )
    return correction
