"""The billing lifecycle over time (issue 10): renewals, dunning, trials, cancellation, with
time-machine walking the calendar and the billing run driven by the clock or by --today."""

import re
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import translation
from moneyed import Money

from catalog.models import BillingCycle
from checkout.billing_run.run import run_billing
from checkout.models import (
    AttemptStatus,
    Invoice,
    InvoiceStatus,
    Order,
    PaymentAttempt,
)
from checkout.payments.reconciliation import reconcile_payments
from checkout.sandbox_gateway.models import SandboxCharge
from subscriptions.models import CreditEntry, Portal, Role, SubscriptionStatus
from tests.factories import (
    AccountFactory,
    CreditEntryFactory,
    MembershipFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    TrialFactory,
    plan_with_prices,
)
from tests.helpers import sandbox_token

pytestmark = pytest.mark.django_db

DUBLIN = ZoneInfo("Europe/Dublin")


def eur(amount):
    return Money(Decimal(amount), "EUR")


@pytest.fixture
def account(db):
    account = AccountFactory(country="FR", language="fr")
    MembershipFactory(account=account, role=Role.BILLING_CONTACT)
    return account


@pytest.fixture
def visa(account):
    return PaymentMethodFactory(
        account=account, gateway_token="tok_sandbox_ok_visa", is_default=True
    )


@pytest.fixture
def declining_card(account):
    """The sandbox's 4000 0000 0000 0341: saved fine, every later charge declined."""
    return PaymentMethodFactory(
        account=account,
        gateway_token="tok_sandbox_card_declined_0341",
        is_default=True,
        last4="0341",
    )


def subscription_of(account, *, cycle=BillingCycle.MONTHLY, start=date(2026, 1, 31), **fields):
    plan = plan_with_prices(monthly="10.00", annual="100.00", max_seats=50)
    price = eur("10.00") if cycle == BillingCycle.MONTHLY else eur("100.00")
    defaults = {"seat_count": 2, "unit_price": price, "cycle": cycle, "current_period_start": start}
    return SubscriptionFactory(account=account, plan=plan, **{**defaults, **fields})


def walk(first: date, last: date):
    """Every day from first to last, the clock on that day: the run bills for the clock."""
    day = first
    while day <= last:
        with time_machine.travel(datetime(day.year, day.month, day.day, 2, tzinfo=DUBLIN)):
            yield day, run_billing()
        day += timedelta(days=1)


def ledger_matches(account) -> bool:
    account.refresh_from_db()
    total = sum((e.amount.amount for e in CreditEntry.objects.filter(account=account)), Decimal(0))
    return account.credit_balance_amount == total


