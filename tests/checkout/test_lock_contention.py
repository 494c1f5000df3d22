"""Lock contention between accounts on PostgreSQL, over the catalog rows they all share.

Each account's placement or quote must lock its own rows only. A `select_for_update()` joined
to the plan and the product without `of=("self",)` also takes FOR UPDATE locks on those shared
catalog rows. What PostgreSQL then reported on the seat-change flow (issue: 34 of 200 HTTP 500s):
- place_order's `SELECT … FROM subscription JOIN product JOIN plan … FOR UPDATE` locks the
  product row, then the plan row;
- another account's Add to Cart commits at that moment, and its deferred foreign-key checks
  (Django's constraints are DEFERRABLE INITIALLY DEFERRED) take FOR KEY SHARE on the plan row,
  then on the product row: each transaction holds the row the other waits for.
In the corporate portal, quotes locked the products in the order the account had bought them,
so two accounts that bought two products in opposite orders deadlocked the same way.
"""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from moneyed import Money

from cart.models import CartItem
from cart.services import add_change_to_cart, remove_cart_item
from catalog.models import BillingCycle
from checkout.billing import BillingDetails
from checkout.models import Order
from checkout.placement import place_order, preview_order
from checkout.sandbox_gateway.models import SandboxCharge
from corporate_portal.services import SeatRequest, create_quote
from subscriptions.models import Portal, Role, Subscription
from tests.factories import (
    AccountFactory,
    CartFactory,
    MembershipFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    plan_with_prices,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]

TODAY = date(2026, 7, 2)
# Enough accounts and rounds that the code before the fix failed every time we ran it (8 of 8
# and 6 of 6 runs, on 2 busy cores, with 4 to 50 deadlocks a run), and the test after it still
# takes a few seconds.
ACCOUNTS = 10
ROUNDS = 2  # even: every account places ROUNDS / 2 orders
MAX_HESITATIONS = 30
QUOTE_ROUNDS = 8


def _add_seat_to_cart(cart, subscription_id):
    """Add Organizers → one seat more → Add to Cart (its own transaction, as on the page)."""
    subscription = Subscription.objects.select_related("plan", "product", "account").get(
        pk=subscription_id
    )
    add_change_to_cart(
        cart=cart,
        subscription=subscription,
        plan=subscription.plan,
        cycle=subscription.cycle,
        seat_count=subscription.seat_count + 1,
    )


def _hesitate(cart, subscription_id):
    """Add to Cart, then remove it from the cart: a billing contact making up their mind."""
    _add_seat_to_cart(cart, subscription_id)
    remove_cart_item(item=CartItem.objects.get(cart=cart))


def _place(cart, card):
    """Checkout → Place Order with the total the checkout page showed."""
    cart.refresh_from_db()
    billing = BillingDetails.of_account(cart.account)
    expected = preview_order(cart=cart, billing=billing, today=TODAY).fingerprint
    return place_order(
        cart=cart,
        cart_version=cart.version,
        billing=billing,
        expected_pricing=expected,
        actor=cart.owner,
        payment_method=card,
        today=TODAY,
    )


def test_seat_changes_of_many_accounts_on_one_plan_at_the_same_moment():
    """In every round, at one moment, half of the accounts put a seat change in their cart while
    the other half place the change they put there in the round before; then they swap. Every
    Add to Cart and every Place Order must succeed."""
    plan = plan_with_prices(monthly="12.00", annual="120.00", max_seats=1000)
    customers = []
    for index in range(ACCOUNTS):
        account = AccountFactory(country="FR")
        subscription = SubscriptionFactory(
            account=account,
            plan=plan,
            cycle=BillingCycle.ANNUAL,
            seat_count=10,
            unit_price=Money("120.00", "EUR"),
            current_period_start=date(2026, 1, 1),
        )
        card = PaymentMethodFactory(
            account=account, gateway_token=f"tok_sandbox_ok_{account.pk}", is_default=True
        )
        cart = CartFactory(account=account)
        if index % 2:
            _add_seat_to_cart(cart, subscription.pk)  # these place first
        customers.append((index, cart, subscription.pk, card))

    barrier = threading.Barrier(ACCOUNTS)
    placers = ACCOUNTS // 2
    placed = [0] * ROUNDS  # orders placed (or failed) in each round
    count_lock = threading.Lock()
    errors, orders = [], []

    def customer(index, cart, subscription_id, card):
        try:
            for round_number in range(ROUNDS):
                barrier.wait(timeout=120)
                try:
                    if (index + round_number) % 2:
                        try:
                            orders.append(_place(cart, card))
                        finally:
                            with count_lock:
                                placed[round_number] += 1
                    else:
                        # Hesitate for as long as the others are placing their orders, then
                        # put the change in the cart for the next round.
                        for _attempt in range(MAX_HESITATIONS):
                            if placed[round_number] == placers:
                                break
                            _hesitate(cart, subscription_id)
                        _add_seat_to_cart(cart, subscription_id)
                except Exception as error:
                    errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=customer, args=args) for args in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [str(error).splitlines()[0] for error in errors] == []
    assert len(orders) == Order.objects.count() == ACCOUNTS * ROUNDS // 2
    assert not SandboxCharge.objects.filter(refunded=True).exists()
    for index, _cart, subscription_id, _card in customers:
        subscription = Subscription.objects.get(pk=subscription_id)
        assert subscription.seat_count == 10 + ROUNDS // 2
        # The odd accounts' last Add to Cart waits in the cart; the even ones' carts are empty.
        assert CartItem.objects.filter(subscription=subscription).count() == index % 2
    assert all(order.amount_charged.amount > Decimal(0) for order in orders)


