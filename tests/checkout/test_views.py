"""Checkout, confirmation and invoices by the STYLE checklist, with hostile input."""

import re
from dataclasses import replace
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from moneyed import Money

from cart.models import Cart, CartItem
from catalog.models import BillingCycle
from checkout.billing import BillingDetails
from checkout.models import Invoice, Order, PaymentAttempt, PaymentMethod
from checkout.placement import preview_order
from checkout.sandbox_gateway.models import SandboxCharge
from subscriptions.models import Subscription
from tests.factories import CartItemFactory, PaymentMethodFactory, plan_with_prices
from tests.helpers import sandbox_token

pytestmark = pytest.mark.django_db

CHECKOUT = reverse("checkout:checkout")


@pytest.fixture
def item(billing_contact, account):
    account.country = "FR"
    account.save()
    cart = Cart.objects.create(owner=billing_contact, account=account)
    plan = plan_with_prices(
        monthly="119.00", annual="1140.00", product__name="GoTo Training", name="Standard"
    )
    return CartItemFactory(
        cart=cart, plan=plan, product=plan.product, seat_count=5, cycle=BillingCycle.ANNUAL
    )


@pytest.fixture
def visa(account):
    return PaymentMethodFactory(
        account=account, gateway_token="tok_sandbox_ok_visa", is_default=True
    )


def priced(cart, **billing):
    details = BillingDetails.of_account(cart.account)
    return preview_order(cart=cart, billing=replace(details, **billing))


def form_data(item, **overrides):
    account = item.cart.account
    data = {
        "payment": "new",
        "card_token": sandbox_token("4242424242424242"),
        "cardholder_name": "Camille Laurent",
        "name": account.name,
        "address_line1": "12 rue de la Paix",
        "address_line2": "",
        "postal_code": "75002",
        "city": "Paris",
        "region": "",
        "country": "FR",
        "vat_number": "",
        "cart_version": item.cart.version,
        # What the page showed: 5 × 1,140.00 + 20 % VAT = 6,840.00.
        "pricing_fingerprint": priced(item.cart).fingerprint,
    }
    data.update(overrides)
    return data


def nothing_changed(item):
    return (
        not Order.objects.exists()
        and not Subscription.objects.exists()
        and not Invoice.objects.exists()
        and not PaymentMethod.objects.filter(account=item.cart.account)
        .exclude(gateway_token="tok_sandbox_ok_visa")
        .exists()
        and CartItem.objects.filter(pk=item.pk).exists()
        and mail.outbox == []
    )


class TestCheckoutPage:
    def test_shows_the_order(self, contact_client, item, visa):
        html = contact_client.get(CHECKOUT).content.decode()
        assert "GoTo Training" in html
        assert "€1,140.00" in html  # price per seat
        assert "€5,700.00" in html  # line
        assert "VAT 20 %" in html
        assert "€1,140.00" in html  # tax
        assert "€6,840.00" in html  # total due
        assert "Visa •••• 4242" in html
        assert "Edit Order" in html
        assert "Place Order" in html

    def test_empty_cart_goes_back_to_the_cart(self, contact_client):
        response = contact_client.get(CHECKOUT)
        assert response.url == reverse("cart:detail")

    def test_member_403(self, client, member):
        client.force_login(member)
        assert client.get(CHECKOUT).status_code == 403

    def test_anonymous_login(self, client):
        assert client.get(CHECKOUT).url.startswith(reverse("login"))

    def test_put_is_405(self, contact_client):
        assert contact_client.put(CHECKOUT).status_code == 405


