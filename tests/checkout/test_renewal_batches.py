"""The billing run's renewals in batches (issue 22): the money path takes a piece of renewals
(one per account) through each of its steps in one transaction, with the rows they share read
once; when anything goes wrong in a step, that step is taken again one renewal at a time, so the
outcome is the one a renewal alone would have had."""

import logging
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from moneyed import Money

from catalog.models import BillingCycle
from checkout.billing_run import renewals
from checkout.billing_run.renewals import Outcome, RenewalPayment, renew_together
from checkout.billing_run.run import run_billing
from checkout.models import AttemptStatus, Invoice, Order, PaymentAttempt
from checkout.payments import money_path
from checkout.payments.reconciliation import reconcile_payments
from checkout.sandbox_gateway.models import SandboxCharge
from subscriptions.ledger import move_credit
from subscriptions.models import CreditEntry, CreditKind, Role, Subscription
from tests.factories import (
    AccountFactory,
    MembershipFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    plan_with_prices,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 1)


def eur(amount):
    return Money(Decimal(amount), "EUR")


def due_subscription(*, seats=2, account=None, card=True):
    """A monthly subscription of a new account (with a card), whose period ends today."""
    if account is None:
        account = AccountFactory(country="FR", language="fr")
        MembershipFactory(account=account, role=Role.BILLING_CONTACT)
        if card:
            PaymentMethodFactory(
                account=account, gateway_token=f"tok_sandbox_ok_{account.pk}", is_default=True
            )
    plan = plan_with_prices(monthly="10.00", annual="100.00", max_seats=50)
    return SubscriptionFactory(
        account=account,
        plan=plan,
        cycle=BillingCycle.MONTHLY,
        seat_count=seats,
        unit_price=eur("10.00"),
        current_period_start=date(2026, 2, 1),
    )


def due(subscriptions):
    return [(subscription.pk, subscription.account_id) for subscription in subscriptions]


def renewed_once(subscription) -> bool:
    subscription.refresh_from_db()
    orders = Order.objects.filter(account=subscription.account_id)
    return subscription.current_period_start == TODAY and orders.count() == 1


def statements(work) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        work()
    return [query["sql"] for query in queries.captured_queries]


def test_a_batch_reads_its_accounts_subscriptions_cards_and_rates_once_per_step():
    renew_together(due([due_subscription()]), today=TODAY)  # the year's numbering begins
    few = [due_subscription() for _ in range(2)]
    many = [due_subscription() for _ in range(8)]
    for piece in (few, many):
        sql = statements(lambda piece=piece: renew_together(due(piece), today=TODAY))

        def count(start, sql=sql):
            return len([statement for statement in sql if statement.startswith(start)])

        # Before the charges and after them: one read each, whatever the batch's size.
        assert count('SELECT "subscriptions_account"') == 2
        assert count('SELECT "checkout_paymentmethod"') == 2
        assert count('SELECT "checkout_vatrate"') == 1
        # One statement writes the attempts, and one each the orders, their lines, their
        # invoices (their numbers taken together), the attempts' orders and the audit events.
        assert count('INSERT INTO "checkout_paymentattempt"') == 1
        assert count('INSERT INTO "checkout_order"') == 1
        assert count('INSERT INTO "checkout_orderline"') == 1
        assert count('UPDATE "billing_center_numbersequence"') == 1
        assert count('INSERT INTO "checkout_invoice"') == 1
        assert count('UPDATE "checkout_paymentattempt" SET "order_id"') == 1
        assert count('INSERT INTO "billing_center_auditevent"') == 1
        assert all(renewed_once(subscription) for subscription in piece)
    # Each renewal more costs 6 statements: the sandbox processor's charge (4, in a savepoint),
    # the attempt's capture and the subscription's new period.
    more = [due_subscription() for _ in range(3)]
    three = len(statements(lambda: renew_together(due(more), today=TODAY)))
    six_more = [due_subscription() for _ in range(6)]
    six = len(statements(lambda: renew_together(due(six_more), today=TODAY)))
    assert six - three == 3 * 6


def test_a_renewal_whose_price_changed_after_its_charge_is_given_back_and_the_others_kept(
    monkeypatch,
):
    subscriptions = [due_subscription() for _ in range(3)]
    changing = subscriptions[1]
    real_pay = money_path.attempts.pay

    def pay(attempt):
        paid = real_pay(attempt)
        if attempt.subscription_id == changing.pk:  # staff change the price meanwhile
            Subscription.objects.filter(pk=changing.pk).update(unit_price=eur("12.00"))
        return paid

    monkeypatch.setattr(money_path.attempts, "pay", pay)
    outcomes = renewals.renew_together(due(subscriptions), today=TODAY)

    assert outcomes == [Outcome.PAID, Outcome.PAID]
    assert renewed_once(subscriptions[0])
    assert renewed_once(subscriptions[2])
    changing.refresh_from_db()
    assert changing.current_period_start == date(2026, 2, 1)  # the next run renews it
    attempt = PaymentAttempt.objects.get(subscription=changing)
    assert attempt.status == AttemptStatus.REFUNDED
    assert attempt.order_id is None