def test_quotes_of_many_corporate_accounts_on_two_products_at_the_same_moment():
    """Save Cart and Review for two products at once, in corporate accounts whose subscriptions
    were bought in opposite orders: each quote locks its own subscriptions only, so the order in
    which the products were bought cannot make two quotes wait for each other."""
    plans = [plan_with_prices(monthly="12.00", annual="120.00", max_seats=1000) for _ in range(2)]
    customers = []
    for index in range(ACCOUNTS):
        account = AccountFactory(portal=Portal.CORPORATE, country="US")
        PaymentMethodFactory(
            account=account, gateway_token=f"tok_sandbox_ok_{account.pk}", is_default=True
        )
        ordered = plans if index % 2 else plans[::-1]
        subscriptions = [
            SubscriptionFactory(
                account=account, plan=plan, seat_count=10, unit_price=Money("120.00", "EUR")
            )
            for plan in ordered
        ]
        owner = MembershipFactory(account=account, role=Role.BILLING_CONTACT).user
        customers.append((account, subscriptions, owner))

    barrier = threading.Barrier(ACCOUNTS)
    errors, quotes = [], []

    def customer(account, subscriptions, owner):
        try:
            for round_number in range(QUOTE_ROUNDS):
                barrier.wait(timeout=120)
                try:
                    quotes.append(
                        create_quote(
                            account=account,
                            requests=[SeatRequest(s.pk, round_number + 1) for s in subscriptions],
                            actor=owner,
                            replace_open=True,
                            today=TODAY,
                        )
                    )
                except Exception as error:
                    errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=customer, args=args) for args in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [str(error).splitlines()[0] for error in errors] == []
    assert len(quotes) == ACCOUNTS * QUOTE_ROUNDS
    for account, _subscriptions, _owner in customers:
        # One open quote per account, the last one, with both products.
        open_quotes = account.quotes.filter(status="open")
        assert [q.lines.count() for q in open_quotes] == [2]


ASSIGNMENT_ROUNDS = 6


def test_seat_assignment_place_order_and_a_renewal_of_one_account_at_once():
    """Seat assignment used to lock the subscription before the account, the opposite of every
    other writer: with Place Order holding the account and waiting for the subscription while
    an assignment held the subscription and waited for the account (its audit row's foreign key
    check), PostgreSQL reported `deadlock detected`. Now every writer takes the account first
    (billing_center.locks): assigning and unassigning seats, placing seat changes and renewing,
    all on one account at the same moments, each succeeds."""
    from checkout.billing_run.renewals import RenewalPayment
    from checkout.payments.money_path import take_payment
    from subscriptions.services import assign_seat, unassign_seat

    plan = plan_with_prices(monthly="12.00", annual="120.00", max_seats=1000)
    renewing_plan = plan_with_prices(monthly="10.00", annual="100.00", max_seats=1000)
    account = AccountFactory(country="FR")
    contact = MembershipFactory(account=account, role=Role.BILLING_CONTACT).user
    people = [MembershipFactory(account=account, role=Role.MEMBER).user for _ in range(4)]
    changing = SubscriptionFactory(
        account=account,
        plan=plan,
        cycle=BillingCycle.ANNUAL,
        seat_count=10,
        unit_price=Money("120.00", "EUR"),
        current_period_start=date(2026, 1, 1),
    )
    renewing = SubscriptionFactory(
        account=account,
        plan=renewing_plan,
        cycle=BillingCycle.MONTHLY,
        seat_count=10,
        unit_price=Money("10.00", "EUR"),
        current_period_start=TODAY.replace(month=TODAY.month - ASSIGNMENT_ROUNDS),
    )
    card = PaymentMethodFactory(
        account=account, gateway_token=f"tok_sandbox_ok_{account.pk}", is_default=True
    )
    cart = CartFactory(account=account, owner=contact)
    barrier = threading.Barrier(4)
    errors = []

    def run(work):
        try:
            for round_number in range(ASSIGNMENT_ROUNDS):
                barrier.wait(timeout=120)
                try:
                    work(round_number)
                except Exception as error:
                    errors.append(error)
        finally:
            connection.close()

    def assign_and_unassign(subscription_id):
        def work(round_number):
            subscription = Subscription.objects.get(pk=subscription_id)
            person = people[round_number % len(people)]
            assign_seat(subscription=subscription, user=person, actor=contact)
            unassign_seat(subscription=subscription, user=person, actor=contact)

        return work

    def place_seat_change(round_number):
        _add_seat_to_cart(cart, changing.pk)
        _place(cart, card)

    def renew(round_number):
        # One period a round (the run would catch up every period at once).
        take_payment(
            RenewalPayment(
                subscription_id=renewing.pk, account_id=account.pk, today=TODAY, period_start=None
            )
        )

    threads = [
        threading.Thread(target=run, args=(work,))
        for work in (
            assign_and_unassign(changing.pk),
            assign_and_unassign(renewing.pk),
            place_seat_change,
            renew,
        )
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [str(error).splitlines()[0] for error in errors] == []
    changing.refresh_from_db()
    renewing.refresh_from_db()
    assert changing.seat_count == 10 + ASSIGNMENT_ROUNDS
    assert renewing.current_period_end > TODAY
    assert not changing.seat_assignments.exists()
    assert not renewing.seat_assignments.exists()
