"""The money rules to the cent (SPEC "Money rules", "VAT")."""

from datetime import date
from decimal import Decimal

import pytest
from moneyed import Money

from catalog.models import BillingCycle
from catalog.prices import annual_saving
from checkout.models import TaxTreatment
from checkout.pricing import PricingError, PurchaseRequest, price_order
from checkout.tax import MissingVatRate, decide_tax
from tests.factories import plan_with_prices

pytestmark = pytest.mark.django_db

EUR = "EUR"


def eur(amount):
    return Money(Decimal(amount), EUR)


def price(requests, *, country="FR", vat_number="", credit="0", today=date(2026, 11, 22)):
    return price_order(
        requests=requests,
        currency=EUR,
        today=today,
        tax=decide_tax(country=country, vat_number=vat_number, seller_country="IE"),
        credit_balance=eur(credit),
    )


@pytest.fixture
def meeting():
    return plan_with_prices(monthly="14.00", annual="144.00")


def test_monthly_in_france(meeting):
    pricing = price([PurchaseRequest(plan=meeting, cycle=BillingCycle.MONTHLY, seat_count=3)])
    (line,) = pricing.lines
    assert line.unit_price == eur("14.00")
    assert line.amount == eur("42.00")
    assert (line.period_start, line.period_end) == (date(2026, 11, 22), date(2026, 12, 22))
    assert pricing.subtotal == eur("42.00")
    assert pricing.tax.treatment == TaxTreatment.STANDARD
    assert pricing.tax.rate == Decimal("20.00")
    assert pricing.tax_amount == eur("8.40")
    assert pricing.total == eur("50.40")
    assert pricing.amount_due == eur("50.40")


def test_annual_in_france(meeting):
    pricing = price([PurchaseRequest(plan=meeting, cycle=BillingCycle.ANNUAL, seat_count=5)])
    assert pricing.lines[0].period_end == date(2027, 11, 22)
    assert (pricing.subtotal, pricing.tax_amount, pricing.total) == (
        eur("720.00"),
        eur("144.00"),
        eur("864.00"),
    )


def test_several_lines_are_summed_after_rounding_each(meeting):
    other = plan_with_prices(monthly="19.99", annual="199.00")
    pricing = price(
        [
            PurchaseRequest(plan=meeting, cycle=BillingCycle.MONTHLY, seat_count=3),
            PurchaseRequest(plan=other, cycle=BillingCycle.MONTHLY, seat_count=3),
        ],
        country="ES",
    )
    assert [line.amount for line in pricing.lines] == [eur("42.00"), eur("59.97")]
    assert pricing.subtotal == eur("101.97")
    assert pricing.tax_amount == eur("21.41")  # 21 % of 101.97 = 21.4137
    assert pricing.total == eur("123.38")


def test_tax_rounds_half_up():
    plan = plan_with_prices(monthly="12.50", annual="120.00")
    pricing = price(
        [PurchaseRequest(plan=plan, cycle=BillingCycle.MONTHLY, seat_count=1)], country="ES"
    )
    assert pricing.tax_amount == eur("2.63")  # 21 % of 12.50 = 2.625, half-up (not 2.62)


def test_reverse_charge_for_an_eu_business_of_another_member_state(meeting):
    pricing = price(
        [PurchaseRequest(plan=meeting, cycle=BillingCycle.ANNUAL, seat_count=5)],
        country="DE",
        vat_number="DE 136 695 976",
    )
    assert pricing.tax.treatment == TaxTreatment.REVERSE_CHARGE
    assert pricing.tax_amount == eur("0.00")
    assert pricing.total == eur("720.00")
    assert "Reverse charge" in pricing.tax.mention


def test_an_invalid_vat_number_pays_the_country_rate(meeting):
    pricing = price(
        [PurchaseRequest(plan=meeting, cycle=BillingCycle.ANNUAL, seat_count=5)],
        country="DE",
        vat_number="DE136695977",  # wrong check digit
    )
    assert pricing.tax.treatment == TaxTreatment.STANDARD
    assert pricing.tax_amount == eur("136.80")  # 19 %