class TestAYearOfRenewals:
    def test_monthly_and_annual_renew_with_gapless_numbers_credit_first(self, account, visa):
        monthly = subscription_of(account)  # Jan 31: Feb 28, Mar 31, Apr 30…
        annual = subscription_of(
            account, cycle=BillingCycle.ANNUAL, start=date(2025, 6, 1), seat_count=3
        )
        account.credit_balance_amount = Decimal("30.00")
        account.save()
        CreditEntryFactory(account=account, amount=eur("30.00"))

        for _day, _report in walk(date(2026, 2, 1), date(2027, 1, 31)):
            assert ledger_matches(account)

        monthly.refresh_from_db()
        annual.refresh_from_db()
        # SPEC anchor day: bought on the 31st, it renews on the 31st, or the month's last day.
        ends = list(
            Order.objects.filter(lines__subscription=monthly)
            .order_by("pk")
            .values_list("lines__period_end", flat=True)
        )
        assert ends[:3] == [date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31)]
        assert len(ends) == 12  # Feb 28 → Mar 31 → … → Jan 31 2027: one a month, in order
        assert (monthly.current_period_start, monthly.current_period_end) == (
            date(2027, 1, 31),
            date(2027, 2, 28),
        )
        # The annual one renewed once, on 2026-06-01, for a year.
        assert (annual.current_period_start, annual.current_period_end) == (
            date(2026, 6, 1),
            date(2027, 6, 1),
        )
        assert Order.objects.filter(lines__subscription=annual).count() == 1
        numbers = sorted(Invoice.objects.values_list("year", "sequence"))
        for year in {y for y, _s in numbers}:
            sequences = [s for y, s in numbers if y == year]
            assert sequences == list(range(1, len(sequences) + 1))  # gapless each year
        # The first renewal (2 × 10 + 20 % VAT = 24.00) used the 30.00 of credit first.
        first = Order.objects.order_by("pk").first()
        assert (first.credit_applied, first.amount_charged) == (eur("24.00"), eur("0.00"))
        second = Order.objects.order_by("pk")[1]
        assert second.credit_applied == eur("6.00")
        assert second.amount_charged == eur("18.00")
        assert all(i.status == InvoiceStatus.PAID for i in Invoice.objects.all())
        assert (
            SandboxCharge.objects.filter(refunded=False).count()
            == Order.objects.filter(amount_charged__gt=0).count()
        )

    def test_a_missed_week_or_months_are_caught_up_in_order(self, account, visa):
        monthly = subscription_of(account, start=date(2026, 7, 10))
        report = run_billing(today=date(2026, 11, 22))  # 4 periods ended since
        assert report.renewals.counts == {"paid": 4}
        monthly.refresh_from_db()
        assert (monthly.current_period_start, monthly.current_period_end) == (
            date(2026, 11, 10),
            date(2026, 12, 10),
        )
        starts = [
            line.period_start
            for order in Order.objects.order_by("pk")
            for line in order.lines.all()
        ]
        assert starts == [
            date(2026, 8, 10),
            date(2026, 9, 10),
            date(2026, 10, 10),
            date(2026, 11, 10),
        ]

    def test_running_twice_the_same_day_changes_nothing(self, account, visa):
        subscription_of(account, start=date(2026, 10, 22))
        first = run_billing(today=date(2026, 11, 22))
        assert first.renewals.renewed == 1
        counts = (Order.objects.count(), SandboxCharge.objects.count(), len(mail.outbox))
        second = run_billing(today=date(2026, 11, 22))
        assert second.renewals.renewed == 0
        assert (Order.objects.count(), SandboxCharge.objects.count(), len(mail.outbox)) == counts

    def test_the_renewal_is_taxed_by_the_current_decision_and_emailed(
        self, account, visa, django_capture_on_commit_callbacks
    ):
        subscription_of(account, start=date(2026, 10, 22))
        with django_capture_on_commit_callbacks(execute=True):
            run_billing(today=date(2026, 11, 22))
        order = Order.objects.get()
        assert (order.subtotal, order.tax, order.total) == (eur("20.00"), eur("4.00"), eur("24.00"))
        assert order.idempotency_key.startswith("renewal-")
        assert SandboxCharge.objects.get().idempotency_key == order.idempotency_key
        (receipt,) = [m for m in mail.outbox if order.invoice.number in m.subject]
        assert "24,00" in receipt.body  # the account's language: French

    def test_a_corporate_account_renews_on_its_automatic_card(self):
        account = AccountFactory(portal=Portal.CORPORATE, country="US", currency="USD")
        PaymentMethodFactory(account=account, gateway_token="tok_sandbox_ok_c", is_default=True)
        plan = plan_with_prices(currency="USD")
        SubscriptionFactory(
            account=account,
            plan=plan,
            unit_price=Money("100", "USD"),
            cycle=BillingCycle.ANNUAL,
            current_period_start=date(2025, 11, 22),
        )
        assert run_billing(today=date(2026, 11, 22)).renewals.counts == {"paid": 1}
        assert SandboxCharge.objects.get().amount == Money("1000.00", "USD")

    def test_the_command_with_today(self, account, visa):
        subscription_of(account, start=date(2026, 10, 22))
        call_command("run_billing", "--today", "2026-11-22", stdout=open("/dev/null", "w"))  # noqa: SIM115
        assert Order.objects.count() == 1

    def test_the_command_refuses_a_bad_date(self):
        from django.core.management import CommandError

        with pytest.raises(CommandError, match="YYYY-MM-DD"):
            call_command("run_billing", "--today", "22/11/2026")


