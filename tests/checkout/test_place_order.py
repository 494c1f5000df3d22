"""place_order: one order per cart version, one charge, everything or nothing."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from moneyed import Money

from billing_center.models import AuditAction, AuditEvent
from cart.models import CartItem
from catalog.models import BillingCycle
from checkout.billing import BillingDetails
from checkout.models import Invoice, Order, PaymentMethod
from checkout.payments.gateway import PaymentDeclined
from checkout.placement import CheckoutError, place_order, preview_order
from checkout.sandbox_gateway.models import SandboxCharge
from subscriptions.models import Subscription, SubscriptionStatus
from tests.factories import (
    AccountFactory,
    CartFactory,
    CartItemFactory,
    CreditEntryFactory,
    PaymentMethodFactory,
    SeatAssignmentFactory,
    SubscriptionFactory,
    plan_with_prices,
)
from tests.helpers import sandbox_new_card

TODAY = date(2026, 11, 22)


def eur(amount):
    return Money(Decimal(amount), "EUR")


@pytest.fixture
def cart(db):
    account = AccountFactory(country="FR", language="fr")
    cart = CartFactory(account=account)
    CartItemFactory(
        cart=cart,
        plan=plan_with_prices(monthly="14.00", annual="144.00", product__name="GoTo Training"),
        cycle=BillingCycle.ANNUAL,
        seat_count=5,
    )
    cart.refresh_from_db()
    return cart


@pytest.fixture
def visa(cart):
    return PaymentMethodFactory(
        account=cart.account, gateway_token="tok_sandbox_ok_x", is_default=True
    )


def new_card(number="4242424242424242"):
    return sandbox_new_card(number)


def place(cart, *, payment_method=None, card=None, expected=None, billing=None, version=None):
    """Place the cart as its checkout page shows it (`expected`: another fingerprint)."""
    billing = billing or BillingDetails.of_account(cart.account)
    if expected is None:
        expected = preview_order(cart=cart, billing=billing, today=TODAY).fingerprint
    return place_order(
        cart=cart,
        cart_version=cart.version if version is None else version,
        billing=billing,
        expected_pricing=expected,
        actor=cart.owner,
        payment_method=payment_method,
        new_card=card,
        today=TODAY,
    )


def test_placing_an_order(cart, visa, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = place(cart, payment_method=visa)
    assert (order.subtotal, order.tax, order.total) == (eur("720.00"), eur("144.00"), eur("864.00"))
    assert order.amount_charged == eur("864.00")
    assert order.tax_rate == Decimal("20.00")
    (line,) = order.lines.all()
    assert (line.product_name, line.seat_count, line.unit_price, line.amount) == (
        "GoTo Training",
        5,
        eur("144.00"),
        eur("720.00"),
    )
    subscription = line.subscription
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert (subscription.current_period_start, subscription.current_period_end) == (
        TODAY,
        date(2027, 11, 22),
    )
    assert order.invoice.number == "INV-2026-000001"
    assert SandboxCharge.objects.get().amount == eur("864.00")
    assert not cart.items.exists()
    assert AuditEvent.objects.filter(action=AuditAction.ORDER_PLACED, account=cart.account).exists()
    (email,) = mail.outbox
    assert order.invoice.number in email.body
    assert "GoTo Training" in email.body
    assert "864,00" in email.body  # French account: French amounts
    assert email.alternatives[0][1] == "text/html"


def test_a_second_submit_of_the_same_cart_gives_the_same_order(cart, visa):
    version = cart.version
    first = place(cart, payment_method=visa)
    second = place(cart, payment_method=visa, version=version)
    assert first == second
    assert Order.objects.count() == 1
    assert SandboxCharge.objects.count() == 1


@pytest.mark.parametrize(
    "number", ["4000000000000002", "4000000000009995", "4000000000000069", "4000000000000127"]
)
def test_a_decline_changes_nothing(cart, number):
    before = cart.version
    with pytest.raises(PaymentDeclined):
        place(cart, card=new_card(number))
    assert not Order.objects.exists()
    assert not Subscription.objects.exists()
    assert not Invoice.objects.exists()
    assert not PaymentMethod.objects.exists()
    assert cart.items.count() == 1
    cart.refresh_from_db()
    assert cart.version == before
    assert mail.outbox == []


def test_a_new_card_is_saved_without_its_number(cart):
    order = place(cart, card=new_card())
    card = PaymentMethod.objects.get()
    assert (card.last4, card.brand, card.is_default) == ("4242", "visa", True)
    assert order.payment_method == card
    assert "4242424242424242" not in str(PaymentMethod.objects.values())


def test_a_changed_total_is_not_charged(cart, visa):
    with pytest.raises(CheckoutError) as error:
        place(cart, payment_method=visa, expected="a page priced otherwise")
    assert "864,00" in error.value.message or "864.00" in error.value.message
    assert not SandboxCharge.objects.exists()
    assert not Order.objects.exists()


def test_a_changed_cart_is_not_charged(cart, visa):
    with pytest.raises(CheckoutError):
        place(cart, payment_method=visa, version=cart.version - 1)
    assert not SandboxCharge.objects.exists()


def test_the_items_a_request_read_are_placed_only_for_their_version(cart, visa):
    """Place Order prices the items its request read before the locks when the locked cart is
    at the same version, and the cart's own items otherwise (issue 22)."""
    from cart.selectors import cart_with_items
    from cart.services import update_cart_item

    read = cart_with_items(owner=cart.owner)  # the page's read: 5 seats
    assert [item.seat_count for item in read.items.all()] == [5]
    item = cart.items.get()
    update_cart_item(item=item, plan=item.plan, cycle=item.cycle, seat_count=7)
    cart.refresh_from_db()
    billing = BillingDetails.of_account(cart.account)
    expected = preview_order(cart=cart, billing=billing, today=TODAY).fingerprint
    order = place_order(
        cart=read,  # version behind: its items are not used
        cart_version=cart.version,
        billing=billing,
        expected_pricing=expected,
        actor=cart.owner,
        payment_method=visa,
        today=TODAY,
    )
    assert order.lines.get().seat_count == 7
    assert order.total == eur("1209.60")  # 7 × 144.00 + 20 % VAT