def test_an_error_in_a_batchs_write_rolls_it_back_and_each_renewal_is_written_alone(
    monkeypatch, caplog
):
    caplog.set_level(logging.INFO, logger="checkout.payments.money_path")
    subscriptions = [due_subscription() for _ in range(3)]
    failing = subscriptions[2]
    real_after = RenewalPayment._after
    failures = []

    def after(self, state, order):
        written = real_after(self, state, order)
        if self.subscription_id == failing.pk and not failures:
            failures.append(self.subscription_id)  # once: the batch's write, not the retry
            raise RuntimeError("the database went away")
        return written

    monkeypatch.setattr(RenewalPayment, "_after", after)
    outcomes = renew_together(due(subscriptions), today=TODAY)

    assert failures == [failing.pk]
    assert "A batch of 3 payments completes one at a time" in caplog.text
    assert outcomes == [Outcome.PAID] * 3
    assert all(renewed_once(subscription) for subscription in subscriptions)
    # Each charge paid its own order, once; nothing given back, no invoice number skipped.
    attempts = PaymentAttempt.objects.filter(subscription__in=subscriptions)
    assert sorted(attempts.values_list("status", flat=True)) == [AttemptStatus.CAPTURED] * 3
    assert len({attempt.order_id for attempt in attempts}) == 3
    sequences = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert sequences == list(range(sequences[0], sequences[0] + 3))


def test_an_error_that_stays_fails_its_own_renewal_and_gives_its_charge_back(monkeypatch):
    subscriptions = [due_subscription() for _ in range(3)]
    failing = subscriptions[0]
    real_after = RenewalPayment._after

    def after(self, state, order):
        if self.subscription_id == failing.pk:
            raise RuntimeError("a bug in this one")
        return real_after(self, state, order)

    monkeypatch.setattr(RenewalPayment, "_after", after)
    with pytest.raises(RuntimeError):
        renew_together(due(subscriptions), today=TODAY)

    assert renewed_once(subscriptions[1])
    assert renewed_once(subscriptions[2])
    assert not Order.objects.filter(account=failing.account_id).exists()
    attempt = PaymentAttempt.objects.get(subscription=failing)
    assert attempt.status == AttemptStatus.REFUNDED


def test_an_open_attempt_for_another_amount_leaves_its_renewal_pending_and_not_the_others():
    subscriptions = [due_subscription() for _ in range(3)]
    held = subscriptions[1]
    PaymentAttempt.objects.create(
        account=held.account,
        purpose="renewal",
        reference=f"renewal-{held.pk}-{held.current_period_end.isoformat()}",
        idempotency_key=f"renewal-{held.pk}-{held.current_period_end.isoformat()}",
        amount=eur("1.00"),
        payment_method=held.account.payment_methods.get(),
        card_token="tok_sandbox_ok",
        on_session=False,
        subscription=held,
        period_start=held.current_period_end,
        status=AttemptStatus.PENDING,
    )

    outcomes = renew_together(due(subscriptions), today=TODAY)

    assert outcomes == [Outcome.PAID, Outcome.PENDING, Outcome.PAID]
    assert renewed_once(subscriptions[0])
    assert renewed_once(subscriptions[2])
    assert PaymentAttempt.objects.filter(subscription=held).count() == 1


def test_an_accounts_subscriptions_are_renewed_in_turn_with_its_credit_used_once(settings):
    settings.BILLING_RUN_CONCURRENCY = 1
    first = due_subscription(seats=2)  # 20.00 + 20 % VAT = 24.00
    account = first.account
    second = due_subscription(seats=1, account=account)  # 12.00
    move_credit(account=account, amount=eur("30.00"), kind=CreditKind.OTHER, description="Gift")
    other = due_subscription()

    rounds = renewals._rounds(
        [first.pk, second.pk, other.pk],
        {first.pk: account.pk, second.pk: account.pk, other.pk: other.account_id},
    )
    assert [[[pk for pk, _account in piece] for piece in pieces] for pieces in rounds] == [
        [[first.pk, other.pk]],
        [[second.pk]],
    ]
    outcomes = [
        outcome
        for pieces in rounds
        for piece in pieces
        for outcome in renew_together(piece, today=TODAY)
    ]

    assert outcomes == [Outcome.PAID] * 3
    account.refresh_from_db()
    assert account.credit_balance == eur("0.00")
    used = CreditEntry.objects.filter(account=account, kind=CreditKind.USED_FOR_ORDER)
    assert sorted(entry.amount for entry in used) == [eur("-24.00"), eur("-6.00")]
    charged = [order.amount_charged for order in Order.objects.filter(account=account)]
    assert sorted(charged) == [eur("0.00"), eur("6.00")]