class TestPlaceOrder:
    def test_with_a_new_card(self, contact_client, item, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            response = contact_client.post(CHECKOUT, form_data(item))
        order = Order.objects.get()
        assert response.url == reverse("checkout:order_confirmation", args=[order.number])
        assert order.amount_charged.amount == Decimal("6840.00")
        page = contact_client.get(response.url).content.decode()
        assert "Thank you: your order is placed" in page
        assert order.invoice.number in page
        assert reverse("subscriptions:seats", args=[order.lines.get().subscription_id]) in page
        assert len(mail.outbox) == 1
        assert "4242424242424242" not in mail.outbox[0].body

    def test_with_the_saved_card(self, contact_client, item, visa):
        contact_client.post(CHECKOUT, form_data(item, payment=str(visa.pk), card_token=""))
        assert Order.objects.get().payment_method == visa

    def test_a_double_submit_makes_one_order_and_one_charge(self, contact_client, item, visa):
        data = form_data(item, payment=str(visa.pk))
        first = contact_client.post(CHECKOUT, data)
        second = contact_client.post(CHECKOUT, data)
        assert Order.objects.count() == 1
        assert SandboxCharge.objects.count() == 1
        assert second.status_code == 302
        assert first.url == second.url or second.url == reverse("cart:detail")

    @pytest.mark.parametrize(
        ("number", "message"),
        [
            ("4000 0000 0000 0002", "Your card was declined."),
            ("4000 0000 0000 9995", "Your card has insufficient funds."),
            ("4000 0000 0000 0069", "Your card has expired."),
            ("4000 0000 0000 0127", "security code (CVC) is incorrect"),
        ],
    )
    def test_each_declining_card_shows_its_message_and_changes_nothing(
        self, contact_client, item, number, message
    ):
        response = contact_client.post(
            CHECKOUT, form_data(item, card_token=sandbox_token(number.replace(" ", "")))
        )
        assert response.status_code == 200
        assert message in response.content.decode()
        assert nothing_changed(item)

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("card_token", "tok_forged_by_hand", "The card could not be read."),
            ("cardholder_name", "", "Enter the name on the card."),
            ("vat_number", "FR123", "This is not a valid VAT number for France."),
            ("vat_number", "DE136695976", "This is not a valid VAT number for France."),
            ("country", "XX", "Select a valid choice."),
            ("payment", "999999", "Select a valid choice."),
            ("city", "", "This field is required."),
        ],
    )
    def test_bad_input_gets_a_clear_message_and_changes_nothing(
        self, contact_client, item, field, value, message
    ):
        response = contact_client.post(CHECKOUT, form_data(item, **{field: value}))
        assert response.status_code == 200
        assert message in response.content.decode()
        assert nothing_changed(item)
        assert not SandboxCharge.objects.exists()

    def test_a_card_of_another_account_is_not_offered(self, contact_client, item):
        other = PaymentMethodFactory(gateway_token="tok_sandbox_ok_other")
        response = contact_client.post(CHECKOUT, form_data(item, payment=str(other.pk)))
        assert "Select a valid choice." in response.content.decode()
        assert nothing_changed(item)

    def test_a_tampered_total_is_not_charged(self, contact_client, item):
        response = contact_client.post(CHECKOUT, form_data(item, pricing_fingerprint="x" * 64))
        assert response.status_code == 200
        assert "The order changed: it now comes to €6,840.00." in response.content.decode()
        assert nothing_changed(item)
        assert not SandboxCharge.objects.exists()

    def test_a_vat_number_that_changes_the_total_asks_to_check_it(self, contact_client, item):
        data = form_data(
            item, country="DE", vat_number="DE136695976", postal_code="10115", city="Berlin"
        )
        response = contact_client.post(CHECKOUT, data)
        html = response.content.decode()
        assert "The order changed: it now comes to €5,700.00." in html
        assert "Reverse charge" in html
        assert nothing_changed(item)
        data["pricing_fingerprint"] = response.context["pricing"].fingerprint
        response = contact_client.post(CHECKOUT, data)
        order = Order.objects.get()
        assert order.tax_treatment == "reverse_charge"
        assert order.amount_charged.amount == Decimal("5700.00")

    def test_a_stale_page_of_a_changed_cart_is_not_charged(self, contact_client, item):
        data = form_data(item, cart_version=item.cart.version - 1 or 999)
        response = contact_client.post(CHECKOUT, data)
        assert "Your cart changed in the meantime." in response.content.decode()
        assert nothing_changed(item)


