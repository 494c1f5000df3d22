"""Query counts of the pages and the POSTs that take money, with grown data (issue 12): each is
the same for an account with 1 subscription and 1 invoice as for one with 50 subscriptions,
1,000 seat assignments and 500 invoices, the cart, the checkout and Place Order the same with 1
and 11 items but for one INSERT per new subscription, and at most the budget the comment
explains (issue 22).

A bare authenticated request is 2 queries (session; the user with their membership and account:
subscriptions.backends.MembershipBackend); every page also reads the cart's item count and
whether the account has quotes (the navigation)."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from moneyed import Money

from billing_center.integrations import events as webhook_events
from billing_center.integrations.events import forget_endpoints
from billing_center.models import AuditAction, AuditEvent, NumberSequence, User
from catalog.models import BillingCycle
from checkout.models import Invoice, Order, OrderLine
from subscriptions.models import Membership, Role, SeatAssignment
from tests.factories import (
    AccountFactory,
    CartFactory,
    CartItemFactory,
    MembershipFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    plan_with_prices,
)
from tests.helpers import checkout_fingerprint

pytestmark = pytest.mark.django_db


def grow(account, *, subscriptions: int, seats_each: int, invoices: int):
    """The account's data, in bulk: subscriptions of distinct products, members holding seats,
    orders with their invoices."""
    subs = [
        SubscriptionFactory(
            account=account,
            plan=plan_with_prices(max_seats=100),
            seat_count=max(seats_each, 1),
            current_period_start=date(2026, 11, 1),
            cycle=BillingCycle.MONTHLY,
            unit_price=Money("14.00", "EUR"),
        )
        for _ in range(subscriptions)
    ]
    users = User.objects.bulk_create(
        User(email=f"m{account.pk}-{i}@grown.test", full_name=f"M {i}") for i in range(seats_each)
    )
    Membership.objects.bulk_create(
        Membership(user=user, account=account, role=Role.MEMBER) for user in users
    )
    SeatAssignment.objects.bulk_create(
        SeatAssignment(subscription=sub, user=user) for sub in subs for user in users
    )
    eur = Money(Decimal("120.00"), "EUR")
    orders = Order.objects.bulk_create(
        Order(
            number=f"ORD-G{account.pk}-{i:05d}",
            idempotency_key=f"grown-{account.pk}-{i}",
            account=account,
            subtotal=eur,
            tax_rate=Decimal("20.00"),
            tax_treatment="standard",
            tax_country="FR",
            tax=Money("24.00", "EUR"),
            total=Money("144.00", "EUR"),
            credit_applied=Money(0, "EUR"),
            amount_charged=Money("144.00", "EUR"),
        )
        for i in range(invoices)
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            kind="renewal",
            product=subs[0].product,
            product_name="P",
            plan_name="T",
            cycle="monthly",
            seat_count=1,
            unit_price=eur,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 2, 1),
            amount=eur,
            subscription=subs[0],
        )
        for order in orders
    )
    Invoice.objects.bulk_create(
        Invoice(
            number=f"INV-2025-{account.pk:03d}{i:05d}",
            year=2025,
            sequence=account.pk * 100000 + i + 1,
            order=order,
            account=account,
            language="en",
            seller_name="S",
            seller_address="A",
            seller_country="IE",
            seller_vat_number="IE6388047V",
            buyer_name="B",
            buyer_address="A",
            buyer_country="FR",
            amount_due=Money("144.00", "EUR"),
        )
        for i, order in enumerate(orders)
    )
    # The activity: a seat change of each subscription (their seat nouns are fetched per page).
    AuditEvent.objects.bulk_create(
        AuditEvent(
            account=account,
            action=AuditAction.CHANGED,
            object_type="subscriptions.subscription",
            object_id=str(sub.pk),
            object_repr=str(sub),
            before={"seat_count": 1},
            after={"seat_count": 2, "cycle": "monthly"},
        )
        for sub in subs
    )
    return subs


@pytest.fixture(autouse=True)
def _this_years_invoice_series(db):
    """The year's invoice numbers have begun (the first invoice of a year creates the row)."""
    for series in ("INV", "Q"):
        NumberSequence.objects.get_or_create(series=series, year=2026)