def test_an_empty_cart_cannot_be_ordered(cart, visa):
    cart.items.all().delete()
    with pytest.raises(CheckoutError):
        place(cart, payment_method=visa)


def test_a_card_of_another_account_is_refused(cart):
    other = PaymentMethodFactory(gateway_token="tok_sandbox_ok_other")
    with pytest.raises(CheckoutError):
        place(cart, payment_method=other)
    assert not SandboxCharge.objects.exists()


def test_a_product_bought_meanwhile_is_refused(cart, visa):
    item = cart.items.get()
    SubscriptionFactory(account=cart.account, plan=item.plan)
    with pytest.raises(CheckoutError):
        place(cart, payment_method=visa)
    assert not SandboxCharge.objects.exists()


def test_buying_a_product_in_trial_converts_the_trial(cart, visa):
    item = cart.items.get()
    trial = SubscriptionFactory(
        account=cart.account,
        plan=item.plan,
        status=SubscriptionStatus.TRIALING,
        trial_end=date(2026, 12, 1),
        current_period_start=date(2026, 11, 17),
        current_period_end=date(2026, 12, 1),
        seat_count=2,
    )
    order = place(cart, payment_method=visa)
    trial.refresh_from_db()
    assert order.lines.get().subscription == trial
    assert order.lines.get().kind == "trial_conversion"
    assert trial.status == SubscriptionStatus.ACTIVE
    assert trial.seat_count == 5
    assert trial.current_period_start == TODAY
    assert Subscription.objects.count() == 1