class TestDunning:
    def test_a_declining_card_goes_through_every_step_and_pay_now_reactivates(
        self, account, declining_card, client, django_capture_on_commit_callbacks
    ):
        subscription = subscription_of(account, start=date(2026, 10, 22))

        def run(day):
            with django_capture_on_commit_callbacks(execute=True):
                return run_billing(today=day)

        run(date(2026, 11, 22))
        subscription.refresh_from_db()
        invoice = Invoice.objects.get()
        assert subscription.status == SubscriptionStatus.PAST_DUE
        assert (subscription.current_period_start, subscription.current_period_end) == (
            date(2026, 11, 22),
            date(2026, 12, 22),
        )
        assert (invoice.status, invoice.amount_due) == (InvoiceStatus.OPEN, eur("24.00"))
        assert invoice.next_retry_on == date(2026, 11, 25)
        failed = [m for m in mail.outbox if invoice.number in m.subject]
        assert len(failed) == 1
        assert "Paiement en retard" in failed[0].subject  # in the account's language
        assert reverse("checkout:pay_invoice", args=[invoice.number]) in failed[0].body

        run(date(2026, 11, 24))  # not yet
        assert Invoice.objects.get().retries_done == 0
        for day, retry_next in [
            (date(2026, 11, 25), date(2026, 11, 27)),  # 3 days after: next at 5
            (date(2026, 11, 27), date(2026, 11, 29)),  # 5 days after: next at 7
        ]:
            run(day)
            invoice.refresh_from_db()
            assert invoice.next_retry_on == retry_next
            subscription.refresh_from_db()
            assert subscription.status == SubscriptionStatus.PAST_DUE
        run(date(2026, 11, 29))  # the last retry: suspended
        invoice.refresh_from_db()
        subscription.refresh_from_db()
        assert (invoice.retries_done, invoice.next_retry_on) == (3, None)
        assert subscription.status == SubscriptionStatus.UNPAID
        emails = [m for m in mail.outbox if invoice.number in m.subject]
        assert len(emails) == 4  # the failure and each retry's
        assert SandboxCharge.objects.filter(succeeded=True).count() == 0
        run(date(2026, 12, 30))  # suspended: not renewed, no more retries
        assert Order.objects.count() == 1

        # Staff see it in the admin.
        # The billing contact pays now with the 4242 card: paid, active again.
        client.force_login(account.memberships.get(role=Role.BILLING_CONTACT).user)
        page = client.get(reverse("subscriptions:dashboard")).content.decode()
        assert reverse("checkout:pay_invoice", args=[invoice.number]) in page
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("checkout:pay_invoice", args=[invoice.number]),
                {
                    "payment": "new",
                    "card_token": sandbox_token("4242424242424242"),
                    "cardholder_name": "Camille Laurent",
                },
            )
        assert response.status_code == 302
        invoice.refresh_from_db()
        subscription.refresh_from_db()
        assert invoice.status == InvoiceStatus.PAID
        assert subscription.status == SubscriptionStatus.ACTIVE
        order = invoice.order
        assert order.amount_charged == eur("24.00")
        assert order.payment_method.last4 == "4242"
        assert SandboxCharge.objects.filter(succeeded=True).count() == 1
        page = client.get(reverse("subscriptions:dashboard")).content.decode()
        assert reverse("checkout:pay_invoice", args=[invoice.number]) not in page
        # Reactivated after its period ended: the next run renews what it missed.
        run(date(2026, 12, 30))
        subscription.refresh_from_db()
        assert subscription.current_period_end == date(2027, 1, 22)

    def test_a_corporate_account_pays_its_open_invoice_from_its_portal(
        self, client, settings, django_capture_on_commit_callbacks
    ):
        """A declined renewal on a corporate account's automatic card: its Subscriptions and
        Invoices pages say so, and Pay now (the invoice page, the email's link) is open to it."""
        account = AccountFactory(
            portal=Portal.CORPORATE, country="US", currency="USD", language="fr"
        )
        contact = MembershipFactory(account=account, role=Role.BILLING_CONTACT).user
        PaymentMethodFactory(
            account=account, gateway_token="tok_sandbox_card_declined_0341", is_default=True
        )
        subscription = SubscriptionFactory(
            account=account,
            plan=plan_with_prices(currency="USD"),
            unit_price=Money("100", "USD"),
            cycle=BillingCycle.ANNUAL,
            current_period_start=date(2025, 11, 22),
        )
        with django_capture_on_commit_callbacks(execute=True):
            run_billing(today=date(2026, 11, 22))
        invoice = Invoice.objects.get()
        subscription.refresh_from_db()
        assert (invoice.status, subscription.status) == (
            InvoiceStatus.OPEN,
            SubscriptionStatus.PAST_DUE,
        )
        pay_url = reverse("checkout:pay_invoice", args=[invoice.number])
        [email] = [m for m in mail.outbox if invoice.number in m.subject]
        assert pay_url in email.body

        client.force_login(contact)
        for page in ("corporate:subscriptions", "corporate:invoices"):
            html = client.get(reverse(page)).content.decode()
            assert "Paiement en retard" in html, page
            assert pay_url in html, page
        assert (
            pay_url
            in client.get(
                reverse("checkout:invoice_detail", args=[invoice.number])
            ).content.decode()
        )
        page = client.get(pay_url)
        assert page.status_code == 200
        assert reverse("corporate:invoices") in page.content.decode()  # its own Invoices page

        # A timeout after the capture: the waiting page leads back to the invoice, then the
        # reconciliation completes the payment.
        settings.SANDBOX_GATEWAY_FAULTS = ["timeout_after_capture", "lookup_unavailable"]
        card = {
            "payment": "new",
            "card_token": sandbox_token("4242424242424242"),
            "cardholder_name": "Ada Globex",
        }
        response = client.post(pay_url, card)
        assert response.status_code == 302
        waiting = client.get(response.url)
        html = waiting.content.decode()
        assert waiting.status_code == 200
        assert reverse("checkout:invoice_detail", args=[invoice.number]) in html
        assert reverse("corporate:subscriptions") in html
        assert reverse("checkout:checkout") not in html
        settings.SANDBOX_GATEWAY_FAULTS = []
        settings.PAYMENT_IN_FLIGHT_SECONDS = 0
        with django_capture_on_commit_callbacks(execute=True):
            reconcile_payments()
        invoice.refresh_from_db()
        subscription.refresh_from_db()
        assert (invoice.status, subscription.status) == (
            InvoiceStatus.PAID,
            SubscriptionStatus.ACTIVE,
        )
        assert SandboxCharge.objects.filter(succeeded=True).count() == 1
        assert client.get(response.url).url == reverse(
            "checkout:invoice_detail", args=[invoice.number]
        )
        assert pay_url not in client.get(reverse("corporate:subscriptions")).content.decode()

    def test_paying_while_past_due_stops_the_retries(self, account, declining_card):
        subscription_of(account, start=date(2026, 10, 22))
        run_billing(today=date(2026, 11, 22))
        invoice = Invoice.objects.get()
        visa = PaymentMethodFactory(account=account, gateway_token="tok_sandbox_ok_2")
        from checkout.invoices.payments import pay_invoice

        pay_invoice(invoice=invoice, actor=None, payment_method=visa)
        report = run_billing(today=date(2026, 11, 25))
        assert report.dunning.paid == report.dunning.failed == 0
        assert SandboxCharge.objects.filter(succeeded=True).count() == 1

    def test_staff_void_an_open_invoice_and_the_subscription_is_active_again(
        self, account, declining_card, admin_client
    ):
        subscription = subscription_of(account, start=date(2026, 10, 22))
        run_billing(today=date(2026, 11, 22))
        invoice = Invoice.objects.get()
        changelist = reverse("admin:checkout_invoice_changelist")
        page = admin_client.get(changelist, {"status__exact": "open"}).content.decode()
        assert invoice.number in page
        admin_client.post(changelist, {"action": "void", "_selected_action": [invoice.pk]})
        invoice.refresh_from_db()
        subscription.refresh_from_db()
        assert invoice.status == InvoiceStatus.VOID
        assert subscription.status == SubscriptionStatus.ACTIVE

    def test_staff_retry_an_open_invoice(self, account, declining_card, admin_client):
        subscription_of(account, start=date(2026, 10, 22))
        run_billing(today=date(2026, 11, 22))
        invoice = Invoice.objects.get()
        declining_card.gateway_token = "tok_sandbox_ok_fixed"  # the bank lifted the block
        declining_card.save()
        changelist = reverse("admin:checkout_invoice_changelist")
        admin_client.post(changelist, {"action": "retry_payment", "_selected_action": [invoice.pk]})
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.PAID

    def test_no_default_card_is_a_failed_payment_not_a_crash(self, account):
        subscription = subscription_of(account, start=date(2026, 10, 22))
        run_billing(today=date(2026, 11, 22))
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.PAST_DUE
        assert Invoice.objects.get().status == InvoiceStatus.OPEN


