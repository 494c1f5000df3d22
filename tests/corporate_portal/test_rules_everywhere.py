"""The corporate rules hold whoever writes: the billing contact, staff in the admin, the worker.
Each test here failed before quotes, service orders and the admin went through one service."""

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from moneyed import Money

from checkout.billing import BillingDetails
from checkout.models import Invoice, Order, TaxTreatment
from checkout.sandbox_gateway.models import SandboxCharge
from corporate_portal import services
from corporate_portal.models import Quote, QuoteLine, ServiceOrderStatus
from corporate_portal.tasks import process_service_order
from subscriptions.models import Portal
from tests.factories import (
    AccountFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    VatRateFactory,
    plan_with_prices,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 22)  # the suite's frozen clock (tests/conftest.py)


@pytest.fixture
def corporate(account):
    account.portal = Portal.CORPORATE
    account.country = "US"
    account.currency = "USD"
    account.save()
    PaymentMethodFactory(account=account, gateway_token="tok_sandbox_ok_corp", is_default=True)
    return account


def webinar_of(account, *, max_seats=100, **fields):
    plan = plan_with_prices(
        monthly="145.00",
        annual="1344.00",
        currency=account.currency,
        max_seats=max_seats,
        product__name=f"GoTo Webinar {account.pk}",
    )
    defaults = {
        "seat_count": 5,
        "unit_price": Money("1344.00", account.currency),
        "current_period_start": date(2026, 7, 25),
    }
    return SubscriptionFactory(account=account, plan=plan, **{**defaults, **fields})


def staff_quote(admin_client, account, subscription, seats="2", **extra):
    return admin_client.post(
        reverse("admin:corporate_portal_quote_add"),
        {
            "account": account.pk,
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-subscription": subscription.pk,
            "lines-0-added_seats": seats,
            **extra,
        },
    )


def inline_errors(response) -> str:
    formset = response.context["inline_admin_formsets"][0].formset
    return " ".join(formset.non_form_errors())


class TestStaffQuotes:
    def test_priced_like_the_billing_contacts(self, admin_client, corporate):
        webinar = webinar_of(corporate)
        response = staff_quote(admin_client, corporate, webinar)
        assert response.status_code == 302
        quote = Quote.objects.get()
        # 2 × 1344 × 245 / 365, as tests/corporate_portal/test_portal.py prices it
        assert quote.lines.get().amount == Money(Decimal("1804.27"), "USD")
        assert quote.total == Money(Decimal("1804.27"), "USD")

    def test_a_line_on_another_accounts_subscription_is_refused(self, admin_client, corporate):
        other = AccountFactory(portal=Portal.CORPORATE, country="US", currency="USD")
        theirs = webinar_of(other)
        response = staff_quote(admin_client, corporate, theirs)
        assert response.status_code == 200
        assert "not part of the account" in inline_errors(response)
        assert not Quote.objects.exists()
        theirs.refresh_from_db()
        assert theirs.seat_count == 5

    def test_over_the_plans_seat_limit_is_refused(self, admin_client, corporate):
        webinar = webinar_of(corporate, max_seats=6)
        response = staff_quote(admin_client, corporate, webinar, seats="2")
        assert response.status_code == 200
        assert "Choose between 1 and 6 seats" in inline_errors(response)
        assert not Quote.objects.exists()

    def test_a_subscription_past_its_period_end_is_refused(self, admin_client, corporate):
        # Its period ended on 2026-11-01: co-terming it would price 0.00 and give seats away.
        webinar = webinar_of(corporate, current_period_start=date(2025, 11, 1))
        response = staff_quote(admin_client, corporate, webinar)
        assert response.status_code == 200
        assert "ended on" in inline_errors(response)
        assert not Quote.objects.exists()

    def test_an_open_quote_is_replaced_only_when_ticked(self, admin_client, corporate):
        webinar = webinar_of(corporate)
        assert staff_quote(admin_client, corporate, webinar).status_code == 302
        response = staff_quote(admin_client, corporate, webinar, seats="3")
        assert "open quote" in inline_errors(response)
        response = staff_quote(admin_client, corporate, webinar, seats="3", replace_open_quote="on")
        assert response.status_code == 302
        assert Quote.objects.get(status="open").lines.get().added_seats == 3

    def test_staff_can_quote_what_sends_customers_to_them(self, admin_client, corporate):
        # Not self-service, a product not open to more seats: "contact Corporate Account
        # Services" — staff are that service.
        corporate.self_service_enabled = False
        corporate.save()
        webinar = webinar_of(corporate)
        webinar.product.supports_additional_seats = False
        webinar.product.save()
        assert staff_quote(admin_client, corporate, webinar).status_code == 302

    def test_a_saved_quote_is_read_only(self, admin_client, corporate):
        webinar = webinar_of(corporate)
        staff_quote(admin_client, corporate, webinar)
        quote = Quote.objects.get()
        url = reverse("admin:corporate_portal_quote_change", args=[quote.pk])
        page = admin_client.get(url)
        assert page.status_code == 200
        admin_client.post(url, {"account": AccountFactory().pk})
        quote.refresh_from_db()
        assert quote.account == corporate