def test_converting_below_the_assigned_seats_is_refused_and_refunded(cart, visa):
    item = cart.items.get()
    trial = SubscriptionFactory(
        account=cart.account,
        plan=item.plan,
        status=SubscriptionStatus.TRIALING,
        trial_end=date(2026, 12, 1),
        seat_count=10,
    )
    for _ in range(6):
        SeatAssignmentFactory(subscription=trial)
    with pytest.raises(CheckoutError):
        place(cart, payment_method=visa)
    assert not Order.objects.exists()
    assert SandboxCharge.objects.get().refunded


def test_credit_is_used_first_and_recorded(cart, visa):
    account = cart.account
    account.credit_balance_amount = Decimal("100.00")
    account.save()
    CreditEntryFactory(account=account, amount=eur("100.00"))
    order = place(cart, payment_method=visa)
    account.refresh_from_db()
    assert order.credit_applied == eur("100.00")
    assert order.amount_charged == eur("764.00")
    assert account.credit_balance_amount == Decimal("0.00")
    assert (
        sum(e.amount.amount for e in account.credit_entries.all()) == account.credit_balance_amount
    )


def test_nothing_due_charges_nothing(cart):
    account = cart.account
    account.credit_balance_amount = Decimal("1000.00")
    account.save()
    CreditEntryFactory(account=account, amount=eur("1000.00"))
    order = place(cart)
    assert order.amount_charged == eur("0.00")
    assert not SandboxCharge.objects.exists()


def test_a_valid_vat_number_of_another_member_state_is_reverse_charged(cart, visa):
    billing = BillingDetails(
        name="Acme GmbH",
        address_line1="Hauptstr. 1",
        address_line2="",
        postal_code="10115",
        city="Berlin",
        region="",
        country="DE",
        vat_number="DE136695976",
    )
    order = place(cart, payment_method=visa, billing=billing)
    assert order.tax_treatment == "reverse_charge"
    assert order.invoice.buyer_vat_number == "DE136695976"
    account = cart.account
    account.refresh_from_db()
    assert account.vat_number == "DE136695976"
    assert account.vat_number_validated_at is not None
    assert "python-stdnum" in account.vat_number_validation


def test_preview_equals_what_is_placed(cart, visa):
    preview = preview_order(cart=cart, billing=BillingDetails.of_account(cart.account), today=TODAY)
    order = place(cart, payment_method=visa, expected=preview.fingerprint)
    assert order.total == preview.total


def test_invoice_numbers_follow_each_other(visa, cart):
    place(cart, payment_method=visa)
    other_cart = CartFactory(account=AccountFactory())
    CartItemFactory(cart=other_cart, seat_count=1, cycle=BillingCycle.MONTHLY)
    other_cart.refresh_from_db()
    order = place(other_cart, card=new_card())
    assert order.invoice.number == "INV-2026-000002"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_two_simultaneous_submits_make_one_order_and_one_charge(cart, visa):
    version = cart.version
    results, errors = [], []
    barrier = threading.Barrier(2)

    def submit():
        try:
            barrier.wait()
            results.append(place(cart, payment_method=visa, version=version))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({order.pk for order in results}) == 1
    assert Order.objects.count() == 1
    assert SandboxCharge.objects.count() == 1
    assert not CartItem.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_concurrent_orders_get_gapless_invoice_numbers():
    carts = []
    for _ in range(4):
        cart = CartFactory(account=AccountFactory())
        CartItemFactory(cart=cart, seat_count=1, cycle=BillingCycle.MONTHLY)
        cart.refresh_from_db()
        carts.append(cart)
    barrier = threading.Barrier(len(carts))
    errors = []

    def submit(cart):
        try:
            barrier.wait()
            place(cart, card=new_card())
        except Exception as error:  # pragma: no cover
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(c,)) for c in carts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 5)]


def test_after_a_decline_another_card_pays_the_same_cart(cart):
    with pytest.raises(PaymentDeclined):
        place(cart, card=new_card("4000000000000002"))
    order = place(cart, card=new_card("4242424242424242"))
    assert order.amount_charged == eur("864.00")
    assert SandboxCharge.objects.filter(succeeded=True).count() == 1
