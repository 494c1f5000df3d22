"""A quote as a PDF: tagged (PDF/UA-1), in the account's language, with the seller and the
account's billing details. Rendered each time it is asked for and never stored: unlike an issued
invoice, a quote changes while it lives (it is accepted, rejected, replaced or expires), and the
PDF says which; it is small and rarely downloaded."""

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django_countries.fields import Country

from billing_center.pdf import html_to_pdf
from checkout.billing import BillingDetails
from corporate_portal.models import Quote


@dataclass(frozen=True)
class Seller:
    name: str
    address: str
    country: Country
    vat_number: str

    @classmethod
    def from_settings(cls) -> "Seller":
        return cls(
            name=settings.SELLER_NAME,
            address=settings.SELLER_ADDRESS,
            country=Country(settings.SELLER_COUNTRY),
            vat_number=settings.SELLER_VAT_NUMBER,
        )


def quote_pdf(quote: Quote) -> bytes:
    account = quote.account
    with translation.override(account.language):
        html = render_to_string(
            "corporate_portal/quote_pdf.html",
            {
                "quote": quote,
                "seller": Seller.from_settings(),
                "buyer": BillingDetails.of_account(account),
            },
        )
    return html_to_pdf(html)