class TestGatewayFaultsDuringRenewals:
    def test_an_unknown_outcome_is_completed_by_the_reconciliation(self, account, visa, settings):
        settings.PAYMENT_IN_FLIGHT_SECONDS = 0
        settings.SANDBOX_GATEWAY_FAULTS = ["timeout_after_capture", "lookup_unavailable"]
        subscription = subscription_of(account, start=date(2026, 10, 22))
        report = run_billing(today=date(2026, 11, 22))
        assert report.renewals.counts == {"pending": 1}
        assert not Order.objects.exists()
        settings.SANDBOX_GATEWAY_FAULTS = []
        reconcile_payments()
        order = Order.objects.get()
        assert order.amount_charged == eur("24.00")
        subscription.refresh_from_db()
        assert subscription.current_period_end == date(2026, 12, 22)
        assert PaymentAttempt.objects.get().status == AttemptStatus.CAPTURED
        assert run_billing(today=date(2026, 11, 22)).renewals.renewed == 0  # idempotent

    def test_a_failure_before_capture_renews_nothing_and_the_next_run_does(
        self, account, visa, settings
    ):
        settings.SANDBOX_GATEWAY_FAULTS = ["fail_before_capture"]
        subscription = subscription_of(account, start=date(2026, 10, 22))
        assert run_billing(today=date(2026, 11, 22)).renewals.counts == {"gateway_failed": 1}
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.ACTIVE  # not the customer's fault
        settings.SANDBOX_GATEWAY_FAULTS = []
        assert run_billing(today=date(2026, 11, 23)).renewals.counts == {"paid": 1}
        assert SandboxCharge.objects.filter(succeeded=True).count() == 1


