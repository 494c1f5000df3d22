"""Invoices: issued once per order, numbered without gaps per year, immutable afterwards."""

from datetime import date

from django.conf import settings
from django.utils import translation
from moneyed import Money

from billing_center.clock import moment_on
from billing_center.numbering import next_number
from checkout.billing import BillingDetails
from checkout.models import Invoice, InvoiceStatus, Order


def issue_invoice(
    *, order: Order, billing: BillingDetails, today: date, amount_due: Money, paid: bool
) -> Invoice:
    """The invoice of an order, with seller and buyer as they are now: paid, or open for
    `amount_due` (a renewal whose charge was declined). Call it in the order's transaction: the
    number is taken under its sequence's lock and rolls back with it."""
    account = order.account
    sequence, number = next_number(series="INV", year=today.year)
    with translation.override(account.language):  # the country's name in the invoice's language
        buyer_address = "\n".join(billing.address_lines)
    return Invoice.objects.create(
        number=number,
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
        issued_at=moment_on(today),
        status=InvoiceStatus.PAID if paid else InvoiceStatus.OPEN,
        amount_due=amount_due,
        paid_at=moment_on(today) if paid else None,
    )
