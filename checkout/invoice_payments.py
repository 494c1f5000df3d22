"""Open invoices (a renewal whose charge was declined) and how they get paid: the billing run's
retries on the dunning schedule (settings.DUNNING_RETRY_DAYS days after the first failure, then
the subscription is suspended), the billing contact's "Pay now" with a saved or a new card, and
staff's retry or void in the admin. Paying reactivates the subscription.

Every payment goes through a payment attempt referenced by the invoice's order (the renewal's
key), so retries are numbered attempts of one thing and never charge it twice."""

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing_center.audit import record_audit_event
from billing_center.claims import each_claimed
from billing_center.models import AuditAction, User
from checkout import payments, selectors
from checkout.emails import send_invoice_paid_email, send_payment_failed_email
from checkout.gateway import PaymentDeclined, TokenizedCard
from checkout.models import (
    AttemptStatus,
    Invoice,
    InvoiceStatus,
    PaymentAttempt,
    PaymentMethod,
    PaymentPurpose,
)
from checkout.payment_methods import NewCard, save_card
from subscriptions import lifecycle
from subscriptions.locks import lock_account
from subscriptions.models import Subscription

logger = logging.getLogger(__name__)


class InvoicePaymentError(Exception):
    """The invoice cannot be paid as asked; the message is for the billing contact."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _locked_invoice(invoice_id: int) -> Invoice:
    account_id = Invoice.objects.values_list("account_id", flat=True).get(pk=invoice_id)
    lock_account(account_id)
    return (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("order", "account")
        .get(pk=invoice_id)
    )


def _subscriptions_of(invoice: Invoice) -> list[Subscription]:
    """The subscriptions an invoice's order renewed, locked (after the account)."""
    pks = invoice.order.lines.values_list("subscription_id", flat=True)
    return list(
        Subscription.objects.select_for_update(of=("self",)).filter(pk__in=pks).order_by("pk")
    )


def pay_invoice(
    *,
    invoice: Invoice,
    actor: User | None,
    payment_method: PaymentMethod | None = None,
    new_card: NewCard | None = None,
) -> Invoice:
    """Charge an open invoice to a saved card or a new one. Raises PaymentDeclined,
    payments.PaymentFailed, payments.PaymentPending or InvoicePaymentError with nothing
    changed; returns the invoice, paid (or as it was if it was not open any more)."""
    with transaction.atomic():
        invoice = _locked_invoice(invoice.pk)
        if invoice.status != InvoiceStatus.OPEN:
            return invoice
        if payment_method is not None and payment_method.account_id != invoice.account_id:
            raise InvoicePaymentError(_("Choose one of your account's cards."))
        token = new_card.card.token if new_card else getattr(payment_method, "gateway_token", "")
        if not token:
            raise InvoicePaymentError(_("Choose a saved card or enter a new one."))
        card = new_card.card if new_card else None
        attempt = payments.open_attempt(
            account=invoice.account,
            purpose=PaymentPurpose.INVOICE,
            reference=invoice.order.idempotency_key,
            amount=invoice.amount_due,
            card_token=token,
            payment_method=payment_method if new_card is None else None,
            actor=actor,
            details={
                "new_card": {
                    "brand": card.brand,
                    "last4": card.last4,
                    "exp_month": card.exp_month,
                    "exp_year": card.exp_year,
                    "token": card.token,
                    "cardholder_name": new_card.cardholder_name,
                }
                if card
                else None
            },
        )
    attempt = payments.pay(attempt)
    return settle_invoice(invoice_id=invoice.pk, attempt=attempt, new_card=new_card, actor=actor)


def settle_invoice(
    *,
    invoice_id: int,
    attempt: PaymentAttempt,
    new_card: NewCard | None = None,
    actor: User | None = None,
) -> Invoice:
    """Under the locks: a captured payment pays the open invoice and reactivates what it
    renewed. A payment the invoice no longer needs (paid meanwhile, voided) is given back."""
    try:
        with transaction.atomic():
            invoice = _locked_invoice(invoice_id)
            if invoice.status != InvoiceStatus.OPEN or attempt.amount != invoice.amount_due:
                return invoice
            account = invoice.account
            method = attempt.payment_method
            if new_card is not None:
                method = save_card(account=account, new_card=new_card, actor=actor)
            order = invoice.order
            order.amount_charged = attempt.amount
            order.charge_reference = attempt.charge_reference
            order.payment_method = method
            order.save(update_fields=["amount_charged", "charge_reference", "payment_method"])
            payments.mark_used(attempt, order)
            invoice.status = InvoiceStatus.PAID
            invoice.paid_at = timezone.now()
            invoice.next_retry_on = None
            invoice.save(update_fields=["status", "paid_at", "next_retry_on"])
            for subscription in _subscriptions_of(invoice):
                lifecycle.reactivate(subscription=subscription, actor=actor)
            record_audit_event(
                actor=actor,
                account=account,
                action=AuditAction.CHANGED,
                target=invoice,
                before={"status": InvoiceStatus.OPEN},
                after={"status": InvoiceStatus.PAID, "paid": attempt.amount},
            )
            transaction.on_commit(lambda: send_invoice_paid_email.enqueue(invoice.pk))
            return invoice
    finally:
        attempt.refresh_from_db()
        if attempt.status == AttemptStatus.CAPTURED and attempt.order_id is None:
            payments.refund(attempt, reason="The invoice was no longer open.")


