"""Flow B: Add Organizers… → cart → checkout, proration through the real checkout path."""

import threading
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from moneyed import Money

from billing_center.models import AuditEvent
from cart.models import CartItem
from catalog.models import BillingCycle, SeatNoun
from checkout.billing import BillingDetails
from checkout.models import Order
from checkout.placement import CheckoutError, place_order, preview_order
from checkout.sandbox_gateway.models import SandboxCharge
from subscriptions.models import CreditEntry, SubscriptionStatus
from tests.factories import (
    CartFactory,
    CartItemFactory,
    PaymentMethodFactory,
    SeatAssignmentFactory,
    SubscriptionFactory,
    plan_with_prices,
)

pytestmark = pytest.mark.django_db

SPEC_DAY = "2026-07-02 10:00:00+00:00"


@pytest.fixture
def meeting(account):
    """SPEC's example: annual €120 a seat, 10 seats, period 2026-01-01 → 2027-01-01, 4 assigned."""
    account.country = "US"  # outside the EU: no VAT, so the SPEC figures are the totals
    account.save()
    plan = plan_with_prices(
        monthly="12.00",
        annual="120.00",
        product__name="GoTo Meeting",
        product__seat_noun=SeatNoun.ORGANIZER,
        name="Business",
        max_seats=250,
    )
    subscription = SubscriptionFactory(
        account=account,
        plan=plan,
        cycle=BillingCycle.ANNUAL,
        seat_count=10,
        unit_price=Money("120.00", "EUR"),
        current_period_start=date(2026, 1, 1),
    )
    for _ in range(4):
        SeatAssignmentFactory(subscription=subscription)
    PaymentMethodFactory(account=account, gateway_token="tok_sandbox_ok_visa", is_default=True)
    return subscription


def change_url(subscription):
    return reverse("checkout:change_subscription", args=[subscription.pk])


def change(client, subscription, seats, **extra):
    data = {"plan": subscription.plan_id, "cycle": subscription.cycle, "seat_count": seats, **extra}
    return client.post(change_url(subscription), data)


def checkout_data(client, account):
    page = client.get(reverse("checkout:checkout"))
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {name: "" if value is None else value for name, value in data.items()}
    data["payment"] = str(account.payment_methods.get().pk)
    return data, page


@time_machine.travel(SPEC_DAY, tick=False)
def test_the_spec_example_through_the_real_checkout(contact_client, meeting, account):
    page = contact_client.get(
        change_url(meeting), {"plan": meeting.plan_id, "cycle": "annual", "seat_count": 12}
    )
    html = page.content.decode()
    assert "Add Organizers" in html
    assert "−€601.64" in html or "-€601.64" in html
    assert "€1,440.00" in html
    assert "€838.36" in html

    response = change(contact_client, meeting, 12)
    assert response.url == reverse("checkout:checkout")
    data, page = checkout_data(contact_client, account)
    html = page.content.decode()
    assert "Credit for the unused time" in html
    assert page.context["pricing"].amount_due == Money("838.36", "EUR")
    response = contact_client.post(reverse("checkout:checkout"), data)
    assert response.status_code == 302, response.content.decode()[:2000]

    order = Order.objects.get()
    amounts = sorted(line.amount for line in order.lines.all())
    assert amounts == [Money("-601.64", "EUR"), Money("1440.00", "EUR")]
    assert order.subtotal == Money("838.36", "EUR")
    assert order.amount_charged == Money("838.36", "EUR")
    meeting.refresh_from_db()
    assert meeting.seat_count == 12
    assert (meeting.current_period_start, meeting.current_period_end) == (
        date(2026, 7, 2),
        date(2027, 7, 2),
    )
    event = AuditEvent.objects.filter(object_type="subscriptions.subscription").latest("pk")
    assert event.before["seat_count"] == 10
    assert event.after["seat_count"] == 12
    assert event.actor is not None


