"""Is a VAT number valid for a billing country? Checked offline with python-stdnum (format and
check digits), and total: any text at all gets an answer, never an exception.

It lives with the account (whose VAT number it checks) so that the admin's account form, the
checkout and the tax decision all use this one function.
"""

import re

from django.utils.translation import gettext as _
from django_countries import countries
from stdnum.eu import vat as eu_vat

# The 27 member states (ISO 3166 alpha-2; Greece is GR here, its VAT numbers say EL).
_EU_CODES = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"
EU_MEMBER_STATES = frozenset(_EU_CODES.split())
VAT_VALIDATION_METHOD = "python-stdnum (offline: format and check digits)"

_SEPARATORS = re.compile(r"[\s.\-/,:]+")


def compact_vat_number(vat_number: str) -> str:
    """The number without spaces and separators, upper case. python-stdnum compacts numbers of
    the countries it knows and raises on the rest (GB, CH, no prefix…): those are only cleaned."""
    if not vat_number:
        return ""
    try:
        return eu_vat.compact(vat_number)
    except Exception:  # stdnum raises on input it cannot place instead of answering
        return _SEPARATORS.sub("", str(vat_number)).upper()


def vat_number_is_valid(vat_number: str, country: str) -> bool:
    """A VAT number is valid for a billing country when its prefix is that country's (EL for
    Greece) and python-stdnum accepts its format and check digits."""
    number = compact_vat_number(vat_number)
    if not number or country not in EU_MEMBER_STATES:
        return False
    expected_prefix = "EL" if country == "GR" else country
    try:
        return number[:2] == expected_prefix and eu_vat.is_valid(number)
    except Exception:  # stdnum raises on some malformed input instead of answering False
        return False


def vat_number_problem(vat_number: str | None, country: str | None) -> str | None:
    """Why a VAT number typed in a form cannot be kept for this billing country, or None: the
    words of every form that asks for one (checkout, corporate payment, the admin's account)."""
    if not vat_number or not country:
        return None
    if country not in EU_MEMBER_STATES:
        return _("A VAT number applies to EU countries only.")
    if not vat_number_is_valid(vat_number, country):
        return _("This is not a valid VAT number for %(country)s.") % {
            "country": countries.name(country) or country
        }
    return None
