"""Is a VAT number valid for a billing country? Checked offline with python-stdnum (format and
check digits), and total: any text at all gets an answer, never an exception.

It lives with the account (whose VAT number it checks) so that the admin's account form, the
checkout and the tax decision all use this one function.
"""

import re

from stdnum.eu import vat as eu_vat

# fmt: off
EU_MEMBER_STATES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# fmt: on
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
