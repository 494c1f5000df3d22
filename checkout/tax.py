"""Which VAT applies to a customer (SPEC "VAT"), decided from data: no network look-up."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from checkout.models import TaxTreatment, VatRate
from subscriptions.vat import (  # noqa: F401  (the checkout's names for them)
    EU_MEMBER_STATES,
    VAT_VALIDATION_METHOD,
    compact_vat_number,
    vat_number_is_valid,
)


class MissingVatRate(Exception):
    """An EU country has no row in the VAT rate table: staff must add it before we can sell."""


@dataclass(frozen=True)
class TaxDecision:
    treatment: str
    rate: Decimal  # percent, e.g. Decimal("20.00")
    country: str  # the customer's country, ISO 3166 alpha-2

    @property
    def mention(self) -> str:
        """The words an order or invoice must carry for this treatment, in the active language."""
        if self.treatment == TaxTreatment.REVERSE_CHARGE:
            return str(
                _(
                    "Reverse charge: VAT to be accounted for by the recipient "
                    "(Article 196, Council Directive 2006/112/EC)."
                )
            )
        if self.treatment == TaxTreatment.OUTSIDE_SCOPE:
            return str(_("Outside the scope of EU VAT."))
        return ""


def decide_tax(*, country: str, vat_number: str, seller_country: str) -> TaxDecision:
    """Reverse charge for an EU business of another member state with a valid VAT number; the
    customer country's standard rate for other EU customers; 0 % outside the EU."""
    country = (country or "").upper()
    if country not in EU_MEMBER_STATES:
        return TaxDecision(TaxTreatment.OUTSIDE_SCOPE, Decimal("0.00"), country)
    if country != seller_country and vat_number_is_valid(vat_number, country):
        return TaxDecision(TaxTreatment.REVERSE_CHARGE, Decimal("0.00"), country)
    rate = VatRate.objects.filter(country=country).values_list("rate", flat=True).first()
    if rate is None:
        raise MissingVatRate(country)
    return TaxDecision(TaxTreatment.STANDARD, rate, country)
