"""One rule decides which portal an account uses: a corporate account's billing contact cannot
use the Billing Center's pages (its writes above all), a Billing Center account cannot use the
Corporate Billing Portal (issue 9, "Corporate rules hold everywhere")."""

import pytest
from django.urls import reverse
from moneyed import Money

from cart.models import CartItem
from checkout.models import Order, PaymentMethod
from subscriptions.models import Portal, Subscription
from tests.factories import (
    CartItemFactory,
    InvoiceFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    plan_with_prices,
)
from tests.helpers import sandbox_token

pytestmark = pytest.mark.django_db

CORPORATE_HOME = reverse("corporate:subscriptions")


@pytest.fixture
def globex(account):
    """Corporate, self-service off: only Corporate Account Services may add its seats."""
    account.portal = Portal.CORPORATE
    account.self_service_enabled = False
    account.country, account.currency = "US", "USD"
    account.save()
    PaymentMethodFactory(account=account, gateway_token="tok_sandbox_ok_globex", is_default=True)
    return account


@pytest.fixture
def rescue(globex):
    plan = plan_with_prices(
        monthly="99.00",
        annual="1068.00",
        currency="USD",
        product__name="RescueAssist",
        product__supports_additional_seats=False,
    )
    return SubscriptionFactory(
        account=globex, plan=plan, seat_count=3, unit_price=Money("1068.00", "USD")
    )


@pytest.fixture
def globex_client(client, billing_contact, globex):
    client.force_login(billing_contact)
    return client


def assert_sent_to_the_corporate_portal(response):
    assert response.status_code == 302
    assert response.url == CORPORATE_HOME


def test_a_corporate_contact_cannot_buy_seats_through_the_billing_center(
    globex_client, rescue, billing_contact
):
    """The attack of the issue: 7 more RescueAssist seats, no quote, no co-terming."""
    url = reverse("checkout:change_subscription", args=[rescue.pk])
    response = globex_client.post(
        url, {"plan": rescue.plan_id, "cycle": rescue.cycle, "seat_count": "10"}
    )
    assert_sent_to_the_corporate_portal(response)
    assert not CartItem.objects.exists()
    rescue.refresh_from_db()
    assert rescue.seat_count == 3
    page = globex_client.get(CORPORATE_HOME).content.decode()
    assert "Your account uses the Corporate Billing Portal" in page


def test_a_corporate_contact_cannot_add_to_cart_check_out_or_add_a_card(
    globex_client, globex, billing_contact
):
    plan = plan_with_prices(currency="USD", product__slug="goto-training")
    buy = reverse("cart:cycle", args=["goto-training"]) + f"?plan={plan.pk}&seats=5"
    assert_sent_to_the_corporate_portal(globex_client.post(buy, {"cycle": "annual"}))
    assert not CartItem.objects.exists()

    # A cart left from before (or forged): checkout still refuses to take the order.
    item = CartItemFactory(
        cart__account=globex, cart__owner=billing_contact, plan=plan, product=plan.product
    )
    response = globex_client.post(
        reverse("checkout:checkout"),
        {
            "payment": "new",
            "card_token": sandbox_token("4242424242424242"),
            "cardholder_name": "G",
            "name": "Globex",
            "address_line1": "1 Plaza",
            "postal_code": "97477",
            "city": "Springfield",
            "country": "US",
            "cart_version": item.cart.version,
            "pricing_fingerprint": "as the page showed",
        },
    )
    assert_sent_to_the_corporate_portal(response)
    assert not Order.objects.exists()

    cards = PaymentMethod.objects.count()
    response = globex_client.post(
        reverse("checkout:payment_methods"),
        {
            "card_token": sandbox_token("4242424242424242"),
            "cardholder_name": "G",
        },
    )
    assert_sent_to_the_corporate_portal(response)
    assert PaymentMethod.objects.count() == cards


@pytest.mark.parametrize(
    "name", ["subscriptions:dashboard", "checkout:invoices", "cart:add", "activity"]
)
def test_billing_center_reads_send_a_corporate_contact_to_its_portal(globex_client, name):
    assert_sent_to_the_corporate_portal(globex_client.get(reverse(name)))


def test_a_corporate_contact_still_reads_the_invoice_of_its_service_order(globex_client, globex):
    """Service Order Details and the receipt email link to the invoice and its PDF."""
    invoice = InvoiceFactory(order__account=globex)
    assert (
        globex_client.get(reverse("checkout:invoice_detail", args=[invoice.number])).status_code
        == 200
    )


def test_a_billing_center_account_cannot_use_the_corporate_portal(contact_client):
    response = contact_client.post(reverse("corporate:payment_method"))
    assert response.url == reverse("subscriptions:dashboard")


def test_after_the_move_the_billing_center_is_the_accounts(globex_client, globex, rescue):
    globex.portal = Portal.BILLING_CENTER
    globex.save()
    assert globex_client.get(reverse("subscriptions:dashboard")).status_code == 200
    assert globex_client.get(reverse("billing_quotes:quotes")).status_code == 200
    assert globex_client.get(CORPORATE_HOME).url == reverse("subscriptions:dashboard")
    assert Subscription.objects.get().seat_count == 3
