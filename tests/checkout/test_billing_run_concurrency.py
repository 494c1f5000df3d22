"""The billing run renews accounts in batches, a few batches at a time in one process, their
charges a few at a time once the gateway is slow (issue 22): a gateway's latency does not set
its pace, an account's subscriptions still go one after the other (one credit balance), and
what it writes is what the one-renewal-at-a-time run writes."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from moneyed import Money

from billing_center.pool import concurrently
from catalog.models import BillingCycle
from checkout.billing_run.run import run_billing
from checkout.models import Invoice, InvoiceStatus, Order
from checkout.sandbox_gateway import processor
from checkout.sandbox_gateway.models import SandboxCharge
from subscriptions.models import SubscriptionStatus
from tests.factories import (
    AccountFactory,
    CreditEntryFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    plan_with_prices,
)

TODAY = date(2026, 11, 22)


def eur(amount):
    return Money(Decimal(amount), "EUR")


def make_accounts():
    """Eight accounts of two monthly subscriptions each (two periods to catch up), the first
    with €25 of credit, the last with a card that declines."""
    plans = [plan_with_prices(monthly="10.00", annual="100.00", max_seats=50) for _ in range(2)]
    subscriptions = []
    for n in range(8):
        account = AccountFactory(country="FR", language="fr")
        behaviour = "card_declined" if n == 7 else "ok"
        token = f"tok_sandbox_{behaviour}_{account.pk}"
        PaymentMethodFactory(account=account, gateway_token=token, is_default=True)
        if n == 0:
            account.credit_balance_amount = Decimal("25.00")
            account.save(update_fields=["credit_balance_amount"])
            CreditEntryFactory(account=account, amount=eur("25.00"))
        for plan in plans:
            subscriptions.append(
                SubscriptionFactory(
                    account=account,
                    plan=plan,
                    seat_count=2,
                    unit_price=eur("10.00"),
                    cycle=BillingCycle.MONTHLY,
                    current_period_start=date(2026, 9, 22),
                )
            )
    return subscriptions


def outcome(subscriptions):
    """What the run wrote, by position (not by primary key): comparable between databases."""
    rows = []
    for subscription in subscriptions:
        subscription.refresh_from_db()
        orders = Order.objects.filter(lines__subscription=subscription).order_by("pk")
        rows.append(
            (
                subscription.status,
                subscription.current_period_end,
                [(o.total.amount, o.credit_applied.amount, o.invoice.status) for o in orders],
            )
        )
    return rows


@pytest.fixture
def charges_at_once(monkeypatch):
    """The most charges the sandbox processor was making at the same moment (a list of one)."""
    real, lock = processor.charge, threading.Lock()
    now, most = [0], [0]

    def counted(**kwargs):
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        try:
            return real(**kwargs)
        finally:
            with lock:
                now[0] -= 1

    monkeypatch.setattr(processor, "charge", counted)
    return most


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads need a shared database")
def test_accounts_at_once_write_what_one_at_a_time_writes(settings, charges_at_once):
    settings.SANDBOX_GATEWAY_DELAY = 0.05
    most = charges_at_once

    # One renewal at a time: no batch, one charge after the other.
    settings.BILLING_RUN_CONCURRENCY = 1
    settings.BILLING_RUN_CHUNK = 1
    settings.PAYMENT_CHARGES_AT_ONCE = 1
    subscriptions = make_accounts()
    report = run_billing(today=TODAY, batch_size=50)
    one_at_a_time = outcome(subscriptions)
    assert most[0] == 1
    assert report.renewals.subscriptions == 16

    most[0] = 0  # then the same accounts again (new ones): in batches, charges several at once
    settings.BILLING_RUN_CONCURRENCY = 2
    settings.BILLING_RUN_CHUNK = 25
    settings.PAYMENT_CHARGES_AT_ONCE = 4
    settings.PAYMENT_SLOW_CHARGE_SECONDS = 0.01  # the sandbox's 0.05 s is slow
    subscriptions = make_accounts()
    report = run_billing(today=TODAY, batch_size=50)
    assert most[0] > 1  # charges were made at the same time
    assert outcome(subscriptions) == one_at_a_time
    assert report.renewals.subscriptions == 16
    assert report.renewals.counts == {"paid": 28, "declined": 2}

    # The credit paid the first account's first renewals in order; the declining account's two
    # subscriptions are past due with one open invoice each.
    first = one_at_a_time[0][2]
    assert first[0][1] == Decimal("24.00")  # €24 of the €25 on the first €24 renewal
    assert [row[0] for row in one_at_a_time[14:]] == [SubscriptionStatus.PAST_DUE] * 2
    mine = [s.pk for s in subscriptions]
    open_invoices = Invoice.objects.filter(
        status=InvoiceStatus.OPEN, order__lines__subscription__in=mine
    )
    assert open_invoices.count() == 2
    # Every charge once.
    keys = [
        key
        for key in SandboxCharge.objects.values_list("idempotency_key", flat=True)
        if int(key.split("-")[1]) in mine
    ]
    assert len(keys) == len(set(keys)) == 29  # 30 renewals, one paid by the credit alone


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads need a shared database")
@pytest.mark.parametrize(("delay", "most_at_once"), [(0, 1), (0.05, 4)])
def test_a_batchs_charges_go_several_at_once_only_once_the_gateway_is_slow(
    settings, charges_at_once, delay, most_at_once
):
    settings.SANDBOX_GATEWAY_DELAY = delay
    settings.PAYMENT_SLOW_CHARGE_SECONDS = 0.03
    settings.PAYMENT_CHARGES_AT_ONCE = 4
    settings.BILLING_RUN_CONCURRENCY = 1  # one batch of all eight accounts' first renewals
    most = charges_at_once
    make_accounts()
    report = run_billing(today=TODAY, batch_size=50)
    assert report.renewals.counts == {"paid": 28, "declined": 2}
    assert most[0] == most_at_once


class TestConcurrently:
    def test_results_in_order_and_the_first_error_raised_after_all(self, transactional_db):
        done = []

        def work(n):
            done.append(n)
            if n == 3:
                raise ValueError("three")
            return n * 2

        assert concurrently(lambda n: n * 2, range(6), workers=3) == [0, 2, 4, 6, 8, 10]
        with pytest.raises(ValueError, match="three"):
            concurrently(work, range(6), workers=3)
        assert sorted(done) == [0, 1, 2, 3, 4, 5]

    @pytest.mark.django_db
    def test_inside_a_transaction_one_after_the_other_in_this_thread(self):
        threads = set()

        def work(n):
            threads.add(threading.get_ident())
            return n

        with transaction.atomic():
            assert concurrently(work, range(4), workers=4) == [0, 1, 2, 3]
        assert threads == {threading.get_ident()}
