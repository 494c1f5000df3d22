from django import template
from moneyed import Money

register = template.Library()


@register.filter
def as_shown_on(amount: Money, document) -> Money:
    """{{ line.amount|as_shown_on:invoice }}: an amount of an order as its document shows it —
    as it is on an invoice; on a credit note, as what is credited (the opposite sign, so the
    credit for the unused time reads as a positive amount credited)."""
    if getattr(document, "is_credit_note", False) and amount.amount:
        return -amount
    return amount