class TestTrials:
    def test_a_trial_reminds_expires_and_can_be_bought(
        self, account, visa, client, django_capture_on_commit_callbacks
    ):
        trial = subscription_of(
            account,
            status=SubscriptionStatus.TRIALING,
            start=date(2026, 11, 10),
            current_period_end=date(2026, 11, 24),
            trial_end=date(2026, 11, 24),
        )
        TrialFactory(
            account=account,
            product=trial.product,
            started_on=date(2026, 11, 10),
            ends_on=date(2026, 11, 24),
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert run_billing(today=date(2026, 11, 20)).trials_reminded == 0
            assert run_billing(today=date(2026, 11, 21)).trials_reminded == 1  # 3 days before
            assert run_billing(today=date(2026, 11, 22)).trials_reminded == 0  # once
        assert len([m for m in mail.outbox if trial.product.name in m.subject]) == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert run_billing(today=date(2026, 11, 24)).trials_expired == 1
        trial.refresh_from_db()
        assert trial.status == SubscriptionStatus.EXPIRED
        assert len([m for m in mail.outbox if trial.product.name in m.subject]) == 2
        assert not Order.objects.exists()  # a trial is never charged

        client.force_login(account.memberships.get(role=Role.BILLING_CONTACT).user)
        html = client.get(reverse("subscriptions:dashboard")).content.decode()
        assert "Trial ends" not in html
        assert "Fin de l" not in html
        # Bought after its end: a new paid subscription.
        response = client.post(
            reverse("cart:cycle", args=[trial.product.slug]) + f"?plan={trial.plan_id}&seats=2",
            {"cycle": "monthly"},
        )
        assert response.status_code == 302

    def test_a_trial_seat_change_after_its_end_is_refused_not_a_crash(self, account):
        trial = subscription_of(
            account,
            status=SubscriptionStatus.TRIALING,
            start=date(2026, 11, 1),
            current_period_end=date(2026, 11, 15),
            trial_end=date(2026, 11, 15),
        )
        from subscriptions.services import SubscriptionError, change_trial_seats

        with translation.override("en"), pytest.raises(SubscriptionError, match="trial has ended"):
            change_trial_seats(subscription=trial, seat_count=3, actor=None)


class TestCancellation:
    @pytest.fixture
    def contact(self, account, client):
        client.force_login(account.memberships.get(role=Role.BILLING_CONTACT).user)
        return client

    def test_a_canceled_subscription_is_not_renewed(
        self, account, visa, contact, django_capture_on_commit_callbacks
    ):
        subscription = subscription_of(account, start=date(2026, 11, 1))
        page = contact.get(reverse("subscriptions:cancel", args=[subscription.pk]))
        assert (
            "1 déc. 2026" in page.content.decode()
            or "December 1, 2026" in page.content.decode()
            or "1 décembre 2026" in page.content.decode()
        )
        with django_capture_on_commit_callbacks(execute=True):
            contact.post(reverse("subscriptions:cancel", args=[subscription.pk]))
        subscription.refresh_from_db()
        assert subscription.cancel_at_period_end
        assert any(subscription.product.name in m.subject for m in mail.outbox)
        run_billing(today=date(2026, 12, 1))
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.CANCELED
        assert not Order.objects.exists()

    def test_resumed_before_the_end_it_renews(self, account, visa, contact):
        subscription = subscription_of(account, start=date(2026, 11, 1))
        contact.post(reverse("subscriptions:cancel", args=[subscription.pk]))
        contact.post(reverse("subscriptions:resume", args=[subscription.pk]))
        subscription.refresh_from_db()
        assert not subscription.cancel_at_period_end
        run_billing(today=date(2026, 12, 1))
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.ACTIVE
        assert Order.objects.count() == 1

    def test_a_corporate_account_cannot_cancel(self, account, visa):
        account.portal = Portal.CORPORATE
        account.save()
        subscription = subscription_of(account, start=date(2026, 11, 1))
        from subscriptions.lifecycle import LifecycleError, cancel_at_period_end

        with pytest.raises(LifecycleError, match="Corporate Account Services"):
            cancel_at_period_end(subscription=subscription, actor=None)


class TestNoServerErrorAtAnyDate:
    def test_a_seat_change_after_the_period_end_is_refused_with_a_message(
        self, account, visa, client
    ):
        subscription = subscription_of(account, start=date(2026, 10, 1))  # ended Nov 1
        client.force_login(account.memberships.get(role=Role.BILLING_CONTACT).user)
        url = reverse("checkout:change_subscription", args=[subscription.pk])
        response = client.post(
            url, {"plan": subscription.plan_id, "cycle": "monthly", "seat_count": 5}
        )
        assert response.status_code == 200
        assert "en cours de renouvellement" in response.content.decode()  # French account
        assert not SandboxCharge.objects.exists()

    def test_on_the_last_day_of_the_period_a_change_works(self, account, visa, client):
        subscription = subscription_of(account, start=date(2026, 10, 23))  # ends Nov 23
        client.force_login(account.memberships.get(role=Role.BILLING_CONTACT).user)
        url = reverse("checkout:change_subscription", args=[subscription.pk])
        response = client.post(
            url, {"plan": subscription.plan_id, "cycle": "monthly", "seat_count": 5}
        )
        assert response.status_code == 302


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_two_billing_runs_at_once_charge_each_due_subscription_once(settings):
    settings.SANDBOX_GATEWAY_DELAY = 0.05
    accounts = []
    for _ in range(12):
        account = AccountFactory(country="US")
        PaymentMethodFactory(
            account=account, gateway_token=f"tok_sandbox_ok_{account.pk}", is_default=True
        )
        subscription_of(account, start=date(2026, 9, 22))  # two periods to catch up each
        accounts.append(account)
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            run_billing(today=date(2026, 11, 22), batch_size=3)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Order.objects.count() == 24
    assert SandboxCharge.objects.count() == 24  # each period of each subscription once
    keys = list(SandboxCharge.objects.values_list("idempotency_key", flat=True))
    assert len(set(keys)) == 24


class TestAnchorDay:
    """A purchase or a change sets the day renewals keep (SPEC "Money rules")."""

    def test_a_purchase_on_january_31_renews_on_each_months_last_day_then_a_change_moves_it(
        self, account, visa
    ):
        from tests.helpers import buy, change_seats

        contact = account.memberships.get(role=Role.BILLING_CONTACT).user
        plan = plan_with_prices(monthly="10.00", annual="100.00", max_seats=50)
        with time_machine.travel(datetime(2028, 1, 31, 10, tzinfo=DUBLIN)):
            order = buy(account, contact, plan, 2, visa, cycle=BillingCycle.MONTHLY)
        subscription = order.lines.get().subscription
        assert subscription.billing_anchor_day == 31
        for day in (date(2028, 2, 29), date(2028, 3, 31), date(2028, 4, 30)):
            run_billing(today=day)
            subscription.refresh_from_db()
            assert subscription.current_period_start == day  # renewed on the day it was due
        assert subscription.current_period_end == date(2028, 5, 31)

        with time_machine.travel(datetime(2028, 5, 15, 10, tzinfo=DUBLIN)):
            change_seats(account, contact, subscription, 3, card=visa)
        subscription.refresh_from_db()
        assert (subscription.billing_anchor_day, subscription.current_period_end) == (
            15,
            date(2028, 6, 15),
        )
        run_billing(today=date(2028, 6, 15))
        subscription.refresh_from_db()
        assert subscription.current_period_end == date(2028, 7, 15)


class TestDunningScheduleFromTheLastAttempt:
    def test_after_skipped_runs_retries_keep_their_gaps(self, account, declining_card):
        """Declined on Nov 22; no run until Dec 2. The schedule (3, 5, 7 days after the first
        failure) is kept as gaps from the last attempt: Dec 2, then Dec 4, then Dec 6 — not a
        retry on each of the next run days."""
        subscription = subscription_of(account, start=date(2026, 10, 22))
        run_billing(today=date(2026, 11, 22))
        invoice = Invoice.objects.get()
        assert invoice.next_retry_on == date(2026, 11, 25)

        run_billing(today=date(2026, 12, 2))  # the runs of Nov 23 … Dec 1 never happened
        invoice.refresh_from_db()
        assert (invoice.retries_done, invoice.next_retry_on) == (1, date(2026, 12, 4))
        run_billing(today=date(2026, 12, 3))  # not due: nothing happens
        invoice.refresh_from_db()
        assert invoice.retries_done == 1
        run_billing(today=date(2026, 12, 4))
        invoice.refresh_from_db()
        assert (invoice.retries_done, invoice.next_retry_on) == (2, date(2026, 12, 6))
        run_billing(today=date(2026, 12, 6))
        invoice.refresh_from_db()
        subscription.refresh_from_db()
        assert (invoice.retries_done, invoice.next_retry_on) == (3, None)
        assert subscription.status == SubscriptionStatus.UNPAID


class TestPayingBackASuspendedSubscription:
    """SPEC "D. Around the flows": suspended periods are never charged. Monthly, declined on
    Dec 3, suspended Dec 10, paid back on Apr 1: the paid invoice covers Dec 3 – Jan 3, then a
    new period starts on Apr 1 (charged then, the anchor moves there) — not Jan, Feb and Mar."""

    def test_paid_after_its_period_ended_it_starts_again_on_the_day_of_payment(
        self, account, declining_card, client, django_capture_on_commit_callbacks
    ):
        subscription = subscription_of(account, start=date(2026, 11, 3))
        for day in (date(2026, 12, 3), date(2026, 12, 6), date(2026, 12, 8), date(2026, 12, 10)):
            run_billing(today=day)
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.UNPAID
        invoice = Invoice.objects.get(status=InvoiceStatus.OPEN)
        run_billing(today=date(2027, 3, 15))  # suspended: never renewed
        assert Order.objects.count() == 1

        visa = PaymentMethodFactory(account=account, gateway_token="tok_sandbox_ok_back")
        with (
            time_machine.travel(datetime(2027, 4, 1, 10, tzinfo=DUBLIN)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            client.force_login(account.memberships.get(role=Role.BILLING_CONTACT).user)
            response = client.post(
                reverse("checkout:pay_invoice", args=[invoice.number]), {"payment": str(visa.pk)}
            )
        assert response.status_code == 302, response.content.decode()[:3000]
        assert response.url == reverse("checkout:invoice_detail", args=[invoice.number])
        invoice.refresh_from_db()
        subscription.refresh_from_db()
        assert invoice.status == InvoiceStatus.PAID
        # The new period from the day of payment, renewed at once on the default card (the
        # 0341 card declines it: a new open invoice for Apr 1 – May 1, not for Jan – Mar).
        periods = sorted(Order.objects.values_list("lines__period_start", "lines__period_end"))
        assert periods == [
            (date(2026, 12, 3), date(2027, 1, 3)),
            (date(2027, 4, 1), date(2027, 5, 1)),
        ]
        assert subscription.billing_anchor_day == 1
        run_billing(today=date(2027, 4, 2))
        assert Order.objects.count() == 2  # nothing more

    def test_paid_before_its_period_ended_it_keeps_that_period(self, account, declining_card):
        from checkout.invoices.payments import pay_invoice

        subscription = subscription_of(account, start=date(2026, 11, 3), cycle=BillingCycle.ANNUAL)
        subscription.current_period_start = date(2025, 12, 3)
        subscription.current_period_end = date(2026, 12, 3)
        subscription.save()
        for day in (date(2026, 12, 3), date(2026, 12, 6), date(2026, 12, 8), date(2026, 12, 10)):
            run_billing(today=day)
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.UNPAID
        visa = PaymentMethodFactory(account=account, gateway_token="tok_sandbox_ok_back")
        with time_machine.travel(datetime(2027, 2, 1, 10, tzinfo=DUBLIN)):
            pay_invoice(invoice=Invoice.objects.get(), actor=None, payment_method=visa)
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.ACTIVE
        assert (subscription.current_period_start, subscription.current_period_end) == (
            date(2026, 12, 3),
            date(2027, 12, 3),
        )


def test_one_dunning_email_per_account_per_run_lists_every_open_invoice(
    account, declining_card, django_capture_on_commit_callbacks
):
    """Two subscriptions declined the same day used to send two emails on every run (8 in 7
    days); now each run sends one, listing both invoices, in the account's language."""
    subscription_of(account, start=date(2026, 10, 22))
    subscription_of(account, start=date(2026, 10, 22))
    days = [date(2026, 11, 22), date(2026, 11, 25), date(2026, 11, 27), date(2026, 11, 29)]
    for day in days:
        with django_capture_on_commit_callbacks(execute=True):
            run_billing(today=day)
    numbers = list(Invoice.objects.order_by("pk").values_list("number", flat=True))
    assert len(numbers) == 2
    assert len(mail.outbox) == len(days)  # one per run, not one per invoice
    for email in mail.outbox:
        assert all(number in email.body for number in numbers)
        assert "Paiement en retard\u202f: 2 factures sont ouvertes" in email.subject
        assert "declined" not in email.body  # the reasons are in French too


class TestTheRunSettlesItsOwnPayments:
    """A run whose charges time out after capturing, with lookups unavailable, used to end
    with every charge captured without an order and print "0 still open": its reconciliation
    skipped attempts younger than the in-flight window, its own included."""

    def test_what_it_cannot_settle_is_reported_and_the_command_fails(self, account, visa, settings):
        settings.PAYMENT_IN_FLIGHT_SECONDS = 120  # as in production
        settings.PAYMENT_WAIT_SECONDS = 0
        for _ in range(3):
            subscription_of(account, start=date(2026, 10, 22))
        settings.SANDBOX_GATEWAY_FAULTS = ["timeout_after_capture", "lookup_unavailable"]
        report = run_billing(today=date(2026, 11, 22))
        assert report.renewals.counts == {"pending": 3}
        assert report.payments_left_open == 3
        assert "payments of this run still open: 3" in str(report)
        with pytest.raises(CommandError, match="3 payments of this run are still open"):
            call_command("run_billing", "--today", "2026-11-22", stdout=open("/dev/null", "w"))  # noqa: SIM115

        settings.SANDBOX_GATEWAY_FAULTS = ["timeout_after_capture"]  # lookups answer again
        report = run_billing(today=date(2026, 11, 22))
        assert report.payments_left_open == 0
        assert Order.objects.count() == 3  # each captured charge got its renewal, once
        assert SandboxCharge.objects.filter(succeeded=True).count() == 3

    def test_with_lookups_working_it_settles_at_once(self, account, visa, settings):
        settings.PAYMENT_IN_FLIGHT_SECONDS = 120
        settings.PAYMENT_WAIT_SECONDS = 0
        subscription_of(account, start=date(2026, 10, 22))
        settings.SANDBOX_GATEWAY_FAULTS = ["timeout_after_capture"]
        report = run_billing(today=date(2026, 11, 22))
        assert report.payments_left_open == 0
        assert Order.objects.count() == 1


class TestARunNeverLeavesDueWorkBehindSilently:
    """SPEC "D. Around the flows": what another run holds is waited for or reported with a
    non-zero exit; an earlier --today never blocks a later one; a dead run's leases are
    reclaimed within minutes."""

    def held(self, subscriptions, seconds):
        from django.utils import timezone

        Subscription = subscriptions[0].__class__
        Subscription.objects.filter(pk__in=[s.pk for s in subscriptions]).update(
            billing_lease_until=timezone.now() + timedelta(seconds=seconds)
        )

    def test_rows_another_run_holds_are_reported_and_the_command_fails(self, account, visa):
        subscriptions = [subscription_of(account, start=date(2026, 10, 22)) for _ in range(3)]
        self.held(subscriptions[:2], seconds=600)  # another run is on these two
        report = run_billing(today=date(2026, 11, 22))
        assert report.renewals.renewed == 1
        assert report.renewals.left_behind == 2
        assert "held by another run: 2" in str(report)
        self.held(subscriptions[:2], seconds=600)
        with pytest.raises(CommandError, match="2 due subscriptions or invoices were held"):
            call_command("run_billing", "--today", "2026-11-22", stdout=open("/dev/null", "w"))  # noqa: SIM115

    def test_a_killed_runs_leases_are_waited_for_then_taken(self, account, visa, settings):
        settings.BILLING_RUN_WAIT_SECONDS = 10
        subscriptions = [subscription_of(account, start=date(2026, 10, 22)) for _ in range(2)]
        self.held(subscriptions, seconds=1.5)  # the dead run's lease runs out in a moment
        report = run_billing(today=date(2026, 11, 22))
        assert (report.renewals.renewed, report.renewals.left_behind) == (2, 0)
        assert SandboxCharge.objects.count() == 2

    def test_the_leases_of_a_run_are_minutes_long(self):
        from billing_center.claims import DEFAULT_LEASE

        assert timedelta(minutes=5) >= DEFAULT_LEASE


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_an_earlier_days_run_and_todays_at_once_renew_every_period_once(settings):
    """Yesterday's run (late) and today's start together on the same subscriptions: today's
    waits for the rows yesterday's holds, then renews what is left; by the end every
    subscription is renewed for every period up to today, each charged once."""
    settings.SANDBOX_GATEWAY_DELAY = 0.02
    settings.BILLING_RUN_WAIT_SECONDS = 60
    subscriptions = []
    for _ in range(10):
        account = AccountFactory(country="US")
        PaymentMethodFactory(
            account=account, gateway_token=f"tok_sandbox_ok_{account.pk}", is_default=True
        )
        subscriptions.append(subscription_of(account, start=date(2026, 8, 22)))
    barrier = threading.Barrier(2)
    errors, reports = [], []

    def run(day):
        try:
            barrier.wait()
            reports.append(run_billing(today=day, batch_size=3))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(day,))
        for day in (date(2026, 10, 22), date(2026, 11, 22))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(report.renewals.left_behind == 0 for report in reports)
    for subscription in subscriptions:
        subscription.refresh_from_db()
        assert subscription.current_period_end == date(2026, 12, 22)
    assert Order.objects.count() == 30  # Sep, Oct and Nov for each, once
    assert SandboxCharge.objects.count() == 30


class TestTheFailedCardIsNamed:
    """SPEC "Payments": the page and the email name the card that failed and link to the
    payment methods; Pay now preselects another card when there is one."""

    def test_email_and_pay_now(
        self, account, declining_card, client, django_capture_on_commit_callbacks
    ):
        subscription_of(account, start=date(2026, 10, 22))
        other = PaymentMethodFactory(
            account=account, gateway_token="tok_sandbox_ok_o", last4="4444"
        )
        with django_capture_on_commit_callbacks(execute=True):
            run_billing(today=date(2026, 11, 22))
        invoice = Invoice.objects.get()
        (email,) = mail.outbox
        assert "0341" in email.body  # the card that failed, named
        assert reverse("checkout:payment_methods") in email.body

        client.force_login(account.memberships.get(role=Role.BILLING_CONTACT).user)
        page = client.get(reverse("checkout:pay_invoice", args=[invoice.number])).content.decode()
        assert "Le dernier paiement avec Visa •••• 0341" in page
        assert reverse("checkout:payment_methods") in page
        # The other card is chosen, not the one that just failed (the default).
        checked = [
            re.search(r'value="([^"]+)"', tag).group(1)
            for tag in re.findall(r"<input[^>]*>", page)
            if 'name="payment"' in tag and "checked" in tag
        ]
        assert checked == [str(other.pk)]

    def test_with_no_other_card_a_new_one_is_not_forced(self):
        from checkout.models import PaymentAttempt
        from checkout.selectors import card_to_offer
        from tests.factories import PaymentMethodFactory as Card

        today = date(2026, 11, 22)
        card = Card.build(pk=1, is_default=True, exp_year=2030)
        declined = PaymentAttempt(payment_method=card, decline_code="card_declined")
        assert card_to_offer(cards=[card], failed=declined, today=today) == card
        other = Card.build(pk=2, exp_year=2030)
        expired = Card.build(pk=3, exp_year=2020)
        cards = [card, expired, other]
        assert card_to_offer(cards=cards, failed=declined, today=today) == other
        # The bank only asked the customer to confirm: Pay now offers the same card again.
        confirm = PaymentAttempt(payment_method=card, decline_code="authentication_required")
        assert card_to_offer(cards=cards, failed=confirm, today=today) == card
