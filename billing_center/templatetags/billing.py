from django import template
from django.utils.translation import pgettext
from moneyed import Money

from billing_center.addresses import format_address
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


@register.filter
def address_lines(holder) -> list[str]:
    """{% for line in service_order|address_lines %}: an address kept in fields, as its country
    writes it (billing_center.addresses), the country's name in the reader's language."""
    return format_address(
        line1=holder.address_line1,
        line2=holder.address_line2,
        postal_code=holder.postal_code,
        city=holder.city,
        region=holder.region,
        country=getattr(holder.country, "code", holder.country),
    )
