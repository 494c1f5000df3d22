"""Strong Customer Authentication (issue 17, SPEC "Payments"): a payment the bank wants the
customer to confirm waits for them, on-session; the money path resumes when they come back and
asks the processor what happened — a forged or repeated return, a double submit, a customer who
never comes back, a timeout around the authentication: never two charges, never a charge
without an order, never an order without a charge. Off-session, a renewal the bank wants
confirmed leaves an open invoice paid later with Pay now."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from moneyed import Money

from cart.models import CartItem
from catalog.models import BillingCycle
from checkout.billing import BillingDetails
from checkout.billing_run.run import run_billing
from checkout.invoices.payments import pay_invoice
from checkout.models import AttemptStatus, Invoice, InvoiceStatus, Order, PaymentAttempt
from checkout.payments.attempts import PaymentPending, PaymentRequiresAction
from checkout.payments.cards import PaymentMethodError, add_payment_method, finish_card_setup
from checkout.payments.money_path import continue_after_authentication
from checkout.payments.reconciliation import reconcile_payments
from checkout.placement import place_order, preview_order
from checkout.sandbox_gateway import processor
from checkout.sandbox_gateway.models import SandboxCharge
from subscriptions.models import Role, SubscriptionStatus
from tests.factories import (
    AccountFactory,
    CartFactory,
    CartItemFactory,
    MembershipFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    plan_with_prices,
)
from tests.helpers import sandbox_new_card

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 22)
ALWAYS = "4000002760003184"  # needs authentication on every charge
UNTIL_SAVED = "4000002500003155"  # on-session; off-session once saved with authentication
ON_SESSION = "4000000000003220"  # on-session only


def eur(amount):
    return Money(Decimal(amount), "EUR")


@pytest.fixture
def cart(db):
    cart = CartFactory()
    plan = plan_with_prices(monthly="14.00", annual="144.00", product__name="GoTo Training")
    CartItemFactory(cart=cart, plan=plan, product=plan.product, seat_count=5)
    cart.refresh_from_db()
    return cart


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


def authenticate(attempt, *, authorized=True):
    """The customer's answer on the bank's page (the sandbox's Authorize / Fail buttons)."""
    reference = attempt.action_url.rstrip("/").rsplit("/", 1)[-1]
    processor.authenticate(reference, authorized=authorized)


def captures():
    return SandboxCharge.objects.filter(succeeded=True, refunded=False)


class TestOnSessionCheckout:
    def test_the_customer_authenticates_and_the_order_is_written_once(self, cart):
        with pytest.raises(PaymentRequiresAction) as action:
            place(cart, new_card=sandbox_new_card(ALWAYS))
        attempt = action.value.attempt
        assert action.value.url.startswith("/sandbox-gateway/authenticate/")
        assert attempt.status == AttemptStatus.PENDING
        assert not Order.objects.exists()
        assert not captures().exists()

        authenticate(attempt)
        attempt = continue_after_authentication(attempt)
        order = Order.objects.get()
        assert (attempt.status, attempt.order) == (AttemptStatus.CAPTURED, order)
        assert order.amount_charged == eur("864.00")
        card = order.payment_method
        assert (card.last4, card.saved, card.is_default, bool(card.mandate)) == (
            "3184",
            True,
            True,
            True,
        )
        assert not CartItem.objects.exists()

        # Coming back again (a second tab, the back button): nothing more.
        continue_after_authentication(attempt)
        assert Order.objects.count() == 1
        assert captures().count() == 1

    def test_a_failed_authentication_charges_nothing_and_keeps_the_cart(self, cart):
        with pytest.raises(PaymentRequiresAction) as action:
            place(cart, new_card=sandbox_new_card(ON_SESSION))
        authenticate(action.value.attempt, authorized=False)
        attempt = continue_after_authentication(action.value.attempt)
        assert (attempt.status, attempt.decline_code) == (
            AttemptStatus.DECLINED,
            "authentication_failed",
        )
        assert not Order.objects.exists()
        assert not captures().exists()
        assert CartItem.objects.exists()
        assert not cart.account.payment_methods.exists()  # the card typed in is not kept

    def test_a_double_submit_while_authenticating_sends_to_the_same_page(self, cart):
        new_card = sandbox_new_card(UNTIL_SAVED)
        with pytest.raises(PaymentRequiresAction) as first:
            place(cart, new_card=new_card)
        with pytest.raises(PaymentRequiresAction) as second:
            place(cart, new_card=new_card)
        assert first.value.url == second.value.url
        assert PaymentAttempt.objects.count() == 1
        assert SandboxCharge.objects.count() == 1

    def test_a_forged_return_changes_nothing(self, cart):
        with pytest.raises(PaymentRequiresAction) as action:
            place(cart, new_card=sandbox_new_card(ALWAYS))
        attempt = continue_after_authentication(action.value.attempt)  # never authenticated
        assert attempt.status == AttemptStatus.PENDING
        assert not Order.objects.exists()
        assert not captures().exists()

    def test_a_customer_who_never_comes_back_is_settled_by_the_reconciliation(self, cart, settings):
        with pytest.raises(PaymentRequiresAction):
            place(cart, new_card=sandbox_new_card(ALWAYS))
        settings.PAYMENT_IN_FLIGHT_SECONDS = 0
        report = reconcile_payments()  # still within the bank's window: left open
        assert report.still_open == 1
        assert PaymentAttempt.objects.get().status == AttemptStatus.PENDING

        later = timezone.now() + timedelta(seconds=settings.SANDBOX_AUTHENTICATION_SECONDS + 60)
        with time_machine.travel(later):
            report = reconcile_payments()
        attempt = PaymentAttempt.objects.get()
        assert (report.settled, report.failed) == (1, 1)
        assert (attempt.status, attempt.decline_code) == (
            AttemptStatus.DECLINED,
            "authentication_failed",
        )
        assert not Order.objects.exists()
        assert not captures().exists()
        assert reconcile_payments().settled == 0  # idempotent

    def test_a_timeout_when_the_bank_asks_still_sends_the_customer_to_it(self, cart, faults):
        faults("timeout_after_capture")
        with pytest.raises(PaymentRequiresAction) as action:
            place(cart, new_card=sandbox_new_card(ALWAYS))
        assert action.value.url
        faults()
        authenticate(action.value.attempt)
        continue_after_authentication(action.value.attempt)
        assert Order.objects.count() == 1
        assert captures().count() == 1

    def test_no_answer_at_all_then_the_bank_page_and_the_reconciliation(self, cart, faults):
        faults("timeout_after_capture", "lookup_unavailable")
        with pytest.raises(PaymentPending) as pending:
            place(cart, new_card=sandbox_new_card(ALWAYS))
        assert not isinstance(pending.value, PaymentRequiresAction)  # unknown: the status page
        faults()
        # The status page asks again: now the processor says the bank waits for the customer.
        with pytest.raises(PaymentRequiresAction) as action:
            place(cart, new_card=sandbox_new_card(ALWAYS))
        assert PaymentAttempt.objects.count() == 1
        authenticate(action.value.attempt)
        report = reconcile_payments()  # the customer authenticated but never came back
        assert report.completed == 1
        assert Order.objects.count() == 1
        assert captures().count() == 1

    def test_a_lookup_failing_on_the_return_writes_nothing_until_it_answers(self, cart, faults):
        with pytest.raises(PaymentRequiresAction) as action:
            place(cart, new_card=sandbox_new_card(ALWAYS))
        authenticate(action.value.attempt)
        faults("lookup_unavailable")
        attempt = continue_after_authentication(action.value.attempt)
        assert attempt.status == AttemptStatus.PENDING
        assert not Order.objects.exists()
        faults()
        attempt = continue_after_authentication(attempt)
        assert attempt.order is not None
        assert captures().count() == 1


class TestOffSession:
    @pytest.fixture
    def account(self):
        account = AccountFactory(country="FR", language="fr")
        MembershipFactory(account=account, role=Role.BILLING_CONTACT)
        return account

    def subscription(self, account):
        plan = plan_with_prices(monthly="10.00", annual="100.00")
        return SubscriptionFactory(
            account=account,
            plan=plan,
            seat_count=2,
            unit_price=eur("10.00"),
            cycle=BillingCycle.MONTHLY,
            current_period_start=date(2026, 10, 22),
        )

    def saved_card(self, account, number):
        """A card saved on the payment methods page, authenticated with the bank."""
        saving = add_payment_method(
            account=account,
            new_card=sandbox_new_card(number),
            make_default=True,
            actor=None,
        )
        assert saving.action_url  # every authentication card asks when it is saved
        processor.authenticate(saving.action_url.rstrip("/").rsplit("/", 1)[-1], authorized=True)
        card = finish_card_setup(
            payment_method=saving.payment_method, make_default=True, actor=None
        ).payment_method
        assert card.saved
        assert card.is_default
        assert card.mandate
        return card

    def test_a_renewal_the_bank_wants_confirmed_leaves_an_open_invoice_and_asks_by_email(
        self, account, django_capture_on_commit_callbacks
    ):
        card = self.saved_card(account, ALWAYS)
        subscription = self.subscription(account)
        with django_capture_on_commit_callbacks(execute=True):
            run_billing(today=date(2026, 11, 22))
        invoice = Invoice.objects.get()
        subscription.refresh_from_db()
        assert invoice.status == InvoiceStatus.OPEN
        assert subscription.status == SubscriptionStatus.PAST_DUE
        attempt = PaymentAttempt.objects.get()
        assert (attempt.on_session, attempt.decline_code) == (False, "authentication_required")
        email = next(m for m in mail.outbox if invoice.number in m.subject)
        assert "Votre banque vous demande de confirmer ce paiement" in email.body  # French
        assert reverse("checkout:pay_invoice", args=[invoice.number]) in email.body

        # Pay now, on-session: the bank asks, the billing contact confirms, the invoice is paid.
        with pytest.raises(PaymentRequiresAction) as action:
            pay_invoice(invoice=invoice, actor=None, payment_method=card)
        authenticate(action.value.attempt)
        attempt = continue_after_authentication(action.value.attempt)
        invoice.refresh_from_db()
        subscription.refresh_from_db()
        assert invoice.status == InvoiceStatus.PAID
        assert subscription.status == SubscriptionStatus.ACTIVE
        assert captures().count() == 1

    def test_3155_saved_with_authentication_renews_off_session(self, account):
        self.saved_card(account, UNTIL_SAVED)
        self.subscription(account)
        run_billing(today=date(2026, 11, 22))
        assert Invoice.objects.get().status == InvoiceStatus.PAID
        assert captures().count() == 1

    def test_3155_without_a_mandate_is_declined_off_session(self, account):
        PaymentMethodFactory(
            account=account,
            gateway_token=processor.tokenize(number=UNTIL_SAVED, exp_month=12, exp_year=2031).token,
            is_default=True,
        )
        self.subscription(account)
        run_billing(today=date(2026, 11, 22))
        assert Invoice.objects.get().status == InvoiceStatus.OPEN
        assert PaymentAttempt.objects.get().decline_code == "authentication_required"

    def test_a_dunning_retry_is_off_session(self, account):
        self.saved_card(account, ALWAYS)
        self.subscription(account)
        run_billing(today=date(2026, 11, 22))
        run_billing(today=date(2026, 11, 25))  # the first retry
        invoice = Invoice.objects.get()
        assert (invoice.status, invoice.retries_done) == (InvoiceStatus.OPEN, 1)
        assert all(not a.on_session for a in PaymentAttempt.objects.all())
        assert not captures().exists()


class TestSavingACard:
    def test_a_card_the_bank_does_not_confirm_is_not_saved(self, account):
        saving = add_payment_method(
            account=account, new_card=sandbox_new_card(ALWAYS), make_default=False, actor=None
        )
        processor.authenticate(saving.action_url.rstrip("/").rsplit("/", 1)[-1], authorized=False)
        with pytest.raises(PaymentMethodError):
            finish_card_setup(payment_method=saving.payment_method, make_default=False, actor=None)
        assert not account.payment_methods.exists()

    def test_a_plain_card_is_saved_at_once_with_its_mandate(self, account):
        saving = add_payment_method(
            account=account, new_card=sandbox_new_card(), make_default=False, actor=None
        )
        card = saving.payment_method
        assert not saving.action_url
        card.refresh_from_db()
        assert card.saved
        assert card.is_default
        assert card.mandate

    def test_a_declined_card_is_not_saved(self, account):
        with pytest.raises(PaymentMethodError):
            add_payment_method(
                account=account,
                new_card=sandbox_new_card("4000000000000002"),
                make_default=False,
                actor=None,
            )
        assert not account.payment_methods.exists()


def test_a_service_order_the_bank_wants_confirmed_fails_with_why_and_charges_nothing(
    django_capture_on_commit_callbacks,
):
    """Corporate service orders are charged by the worker, off-session: a bank that asks for the
    customer's confirmation declines it, and the service order fails with that reason."""
    from corporate_portal.models import ServiceOrderStatus
    from corporate_portal.tasks import process_service_order
    from tests.corporate_portal.test_payment_faults import placed_service_order

    service_order, _webinar = placed_service_order()
    card = service_order.payment_method
    card.gateway_token = processor.tokenize(number=ALWAYS, exp_month=12, exp_year=2031).token
    card.save(update_fields=["gateway_token"])
    with django_capture_on_commit_callbacks(execute=True):
        process_service_order.call(service_order.pk)
    service_order.refresh_from_db()
    assert service_order.status == ServiceOrderStatus.FAILED
    assert "Your bank asks you to confirm this payment" in service_order.failure_reason
    attempt = PaymentAttempt.objects.get()
    assert (attempt.on_session, attempt.decline_code) == (False, "authentication_required")
    assert attempt.service_order_payment.service_order == service_order
    assert not captures().exists()