def small_account():
    account = AccountFactory()
    contact = MembershipFactory(account=account, role=Role.BILLING_CONTACT).user
    PaymentMethodFactory(
        account=account, gateway_token=f"tok_sandbox_ok_small{account.pk}", is_default=True
    )
    subs = grow(account, subscriptions=1, seats_each=1, invoices=1)
    return account, contact, subs


@pytest.fixture
def small(db):
    return small_account()


@pytest.fixture
def grown(db):
    account = AccountFactory()
    contact = MembershipFactory(account=account, role=Role.BILLING_CONTACT).user
    PaymentMethodFactory(account=account, gateway_token="tok_sandbox_ok_grown", is_default=True)
    subs = grow(account, subscriptions=50, seats_each=20, invoices=500)
    return account, contact, subs


def count(client, user, method, url, data=None) -> int:
    return len(statements(client, user, method, url, data))


def statements(client, user, method, url, data=None) -> list[str]:
    client.force_login(user)
    # The webhook endpoints are read once every few seconds per process, not per request:
    # read before counting, as they are in steady state (no endpoint: no outbox row).
    forget_endpoints()
    webhook_events.wanted("any")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url) if method == "GET" else client.post(url, data)
    assert response.status_code in (200, 302), (url, response.status_code)
    return [query["sql"] for query in queries.captured_queries]


def own(sqls: list[str]) -> list[str]:
    """The application's own statements: not the savepoints of the test's transaction (BEGIN
    and COMMIT in production, which Django does not count) nor the sandbox processor's rows
    (a real processor is an HTTP call)."""
    return [
        sql
        for sql in sqls
        if not sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")) and "sandbox_gateway_" not in sql
    ]


# page → (url of the account's objects, the budget and what it is made of)
PAGES = {
    # + open invoices (banner), subscriptions annotated with product, plan and assigned seats,
    # the ended ones (one query), the VAT rate of the next charges (once for the page)
    "dashboard": (lambda subs: reverse("subscriptions:dashboard"), 8),
    # + subscription with product and plan, its seat assignments with users, open invoices,
    # the VAT rate of the next charge
    "subscription": (
        lambda subs: reverse("subscriptions:subscription_detail", args=[subs[0].pk]),
        7,
    ),
    # + the subscription, its seat assignments, the account's people
    "seats": (lambda subs: reverse("subscriptions:seats", args=[subs[0].pk]), 7),
    # + the count for the pages, a page of invoices with their orders, the page's order lines
    # (its descriptions)
    "invoices": (lambda subs: reverse("checkout:invoices"), 7),
    # + a page of events, the count, the seat nouns of the page's subscriptions
    # (billing_center.activity)
    "activity": (lambda subs: reverse("activity"), 7),
    # + the cards
    "payment methods": (lambda subs: reverse("checkout:payment_methods"), 5),
    # + subscription with its assigned seats, plans with prices, the price lookups of the
    # preview, the VAT rate
    "change": (
        lambda subs: (
            reverse("checkout:change_subscription", args=[subs[0].pk])
            + f"?plan={subs[0].plan_id}&cycle=monthly&seat_count=25"
        ),
        10,
    ),
}


# (not "page": that name is pytest-playwright's fixture, which would make these browser tests)
@pytest.mark.parametrize("page_name", sorted(PAGES))
def test_pages_do_not_grow_with_the_account(client, small, grown, page_name):
    url, budget = PAGES[page_name]
    _account, small_contact, small_subs = small
    _account, grown_contact, grown_subs = grown
    with_little = count(client, small_contact, "GET", url(small_subs))
    with_much = count(client, grown_contact, "GET", url(grown_subs))
    assert with_much == with_little, (page_name, with_little, with_much)
    assert with_much <= budget, (page_name, with_much)


def test_the_invoices_list_is_paginated(client, grown):
    _account, contact, _subs = grown
    client.force_login(contact)
    html = client.get(reverse("checkout:invoices")).content.decode()
    shown = set(re.findall(r"INV-2025-\d+", html))
    assert len(shown) == 50  # one page, not 500 rows
    assert "?page=2" in html


