"""The admin: every model has its pages, staff only; staff changes leave audit events."""

import pytest
from django.urls import reverse

from billing_center.models import AuditAction, AuditEvent
from tests.factories import (
    AuditEventFactory,
    CartItemFactory,
    CreditEntryFactory,
    InvoiceFactory,
    MembershipFactory,
    OrderLineFactory,
    PaymentAttemptFactory,
    PaymentMethodFactory,
    PriceFactory,
    QuoteLineFactory,
    SandboxChargeFactory,
    SeatAssignmentFactory,
    ServiceOrderFactory,
    SubscriptionFactory,
    TrialFactory,
)

pytestmark = pytest.mark.django_db

MODELS = [
    "billing_center.user",
    "billing_center.auditevent",
    "catalog.product",
    "catalog.plan",
    "catalog.price",
    "subscriptions.account",
    "subscriptions.membership",
    "subscriptions.subscription",
    "subscriptions.seatassignment",
    "checkout.paymentmethod",
    "checkout.order",
    "checkout.invoice",
    "checkout.vatrate",
    "sandbox_gateway.sandboxcharge",
    "checkout.paymentattempt",
    "cart.cart",
    "subscriptions.trial",
    "subscriptions.creditentry",
    "corporate_portal.quote",
    "corporate_portal.serviceorder",
]


@pytest.fixture
def data():
    assignment = SeatAssignmentFactory()
    subscription = assignment.subscription
    PriceFactory(plan=subscription.plan)
    PaymentMethodFactory(account=subscription.account, is_default=True)
    AuditEventFactory(account=subscription.account)
    invoice = InvoiceFactory(order__account=subscription.account)
    OrderLineFactory(order=invoice.order)
    CartItemFactory(cart__account=subscription.account)
    TrialFactory(account=subscription.account)
    CreditEntryFactory(account=subscription.account)
    SandboxChargeFactory()
    PaymentAttemptFactory(account=subscription.account)
    line = QuoteLineFactory(quote__account=subscription.account, subscription=subscription)
    ServiceOrderFactory(quote=line.quote)
    return subscription


def admin_url(label, action="changelist", *args):
    app_label, model = label.split(".")
    return reverse(f"admin:{app_label}_{model}_{action}", args=args)


