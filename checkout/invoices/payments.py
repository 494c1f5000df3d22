"""Open invoices (a renewal whose charge was declined) and how they get paid: the billing
contact's "Pay now" with a saved or a new card, the billing run's retries on the dunning
schedule (checkout.billing_run.dunning), and staff's retry or void in the admin. Paying
reactivates the subscription.

Every payment is a flow of the money path (InvoicePayment): its attempts name the invoice and
are keyed by the invoice's order (the renewal's key), so retries are numbered attempts of one
thing and never charge it twice."""

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing_center import locks
from billing_center.audit import record_audit_event
from billing_center.models import AuditAction, User
from checkout.emails import send_invoice_paid_email
from checkout.invoices.documents import document_state_changed
from checkout.models import (
    Invoice,
    InvoiceStatus,
    PaymentAttempt,
    PaymentMethod,
    PaymentPurpose,
)
from checkout.payments.cards import NewCard, PaymentMethodError, enter_card
from checkout.payments.money_path import Payment, PaymentFlow, Written, take_payment
from subscriptions import lifecycle
from subscriptions.models import Subscription

logger = logging.getLogger(__name__)


class InvoicePaymentError(Exception):
    """The invoice cannot be paid as asked; the message is for the billing contact."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def locked_invoice(invoice_id: int) -> Invoice:
    account_id = Invoice.objects.values_list("account_id", flat=True).get(pk=invoice_id)
    account = locks.lock_account(account_id)
    invoice = locks.lock_invoice(invoice_id, related=("order",))
    invoice.account = account
    return invoice


def subscriptions_of(invoice: Invoice) -> list[Subscription]:
    """The subscriptions an invoice's order renewed, locked (after the account)."""
    pks = invoice.order.lines.values_list("subscription_id", flat=True)
    return locks.lock_subscriptions(Subscription.objects.filter(pk__in=pks))


class InvoicePayment(PaymentFlow):
    """An open invoice paid on the money path: by its billing contact with Pay now
    (on-session: their bank may ask them to authenticate) or by a dunning retry on the default
    card (off-session). Paying reactivates what it renewed; a payment the invoice no longer
    needs (paid meanwhile, voided) is given back."""

    purpose = PaymentPurpose.INVOICE
    refusal = InvoicePaymentError
    unused_reason = "The invoice was no longer open."

    def __init__(
        self,
        *,
        invoice_id: int,
        actor: User | None,
        on_session: bool,
        payment_method: PaymentMethod | None = None,
        new_card: NewCard | None = None,
    ):
        self.invoice_id = invoice_id
        self.actor = actor
        self.on_session = on_session
        self.payment_method = payment_method
        self.new_card = new_card

    @classmethod
    def of_attempt(cls, attempt: PaymentAttempt) -> "InvoicePayment":
        return cls(
            invoice_id=attempt.invoice_id,
            actor=attempt.created_by,
            on_session=attempt.on_session,
            payment_method=attempt.payment_method,
        )

    def lock(self) -> Invoice:
        return locked_invoice(self.invoice_id)

    def done(self, invoice: Invoice) -> Invoice | None:
        return invoice if invoice.status != InvoiceStatus.OPEN else None

    def payment(self, invoice: Invoice) -> Payment:
        card = self.payment_method
        if card is not None and (card.account_id != invoice.account_id or not card.saved):
            raise InvoicePaymentError(_("Choose one of your account's cards."))
        if self.new_card is not None:
            try:
                card = enter_card(account=invoice.account, new_card=self.new_card)
            except PaymentMethodError as error:
                raise InvoicePaymentError(error.message) from error
        if card is None:
            raise InvoicePaymentError(_("Choose a saved card or enter a new one."))
        return Payment(
            account=invoice.account,
            amount=invoice.amount_due,
            payment_method=card,
            # One thing paid: the renewal's order, whose key numbers its retries.
            reference=invoice.order.idempotency_key,
            pays={"invoice_id": invoice.pk},
        )

    def write(self, invoice: Invoice, attempt: PaymentAttempt) -> Written:
        if attempt.amount != invoice.amount_due:
            return Written(result=invoice, order=None)  # given back by the money path
        order = invoice.order
        order.amount_charged = attempt.amount
        order.charge_reference = attempt.charge_reference
        order.payment_method = attempt.payment_method
        order.save(update_fields=["amount_charged", "charge_reference", "payment_method"])
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = timezone.now()
        invoice.next_retry_on = None
        invoice.save(update_fields=["status", "paid_at", "next_retry_on"])
        for subscription in subscriptions_of(invoice):
            lifecycle.reactivate(subscription=subscription, actor=self.actor)
        record_audit_event(
            actor=self.actor,
            account=invoice.account,
            action=AuditAction.CHANGED,
            target=invoice,
            before={"status": InvoiceStatus.OPEN},
            after={"status": InvoiceStatus.PAID, "paid": attempt.amount},
        )
        document_state_changed(invoice.pk)
        transaction.on_commit(lambda: send_invoice_paid_email.enqueue(invoice.pk))
        return Written(result=invoice, order=order)


def pay_invoice(
    *,
    invoice: Invoice,
    actor: User | None,
    payment_method: PaymentMethod | None = None,
    new_card: NewCard | None = None,
    on_session: bool = True,
) -> Invoice:
    """Charge an open invoice to a saved card or a new one. Raises PaymentDeclined,
    PaymentFailed, PaymentRequiresAction (on-session: the billing contact authenticates
    first), PaymentPending or InvoicePaymentError with nothing changed; returns the invoice,
    paid (or as it was if it was not open any more)."""
    return take_payment(
        InvoicePayment(
            invoice_id=invoice.pk,
            actor=actor,
            on_session=on_session,
            payment_method=payment_method,
            new_card=new_card,
        )
    )


def void_invoice(*, invoice: Invoice, actor: User | None) -> Invoice:
    """Staff forgive an open invoice: nothing is owed for it any more, and what it renewed is
    active again."""
    with transaction.atomic():
        invoice = locked_invoice(invoice.pk)
        if invoice.status != InvoiceStatus.OPEN:
            return invoice
        invoice.status = InvoiceStatus.VOID
        invoice.next_retry_on = None
        invoice.save(update_fields=["status", "next_retry_on"])
        for subscription in subscriptions_of(invoice):
            lifecycle.reactivate(subscription=subscription, actor=actor)
        record_audit_event(
            actor=actor,
            account=invoice.account,
            action=AuditAction.CHANGED,
            target=invoice,
            before={"status": InvoiceStatus.OPEN},
            after={"status": InvoiceStatus.VOID},
        )
        document_state_changed(invoice.pk)
    return invoice
