from django import template
from django.utils.translation import pgettext
from moneyed import Money

from billing_center.money import format_money

register = template.Library()


@register.filter
def money(value):
    """{{ amount|money }}: a Money in the active language's format."""
    if isinstance(value, Money):
        return format_money(value)
    return "" if value is None else value


@register.simple_tag
def seat_count_label(product, count):
    """{% seat_count_label product 10 %} → "10 organizers" / "10 organisateurs"."""
    return product.seat_count_label(count)


@register.simple_tag
def colon():
    """{% colon %}: the colon after a label ("Invoice: …"), as the active language writes it;
    French puts a narrow no-break space before it ("Facture\u202f: …")."""
    return pgettext("colon after a label, as in 'Invoice: INV-2026-000001'", ":")
