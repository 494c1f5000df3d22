"""What an issued document says besides what was fixed when it was issued: its state (SPEC
"Prices and documents") — paid (on which day, by which card), or due (its due date and what it
still owes after credit notes and payments), or void; for a credit note, where its credit went.
The page, the PDF and the e-invoice read it from here."""

from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from moneyed import Money

from checkout.models import Invoice, InvoiceStatus, PaymentMethod


@dataclass(frozen=True)
class Correction:
    """A credit note that lowered what an open invoice owed, and by how much."""

    credit_note: Invoice
    amount: Money


@dataclass(frozen=True)
class DocumentState:
    status: str
    due_on: date  # payable on receipt: the card on file is charged on the day it is issued
    paid_on: date | None
    card: PaymentMethod | None  # the card that paid it, when a card did
    charged: Money  # what a card paid for it
    corrections: tuple[Correction, ...]  # credit notes that lowered what it owed
    amount_due: Money  # what it still owes now (0 once paid or void)
    to_balance: Money  # a credit note: what went to the account's balance
    to_invoice: Money  # a credit note: what it took off the invoice it corrects


def document_state(invoice: Invoice) -> DocumentState:
    order = invoice.order
    zero = Money(0, order.total.currency)
    issued_on = timezone.localdate(invoice.issued_at)
    if invoice.is_credit_note:
        credited = -order.total
        return DocumentState(
            status=invoice.status,
            due_on=issued_on,
            paid_on=None,
            card=None,
            charged=zero,
            corrections=(),
            amount_due=zero,
            to_balance=order.credit_added,
            to_invoice=max(credited - order.credit_added, zero),
        )
    corrections = []
    for credit_note in invoice.credit_notes.all():
        taken = -credit_note.order.total - credit_note.order.credit_added
        if taken.amount > 0:
            corrections.append(Correction(credit_note=credit_note, amount=taken))
    paid = invoice.status == InvoiceStatus.PAID
    return DocumentState(
        status=invoice.status,
        due_on=issued_on,
        paid_on=(timezone.localdate(invoice.paid_at) if invoice.paid_at else issued_on)
        if paid
        else None,
        card=order.payment_method if paid and order.amount_charged.amount else None,
        charged=order.amount_charged if paid else zero,
        corrections=tuple(corrections),
        amount_due=invoice.amount_due if invoice.status == InvoiceStatus.OPEN else zero,
        to_balance=zero,
        to_invoice=zero,
    )
