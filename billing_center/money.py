"""Money helpers every app uses: the one rounding rule and the one display format."""

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import get_currency_precision
from django.utils.translation import get_language, to_locale
from moneyed import Money


def minor_unit(currency_code: str) -> Decimal:
    """0.01 for EUR, USD and GBP; 1 for JPY: the smallest amount the currency has."""
    return Decimal(1).scaleb(-get_currency_precision(currency_code))


def round_money(amount: Money) -> Money:
    """Round half-up to the currency's minor unit. Every line amount goes through here."""
    code = amount.currency.code
    return Money(amount.amount.quantize(minor_unit(code), rounding=ROUND_HALF_UP), code)


def format_money(amount: Money, language: str | None = None) -> str:
    """`1 234,50 €` in French, `€1,234.50` in English: the reader's language decides."""
    locale = to_locale(language or get_language() or "en")
    return _formatted(str(amount.amount), amount.currency.code, locale)  # -0 is not 0 here


@lru_cache(maxsize=32)
def _currency_format(locale: str):
    """The locale and its standard currency pattern, parsed once per process (babel's
    format_currency looks both up on every call: ~10 % of a priced page, issue 22)."""
    parsed = Locale.parse(locale)
    return parsed, parsed.currency_formats["standard"]


@lru_cache(maxsize=4096)
def _formatted(value: str, currency: str, locale: str) -> str:
    """What babel's format_currency(value, currency, locale=locale) says, kept: a page shows
    the same prices and totals many times."""
    parsed, pattern = _currency_format(locale)
    return pattern.apply(Decimal(value), parsed, currency=currency)
