from decimal import Decimal

import pytest
from moneyed import Money

from billing_center.money import format_money, round_money


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [
        ("601.643835", "601.64"),
        ("0.005", "0.01"),
        ("0.004999", "0.00"),
        ("-601.645", "-601.65"),  # half-up means away from zero for negative lines too
        ("1440", "1440.00"),
    ],
)
def test_round_money_is_half_up_to_the_cent(amount, rounded):
    assert round_money(Money(Decimal(amount), "EUR")) == Money(Decimal(rounded), "EUR")


def test_round_money_keeps_the_currency():
    assert round_money(Money("1.005", "GBP")).currency.code == "GBP"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "1\u202f234,50\xa0€"),
        ("en", "€1,234.50"),
        ("it", "1.234,50\xa0€"),
        ("es", "1.234,50\xa0€"),
    ],
)
def test_money_is_formatted_for_the_language(language, expected):
    assert format_money(Money("1234.5", "EUR"), language) == expected
