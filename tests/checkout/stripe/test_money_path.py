"""The money path's fault, authentication, renewal, concurrency and reconciliation drills, with
the Stripe adapter against localstripe instead of the sandbox (tests/checkout/test_payment_faults.py
and test_sca.py run the same drills on the sandbox). Faults are injected in Stripe's HTTP
client (tests.stripe_server.FaultyHTTPClient): a refused create (nothing charged), an answer
lost after Stripe captured, lookups failing, a refund Stripe fails.

What does not run against localstripe, and why:
- charging again with the same idempotency key to learn an unknown outcome: localstripe would
  create a second PaymentIntent (Stripe replays the first). The money path never does it (it
  looks the charge up first); test_recorded.py covers the replay;
- off-session `authentication_required` as Stripe raises it (localstripe leaves the intent
  requires_action; the adapter cancels it and declines the same way): test_recorded.py;
- decline codes other than card_declined: test_recorded.py.
"""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from moneyed import Money

from cart.models import CartItem
from catalog.models import BillingCycle
from checkout.billing_run.run import run_billing
from checkout.invoices.payments import pay_invoice
from checkout.models import AttemptStatus, Invoice, InvoiceStatus, Order, PaymentAttempt
from checkout.payments.attempts import PaymentFailed, PaymentPending, PaymentRequiresAction
from checkout.payments.cards import add_payment_method, finish_card_setup
from checkout.payments.gateway import PaymentDeclined
from checkout.payments.money_path import continue_after_authentication
from checkout.payments.reconciliation import reconcile_payments
from checkout.placement import CheckoutError
from subscriptions.models import Role, SubscriptionStatus
from tests.checkout.stripe.flows import place
from tests.factories import (
    AccountFactory,
    CartFactory,
    CartItemFactory,
    MembershipFactory,
    SubscriptionFactory,
    plan_with_prices,
)
from tests.stripe_server import (
    authenticate,
    authenticate_setup,
    intent_of_action,
    kept_captures,
    new_card,
)

pytestmark = pytest.mark.django_db

ALWAYS = "4000002760003184"


def eur(amount):
    return Money(Decimal(amount), "EUR")


def assert_consistent(base, account):
    """Every payment Stripe kept paid exactly one order; no order was paid twice."""
    for intent in kept_captures(base, account):
        attempt = PaymentAttempt.objects.get(charge_reference=intent.id)
        assert attempt.order is not None, f"{intent.id} captured without an order"
    for order in Order.objects.all():
        assert order.payment_attempts.filter(status=AttemptStatus.CAPTURED).count() <= 1


class TestCheckout:
    def test_a_new_card_pays_and_is_kept_with_its_mandate(self, cart, stripe_faults, localstripe):
        order = place(cart, new_card=new_card(localstripe))
        assert order.amount_charged == eur("864.00")
        attempt = order.payment_attempts.get()
        assert attempt.charge_reference.startswith("pi_")
        card = order.payment_method
        assert (card.brand, card.last4, card.saved, card.is_default) == ("visa", "4242", True, True)
        assert card.mandate == attempt.charge_reference
        [intent] = kept_captures(localstripe, cart.account)
        assert (intent.id, intent.amount) == (attempt.charge_reference, 86400)
        assert_consistent(localstripe, cart.account)

    def test_a_timeout_after_capture_is_settled_by_looking_the_charge_up(
        self, cart, stripe_faults, localstripe
    ):
        stripe_faults("timeout_after_capture")
        order = place(cart, new_card=new_card(localstripe))
        assert order.payment_attempts.get().status == AttemptStatus.CAPTURED
        assert len(kept_captures(localstripe, cart.account)) == 1
        assert_consistent(localstripe, cart.account)

    def test_an_unknown_outcome_is_pending_then_completed_by_the_reconciliation(
        self, cart, stripe_faults, localstripe, django_capture_on_commit_callbacks
    ):
        stripe_faults("timeout_after_capture", "lookup_unavailable")
        with pytest.raises(PaymentPending):
            place(cart, new_card=new_card(localstripe))
        assert not Order.objects.exists()
        reconcile_payments()  # Stripe still cannot be asked: nothing is guessed
        assert PaymentAttempt.objects.get().status == AttemptStatus.PENDING

        stripe_faults()
        with django_capture_on_commit_callbacks(execute=True):
            assert reconcile_payments().completed == 1
        order = Order.objects.get()
        assert order.payment_method.last4 == "4242"
        assert not CartItem.objects.exists()
        assert any(order.number in m.body for m in mail.outbox)
        assert len(kept_captures(localstripe, cart.account)) == 1
        assert_consistent(localstripe, cart.account)
        assert reconcile_payments().completed == 0

    def test_a_refused_create_charges_nothing_and_can_be_tried_again(
        self, cart, stripe_faults, localstripe
    ):
        stripe_faults("fail_before_capture")
        card = new_card(localstripe)
        with pytest.raises(PaymentFailed):
            place(cart, new_card=card)
        assert PaymentAttempt.objects.get().status == AttemptStatus.FAILED
        assert kept_captures(localstripe, cart.account) == []
        stripe_faults()
        order = place(cart, new_card=card)
        assert order.payment_attempts.get().number == 2
        assert len(kept_captures(localstripe, cart.account)) == 1

    def test_a_payment_nothing_used_is_refunded_and_a_failed_refund_retried(
        self, cart, stripe_faults, localstripe, monkeypatch
    ):
        stripe_faults("fail_refund")
        item = cart.items.get()
        import checkout.payments.attempts as payments_module

        real_pay = payments_module.pay

        def buy_meanwhile(attempt):
            paid = real_pay(attempt)
            SubscriptionFactory(account=cart.account, plan=item.plan)
            return paid

        monkeypatch.setattr(payments_module, "pay", buy_meanwhile)
        with pytest.raises(CheckoutError):
            place(cart, new_card=new_card(localstripe))
        monkeypatch.setattr(payments_module, "pay", real_pay)
        attempt = PaymentAttempt.objects.get()
        assert attempt.status == AttemptStatus.CAPTURED
        assert "refund failed" in attempt.error
        assert len(kept_captures(localstripe, cart.account)) == 1

        stripe_faults()
        assert reconcile_payments().refunded == 1
        assert PaymentAttempt.objects.get().status == AttemptStatus.REFUNDED
        assert kept_captures(localstripe, cart.account) == []
        assert_consistent(localstripe, cart.account)

    def test_a_decline_changes_nothing(self, cart, stripe_faults, localstripe):
        with pytest.raises(PaymentDeclined):
            place(cart, new_card=new_card(localstripe, "4000000000000341"))
        assert PaymentAttempt.objects.get().status == AttemptStatus.DECLINED
        assert not Order.objects.exists()
        assert CartItem.objects.exists()
        assert not cart.account.payment_methods.exists()


