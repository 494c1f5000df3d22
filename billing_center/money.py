"""Money helpers every app uses: the one rounding rule and the one display format."""

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision
from django.utils.translation import get_language, to_locale
from moneyed import Money
from moneyed.l10n import format_money as babel_format_money


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
    return babel_format_money(amount, locale=locale)