def test_pieces_hold_one_subscription_per_account_and_give_every_worker_one(settings):
    settings.BILLING_RUN_CONCURRENCY = 4
    settings.BILLING_RUN_CHUNK = 25
    accounts = {pk: 100 + pk % 10 for pk in range(1, 41)}  # 10 accounts, 4 subscriptions each

    def sizes():
        return [[len(piece) for piece in pieces] for pieces in renewals._rounds(pks, accounts)]

    pks = list(accounts)
    rounds = renewals._rounds(pks, accounts)
    for pieces in rounds:  # a round holds one subscription of each account
        round_accounts = [account for piece in pieces for _pk, account in piece]
        assert sorted(round_accounts) == list(range(100, 110))
    assert sorted(pk for pieces in rounds for piece in pieces for pk, _a in piece) == pks
    assert sizes() == [[3, 3, 3, 1]] * 4
    settings.BILLING_RUN_CONCURRENCY = 1
    settings.BILLING_RUN_CHUNK = 6
    assert sizes() == [[6, 4]] * 4
    settings.BILLING_RUN_CHUNK = 0  # a setting that asks for none: one renewal at a time
    assert sizes() == [[1] * 10] * 4


class TestGatewayFaultsDuringABatch:
    """The billing run's fault drills, with a batch of several accounts."""

    def test_unknown_outcomes_are_pending_then_completed_by_the_reconciliation(self, settings):
        settings.PAYMENT_IN_FLIGHT_SECONDS = 0
        settings.SANDBOX_GATEWAY_FAULTS = ["timeout_after_capture", "lookup_unavailable"]
        subscriptions = [due_subscription() for _ in range(3)]
        assert renew_together(due(subscriptions), today=TODAY) == [Outcome.PENDING] * 3
        assert not Order.objects.exists()

        settings.SANDBOX_GATEWAY_FAULTS = []
        reconcile_payments()
        assert all(renewed_once(subscription) for subscription in subscriptions)
        assert SandboxCharge.objects.count() == 3
        assert renew_together(due(subscriptions), today=TODAY) == []  # nothing due any more

    def test_a_failure_before_capture_renews_nothing_and_the_next_run_does(self, settings):
        settings.SANDBOX_GATEWAY_FAULTS = ["fail_before_capture"]
        subscriptions = [due_subscription() for _ in range(3)]
        assert renew_together(due(subscriptions), today=TODAY) == [Outcome.GATEWAY_FAILED] * 3
        assert not Order.objects.exists()

        settings.SANDBOX_GATEWAY_FAULTS = []
        assert renew_together(due(subscriptions), today=TODAY) == [Outcome.PAID] * 3
        assert all(renewed_once(subscription) for subscription in subscriptions)
        assert SandboxCharge.objects.filter(succeeded=True).count() == 3

    def test_a_run_killed_after_its_first_charge_is_finished_by_the_next_once(
        self, monkeypatch, settings, caplog
    ):
        settings.BILLING_RUN_CONCURRENCY = 1  # the next run takes the three in one batch
        caplog.set_level(logging.INFO, logger="checkout.payments.money_path")
        subscriptions = [due_subscription() for _ in range(3)]
        real_pay = money_path.attempts.pay
        charged = []

        def pay(attempt):
            if charged:
                raise KeyboardInterrupt  # the process is killed during the batch's charges
            charged.append(attempt.pk)
            return real_pay(attempt)

        monkeypatch.setattr(money_path.attempts, "pay", pay)
        with pytest.raises(KeyboardInterrupt):
            renew_together(due(subscriptions), today=TODAY)
        monkeypatch.undo()
        statuses = PaymentAttempt.objects.order_by("subscription").values_list("status", flat=True)
        assert list(statuses) == [AttemptStatus.CAPTURED] + [AttemptStatus.PENDING] * 2
        assert not Order.objects.exists()

        # The next run, once the killed run's attempts are no longer in its hands: the capture
        # is used, the two attempts never charged are looked up, then charged once.
        later = timezone.now() + timedelta(minutes=5)
        with time_machine.travel(later, tick=False):
            report = run_billing(today=TODAY)
        assert report.renewals.counts == {"paid": 3}
        assert "one at a time" not in caplog.text  # as a batch
        assert all(renewed_once(subscription) for subscription in subscriptions)
        assert SandboxCharge.objects.count() == 3
        assert not PaymentAttempt.objects.exclude(status=AttemptStatus.CAPTURED).exists()


def test_a_run_waits_for_a_round_before_the_next_starts(monkeypatch, settings):
    """The pieces of one round go to the workers together; the next round's only once they are
    all done, so an account's second subscription is never renewed beside its first."""
    settings.BILLING_RUN_CONCURRENCY = 4
    first = due_subscription()
    second = due_subscription(account=first.account)
    other = due_subscription()
    handed = []
    real = renewals.concurrently

    def concurrently(work, pieces, *, workers):
        handed.append(sorted(pk for piece in pieces for pk, _account in piece))
        return real(work, pieces, workers=workers)

    monkeypatch.setattr(renewals, "concurrently", concurrently)
    report = run_billing(today=TODAY)

    assert report.renewals.counts == {"paid": 3}
    assert handed == [sorted([first.pk, other.pk]), [second.pk]]