@time_machine.travel(SPEC_DAY, tick=False)
def test_removing_seats_mid_period_still_pays_a_new_period(contact_client, meeting, account):
    """SPEC: any change credits the unused time and charges a whole new period from today."""
    change(contact_client, meeting, 8)
    data, page = checkout_data(contact_client, account)
    assert page.context["pricing"].amount_due == Money("358.36", "EUR")  # −601.64 + 8 × 120
    assert contact_client.post(reverse("checkout:checkout"), data).status_code == 302
    assert Order.objects.get().amount_charged == Money("358.36", "EUR")


@time_machine.travel(SPEC_DAY, tick=False)
def test_credit_added_and_then_used(contact_client, meeting, account):
    change(contact_client, meeting, 4, cycle="monthly")  # −601.64 + 48.00 = −553.64
    data, _page = checkout_data(contact_client, account)
    data["payment"] = ""
    response = contact_client.post(reverse("checkout:checkout"), data)
    assert response.status_code == 302, response.context["form"].errors
    order = Order.objects.get()
    assert order.total == Money("-553.64", "EUR")
    assert order.credit_added == Money("553.64", "EUR")
    assert order.amount_charged == Money("0.00", "EUR")
    account.refresh_from_db()
    assert account.credit_balance == Money("553.64", "EUR")
    balance_page = contact_client.get(reverse("subscriptions:balance")).content.decode()
    assert "€553.64" in balance_page

    # Back up to 10 seats: the credit pays first, the rest is charged.
    meeting.refresh_from_db()
    change(contact_client, meeting, 10)
    data, page = checkout_data(contact_client, account)
    # credit for 4 × 12 × 31/31 = 48.00 back; monthly 10 × 12 = 120 → 72.00, all from credit
    assert page.context["pricing"].amount_due == Money("0.00", "EUR")
    contact_client.post(reverse("checkout:checkout"), data)
    account.refresh_from_db()
    assert account.credit_balance == Money("481.64", "EUR")
    ledger = sum(e.amount.amount for e in CreditEntry.objects.filter(account=account))
    assert account.credit_balance_amount == ledger


@pytest.mark.parametrize(
    ("seats", "message"),
    [
        ("3", "4 seats are assigned: unassign 1 first, or keep at least 4 seats."),
        ("0", "Ensure this value is greater than or equal to 1."),
        ("251", "Choose between 1 and 250 seats for Business."),
        ("x", "Enter a whole number of seats."),
        ("100000000000000000000", "Ensure this value is less than or equal to 100000."),
        ("10", "Nothing changes"),
    ],
)
def test_bad_changes_get_a_clear_message_and_change_nothing(
    contact_client, meeting, seats, message
):
    response = change(contact_client, meeting, seats)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CartItem.objects.exists()
    meeting.refresh_from_db()
    assert meeting.seat_count == 10


def test_a_plan_of_another_product_is_refused(contact_client, meeting):
    other = plan_with_prices(product__name="Other")
    response = change(contact_client, meeting, 12, plan=other.pk)
    assert "Choose one of the plans shown." in response.content.decode()
    assert not CartItem.objects.exists()


def test_without_javascript_plus_and_recalculate_work(contact_client, meeting):
    response = change(contact_client, meeting, 10, adjust="+1")
    assert 'value="11"' in response.content.decode()
    assert not CartItem.objects.exists()
    page = contact_client.get(
        change_url(meeting), {"plan": meeting.plan_id, "cycle": "annual", "seat_count": "11"}
    )
    assert "Total due" in page.content.decode()


def test_trial_seat_changes_are_free_and_keep_the_trial_end(contact_client, account):
    plan = plan_with_prices()
    trial = SubscriptionFactory(
        account=account,
        plan=plan,
        status=SubscriptionStatus.TRIALING,
        trial_end=date(2026, 12, 6),
        current_period_start=date(2026, 11, 22),
        current_period_end=date(2026, 12, 6),
        seat_count=3,
    )
    response = change(contact_client, trial, 7)
    assert response.url == reverse("subscriptions:subscription_detail", args=[trial.pk])
    trial.refresh_from_db()
    assert trial.seat_count == 7
    assert trial.trial_end == date(2026, 12, 6)
    assert trial.status == SubscriptionStatus.TRIALING
    assert not Order.objects.exists()
    assert not CartItem.objects.exists()


