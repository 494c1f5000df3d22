"""The document of an order: an invoice, or a credit note when the order's total is negative
(SPEC: "never an invoice with a negative total"). Issued once per order, numbered without gaps
per year in the series of its kind, immutable afterwards; its PDF is rendered when it is first
asked for, not here (checkout.invoices.documents)."""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.utils import translation
from moneyed import Money

from billing_center.clock import moment_on
from billing_center.numbering import next_numbers
from checkout.billing import BillingDetails
from checkout.models import (
    NUMBER_SERIES,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Order,
    OrderLineKind,
)


@dataclass(frozen=True)
class InvoiceRequest:
    """An order's document to issue: paid, or open for `amount_due`; a credit note `corrects`
    an invoice (or else corrected_invoice)."""

    order: Order
    billing: BillingDetails
    today: date
    amount_due: Money
    paid: bool
    corrects: Invoice | None = None


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
    request = InvoiceRequest(
        order=order,
        billing=billing,
        today=today,
        amount_due=amount_due,
        paid=paid,
        corrects=corrects,
    )
    return issue_invoices([request])[0]


def issue_invoices(requests: list[InvoiceRequest]) -> list[Invoice]:
    """`issue_invoice` for several orders (a batch of renewals): the numbers of each series
    taken together, the documents written by one statement."""
    kinds = [
        InvoiceKind.CREDIT_NOTE if request.order.total.amount < 0 else InvoiceKind.INVOICE
        for request in requests
    ]
    numbers: dict[tuple[str, int], list[tuple[int, str]]] = {}
    for kind, request in zip(kinds, requests, strict=True):
        numbers.setdefault((NUMBER_SERIES[kind], request.today.year), []).append(None)
    for (series, year), taken in numbers.items():
        taken[:] = next_numbers(series=series, year=year, count=len(taken))[::-1]
    invoices = [
        _invoice(request, kind, *numbers[(NUMBER_SERIES[kind], request.today.year)].pop())
        for kind, request in zip(kinds, requests, strict=True)
    ]
    return Invoice.objects.bulk_create(invoices)


def _invoice(request: InvoiceRequest, kind: str, sequence: int, number: str) -> Invoice:
    order, billing, today = request.order, request.billing, request.today
    account = order.account
    credit_note = kind == InvoiceKind.CREDIT_NOTE
    with translation.override(account.language):  # the country's name in the invoice's language
        buyer_address = "\n".join(billing.address_lines)
    if credit_note:
        status = InvoiceStatus.CREDITED
    else:
        status = InvoiceStatus.PAID if request.paid else InvoiceStatus.OPEN
    return Invoice(
        number=number,
        kind=kind,
        corrects=(request.corrects or corrected_invoice(order)) if credit_note else None,
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
        amount_due=Money(0, order.total.currency) if credit_note else request.amount_due,
        paid_at=moment_on(today) if status == InvoiceStatus.PAID else None,
    )


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
