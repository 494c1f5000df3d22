"""Which VAT applies to a customer (SPEC "VAT"), decided from data: no network look-up."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal

from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _

from checkout.models import TaxTreatment, VatRate
from subscriptions import vies
from subscriptions.vat import EU_MEMBER_STATES, vat_number_is_valid


class MissingVatRate(Exception):
    """An EU country has no row in the VAT rate table: staff must add it before we can sell."""


@dataclass(frozen=True)
class TaxDecision:
    """Which VAT applies to a sale: decided once (decide_tax) and stored on the order, the
    invoice, the quote and the service order, whose pages, emails and PDFs all read their
    label and legal mention from here (`TaxDecision.of(document)`)."""

    treatment: str
    rate: Decimal  # percent, e.g. Decimal("20.00")
    country: str  # the customer's country, ISO 3166 alpha-2

    @classmethod
    def of(cls, document) -> "TaxDecision":
        """The decision a stored document (order, invoice's order, quote…) was taxed with."""
        return cls(
            treatment=document.tax_treatment,
            rate=document.tax_rate,
            country=str(getattr(document, "tax_country", "") or ""),
        )

    @property
    def is_reverse_charge(self) -> bool:
        return self.treatment == TaxTreatment.REVERSE_CHARGE

    @property
    def label(self) -> str:
        """The VAT line's name, in the active language: "VAT 20 %", "VAT (reverse charge)"."""
        if self.treatment == TaxTreatment.REVERSE_CHARGE:
            return _("VAT (reverse charge)")
        if self.treatment == TaxTreatment.OUTSIDE_SCOPE:
            return _("VAT (outside the scope of EU VAT)")
        return _("VAT %(rate)s %%") % {"rate": floatformat(self.rate, "-2")}

    @property
    def mention(self) -> str:
        """The words an order or invoice must carry for this treatment, in the active language."""
        if self.treatment == TaxTreatment.REVERSE_CHARGE:
            return _(
                "Reverse charge: VAT to be accounted for by the recipient "
                "(Article 196, Council Directive 2006/112/EC)."
            )
        if self.treatment == TaxTreatment.OUTSIDE_SCOPE:
            return _("Outside the scope of EU VAT.")
        return ""


def decide_tax(*, country: str, vat_number: str, seller_country: str) -> TaxDecision:
    """Reverse charge for an EU business of another member state with a valid VAT number; the
    customer country's standard rate for other EU customers; 0 % outside the EU."""
    country = (country or "").upper()
    if country not in EU_MEMBER_STATES:
        return TaxDecision(TaxTreatment.OUTSIDE_SCOPE, Decimal("0.00"), country)
    if (
        country != seller_country
        and vat_number_is_valid(vat_number, country)
        and not vies.is_rejected(vat_number)
    ):
        return TaxDecision(TaxTreatment.REVERSE_CHARGE, Decimal("0.00"), country)
    rate = _standard_rate(country)
    if rate is None:
        raise MissingVatRate(country)
    return TaxDecision(TaxTreatment.STANDARD, rate, country)


# Rates read once for a batch of the billing run (its renewals are priced together, under the
# locks of one transaction): a country's rate is one read, not one per renewal.
_rates_read: ContextVar[dict[str, Decimal | None] | None] = ContextVar("vat_rates", default=None)


@contextmanager
def vat_rates_read_once() -> Iterator[None]:
    token = _rates_read.set({})
    try:
        yield
    finally:
        _rates_read.reset(token)


def _standard_rate(country: str) -> Decimal | None:
    read = _rates_read.get()
    if read is not None and country in read:
        return read[country]
    rate = VatRate.objects.filter(country=country).values_list("rate", flat=True).first()
    if read is not None:
        read[country] = rate
    return rate