def test_a_vat_number_of_another_country_pays_the_country_rate(meeting):
    pricing = price(
        [PurchaseRequest(plan=meeting, cycle=BillingCycle.ANNUAL, seat_count=5)],
        country="FR",
        vat_number="DE136695976",
    )
    assert pricing.tax.treatment == TaxTreatment.STANDARD
    assert pricing.tax_amount == eur("144.00")


def test_a_business_in_the_sellers_country_pays_its_vat(meeting):
    pricing = price(
        [PurchaseRequest(plan=meeting, cycle=BillingCycle.ANNUAL, seat_count=5)],
        country="IE",
        vat_number="IE6388047V",
    )
    assert pricing.tax.treatment == TaxTreatment.STANDARD
    assert pricing.tax_amount == eur("165.60")  # 23 %


def test_a_greek_business_uses_the_el_prefix(meeting):
    pricing = price(
        [PurchaseRequest(plan=meeting, cycle=BillingCycle.MONTHLY, seat_count=1)],
        country="GR",
        vat_number="EL094259216",
    )
    assert pricing.tax.treatment == TaxTreatment.REVERSE_CHARGE


def test_outside_the_eu_there_is_no_vat(meeting):
    pricing = price(
        [PurchaseRequest(plan=meeting, cycle=BillingCycle.MONTHLY, seat_count=2)], country="US"
    )
    assert pricing.tax.treatment == TaxTreatment.OUTSIDE_SCOPE
    assert pricing.tax_amount == eur("0.00")
    assert pricing.tax.mention == "Outside the scope of EU VAT."


def test_credit_covers_part_of_the_total(meeting):
    pricing = price(
        [PurchaseRequest(plan=meeting, cycle=BillingCycle.ANNUAL, seat_count=5)], credit="100.00"
    )
    assert pricing.total == eur("864.00")
    assert pricing.credit_applied == eur("100.00")
    assert pricing.amount_due == eur("764.00")


def test_credit_covers_all_of_the_total(meeting):
    pricing = price(
        [PurchaseRequest(plan=meeting, cycle=BillingCycle.ANNUAL, seat_count=5)], credit="1000.00"
    )
    assert pricing.credit_applied == eur("864.00")
    assert pricing.amount_due == eur("0.00")


def test_a_monthly_period_from_january_31_ends_on_the_last_day_of_february(meeting):
    pricing = price(
        [PurchaseRequest(plan=meeting, cycle=BillingCycle.MONTHLY, seat_count=1)],
        today=date(2026, 1, 31),
    )
    assert pricing.lines[0].period_end == date(2026, 2, 28)
    leap = price(
        [PurchaseRequest(plan=meeting, cycle=BillingCycle.MONTHLY, seat_count=1)],
        today=date(2028, 1, 31),
    )
    assert leap.lines[0].period_end == date(2028, 2, 29)


def test_a_plan_not_sold_in_the_currency_cannot_be_priced():
    plan = plan_with_prices(currency="USD")
    with pytest.raises(PricingError):
        price([PurchaseRequest(plan=plan, cycle=BillingCycle.MONTHLY, seat_count=1)])


def test_credit_in_another_currency_is_refused(meeting):
    with pytest.raises(PricingError):
        price_order(
            requests=[PurchaseRequest(plan=meeting, cycle=BillingCycle.MONTHLY, seat_count=1)],
            currency=EUR,
            today=date(2026, 1, 1),
            tax=decide_tax(country="FR", vat_number="", seller_country="IE"),
            credit_balance=Money(5, "USD"),
        )


def test_a_missing_rate_for_an_eu_country_stops_the_sale(meeting):
    from checkout.models import VatRate

    VatRate.objects.filter(country="FR").delete()
    with pytest.raises(MissingVatRate):
        price([PurchaseRequest(plan=meeting, cycle=BillingCycle.MONTHLY, seat_count=1)])


def test_annual_saving(meeting):
    # 12 × 14 − 144 = 24 a seat a year
    assert annual_saving(plan=meeting, seat_count=5, currency=EUR) == eur("120.00")
