"""Money is never lost when the gateway misbehaves (issue 9): a fault injected at each step of
a checkout, a seat change and the corporate worker ends in an order with one capture, or in no
capture at all — never captured without an order, never two captures for one order, never a
server error; the reconciliation brings every case to that end."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from moneyed import Money

from cart.models import CartItem
from catalog.models import BillingCycle
from checkout.billing import BillingDetails
from checkout.models import AttemptStatus, Order, PaymentAttempt
from checkout.payments.attempts import PaymentFailed, PaymentPending
from checkout.payments.reconciliation import reconcile_payments
from checkout.placement import CheckoutError, place_order, preview_order
from checkout.sandbox_gateway.models import SandboxCharge
from tests.factories import (
    CartFactory,
    CartItemFactory,
    PaymentMethodFactory,
    plan_with_prices,
)
from tests.helpers import sandbox_new_card

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 22)


def eur(amount):
    return Money(Decimal(amount), "EUR")


@pytest.fixture
def cart(db):
    cart = CartFactory()
    plan = plan_with_prices(monthly="14.00", annual="144.00", product__name="GoTo Training")
    CartItemFactory(cart=cart, plan=plan, product=plan.product, seat_count=5)
    cart.refresh_from_db()
    return cart


@pytest.fixture
def visa(cart):
    return PaymentMethodFactory(
        account=cart.account, gateway_token="tok_sandbox_ok_visa", is_default=True
    )


def new_card(number="4242424242424242"):
    return sandbox_new_card(number)


def place(cart, **payment):
    billing = BillingDetails.of_account(cart.account)
    return place_order(
        cart=cart,
        cart_version=cart.version,
        billing=billing,
        expected_pricing=preview_order(cart=cart, billing=billing, today=TODAY).fingerprint,
        actor=cart.owner,
        today=TODAY,
        **payment,
    )


def captures():
    """Money taken and kept: captured charges not refunded."""
    return SandboxCharge.objects.filter(succeeded=True, refunded=False)


def assert_consistent():
    """The invariant every fault must end in: every kept capture paid exactly one order, and no
    order was paid twice."""
    for charge in captures():
        attempt = PaymentAttempt.objects.get(charge_reference=charge.reference)
        assert attempt.order is not None, f"{charge} captured without an order"
    for order in Order.objects.all():
        assert order.payment_attempts.filter(status=AttemptStatus.CAPTURED).count() <= 1


class TestCheckout:
    def test_a_timeout_after_capture_is_settled_by_looking_the_charge_up(self, cart, visa, faults):
        faults("timeout_after_capture")
        order = place(cart, payment_method=visa)
        assert order.amount_charged == eur("864.00")
        assert captures().count() == 1
        attempt = PaymentAttempt.objects.get()
        assert (attempt.status, attempt.order) == (AttemptStatus.CAPTURED, order)
        assert_consistent()

    def test_an_unknown_outcome_is_pending_then_completed_by_the_reconciliation(
        self, cart, visa, faults, django_capture_on_commit_callbacks
    ):
        faults("timeout_after_capture", "lookup_unavailable")
        with pytest.raises(PaymentPending):
            place(cart, payment_method=visa)
        assert not Order.objects.exists()
        attempt = PaymentAttempt.objects.get()
        assert attempt.status == AttemptStatus.PENDING
        assert captures().count() == 1  # the gateway did capture; we do not know it yet

        reconcile_payments()  # the gateway still cannot tell: nothing is guessed
        assert PaymentAttempt.objects.get().status == AttemptStatus.PENDING
        assert not Order.objects.exists()

        faults()
        with django_capture_on_commit_callbacks(execute=True):
            report = reconcile_payments()
        assert report.completed == 1
        order = Order.objects.get()
        assert order.amount_charged == eur("864.00")
        assert order.payment_method == visa
        assert not CartItem.objects.exists()
        assert any(order.number in m.body for m in mail.outbox)  # the confirmation
        assert_consistent()
        assert reconcile_payments().completed == 0  # idempotent

    def test_a_new_cards_order_is_completed_with_the_card_saved(self, cart, faults):
        faults("timeout_after_capture", "lookup_unavailable")
        with pytest.raises(PaymentPending):
            place(cart, new_card=new_card())
        faults()
        reconcile_payments()
        order = Order.objects.get()
        assert order.payment_method.last4 == "4242"
        assert_consistent()

    def test_a_failure_before_capture_charges_nothing_and_can_be_tried_again(
        self, cart, visa, faults
    ):
        faults("fail_before_capture")
        with pytest.raises(PaymentFailed):
            place(cart, payment_method=visa)
        assert not captures().exists()
        assert PaymentAttempt.objects.get().status == AttemptStatus.FAILED
        faults()
        order = place(cart, payment_method=visa)
        assert captures().count() == 1
        assert order.payment_attempts.get().number == 2
        assert_consistent()

    def test_a_failed_refund_is_retried_by_the_reconciliation(self, cart, visa, faults):
        faults("fail_refund")
        item = cart.items.get()
        # The order cannot be written (a subscription of the product appeared meanwhile): the
        # charge must go back, but the gateway refuses the refund.
        from tests.factories import SubscriptionFactory

        charged = {}

        def buy_meanwhile(attempt):
            charged["attempt"] = attempt
            SubscriptionFactory(account=cart.account, plan=item.plan)
            return attempt

        import checkout.payments.attempts as payments_module

        real_pay = payments_module.pay
        payments_module.pay = lambda attempt: buy_meanwhile(real_pay(attempt))
        try:
            with pytest.raises(CheckoutError):
                place(cart, payment_method=visa)
        finally:
            payments_module.pay = real_pay
        attempt = PaymentAttempt.objects.get()
        assert attempt.status == AttemptStatus.CAPTURED
        assert "refund failed" in attempt.error
        assert not Order.objects.exists()

        reconcile_payments()  # the gateway still refuses: nothing lost, tried again later
        assert PaymentAttempt.objects.get().status == AttemptStatus.CAPTURED
        faults()
        report = reconcile_payments()
        assert report.refunded == 1
        assert PaymentAttempt.objects.get().status == AttemptStatus.REFUNDED
        assert not captures().exists()
        assert_consistent()

    def test_a_double_click_with_a_new_card_is_one_charge(self, cart, faults):
        # Each click tokenizes the card again: the key is the order's, not the card's.
        first = place(cart, new_card=new_card())
        second = place(cart, new_card=new_card())
        assert first == second
        assert SandboxCharge.objects.count() == 1
        assert_consistent()

    def test_a_stale_page_is_refused_when_the_credit_it_promised_changed(self, account):
        """Nothing is due before nor after, but the credit the page promised is not what the
        order would give any more: compared line by line, it is refused."""
        from tests.factories import SubscriptionFactory

        plan = plan_with_prices(monthly="12.00", annual="120.00", max_seats=250)
        subscription = SubscriptionFactory(
            account=account, plan=plan, seat_count=10, current_period_start=date(2026, 7, 1)
        )
        cart = CartFactory(account=account)
        CartItemFactory(
            cart=cart,
            plan=plan,
            product=plan.product,
            cycle=BillingCycle.MONTHLY,
            seat_count=2,
            subscription=subscription,
        )
        cart.refresh_from_db()
        billing = BillingDetails.of_account(account)
        page = preview_order(cart=cart, billing=billing, today=TODAY)
        assert page.amount_due == eur("0.00")
        assert page.credit_added.amount > 0
        subscription.seat_count = 8  # changed meanwhile (another tab, staff)
        subscription.save()
        with pytest.raises(CheckoutError, match="The order changed"):
            place_order(
                cart=cart,
                cart_version=cart.version,
                billing=billing,
                expected_pricing=page.fingerprint,
                actor=cart.owner,
                today=TODAY,
            )
        assert not Order.objects.exists()
        account.refresh_from_db()
        assert account.credit_balance_amount == 0


class TestCheckoutPages:
    @pytest.fixture
    def checkout_page(self, client, cart, visa):
        client.force_login(cart.owner)
        response = client.get(reverse("checkout:checkout"))
        form = response.context["form"]
        data = {name: form[name].value() or "" for name in form.fields}
        data["payment"] = str(visa.pk)
        return client, data

    def test_an_unknown_outcome_shows_a_page_saying_no_double_charge(self, checkout_page, faults):
        client, data = checkout_page
        faults("timeout_after_capture", "lookup_unavailable")
        response = client.post(reverse("checkout:checkout"), data, follow=True)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Your payment is being confirmed" in html
        assert "You will not be charged twice" in html
        assert reverse("checkout:checkout") in html  # a way back
        # Once the gateway answers again, the same page takes the customer to the order.
        faults()
        response = client.get(response.redirect_chain[-1][0], follow=True)
        order = Order.objects.get()
        assert response.redirect_chain[-1][0] == reverse(
            "checkout:order_confirmation", args=[order.number]
        )
        assert_consistent()

    def test_in_french(self, checkout_page, faults, cart):
        client, data = checkout_page
        cart.owner.language = "fr"
        cart.owner.save()
        faults("timeout_after_capture", "lookup_unavailable")
        html = client.post(reverse("checkout:checkout"), data, follow=True).content.decode()
        assert "Votre paiement est en cours de confirmation" in html

    def test_a_failure_before_capture_says_nothing_was_charged(self, checkout_page, faults):
        client, data = checkout_page
        faults("fail_before_capture")
        response = client.post(reverse("checkout:checkout"), data)
        assert response.status_code == 200
        assert "nothing was charged" in response.content.decode()
        assert not Order.objects.exists()

    def test_a_second_place_order_after_the_first_shows_the_order(self, checkout_page):
        client, data = checkout_page
        first = client.post(reverse("checkout:checkout"), data)
        order = Order.objects.get()
        second = client.post(reverse("checkout:checkout"), data)
        assert (
            first.url == second.url == reverse("checkout:order_confirmation", args=[order.number])
        )
        assert SandboxCharge.objects.count() == 1

    def test_another_accounts_payment_page_is_a_404(self, checkout_page, faults, outsider, client):
        client_, data = checkout_page
        faults("timeout_after_capture", "lookup_unavailable")
        client_.post(reverse("checkout:checkout"), data)
        attempt = PaymentAttempt.objects.get()
        client.force_login(outsider)
        url = reverse("checkout:payment_status", args=[attempt.public_id])
        assert client.get(url).status_code == 404


def test_the_reconciliation_command(cart, visa, faults):
    faults("timeout_after_capture", "lookup_unavailable")
    with pytest.raises(PaymentPending):
        place(cart, payment_method=visa)
    faults()
    call_command("reconcile_payments", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Order.objects.count() == 1
    assert_consistent()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.parametrize("fault", ["", "timeout_after_capture", "fail_before_capture"])
def test_two_clicks_at_once_with_new_cards_charge_once(settings, fault):
    """Double-clicking Place Order with a new card: each click tokenizes the card again."""
    settings.SANDBOX_GATEWAY_FAULTS = [fault] if fault else []
    settings.SANDBOX_GATEWAY_DELAY = 0.3  # the second click arrives while the first charges
    cart = CartFactory()
    plan = plan_with_prices()
    CartItemFactory(cart=cart, plan=plan, product=plan.product, seat_count=2)
    cart.refresh_from_db()
    barrier = threading.Barrier(2)
    outcomes = []

    def click():
        try:
            barrier.wait()
            outcomes.append(place(cart, new_card=new_card()))
        except Exception as error:
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert SandboxCharge.objects.filter(succeeded=True).count() <= 1
    orders = {o.pk for o in outcomes if isinstance(o, Order)}
    assert len(orders) <= 1
    unexpected = [o for o in outcomes if not isinstance(o, Order | PaymentPending | PaymentFailed)]
    assert unexpected == []
    settings.SANDBOX_GATEWAY_FAULTS = []
    settings.SANDBOX_GATEWAY_DELAY = 0
    settings.PAYMENT_IN_FLIGHT_SECONDS = 0
    reconcile_payments()
    assert_consistent()
    if fault != "fail_before_capture":
        assert Order.objects.count() == 1
        assert captures().count() == 1
    else:
        assert not captures().exists()


def test_a_seat_change_survives_a_timeout_after_capture(faults, account):
    """Flow B through the same checkout: the unknown outcome is looked up, one charge."""
    from tests.factories import SubscriptionFactory

    account.country = "US"
    account.save()
    plan = plan_with_prices(monthly="12.00", annual="120.00", max_seats=250)
    subscription = SubscriptionFactory(
        account=account, plan=plan, seat_count=10, current_period_start=date(2026, 7, 1)
    )
    PaymentMethodFactory(account=account, gateway_token="tok_sandbox_ok_v", is_default=True)
    cart = CartFactory(account=account)
    CartItemFactory(
        cart=cart,
        plan=plan,
        product=plan.product,
        cycle=BillingCycle.ANNUAL,
        seat_count=12,
        subscription=subscription,
    )
    cart.refresh_from_db()
    faults("timeout_after_capture", "lookup_unavailable")
    with pytest.raises(PaymentPending):
        place(cart, payment_method=account.payment_methods.get())
    subscription.refresh_from_db()
    assert subscription.seat_count == 10  # nothing applied on a guess
    faults()
    reconcile_payments()
    subscription.refresh_from_db()
    assert subscription.seat_count == 12
    assert captures().count() == 1
    assert_consistent()
