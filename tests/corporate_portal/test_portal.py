"""Corporate Billing Portal: eligibility, quotes, service orders, the worker task, the move."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from moneyed import Money

from billing_center.models import User
from checkout.models import Invoice
from checkout.sandbox_gateway.models import SandboxCharge
from corporate_portal import services
from corporate_portal.models import Quote, QuoteStatus, ServiceOrder, ServiceOrderStatus
from corporate_portal.tasks import process_service_order
from subscriptions.models import Portal, Role, SeatAssignment
from tests.factories import (
    AccountFactory,
    MembershipFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    plan_with_prices,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 22)


@pytest.fixture
def corporate(account):
    account.portal = Portal.CORPORATE
    account.country = "US"
    account.currency = "USD"
    account.save()
    return account


@pytest.fixture
def card(corporate):
    return PaymentMethodFactory(
        account=corporate, gateway_token="tok_sandbox_ok_corp", is_default=True
    )


@pytest.fixture
def webinar(corporate):
    plan = plan_with_prices(
        monthly="145.00", annual="1344.00", currency="USD", product__name="GoTo Webinar"
    )
    return SubscriptionFactory(
        account=corporate,
        plan=plan,
        seat_count=5,
        unit_price=Money("1344.00", "USD"),
        current_period_start=date(2026, 7, 25),
    )


@pytest.fixture
def rescue(corporate):
    plan = plan_with_prices(
        currency="USD", product__name="RescueAssist", product__supports_additional_seats=False
    )
    return SubscriptionFactory(account=corporate, plan=plan, unit_price=Money("1068.00", "USD"))


def quote_for(account, subscription, seats=2, replace=False, contact=None):
    return services.create_quote(
        account=account,
        requests=[services.SeatRequest(subscription.pk, seats)],
        actor=contact,
        replace_open=replace,
        today=TODAY,
    )


class TestQuotes:
    def test_coterm_amount_and_number(self, corporate, card, webinar):
        quote = quote_for(corporate, webinar)
        (line,) = quote.lines.all()
        # 2 × 1344 × days left / days in period: 2027-07-25 − 2026-11-22 = 245 of 365 days
        assert line.amount == Money(Decimal("1804.27"), "USD")
        assert quote.total == line.amount  # outside the EU: no VAT
        assert quote.number == "Q-2026-000001"
        assert quote.valid_until == TODAY + timedelta(days=30)

    def test_an_open_quote_is_replaced_only_when_confirmed(self, corporate, card, webinar):
        first = quote_for(corporate, webinar)
        with pytest.raises(services.CorporateError):
            quote_for(corporate, webinar, seats=3)
        second = quote_for(corporate, webinar, seats=3, replace=True)
        first.refresh_from_db()
        assert first.status == QuoteStatus.REPLACED
        assert first.replaced_by == second
        assert Quote.objects.filter(status=QuoteStatus.OPEN).get() == second

    def test_not_self_service(self, corporate, card, webinar):
        corporate.self_service_enabled = False
        corporate.save()
        with pytest.raises(services.CorporateError, match="Corporate Account Services"):
            quote_for(corporate, webinar)

    def test_no_default_card(self, corporate, webinar):
        with pytest.raises(services.CorporateError, match="default automatic payment method"):
            quote_for(corporate, webinar)

    def test_a_product_without_additional_seats(self, corporate, card, rescue):
        with pytest.raises(services.CorporateError, match="does not support additional seats"):
            quote_for(corporate, rescue)

    def test_nothing_asked(self, corporate, card, webinar):
        with pytest.raises(services.CorporateError):
            quote_for(corporate, webinar, seats=0)
        assert not Quote.objects.exists()

    def test_expired_quotes(self, corporate, card, webinar):
        quote = quote_for(corporate, webinar)
        assert services.expire_quotes(today=TODAY + timedelta(days=30)) == 0
        assert services.expire_quotes(today=TODAY + timedelta(days=31)) == 1
        quote.refresh_from_db()
        assert quote.status == QuoteStatus.EXPIRED
        with pytest.raises(services.CorporateError):
            services.reject_quote(quote=quote, actor=None)


def place(corporate, webinar, card, email="admin.new@globex.test"):
    quote = quote_for(corporate, webinar)
    details = services.PaymentDetails(
        admin_contact_name="Ada Admin",
        admin_contact_email=email,
        payment_method=card,
        billing=services.BillingDetails.of_account(corporate),
    )
    service_order = services.save_service_order(quote=quote, details=details, actor=None)
    return service_order


class TestProcessing:
    def test_the_whole_path(
        self, corporate, card, webinar, billing_contact, django_capture_on_commit_callbacks
    ):
        service_order = place(corporate, webinar, card)
        assert service_order.quote.status == QuoteStatus.ACCEPTED
        with django_capture_on_commit_callbacks(execute=True):
            services.place_service_order(service_order=service_order, actor=billing_contact)
        service_order.refresh_from_db()
        assert service_order.status == ServiceOrderStatus.COMPLETED
        webinar.refresh_from_db()
        assert webinar.seat_count == 7
        admin = User.objects.get(email="admin.new@globex.test")
        assert admin.membership.role == Role.ADMIN_CONTACT
        assert SeatAssignment.objects.filter(subscription=webinar, user=admin).exists()
        assert Invoice.objects.get().order == service_order.order
        assert SandboxCharge.objects.get().amount == service_order.quote.total
        subjects = [m.subject for m in mail.outbox]
        assert any("Receipt for service order" in s for s in subjects)
        assert any("You are invited" in s for s in subjects)

    def test_running_twice_changes_nothing_the_second_time(self, corporate, card, webinar):
        service_order = place(corporate, webinar, card)
        services.place_service_order(service_order=service_order, actor=None)
        process_service_order.call(service_order.pk)
        process_service_order.call(service_order.pk)
        webinar.refresh_from_db()
        assert webinar.seat_count == 7
        assert SandboxCharge.objects.count() == 1
        assert Invoice.objects.count() == 1

    def test_a_decline_leaves_it_failed_with_nothing_done(
        self, corporate, webinar, billing_contact, django_capture_on_commit_callbacks
    ):
        card = PaymentMethodFactory(
            account=corporate, gateway_token="tok_sandbox_card_declined_x", is_default=True
        )
        service_order = place(corporate, webinar, card)
        services.place_service_order(service_order=service_order, actor=None)
        with django_capture_on_commit_callbacks(execute=True):
            process_service_order.call(service_order.pk)
        service_order.refresh_from_db()
        assert service_order.status == ServiceOrderStatus.FAILED
        assert "declined" in service_order.failure_reason
        webinar.refresh_from_db()
        assert webinar.seat_count == 5
        assert not User.objects.filter(email="admin.new@globex.test").exists()
        assert not Invoice.objects.exists()
        assert any("could not be processed" in m.subject for m in mail.outbox)

    def test_an_error_after_the_charge_refunds_and_changes_nothing(
        self, corporate, card, webinar, monkeypatch
    ):
        service_order = place(corporate, webinar, card)
        services.place_service_order(service_order=service_order, actor=None)

        def broken_invoices(requests):
            raise RuntimeError("printer on fire")

        monkeypatch.setattr("checkout.orders.issue_invoices", broken_invoices)
        process_service_order.call(service_order.pk)
        service_order.refresh_from_db()
        assert service_order.status == ServiceOrderStatus.FAILED
        assert SandboxCharge.objects.get().refunded
        webinar.refresh_from_db()
        assert webinar.seat_count == 5
        assert not User.objects.filter(email="admin.new@globex.test").exists()

        monkeypatch.undo()
        services.retry_service_order(service_order=service_order, actor=None)
        process_service_order.call(service_order.pk)
        service_order.refresh_from_db()
        assert service_order.status == ServiceOrderStatus.COMPLETED
        assert SandboxCharge.objects.filter(refunded=False).count() == 1

    def test_an_admin_email_of_another_account_is_refused(self, corporate, card, webinar, outsider):
        with pytest.raises(services.CorporateError, match="cannot be the admin contact"):
            place(corporate, webinar, card, email=outsider.email)
        assert not ServiceOrder.objects.exists()


class TestViews:
    @pytest.fixture
    def client_(self, client, corporate, billing_contact):
        client.force_login(billing_contact)
        return client

    def test_subscriptions_page_and_eligibility(self, client_, card, webinar, rescue):
        html = client_.get(reverse("corporate:subscriptions")).content.decode()
        assert "Corporate Billing Portal" in html
        assert "Add Seats" in html
        assert "RescueAssist does not support additional seats" in html

    def test_not_self_service_shows_its_message(self, client_, corporate, card, webinar):
        corporate.self_service_enabled = False
        corporate.save()
        html = client_.get(reverse("corporate:subscriptions")).content.decode()
        assert "contact Corporate Account Services" in html
        response = client_.get(reverse("corporate:add_seats"), follow=True)
        assert "contact Corporate Account Services" in response.content.decode()

    def test_add_seats_warns_before_replacing(self, client_, corporate, card, webinar):
        url = reverse("corporate:add_seats")
        field = f"seats-{webinar.pk}"
        response = client_.post(url, {field: "2"})
        first = Quote.objects.get()
        assert response.url == reverse("corporate:quote_detail", args=[first.number])
        response = client_.post(url, {field: "3"})
        assert "Your account has an open quote" in response.content.decode()
        assert Quote.objects.count() == 1
        response = client_.post(url, {field: "3", "confirm_replace": "True"})
        assert Quote.objects.filter(status="open").get().lines.get().added_seats == 3

    @pytest.mark.parametrize("seats", ["-1", "abc", "100000000000000000000"])
    def test_bad_seat_numbers(self, client_, card, webinar, seats):
        response = client_.post(reverse("corporate:add_seats"), {f"seats-{webinar.pk}": seats})
        assert response.status_code == 200
        assert not Quote.objects.exists()

    def test_accept_path_to_placed(
        self, client_, corporate, card, webinar, django_capture_on_commit_callbacks
    ):
        quote = quote_for(corporate, webinar)
        data = {
            "admin_contact_name": "Ada Admin",
            "admin_contact_email": "ada@globex.test",
            "payment_method": str(card.pk),
            "name": "Globex Corp",
            "address_line1": "1 Globex Plaza",
            "address_line2": "",
            "postal_code": "97477",
            "city": "Springfield",
            "region": "OR",
            "country": "US",
        }
        response = client_.post(reverse("corporate:payment", args=[quote.number]), data)
        service_order = ServiceOrder.objects.get()
        assert response.url == reverse("corporate:service_order_detail", args=[service_order.pk])
        page = client_.get(response.url).content.decode()
        assert "Place Service Order" in page
        assert "•••• 4242" in page
        with django_capture_on_commit_callbacks(execute=True):
            response = client_.post(
                reverse("corporate:place_service_order", args=[service_order.pk]), follow=True
            )
        assert "up to 24 hours" in response.content.decode()
        service_order.refresh_from_db()
        assert service_order.status == ServiceOrderStatus.COMPLETED  # ImmediateBackend in tests

    def test_reject(self, client_, corporate, card, webinar):
        quote = quote_for(corporate, webinar)
        client_.post(reverse("corporate:reject_quote", args=[quote.number]))
        quote.refresh_from_db()
        assert quote.status == QuoteStatus.REJECTED

    def test_outsider_gets_404(self, client, corporate, card, webinar):
        quote = quote_for(corporate, webinar)
        other = AccountFactory(portal=Portal.CORPORATE)
        client.force_login(MembershipFactory(account=other, role="billing_contact").user)
        assert client.get(reverse("corporate:quote_detail", args=[quote.number])).status_code == 404
        assert (
            client.post(reverse("corporate:reject_quote", args=[quote.number])).status_code == 404
        )

    def test_member_gets_403_and_self_service_is_redirected(
        self, client, member, corporate, billing_contact
    ):
        client.force_login(member)
        assert client.get(reverse("corporate:subscriptions")).status_code == 403
        corporate.portal = Portal.BILLING_CENTER
        corporate.save()
        client.force_login(billing_contact)
        response = client.get(reverse("corporate:quotes"))
        assert response.url == reverse("subscriptions:dashboard")

    def test_payment_method_change_moves_the_account_for_good(
        self, client_, corporate, card, webinar
    ):
        quote = quote_for(corporate, webinar)
        page = client_.get(reverse("corporate:payment_method")).content.decode()
        assert "no longer be available" in page
        response = client_.post(reverse("corporate:payment_method"))
        assert response.url == reverse("checkout:payment_methods")
        corporate.refresh_from_db()
        assert corporate.portal == Portal.BILLING_CENTER
        response = client_.get(reverse("corporate:subscriptions"), follow=True)
        assert response.redirect_chain[-1][0] == reverse("subscriptions:dashboard")
        assert "no longer available" in response.content.decode()
        # The Billing Center shows its quotes, with the same accept path.
        html = client_.get(reverse("subscriptions:dashboard")).content.decode()
        assert reverse("billing_quotes:quotes") in html
        page = client_.get(
            reverse("billing_quotes:quote_detail", args=[quote.number])
        ).content.decode()
        assert reverse("billing_quotes:payment", args=[quote.number]) in page

    def test_wrong_methods(self, client_):
        assert client_.get(reverse("corporate:add_seats") + "x").status_code == 404
        assert client_.post(reverse("corporate:subscriptions")).status_code == 405


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_two_simultaneous_save_cart_and_review_leave_one_open_quote():
    account = AccountFactory(portal=Portal.CORPORATE, country="US", currency="USD")
    PaymentMethodFactory(account=account, gateway_token="tok_sandbox_ok_x", is_default=True)
    plan = plan_with_prices(currency="USD")
    subscription = SubscriptionFactory(account=account, plan=plan, unit_price=Money("100", "USD"))
    barrier = threading.Barrier(2)
    errors = []

    def save():
        try:
            barrier.wait()
            services.create_quote(
                account=account,
                requests=[services.SeatRequest(subscription.pk, 1)],
                actor=None,
                replace_open=False,
                today=TODAY,
            )
        except services.CorporateError as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=save) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Quote.objects.filter(status="open").count() == 1
    assert len(errors) == 1


def test_staff_write_a_quote_in_the_admin_and_it_is_priced(admin_client, corporate, card, webinar):
    url = reverse("admin:corporate_portal_quote_add")
    response = admin_client.post(
        url,
        {
            "account": corporate.pk,
            "status": "open",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-subscription": webinar.pk,
            "lines-0-added_seats": "2",
        },
    )
    assert response.status_code == 302, (
        response.context["adminform"].form.errors,
        [f.errors for f in response.context["inline_admin_formsets"][0].formset.forms],
    )
    quote = Quote.objects.get()
    assert quote.number.startswith("Q-")
    (line,) = quote.lines.all()
    assert line.amount.amount > 0
    assert quote.total == line.amount
    assert quote.created_by is not None
