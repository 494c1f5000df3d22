"""The document of an order: an invoice, or a credit note when the order's total is negative
(SPEC: "never an invoice with a negative total"). Issued once per order, numbered without gaps
per year in the series of its kind, immutable afterwards; its PDF is rendered when it is first
asked for, not here (checkout.invoices.documents)."""

from datetime import date

from django.conf import settings
from django.utils import translation
from moneyed import Money

from billing_center.clock import moment_on
from billing_center.numbering import next_number
from checkout.billing import BillingDetails
from checkout.models import (
    NUMBER_SERIES,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Order,
    OrderLineKind,
)


def issue_invoice(
    *,
    order: Order,
    billing: BillingDetails,
    today: date,
    amount_due: Money,
    paid: bool,
    corrects: Invoice | None = None,
) -> Invoice:
    """The document of an order, with seller and buyer as they are now: an invoice, paid or
    open for `amount_due` (a renewal whose charge was declined); or, for a negative total, a
    credit note (its own series, credited by the order writer, referencing the invoice it
    corrects: `corrects`, or else corrected_invoice). Call it in the order's transaction: the
    number is taken under its sequence's lock and rolls back with it."""
    account = order.account
    kind = InvoiceKind.CREDIT_NOTE if order.total.amount < 0 else InvoiceKind.INVOICE
    credit_note = kind == InvoiceKind.CREDIT_NOTE
    sequence, number = next_number(series=NUMBER_SERIES[kind], year=today.year)
    with translation.override(account.language):  # the country's name in the invoice's language
        buyer_address = "\n".join(billing.address_lines)
    if credit_note:
        status = InvoiceStatus.CREDITED
    else:
        status = InvoiceStatus.PAID if paid else InvoiceStatus.OPEN
    invoice = Invoice.objects.create(
        number=number,
        kind=kind,
        corrects=(corrects or corrected_invoice(order)) if credit_note else None,
        year=today.year,
        sequence=sequence,
        order=order,
        account=account,
        language=account.language,
        seller_name=settings.SELLER_NAME,
        seller_address=settings.SELLER_ADDRESS,
        seller_country=settings.SELLER_COUNTRY,
        seller_vat_number=settings.SELLER_VAT_NUMBER,
        buyer_name=billing.name,
        buyer_address=buyer_address,
        buyer_country=billing.country,
        buyer_vat_number=order.buyer_vat_number,
        buyer_legal_identifier=billing.legal_identifier,
        buyer_sdi_code=billing.sdi_code,
        buyer_pec=billing.pec,
        issued_at=moment_on(today),
        status=status,
        amount_due=Money(0, order.total.currency) if credit_note else amount_due,
        paid_at=moment_on(today) if status == InvoiceStatus.PAID else None,
    )
    return invoice


def corrected_invoice(order: Order) -> Invoice | None:
    """The invoice a credit note corrects: the invoice of the current period of what the order
    credits — the latest paid invoice with a line on a credited subscription (the most recent
    of them when the order credits several). None when there is none (a subscription set up by
    staff or the demo data without an order)."""
    credited = order.lines.filter(kind=OrderLineKind.PRORATION_CREDIT).values("subscription_id")
    return (
        Invoice.objects.filter(
            account=order.account_id,
            kind=InvoiceKind.INVOICE,
            status=InvoiceStatus.PAID,
            order__lines__subscription__in=credited,
        )
        .exclude(order=order)
        .order_by("-issued_at", "-pk")
        .first()
    )
