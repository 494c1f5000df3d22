"""The admin: every model has its pages, staff only; staff changes leave audit events."""

import pytest
from django.urls import reverse

from billing_center.models import AuditAction, AuditEvent
from tests.factories import (
    AuditEventFactory,
    MembershipFactory,
    PaymentMethodFactory,
    PriceFactory,
    SeatAssignmentFactory,
    SubscriptionFactory,
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
]


@pytest.fixture
def data():
    assignment = SeatAssignmentFactory()
    subscription = assignment.subscription
    PriceFactory(plan=subscription.plan)
    PaymentMethodFactory(account=subscription.account, is_default=True)
    AuditEventFactory(account=subscription.account)
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


def test_staff_changing_seats_leaves_an_audit_event(admin_client, admin_user):
    subscription = SubscriptionFactory(seat_count=10)
    url = admin_url("subscriptions.subscription", "change", subscription.pk)
    form = {
        "account": subscription.account.pk,
        "product": subscription.product.pk,
        "plan": subscription.plan.pk,
        "cycle": subscription.cycle,
        "seat_count": 12,
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
    }
    response = admin_client.post(url, form)
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
