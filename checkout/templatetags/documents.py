from django import template
from moneyed import Money

from checkout.invoices.state import DocumentState
from checkout.invoices.state import document_state as state_of

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
