from django import template

from checkout.tax import TaxDecision

register = template.Library()


@register.filter
def tax_decision(document) -> TaxDecision:
    """{% with tax=order|tax_decision %}: the VAT a priced or stored document was taxed with,
    whose `label` and legal `mention` every page, email and PDF shows (checkout.tax)."""
    if isinstance(document, TaxDecision):
        return document
    return TaxDecision.of(document)
