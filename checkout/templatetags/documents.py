from django import template
from django.utils import translation
from django.utils.translation import gettext
from moneyed import Money

from checkout.invoices.mentions import mention_lines
from checkout.invoices.state import DocumentState
from checkout.invoices.state import document_state as state_of
from subscriptions.identifiers import LEGAL_IDENTIFIER_NAMES

register = template.Library()


@register.filter
def as_shown_on(amount: Money, document) -> Money:
    """{{ line.amount|as_shown_on:invoice }}: an amount of an order as its document shows it —
    as it is on an invoice; on a credit note, as what is credited (the opposite sign, so the
    credit for the unused time reads as a positive amount credited)."""
    if getattr(document, "is_credit_note", False) and amount.amount:
        return -amount
    return amount


@register.simple_tag
def document_state(invoice) -> DocumentState:
    """{% document_state invoice as state %}: paid, due or void, and what it still owes."""
    return state_of(invoice)


@register.filter
def buyer_address_on_page(invoice) -> list[str]:
    """The buyer's address as the document keeps it, but on a web page the country's name in
    the reader's language (the PDF keeps the document's language)."""
    lines = invoice.buyer_address.splitlines()
    if lines and invoice.buyer_country:
        with translation.override(invoice.language):
            issued_name = str(invoice.buyer_country.name)
        if lines[-1] == issued_name:
            lines[-1] = str(invoice.buyer_country.name)
    return lines


@register.filter
def legal_identifier_name(invoice) -> str:
    """What the buyer's legal identifier is called in its country ("SIREN or SIRET")."""
    name = LEGAL_IDENTIFIER_NAMES.get(str(invoice.buyer_country))
    return str(name) if name else gettext("Company identifier")


@register.simple_tag
def legal_mentions(invoice) -> list[str]:
    """{% legal_mentions invoice as mentions %}: what its seller's country has it say."""
    return mention_lines(invoice)