def resume_invoice_payment(attempt: PaymentAttempt) -> None:
    """The reconciliation's way to finish paying an invoice whose request is gone."""
    if attempt.status != AttemptStatus.CAPTURED or attempt.order_id is not None:
        return
    invoice = selectors.invoice_paid_by(attempt)
    if invoice is None:
        return
    card = attempt.details.get("new_card")
    new_card = None
    if card:
        card = dict(card)
        holder = card.pop("cardholder_name", "")
        new_card = NewCard(card=TokenizedCard(**card), cardholder_name=holder)
    settle_invoice(invoice_id=invoice.pk, attempt=attempt, new_card=new_card)


@dataclass
class DunningReport:
    paid: int = 0
    failed: int = 0
    suspended: int = 0
    waiting: int = 0

    def __str__(self):
        return (
            f"{self.paid} paid, {self.failed} declined again, {self.suspended} suspended, "
            f"{self.waiting} waiting for the gateway"
        )


def retry_open_invoices(*, today: date, batch_size: int = 200) -> DunningReport:
    """Every open invoice whose retry is due: charged again to the default card; a decline moves
    it along the schedule, the last one suspends the subscription. Each step emails."""
    report = DunningReport()
    due = Invoice.objects.filter(status=InvoiceStatus.OPEN, next_retry_on__lte=today)
    for pks in each_claimed(due, lease_field="dunning_lease_until", batch_size=batch_size):
        for pk in pks:
            _retry(pk, today, report)
    return report


def _retry(invoice_id: int, today: date, report: DunningReport) -> None:
    invoice = Invoice.objects.select_related("account").get(pk=invoice_id)
    card = invoice.account.payment_methods.filter(is_default=True).first()
    decline = "no_card"
    if card is not None:
        try:
            pay_invoice(invoice=invoice, actor=None, payment_method=card)
        except PaymentDeclined as declined:
            decline = declined.code
        except (payments.PaymentFailed, payments.PaymentPending):
            report.waiting += 1  # not the card's answer: the schedule does not move
            return
        else:
            report.paid += 1
            return
    suspended = record_failed_retry(invoice_id=invoice_id, decline=decline)
    report.failed += 1
    report.suspended += int(suspended)


def record_failed_retry(*, invoice_id: int, decline: str) -> bool:
    """One more retry failed: the next one on the schedule, or, after the last, suspension.
    True if the subscription was suspended."""
    schedule = settings.DUNNING_RETRY_DAYS
    with transaction.atomic():
        invoice = _locked_invoice(invoice_id)
        if invoice.status != InvoiceStatus.OPEN:
            return False
        invoice.retries_done += 1
        suspended = invoice.retries_done >= len(schedule)
        invoice.next_retry_on = (
            None
            if suspended
            else invoice.first_failed_on + timedelta(days=schedule[invoice.retries_done])
        )
        invoice.save(update_fields=["retries_done", "next_retry_on"])
        if suspended:
            for subscription in _subscriptions_of(invoice):
                lifecycle.suspend(subscription=subscription)
        transaction.on_commit(lambda: send_payment_failed_email.enqueue(invoice_id, decline))
    return suspended


def void_invoice(*, invoice: Invoice, actor: User | None) -> Invoice:
    """Staff forgive an open invoice: nothing is owed for it any more, and what it renewed is
    active again."""
    with transaction.atomic():
        invoice = _locked_invoice(invoice.pk)
        if invoice.status != InvoiceStatus.OPEN:
            return invoice
        invoice.status = InvoiceStatus.VOID
        invoice.next_retry_on = None
        invoice.save(update_fields=["status", "next_retry_on"])
        for subscription in _subscriptions_of(invoice):
            lifecycle.reactivate(subscription=subscription, actor=actor)
        record_audit_event(
            actor=actor,
            account=invoice.account,
            action=AuditAction.CHANGED,
            target=invoice,
            before={"status": InvoiceStatus.OPEN},
            after={"status": InvoiceStatus.VOID},
        )
    return invoice