class TestAuthentication:
    def test_the_customer_authenticates_and_the_order_is_written_once(
        self, cart, stripe_faults, localstripe
    ):
        with pytest.raises(PaymentRequiresAction) as action:
            place(cart, new_card=new_card(localstripe, ALWAYS))
        attempt = action.value.attempt
        assert "/stripe/authenticate/" in action.value.url
        continue_after_authentication(attempt)  # a return before authenticating: nothing
        assert not Order.objects.exists()

        authenticate(localstripe, intent_of_action(action.value.url))
        attempt = continue_after_authentication(attempt)
        order = Order.objects.get()
        assert (attempt.status, attempt.order) == (AttemptStatus.CAPTURED, order)
        continue_after_authentication(attempt)  # coming back twice: nothing more
        assert Order.objects.count() == 1
        assert len(kept_captures(localstripe, cart.account)) == 1

    def test_a_failed_authentication_charges_nothing_and_keeps_the_cart(
        self, cart, stripe_faults, localstripe
    ):
        with pytest.raises(PaymentRequiresAction) as action:
            place(cart, new_card=new_card(localstripe, ALWAYS))
        authenticate(localstripe, intent_of_action(action.value.url), success=False)
        attempt = continue_after_authentication(action.value.attempt)
        assert (attempt.status, attempt.decline_code) == (
            AttemptStatus.DECLINED,
            "authentication_failed",
        )
        assert CartItem.objects.exists()
        assert not cart.account.payment_methods.exists()

    def test_a_customer_who_never_comes_back_is_settled_by_the_reconciliation(
        self, cart, stripe_faults, localstripe
    ):
        with pytest.raises(PaymentRequiresAction) as action:
            place(cart, new_card=new_card(localstripe, ALWAYS))
        authenticate(localstripe, intent_of_action(action.value.url))
        assert reconcile_payments().completed == 1
        assert Order.objects.count() == 1


class TestOffSession:
    @pytest.fixture
    def account(self, stripe_faults):
        account = AccountFactory(country="FR", language="fr")
        MembershipFactory(account=account, role=Role.BILLING_CONTACT)
        return account

    def saved_card(self, account, base, number):
        saving = add_payment_method(
            account=account, new_card=new_card(base, number), make_default=True, actor=None
        )
        if saving.action_url:
            authenticate_setup(base, intent_of_action(saving.action_url))
            saving = finish_card_setup(
                payment_method=saving.payment_method, make_default=True, actor=None
            )
        card = saving.payment_method
        assert (card.saved, card.is_default, card.mandate.startswith("seti_")) == (
            True,
            True,
            True,
        )
        return card

    def subscription(self, account):
        return SubscriptionFactory(
            account=account,
            plan=plan_with_prices(monthly="10.00", annual="100.00"),
            seat_count=2,
            unit_price=eur("10.00"),
            cycle=BillingCycle.MONTHLY,
            current_period_start=date(2026, 10, 22),
        )

    def test_a_saved_card_renews_off_session(self, account, localstripe):
        self.saved_card(account, localstripe, "4242424242424242")
        self.subscription(account)
        run_billing(today=date(2026, 11, 22))
        invoice = Invoice.objects.get()
        assert invoice.status == InvoiceStatus.PAID
        attempt = PaymentAttempt.objects.get()
        assert attempt.on_session is False
        [intent] = kept_captures(localstripe, account)
        assert (intent.id, intent.amount) == (attempt.charge_reference, 2400)  # 2 × 10.00 + VAT

    def test_a_renewal_the_bank_wants_confirmed_is_paid_later_with_pay_now(
        self, account, localstripe
    ):
        card = self.saved_card(account, localstripe, ALWAYS)
        subscription = self.subscription(account)
        run_billing(today=date(2026, 11, 22))
        invoice = Invoice.objects.get()
        subscription.refresh_from_db()
        assert (invoice.status, subscription.status) == (
            InvoiceStatus.OPEN,
            SubscriptionStatus.PAST_DUE,
        )
        assert PaymentAttempt.objects.get().decline_code == "authentication_required"
        assert kept_captures(localstripe, account) == []

        with pytest.raises(PaymentRequiresAction) as action:
            pay_invoice(invoice=invoice, actor=None, payment_method=card)
        authenticate(localstripe, intent_of_action(action.value.url))
        continue_after_authentication(action.value.attempt)
        invoice.refresh_from_db()
        subscription.refresh_from_db()
        assert (invoice.status, subscription.status) == (
            InvoiceStatus.PAID,
            SubscriptionStatus.ACTIVE,
        )
        assert len(kept_captures(localstripe, account)) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.parametrize("fault", ["", "timeout_after_capture"])