class TestConfirmationAndInvoices:
    @pytest.fixture
    def order(self, contact_client, item, visa):
        contact_client.post(CHECKOUT, form_data(item, payment=str(visa.pk)))
        return Order.objects.get()

    def test_outsider_gets_404_everywhere(self, client, outsider, order):
        client.force_login(outsider)
        number = order.invoice.number
        for url in (
            reverse("checkout:order_confirmation", args=[order.number]),
            reverse("checkout:invoice_detail", args=[number]),
            reverse("checkout:invoice_pdf", args=[number]),
        ):
            assert client.get(url).status_code == 404
        assert number not in client.get(reverse("checkout:invoices")).content.decode()

    def test_member_gets_403(self, client, member, order):
        client.force_login(member)
        assert client.get(reverse("checkout:invoices")).status_code == 403
        assert (
            client.get(reverse("checkout:invoice_detail", args=[order.invoice.number])).status_code
            == 403
        )

    def test_invoice_list_and_detail(self, contact_client, order):
        html = contact_client.get(reverse("checkout:invoices")).content.decode()
        assert order.invoice.number in html
        html = contact_client.get(
            reverse("checkout:invoice_detail", args=[order.invoice.number])
        ).content.decode()
        assert "GoTo Software Ireland Ltd" in html
        assert "IE6388047V" in html
        assert "€6,840.00" in html

    def test_invoice_pdf(self, contact_client, order):
        response = contact_client.get(reverse("checkout:invoice_pdf", args=[order.invoice.number]))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")

    def test_post_is_405(self, contact_client, order):
        assert contact_client.post(reverse("checkout:invoices")).status_code == 405
        assert (
            contact_client.post(
                reverse("checkout:invoice_pdf", args=[order.invoice.number])
            ).status_code
            == 405
        )

    def test_invoices_query_count(self, contact_client, order, django_assert_num_queries):
        # session, user with membership + account, the count of invoices (pages), a page of
        # invoices + orders, their lines (the descriptions), cart item count, has quotes
        with django_assert_num_queries(7):
            contact_client.get(reverse("checkout:invoices"))


def test_a_card_number_never_arrives_the_checkout_has_no_field_for_it(contact_client, item):
    """The card is typed into the processor's card fields (nameless inputs its script adds) or
    its hosted page: nothing the checkout form sends can carry it. A number posted anyway is
    not a field: it is ignored, never stored nor shown."""
    page = contact_client.get(CHECKOUT).content.decode()
    names = set(re.findall(r'name="([^"]+)"', page))
    assert not names & {"card_number", "card_cvc", "card_expiry", "number", "cvc", "expiry"}
    assert 'autocomplete="cc-number"' not in page
    assert "/static/sandbox_gateway/card-fields.js" in page

    response = contact_client.post(
        CHECKOUT, form_data(item, card_number="4000000000000002", card_cvc="123")
    )
    assert response.status_code == 302
    assert "4000000000000002" not in str(list(PaymentAttempt.objects.values()))


class TestTheRenewalIsSaidBeforeAndAfter:
    """SPEC "Prices and documents": checkout and the confirmation email say that the
    subscription renews automatically, on which date, for how much with VAT, and where to
    cancel."""

    def test_checkout_says_when_and_how_much_with_vat(self, contact_client, item):
        from billing_center.money import format_money

        page = contact_client.get(CHECKOUT).content.decode()
        # 5 seats × €1,140.00 a year, French VAT 20 %: €6,840.00 a year from now.
        amount = format_money(Money(Decimal("6840.00"), "EUR"))
        assert "renews automatically on" in page
        assert f"for {amount} including VAT" in page
        assert "page in Subscriptions: it then runs to the end of the period" in page

    def test_the_confirmation_email_says_it_too(
        self, contact_client, item, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            contact_client.post(CHECKOUT, form_data(item))
        order = Order.objects.get()
        (email,) = [m for m in mail.outbox if order.number in m.body]
        line = order.lines.get()
        assert "renews automatically on" in email.body
        assert "including VAT" in email.body
        assert f"{line.period_end.day}" in email.body

    def test_without_vat_it_says_no_vat(self):
        from checkout.pricing import renewals_of
        from checkout.tax import TaxDecision
        from tests.factories import OrderLineFactory

        line = OrderLineFactory(unit_price=Money(Decimal("100.00"), "EUR"), seat_count=3)
        (renewal,) = renewals_of(
            lines=[line], tax=TaxDecision(treatment="reverse_charge", rate=Decimal(0), country="DE")
        )
        assert (renewal.amount, renewal.taxed) == (Money(Decimal("300.00"), "EUR"), False)


def test_the_invoices_list_describes_each_document(contact_client, item, visa):
    """Ten renewals of one product read as ten periods, not ten identical rows (issue 18)."""
    contact_client.post(CHECKOUT, form_data(item, payment=str(visa.pk)))
    line = Order.objects.get().lines.get()
    page = contact_client.get(reverse("checkout:invoices")).content.decode()
    row = page[page.index(Order.objects.get().invoice.number) :]
    assert line.product_name in row
    assert line.period_end.strftime("%Y") in row