def place_order_statements(
    client, account, contact, subs, *, seats_change: bool, new_items: int = 1
) -> list[str]:
    if seats_change:
        cart = fill_cart(account, contact, subs, new_items=0)
    else:
        cart = CartFactory(account=account, owner=contact)
        for _ in range(new_items):
            CartItemFactory(cart=cart, seat_count=3)
    cart.refresh_from_db()
    data = {
        "payment": str(account.payment_methods.get().pk),
        "name": account.name,
        "address_line1": account.address_line1,
        "postal_code": account.postal_code,
        "city": account.city,
        "country": account.country.code,
        "cart_version": cart.version,
        "pricing_fingerprint": checkout_fingerprint(cart),
    }
    sqls = statements(client, contact, "POST", reverse("checkout:checkout"), data)
    order = Order.objects.get(idempotency_key=f"cart-{cart.pk}-v{cart.version}")
    assert order.lines.count() == (2 if seats_change else new_items)
    return sqls


# Place Order, new subscription (issue 22: ≤ 30 statements of its own, ≤ 40 with 11 items):
# session, user with membership and account; the page's cart, items and prices, cards, VAT rate;
# under the locks (account, cart, live subscriptions) the existing order, the rules' checks on
# the items the request read (the cart's version is the same), the VAT rate, the payment
# attempt opened; the charge, the attempt captured; then the same locks again (the pricing
# kept: nothing it read changed), the card's first mandate, the order, its lines, each new
# subscription, the invoice number and the invoice, the audit events in one INSERT, the cart
# emptied, the attempt's order. Whatever the account's size.
@pytest.mark.parametrize("seats_change", [False, True])
def test_place_order_does_not_grow_with_the_account(client, small, grown, seats_change):
    with_little = place_order_statements(client, *small, seats_change=seats_change)
    with_much = place_order_statements(client, *grown, seats_change=seats_change)
    assert len(with_much) == len(with_little)
    assert len(own(with_much)) <= 30, own(with_much)
    # The savepoints of the three transactions, the sandbox's charge, mandate and its lookup.
    assert len(with_much) - len(own(with_much)) <= 9


def test_place_order_with_11_items_adds_one_insert_per_subscription(client, small):
    one = own(place_order_statements(client, *small, seats_change=False, new_items=1))
    other = small_account()
    eleven = own(place_order_statements(client, *other, seats_change=False, new_items=11))
    added = [sql for sql in eleven if sql not in one or eleven.count(sql) > one.count(sql)]
    assert len(eleven) - len(one) == 10, added
    inserted = sum(sql.startswith('INSERT INTO "subscriptions_subscription"') for sql in eleven)
    assert inserted == 11
    assert len(eleven) <= 40


def test_the_checkout_page_does_not_grow_with_the_account(client, small, grown):
    def checkout_page(account, contact, subs):
        cart = CartFactory(account=account, owner=contact)
        CartItemFactory(cart=cart, seat_count=3)
        return count(client, contact, "GET", reverse("checkout:checkout"))

    with_little, with_much = checkout_page(*small), checkout_page(*grown)
    assert with_much == with_little
    # session, user; the cart, its items with plans, products and subscriptions, the plans'
    # prices, the cards, the VAT rate, cart count, has quotes
    assert with_much <= 9


def fill_cart(account, contact, subs, *, new_items: int):
    """A cart of a seat change of the account's first subscription (priced with its credit
    line, as the checkout prices it) and `new_items` new products, each with its own plans and
    prices."""
    cart = CartFactory(account=account, owner=contact)
    sub = subs[0]
    CartItemFactory(
        cart=cart,
        plan=sub.plan,
        product=sub.product,
        cycle=sub.cycle,
        seat_count=sub.seat_count + 2,
        subscription=sub,
    )
    for _ in range(new_items):
        CartItemFactory(cart=cart, seat_count=3)
    return cart


def cart_of(items: int):
    """An account with a subscription and a cart of `items` items (fill_cart)."""
    account, contact, subs = small_account()
    fill_cart(account, contact, subs, new_items=items - 1)
    return account, contact, subs


@pytest.mark.parametrize("url", ["cart:detail", "checkout:checkout"])
def test_the_cart_and_checkout_do_not_grow_with_the_items(client, url):
    one, eleven = cart_of(1), cart_of(11)
    with_one = count(client, one[1], "GET", reverse(url))
    with_eleven = count(client, eleven[1], "GET", reverse(url))
    assert with_eleven == with_one
    # The checkout's budget above; the cart's: session, user; the cart, its items with plans,
    # products and subscriptions, the plans' prices, the VAT rate; the plans sold of every
    # item's product and their prices (the items' Change fields); cart count, has quotes.
    assert with_eleven <= 10