def test_two_clicks_at_once_charge_once(stripe_faults, localstripe, fault, settings):
    """Double-clicking Place Order with a new card: each click brings its own PaymentMethod
    (Stripe.js makes one per submit); the key is the order's, so Stripe is asked once: the
    second click waits for the first's answer (within the in-flight window it never charges;
    Stripe would also answer a concurrent request with the same key with a conflict, which
    localstripe does not)."""
    stripe_faults(*([fault] if fault else []))
    settings.PAYMENT_IN_FLIGHT_SECONDS = 120
    settings.PAYMENT_WAIT_SECONDS = 5
    cart = CartFactory()
    plan = plan_with_prices()
    CartItemFactory(cart=cart, plan=plan, product=plan.product, seat_count=2)
    cart.refresh_from_db()
    cards = [new_card(localstripe), new_card(localstripe)]
    barrier = threading.Barrier(2)
    outcomes = []

    def click(card):
        try:
            barrier.wait()
            outcomes.append(place(cart, new_card=card))
        except Exception as error:
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(card,)) for card in cards]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    unexpected = [o for o in outcomes if not isinstance(o, Order | PaymentPending | PaymentFailed)]
    assert unexpected == []
    stripe_faults()
    settings.PAYMENT_IN_FLIGHT_SECONDS = 0
    reconcile_payments()
    assert Order.objects.count() == 1
    assert len(kept_captures(localstripe, cart.account)) == 1
    assert_consistent(localstripe, cart.account)


class TestCorporateServiceOrder:
    """The corporate worker charges service orders off-session with the account's saved card."""

    def run(self, service_order, django_capture_on_commit_callbacks):
        from corporate_portal.tasks import process_service_order

        with django_capture_on_commit_callbacks(execute=True):
            process_service_order.call(service_order.pk)
        service_order.refresh_from_db()
        return service_order

    def with_card(self, localstripe, number):
        from tests.corporate_portal.test_payment_faults import placed_service_order

        service_order, _webinar = placed_service_order()
        card = service_order.payment_method
        # A card of Stripe's, not attached to the account's customer yet: the adapter attaches
        # it before the first charge.
        card.gateway_token = new_card(localstripe, number).card.token
        card.save(update_fields=["gateway_token"])
        return service_order

    def test_it_is_charged_in_usd_cents_once_even_after_a_lost_answer(
        self, stripe_faults, localstripe, django_capture_on_commit_callbacks
    ):
        from corporate_portal.models import ServiceOrderStatus

        service_order = self.with_card(localstripe, "4242424242424242")
        stripe_faults("timeout_after_capture")
        service_order = self.run(service_order, django_capture_on_commit_callbacks)
        assert service_order.status == ServiceOrderStatus.COMPLETED
        attempt = PaymentAttempt.objects.get()
        assert (attempt.on_session, attempt.status) == (False, AttemptStatus.CAPTURED)
        [intent] = kept_captures(localstripe, service_order.account)
        assert (intent.id, intent.currency) == (attempt.charge_reference, "usd")
        assert intent.amount == int(attempt.amount.amount * 100)

    def test_a_card_the_bank_wants_confirmed_fails_it_with_why(
        self, stripe_faults, localstripe, django_capture_on_commit_callbacks
    ):
        from corporate_portal.models import ServiceOrderStatus

        service_order = self.with_card(localstripe, ALWAYS)
        service_order = self.run(service_order, django_capture_on_commit_callbacks)
        assert service_order.status == ServiceOrderStatus.FAILED
        assert "Your bank asks you to confirm this payment" in service_order.failure_reason
        assert PaymentAttempt.objects.get().decline_code == "authentication_required"
        assert kept_captures(localstripe, service_order.account) == []