def test_outsider_404_member_403_anonymous_login_wrong_method(
    client, meeting, member, outsider, billing_contact
):
    assert client.get(change_url(meeting)).url.startswith(reverse("login"))
    client.force_login(member)
    assert client.get(change_url(meeting)).status_code == 403
    client.force_login(outsider)
    assert client.get(change_url(meeting)).status_code == 404
    assert client.post(change_url(meeting), {"seat_count": 12}).status_code == 404
    client.force_login(billing_contact)
    assert client.put(change_url(meeting)).status_code == 405


def test_an_ended_subscription_cannot_be_changed(contact_client, meeting):
    meeting.status = SubscriptionStatus.CANCELED
    meeting.save()
    assert contact_client.get(change_url(meeting)).status_code == 404


def test_balance_page_checklist(client, contact_client, member, outsider):
    url = reverse("subscriptions:balance")
    assert "No credit yet." in contact_client.get(url).content.decode()
    assert contact_client.post(url).status_code == 405
    client.force_login(member)
    assert client.get(url).status_code == 403


def test_change_page_query_count(contact_client, meeting, django_assert_num_queries):
    # session, user with membership + account, …
    with django_assert_num_queries(7):
        # session, user, membership, subscription with its assigned count, plans + prices (2),
        # cart count, has quotes
        contact_client.get(change_url(meeting))


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_two_changes_of_one_subscription_at_the_same_moment_are_serialized(account):
    """Two billing contacts change one subscription at the same moment (paid from credit, so
    no card is involved): the second is priced on what the first left, and the ledger adds up."""
    from tests.factories import CreditEntryFactory, MembershipFactory

    account.country = "US"
    account.credit_balance_amount = Decimal("2000.00")
    account.save()
    CreditEntryFactory(account=account, amount=Money("2000.00", "EUR"))
    plan = plan_with_prices(monthly="12.00", annual="120.00", max_seats=250)
    subscription = SubscriptionFactory(
        account=account,
        plan=plan,
        seat_count=10,
        unit_price=Money("120.00", "EUR"),
        current_period_start=date(2026, 1, 1),
    )
    carts = []
    for seats in (8, 6):
        owner = MembershipFactory(account=account, role="billing_contact").user
        cart = CartFactory(account=account, owner=owner)
        CartItemFactory(
            cart=cart, plan=plan, product=plan.product, seat_count=seats, subscription=subscription
        )
        cart.refresh_from_db()
        carts.append(cart)
    today = date(2026, 7, 2)
    billing = BillingDetails.of_account(account)
    barrier = threading.Barrier(2)
    outcomes = []

    # Each billing contact's checkout page, priced before either order was placed.
    pages = {cart.pk: preview_order(cart=cart, billing=billing, today=today) for cart in carts}

    def submit(cart):
        try:
            barrier.wait()
            outcomes.append(
                place_order(
                    cart=cart,
                    cart_version=cart.version,
                    billing=billing,
                    expected_pricing=pages[cart.pk].fingerprint,
                    actor=cart.owner,
                    today=today,
                )
            )
        except Exception as error:
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(cart,)) for cart in carts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Serialized: the first is placed; the second page promised credit for 10 seats that the
    # first order already changed, so it is refused with the new price to check, not placed.
    assert sorted(type(o).__name__ for o in outcomes) == ["CheckoutError", "Order"], outcomes
    (order,) = [o for o in outcomes if isinstance(o, Order)]
    (refused,) = [o for o in outcomes if isinstance(o, CheckoutError)]
    assert "The order changed" in refused.message
    assert refused.pricing.lines[0].seat_count == order.lines.get(kind="change").seat_count
    assert order.lines.get(kind="proration_credit").seat_count == 10
    subscription.refresh_from_db()
    assert subscription.seat_count == order.lines.get(kind="change").seat_count
    assert Order.objects.count() == 1
    account.refresh_from_db()
    ledger = sum(e.amount.amount for e in CreditEntry.objects.filter(account=account))
    assert account.credit_balance_amount == ledger
    assert not SandboxCharge.objects.exists()