def placed_service_order(account, subscription, *, billing=None):
    quote = services.create_quote(
        account=account,
        requests=[services.SeatRequest(subscription.pk, 2)],
        actor=None,
        replace_open=False,
        today=TODAY,
    )
    service_order = services.save_service_order(
        quote=quote,
        details=services.PaymentDetails(
            admin_contact_name="Ada Admin",
            admin_contact_email="ada@globex.test",
            payment_method=account.payment_methods.get(is_default=True),
            billing=billing or BillingDetails.of_account(account),
        ),
        actor=None,
    )
    services.place_service_order(service_order=service_order, actor=None)
    service_order.refresh_from_db()
    return service_order


class TestWorker:
    def test_a_line_on_another_accounts_subscription_fails_with_nothing_changed(self, corporate):
        ours = webinar_of(corporate)
        other = AccountFactory(portal=Portal.CORPORATE, country="US", currency="USD")
        theirs = webinar_of(other)
        service_order = placed_service_order(corporate, ours)
        # A line pointing at another account's subscription, however it got there.
        QuoteLine.objects.filter(quote=service_order.quote).update(subscription=theirs)
        process_service_order.call(service_order.pk)
        service_order.refresh_from_db()
        assert service_order.status == ServiceOrderStatus.FAILED
        assert "another account" in service_order.failure_reason
        theirs.refresh_from_db()
        ours.refresh_from_db()
        assert (theirs.seat_count, ours.seat_count) == (5, 5)
        assert not Order.objects.exists()
        assert not SandboxCharge.objects.filter(refunded=False).exists()

    def test_a_period_renewed_since_the_quote_fails_with_nothing_changed(self, corporate):
        webinar = webinar_of(corporate)
        service_order = placed_service_order(corporate, webinar)
        webinar.current_period_start, webinar.current_period_end = TODAY, date(2027, 11, 22)
        webinar.save()
        process_service_order.call(service_order.pk)
        service_order.refresh_from_db()
        assert service_order.status == ServiceOrderStatus.FAILED
        assert "ask for a new quote" in service_order.failure_reason
        webinar.refresh_from_db()
        assert webinar.seat_count == 5


class TestBillingDetailsAtProceedToPayment:
    def test_a_german_address_with_a_vat_number_gets_the_reverse_charge(
        self, client, corporate, billing_contact, django_capture_on_commit_callbacks
    ):
        VatRateFactory(country="DE", rate=Decimal("19.00"))
        webinar = webinar_of(corporate)
        quote = services.create_quote(
            account=corporate,
            requests=[services.SeatRequest(webinar.pk, 2)],
            actor=None,
            replace_open=False,
        )
        assert quote.tax_treatment == TaxTreatment.OUTSIDE_SCOPE  # Globex is in the US
        client.force_login(billing_contact)
        response = client.post(
            reverse("corporate:payment", args=[quote.number]),
            {
                "admin_contact_name": "Ada Admin",
                "admin_contact_email": "ada@globex.test",
                "payment_method": str(corporate.payment_methods.get().pk),
                "name": "Globex GmbH",
                "address_line1": "Friedrichstraße 1",
                "postal_code": "10117",
                "city": "Berlin",
                "country": "DE",
                "vat_number": "DE 136 695 976",
            },
        )
        assert response.status_code == 302
        corporate.refresh_from_db()
        # Kept on the account for the next invoice, with when it was found valid.
        assert (corporate.country.code, corporate.city, corporate.vat_number) == (
            "DE",
            "Berlin",
            "DE136695976",
        )
        assert corporate.vat_number_validated_at is not None
        service_order = quote.service_order
        service_order.refresh_from_db()
        assert service_order.tax_treatment == TaxTreatment.REVERSE_CHARGE
        assert service_order.tax_country.code == "DE"
        assert service_order.total == quote.subtotal
        page = client.get(response.url).content.decode()
        assert "VAT (reverse charge)" in page
        assert "Article 196" in page

        with django_capture_on_commit_callbacks(execute=True):  # the worker, and its email
            client.post(reverse("corporate:place_service_order", args=[service_order.pk]))
        invoice = Invoice.objects.get()
        assert invoice.order.tax_treatment == TaxTreatment.REVERSE_CHARGE
        assert invoice.buyer_vat_number == "DE136695976"
        assert invoice.buyer_country.code == "DE"
        html = client.get(reverse("checkout:invoice_detail", args=[invoice.number])).content
        assert "Reverse charge" in html.decode()
        assert SandboxCharge.objects.get().amount == quote.subtotal
        receipt = next(m for m in mail.outbox if "Receipt" in m.subject)
        assert "Article 196" in receipt.body

    def test_a_german_address_without_vat_number_pays_german_vat(self, corporate):
        VatRateFactory(country="DE", rate=Decimal("19.00"))
        webinar = webinar_of(corporate)
        billing = BillingDetails(
            name="Globex GmbH",
            address_line1="Friedrichstraße 1",
            address_line2="",
            postal_code="10117",
            city="Berlin",
            region="",
            country="DE",
            vat_number="",
        )
        service_order = placed_service_order(corporate, webinar, billing=billing)
        assert service_order.tax_treatment == TaxTreatment.STANDARD
        assert service_order.tax == Money(Decimal("342.81"), "USD")  # 19 % of 1,804.27
        process_service_order.call(service_order.pk)
        assert Order.objects.get().total == Money(Decimal("2147.08"), "USD")