def test_the_cart_page_does_not_grow_with_the_account(client, small, grown):
    def cart_page(account, contact, subs):
        fill_cart(account, contact, subs, new_items=1)
        return count(client, contact, "GET", reverse("cart:detail"))

    with_little, with_much = cart_page(*small), cart_page(*grown)
    assert with_much == with_little
    assert with_much <= 10


def test_a_seat_change_post_does_not_grow_with_the_account(client, small, grown):
    def change(account, contact, subs):
        sub = subs[0]
        url = reverse("checkout:change_subscription", args=[sub.pk])
        data = {"plan": sub.plan_id, "cycle": sub.cycle, "seat_count": sub.seat_count + 3}
        return count(client, contact, "POST", url, data)

    with_little, with_much = change(*small), change(*grown)
    assert with_much == with_little
    # session, user; the subscription with its assigned seats, its plans and prices, the VAT
    # rate; the cart (got or created), locked, the seats counted again under the lock, the item
    # read and written, the cart's version, the item count; four of these are savepoints
    assert with_much <= 17


def corporate(subscriptions: int, seats_each: int):
    account = AccountFactory(portal="corporate", country="US", currency="USD")
    contact = MembershipFactory(account=account, role=Role.BILLING_CONTACT).user
    PaymentMethodFactory(
        account=account, gateway_token=f"tok_sandbox_ok_c{account.pk}", is_default=True
    )
    subs = [
        SubscriptionFactory(
            account=account,
            plan=plan_with_prices(currency="USD", max_seats=100),
            seat_count=seats_each,
            current_period_start=date(2026, 11, 1),
            unit_price=Money("100.00", "USD"),
        )
        for _ in range(subscriptions)
    ]
    return account, contact, subs


@pytest.mark.parametrize(
    "page_name", ["corporate:subscriptions", "corporate:add_seats", "corporate:quotes"]
)
def test_corporate_pages_do_not_grow(client, page_name):
    few, many = corporate(1, 2), corporate(30, 2)
    with_little = count(client, few[1], "GET", reverse(page_name))
    with_much = count(client, many[1], "GET", reverse(page_name))
    assert with_much == with_little
    assert with_much <= 10


def test_save_quote_and_place_service_order_do_not_grow(client):
    def run(account, contact, subs):
        save = count(
            client, contact, "POST", reverse("corporate:add_seats"), {f"seats-{subs[0].pk}": "2"}
        )
        quote = account.quotes.get()
        payment = count(
            client,
            contact,
            "POST",
            reverse("corporate:payment", args=[quote.number]),
            {
                "admin_contact_name": "Ada",
                "admin_contact_email": f"ada{account.pk}@example.test",
                "payment_method": str(account.payment_methods.get().pk),
                "name": account.name,
                "address_line1": "1 Plaza",
                "postal_code": "97477",
                "city": "Springfield",
                "region": "OR",
                "country": "US",
            },
        )
        service_order = quote.service_order
        place = count(
            client,
            contact,
            "POST",
            reverse("corporate:place_service_order", args=[service_order.pk]),
        )
        return save, payment, place

    few = run(*corporate(1, 2))
    many = run(*corporate(30, 2))
    assert many == few
    save, payment, place = many
    assert save <= 25  # locks, eligibility, the subscriptions asked for, prices, VAT, numbers
    assert payment <= 25  # the quote, the card, the billing details saved, taxed again
    assert place <= 15  # placed; the worker runs on commit, outside this request's count


def test_the_add_subscription_page_does_not_grow_with_the_catalog(client):
    """Whether each product can be tried is read for all of them at once (it was 2 queries per
    product with a trial)."""
    _account, contact, _subs = small_account()
    plan_with_prices()
    few = count(client, contact, "GET", reverse("cart:add"))
    for _ in range(5):
        plan_with_prices()
    many = count(client, contact, "GET", reverse("cart:add"))
    assert many == few
    # session, user; products with their plans and prices (3); tried and live products (2);
    # cart count, has quotes
    assert many <= 9
