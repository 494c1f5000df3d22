"""VIES (issue 19): a VAT number that passes the offline check is asked of VIES after it is saved
and again by the billing run; reverse charge never for a number VIES rejected (staff alerted);
VIES unavailable leaves it pending with the offline result. No test touches the network: the
client is the sandbox, or python-stdnum's with its SOAP call replaced."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from moneyed import Money

from checkout.billing_run.run import run_billing
from checkout.models import Invoice
from checkout.tax import TaxTreatment
from subscriptions import vies
from subscriptions.models import Role, VatCheckStatus, VatNumberCheck
from tests.factories import (
    AccountFactory,
    MembershipFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    plan_with_prices,
)
from tests.helpers import buy

pytestmark = pytest.mark.django_db

GERMAN = "DE136695976"  # the sandbox confirms it
ITALIAN_REJECTED = "IT00743110157"  # valid check digits; the sandbox rejects it
DUTCH_UNAVAILABLE = "NL004495445B01"  # the sandbox cannot answer for it


def customer(country, vat_number, **fields):
    account = AccountFactory(country=country, vat_number=vat_number, **fields)
    contact = MembershipFactory(account=account, role=Role.BILLING_CONTACT).user
    card = PaymentMethodFactory(
        account=account, gateway_token=f"tok_sandbox_ok_vies_{account.pk}", is_default=True
    )
    return account, contact, card


def plan():
    return plan_with_prices(monthly="10.00", annual="120.00")


def test_a_confirmed_number_keeps_the_reverse_charge_with_its_proof():
    check = vies.check_vat_number(GERMAN)
    assert check.status == VatCheckStatus.CONFIRMED
    assert check.request_identifier.startswith("SANDBOX-")
    assert check.confirmed_at is not None
    account, contact, card = customer("DE", GERMAN, city="Berlin")
    order = buy(account, contact, plan(), 2, card)
    assert order.tax_treatment == TaxTreatment.REVERSE_CHARGE


def test_a_rejected_number_loses_the_reverse_charge_and_staff_are_told(settings):
    settings.ADMINS = [("Staff", "staff@vendor.test")]
    account, contact, card = customer("IT", ITALIAN_REJECTED, city="Milano", postal_code="20121")
    first = buy(account, contact, plan(), 2, card)
    assert first.tax_treatment == TaxTreatment.REVERSE_CHARGE  # offline only, before VIES

    check = vies.check_vat_number(ITALIAN_REJECTED)
    assert check.status == VatCheckStatus.REJECTED
    (alert,) = mail.outbox
    assert alert.to == ["staff@vendor.test"]
    assert ITALIAN_REJECTED in alert.subject
    assert account.name in alert.body
    vies.check_vat_number(ITALIAN_REJECTED)
    assert len(mail.outbox) == 1  # told once, not at every check

    plan_two = plan_with_prices(monthly="20.00", annual="200.00")
    second = buy(account, contact, plan_two, 1, card)
    assert second.tax_treatment == TaxTreatment.STANDARD
    assert second.tax_rate == Decimal("22.00")  # the Italian rate, as for any Italian buyer
    first.refresh_from_db()
    assert first.tax_treatment == TaxTreatment.REVERSE_CHARGE  # issued documents stay


def test_vies_unavailable_leaves_it_pending_and_the_offline_check_applies():
    check = vies.check_vat_number(DUTCH_UNAVAILABLE)
    assert check.status == VatCheckStatus.PENDING
    assert "MS_UNAVAILABLE" in check.error
    account, contact, card = customer("NL", DUTCH_UNAVAILABLE, city="Amsterdam")
    assert buy(account, contact, plan(), 2, card).tax_treatment == TaxTreatment.REVERSE_CHARGE


def test_an_answer_is_kept_when_vies_is_unavailable_later(monkeypatch):
    vies.check_vat_number(ITALIAN_REJECTED)

    def unavailable(self, number, *, requester):
        raise vies.ViesUnavailable("SERVICE_UNAVAILABLE")

    monkeypatch.setattr(vies.SandboxVies, "check", unavailable)
    check = vies.check_vat_number(ITALIAN_REJECTED)
    assert check.status == VatCheckStatus.REJECTED  # still: no reverse charge
    assert check.error == "SERVICE_UNAVAILABLE"


def test_saving_a_number_asks_vies_once_it_is_committed(
    contact_client, account, django_capture_on_commit_callbacks
):
    data = {
        "name": "Acme GmbH",
        "address_line1": "Unter den Linden 1",
        "address_line2": "",
        "postal_code": "10117",
        "city": "Berlin",
        "region": "",
        "country": "DE",
        "vat_number": "de 136 695 976",
        "legal_identifier": "",
        "sdi_code": "",
        "pec": "",
        "purchase_order": "",
        "invoice_cc_emails": "",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = contact_client.post(reverse("checkout:billing_information"), data)
    assert response.status_code == 302
    assert VatNumberCheck.objects.get(number=GERMAN).status == VatCheckStatus.CONFIRMED


def test_the_billing_run_asks_again_when_a_confirmation_is_old(settings):
    account, _contact, _card = customer("DE", GERMAN, city="Berlin")
    SubscriptionFactory(
        account=account,
        plan=plan(),
        unit_price=Money("120.00", "EUR"),
        current_period_start=date(2026, 1, 10),
    )
    old = timezone.now() - timedelta(days=settings.VIES_CONFIRMATION_MAX_AGE_DAYS + 1)
    VatNumberCheck.objects.create(
        number=GERMAN,
        status=VatCheckStatus.CONFIRMED,
        checked_at=old,
        confirmed_at=old,
        request_identifier="OLD",
    )
    report = run_billing(today=date(2026, 11, 22))
    assert report.vat_numbers_checked == 1
    check = VatNumberCheck.objects.get(number=GERMAN)
    assert check.checked_at > old
    assert check.request_identifier != "OLD"
    assert run_billing(today=date(2026, 11, 22)).vat_numbers_checked == 0  # fresh now


def test_the_run_re_checks_and_the_next_renewal_is_taxed_when_vies_now_rejects(settings):
    account, _contact, _card = customer("IT", ITALIAN_REJECTED, city="Milano", postal_code="20121")
    SubscriptionFactory(
        account=account,
        plan=plan(),
        cycle="monthly",
        seat_count=2,
        unit_price=Money("10.00", "EUR"),
        current_period_start=date(2026, 10, 22),
    )
    run_billing(today=date(2026, 11, 22))  # asks VIES first, then renews
    (invoice,) = Invoice.objects.filter(account=account)
    assert invoice.order.tax_treatment == TaxTreatment.STANDARD


def test_the_production_client_maps_python_stdnums_answer(monkeypatch):
    from stdnum.eu import vat

    asked = []

    def answer(number, requester, timeout):
        asked.append((number, requester))
        return {"valid": True, "requestIdentifier": "WAPIAAAAY1", "requestDate": date(2026, 12, 3)}

    monkeypatch.setattr(vat, "check_vies_approx", answer)
    result = vies.StdnumVies().check(GERMAN, requester="IE6388047V")
    assert result == vies.ViesAnswer(True, "WAPIAAAAY1", date(2026, 12, 3))
    assert asked == [(GERMAN, "IE6388047V")]

    def down(number, requester, timeout):
        raise ConnectionError("connection refused")

    monkeypatch.setattr(vat, "check_vies_approx", down)
    with pytest.raises(vies.ViesUnavailable):
        vies.StdnumVies().check(GERMAN, requester="IE6388047V")


def test_staff_find_rejected_numbers_and_ask_again(admin_client):
    vies.check_vat_number(ITALIAN_REJECTED)
    url = reverse("admin:subscriptions_vatnumbercheck_changelist")
    page = admin_client.get(url, {"status__exact": "rejected"}).content.decode()
    assert ITALIAN_REJECTED in page
    check = VatNumberCheck.objects.get()
    response = admin_client.post(url, {"action": "ask_again", "_selected_action": [check.pk]})
    assert response.status_code == 302