@pytest.mark.parametrize("label", MODELS)
def test_staff_see_every_models_list_and_objects(admin_client, data, label):
    response = admin_client.get(admin_url(label))
    assert response.status_code == 200
    from django.apps import apps

    obj = apps.get_model(label).objects.first()
    assert admin_client.get(admin_url(label, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("label", MODELS)
def test_search_works(admin_client, data, label):
    assert admin_client.get(admin_url(label), {"q": "a"}).status_code == 200


@pytest.mark.parametrize("label", MODELS)
def test_non_staff_are_sent_to_the_admin_login(client, billing_contact, label):
    client.force_login(billing_contact)
    response = client.get(admin_url(label))
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_account_page_has_memberships_subscriptions_and_cards_inline(admin_client, data):
    html = admin_client.get(
        admin_url("subscriptions.account", "change", data.account.pk)
    ).content.decode()
    assert "Memberships" in html
    assert "Subscriptions" in html
    assert "Payment methods" in html


def test_audit_events_are_read_only(admin_client, data):
    event = AuditEvent.objects.first()
    assert admin_client.get(admin_url("billing_center.auditevent", "add")).status_code == 403
    response = admin_client.post(
        admin_url("billing_center.auditevent", "delete", event.pk), {"post": "yes"}
    )
    assert response.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def subscription_form(subscription, **changes):
    return {
        "account": subscription.account.pk,
        "product": subscription.product.pk,
        "plan": subscription.plan.pk,
        "cycle": subscription.cycle,
        "seat_count": changes.pop("seat_count", 12),
        "unit_price_0": "120.00",
        "unit_price_1": "EUR",
        "status": subscription.status,
        "current_period_start": "2026-01-01",
        "current_period_end": "2027-01-01",
        "trial_end": "",
        "canceled_at_0": "",
        "canceled_at_1": "",
        "seat_assignments-TOTAL_FORMS": 0,
        "seat_assignments-INITIAL_FORMS": 0,
        **changes,
    }


def test_staff_changing_seats_leaves_an_audit_event(admin_client, admin_user):
    subscription = SubscriptionFactory(seat_count=10)
    url = admin_url("subscriptions.subscription", "change", subscription.pk)
    response = admin_client.post(url, subscription_form(subscription))
    assert response.status_code == 302, response.content.decode()[:3000]
    subscription.refresh_from_db()
    assert subscription.seat_count == 12
    event = AuditEvent.objects.get(object_type="subscriptions.subscription")
    assert event.action == AuditAction.CHANGED
    assert event.actor == admin_user
    assert event.account == subscription.account
    assert event.before == {"seat_count": 10}
    assert event.after == {"seat_count": 12}


def test_account_currency_cannot_change_once_set(admin_client):
    membership = MembershipFactory()
    html = admin_client.get(
        admin_url("subscriptions.account", "change", membership.account.pk)
    ).content.decode()
    assert 'name="currency"' not in html


@pytest.mark.parametrize(
    "label",
    [
        "checkout.order",
        "checkout.invoice",
        "subscriptions.creditentry",
        "sandbox_gateway.sandboxcharge",
    ],
)
def test_records_cannot_be_added_or_deleted(admin_client, data, label):
    from django.apps import apps

    obj = apps.get_model(label).objects.first()
    assert admin_client.get(admin_url(label, "add")).status_code == 403
    assert admin_client.post(admin_url(label, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert apps.get_model(label).objects.filter(pk=obj.pk).exists()


def test_staff_edit_vat_rates_with_an_audit_event(admin_client):
    from checkout.models import VatRate

    rate = VatRate.objects.get(country="FR")
    response = admin_client.post(
        admin_url("checkout.vatrate", "change", rate.pk), {"country": "FR", "rate": "21.00"}
    )
    assert response.status_code == 302
    rate.refresh_from_db()
    assert str(rate.rate) == "21.00"
    assert AuditEvent.objects.filter(object_type="checkout.vatrate").exists()


def test_a_vat_rate_of_100_or_more_is_refused(admin_client):
    from checkout.models import VatRate

    rate = VatRate.objects.get(country="FR")
    response = admin_client.post(
        admin_url("checkout.vatrate", "change", rate.pk), {"country": "FR", "rate": "100"}
    )
    assert response.status_code == 200
    rate.refresh_from_db()
    assert str(rate.rate) == "20.00"


def test_staff_cannot_set_seats_below_the_assigned_ones(admin_client):
    subscription = SubscriptionFactory(seat_count=10)
    for _ in range(4):
        SeatAssignmentFactory(subscription=subscription)
    url = admin_url("subscriptions.subscription", "change", subscription.pk)
    form = subscription_form(subscription, seat_count=3)
    form.update(
        {"seat_assignments-TOTAL_FORMS": 4, "seat_assignments-INITIAL_FORMS": 4}
        | {
            f"seat_assignments-{i}-{field}": value
            for i, assignment in enumerate(subscription.seat_assignments.all())
            for field, value in (
                ("id", assignment.pk),
                ("subscription", subscription.pk),
                ("user", assignment.user_id),
            )
        }
    )
    response = admin_client.post(url, form)
    assert response.status_code == 200
    assert "4 seats are assigned: unassign 1 first" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.seat_count == 10
    assert not AuditEvent.objects.filter(object_type="subscriptions.subscription").exists()


def test_staff_cannot_set_seats_outside_the_plan(admin_client):
    subscription = SubscriptionFactory(seat_count=10, plan__max_seats=20)
    url = admin_url("subscriptions.subscription", "change", subscription.pk)
    response = admin_client.post(url, subscription_form(subscription, seat_count=21))
    assert response.status_code == 200
    assert "Choose between 1 and 20 seats" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.seat_count == 10


def test_staff_cannot_give_more_seats_than_the_subscription_has(admin_client):
    subscription = SubscriptionFactory(seat_count=1)
    users = [MembershipFactory(account=subscription.account).user for _ in range(2)]
    url = admin_url("subscriptions.subscription", "change", subscription.pk)
    form = subscription_form(subscription, seat_count=1)
    form.update(
        {"seat_assignments-TOTAL_FORMS": 2, "seat_assignments-INITIAL_FORMS": 0}
        | {f"seat_assignments-{i}-user": user.pk for i, user in enumerate(users)}
    )
    response = admin_client.post(url, form)
    assert response.status_code == 200
    assert "give at most 1" in response.content.decode()
    assert not subscription.seat_assignments.exists()


class TestStaffFollowTheRules:
    """Staff change data through the same rules as billing contacts; a refusal is a message on
    the form, never a server error or a raw constraint name (issue 18)."""

    def test_a_removed_card_cannot_become_the_default(self, admin_client):
        from django.utils import timezone

        from checkout.models import PaymentMethod
        from tests.factories import PaymentMethodFactory

        card = PaymentMethodFactory(removed_at=timezone.now())
        url = reverse("admin:checkout_paymentmethod_change", args=[card.pk])
        response = admin_client.post(url, {"cardholder_name": "X", "is_default": "on"})
        assert response.status_code == 200
        assert "A removed card cannot be the default card." in response.content.decode()
        assert not PaymentMethod.objects.get(pk=card.pk).is_default

    def test_making_a_card_the_default_moves_the_default(self, admin_client):
        from checkout.models import PaymentMethod
        from tests.factories import AccountFactory, PaymentMethodFactory

        account = AccountFactory()
        first = PaymentMethodFactory(account=account, is_default=True)
        second = PaymentMethodFactory(account=account)
        url = reverse("admin:checkout_paymentmethod_change", args=[second.pk])
        response = admin_client.post(url, {"cardholder_name": "Y", "is_default": "on"})
        assert response.status_code == 302
        assert list(
            PaymentMethod.objects.filter(account=account, is_default=True).values_list(
                "pk", flat=True
            )
        ) == [second.pk]
        assert PaymentMethod.objects.get(pk=first.pk).is_default is False

    def test_the_seat_rule_holds_on_the_seat_assignment_page(self, admin_client):
        from subscriptions.models import Role, SeatAssignment
        from tests.factories import MembershipFactory, SubscriptionFactory

        subscription = SubscriptionFactory(seat_count=1)
        people = [
            MembershipFactory(account=subscription.account, role=Role.MEMBER).user for _ in range(2)
        ]
        url = reverse("admin:subscriptions_seatassignment_add")
        first = admin_client.post(url, {"subscription": subscription.pk, "user": people[0].pk})
        assert first.status_code == 302
        second = admin_client.post(url, {"subscription": subscription.pk, "user": people[1].pk})
        assert second.status_code == 200
        assert "The 1 seat is assigned" in second.content.decode()
        assert SeatAssignment.objects.filter(subscription=subscription).count() == 1
        assert AuditEvent.objects.filter(action=AuditAction.SEAT_ASSIGNED).count() == 1

    def test_a_quote_line_of_no_seats_says_so(self):
        from corporate_portal.models import QuoteLine

        constraint = next(
            c for c in QuoteLine._meta.constraints if c.name == "quote_line_seats_positive"
        )
        assert str(constraint.violation_error_message) == "Add at least one seat."

    def test_the_country_filters_list_the_countries_in_use(self, admin_client):
        from tests.factories import AccountFactory

        AccountFactory(country="FR")
        AccountFactory(country="IT")
        page = admin_client.get(reverse("admin:subscriptions_account_changelist")).content.decode()
        assert "?country=FR" in page
        assert "?country=IT" in page
        assert "?country=DE" not in page
        assert admin_client.get(reverse("admin:checkout_invoice_changelist")).status_code == 200


def test_every_admin_list_of_the_project_shows_50_rows_a_page():
    """Django admin's own rendering of a row costs about 0.7 ms: 100 rows a page made a list
    cost 20-25 bare requests (issue 22)."""
    from django.contrib import admin as django_admin

    ours = {"billing_center", "catalog", "subscriptions", "cart", "checkout", "corporate_portal"}
    pages = {
        type(model_admin).__name__: model_admin.list_per_page
        for model_admin in django_admin.site._registry.values()
        if type(model_admin).__module__.split(".")[0] in ours
    }
    assert pages
    assert all(rows == 50 for rows in pages.values()), pages
