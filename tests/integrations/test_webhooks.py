"""Webhooks to a real HTTP receiver on a loopback port: a purchase, a seat assignment, a
renewal, a suspension and a reactivation each deliver the right events, signed, once; a receiver
that fails twice gets the event on the third try; a rolled-back change sends nothing; an
account's events arrive in order; an endpoint failing for a day is disabled and staff told."""

import hashlib
import hmac
import json
import time
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone
from moneyed import Money

from billing_center.integrations.delivery import deliver_due
from billing_center.integrations.models import (
    ApiKey,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    hash_secret,
)
from catalog.models import BillingCycle
from checkout.billing_run.run import run_billing
from checkout.invoices.payments import pay_invoice
from checkout.models import Invoice, InvoiceStatus
from subscriptions import services as subscription_services
from subscriptions.models import Role, SubscriptionStatus
from tests.factories import (
    AccountFactory,
    MembershipFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    UserFactory,
    plan_with_prices,
)
from tests.helpers import buy

pytestmark = pytest.mark.django_db


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> dict:
    """What a receiver does (README "Webhooks"): check the signature, refuse an old one."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    signed = f"{parts['t']}.".encode() + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts["v1"]):
        raise ValueError("bad signature")
    if abs(time.time() - int(parts["t"])) > tolerance:
        raise ValueError("too old")
    return json.loads(body)


@pytest.fixture
def account():
    account = AccountFactory(country="FR", language="fr")
    return account


@pytest.fixture
def contact(account):
    return MembershipFactory(account=account, role=Role.BILLING_CONTACT).user


@pytest.fixture
def card(account):
    return PaymentMethodFactory(
        account=account, gateway_token="tok_sandbox_ok_visa", is_default=True
    )


def test_a_purchase_delivers_subscription_created_and_invoice_issued_signed_once(
    endpoint, receiver, account, contact, card, django_capture_on_commit_callbacks
):
    plan = plan_with_prices(monthly="10.00", annual="100.00", product__name="GoTo Meeting")
    with django_capture_on_commit_callbacks(execute=True):
        order = buy(account, contact, plan, 3, card)
    assert receiver.types() == ["subscription.created", "invoice.issued"]
    for item in receiver.received:
        event = verify(endpoint.secret, item.headers["Billing-Signature"], item.body)
        assert event["account"] == account.pk
        assert event["id"].startswith("evt_")
    created, issued = receiver.events()
    subscription = created["data"]["object"]
    assert (subscription["product"]["name"], subscription["seats"], subscription["status"]) == (
        "GoTo Meeting",
        3,
        "active",
    )
    assert subscription["grants_access"] is True
    assert issued["data"]["object"]["number"] == order.invoice.number
    assert issued["data"]["object"]["status"] == "paid"
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {("delivered", 1)}
    assert deliver_due(now=timezone.now() + timedelta(days=2)) == 0  # once
    assert len(receiver.received) == 2


def test_a_forged_body_fails_the_receivers_check(
    endpoint, receiver, account, contact, card, django_capture_on_commit_callbacks
):
    subscription = SubscriptionFactory(account=account, seat_count=2)
    with django_capture_on_commit_callbacks(execute=True):
        subscription_services.assign_seat(subscription=subscription, user=contact, actor=contact)
    item = receiver.received[0]
    with pytest.raises(ValueError, match="bad signature"):
        verify(endpoint.secret, item.headers["Billing-Signature"], item.body + b" ")
    with pytest.raises(ValueError, match="bad signature"):
        verify("whsec_other", item.headers["Billing-Signature"], item.body)


def test_seats_assigned_and_unassigned(
    endpoint, receiver, account, contact, django_capture_on_commit_callbacks
):
    subscription = SubscriptionFactory(account=account, seat_count=2)
    user = MembershipFactory(account=account, role=Role.MEMBER).user
    with django_capture_on_commit_callbacks(execute=True):
        subscription_services.assign_seat(subscription=subscription, user=user, actor=contact)
    with django_capture_on_commit_callbacks(execute=True):
        subscription_services.unassign_seat(subscription=subscription, user=user, actor=contact)
    assigned, unassigned = receiver.events()
    assert (assigned["type"], assigned["data"]["user"]) == ("seat.assigned", user.email)
    assert assigned["data"]["object"]["seats_assigned"] == [user.email]
    assert (unassigned["type"], unassigned["data"]["user"]) == ("seat.unassigned", user.email)
    assert unassigned["data"]["object"]["seats_assigned"] == []


def renewing(account, **fields):
    plan = plan_with_prices(monthly="10.00", annual="100.00")
    return SubscriptionFactory(
        account=account,
        plan=plan,
        seat_count=2,
        unit_price=Money("10.00", "EUR"),
        cycle=BillingCycle.MONTHLY,
        current_period_start=date(2026, 10, 22),
        **fields,
    )


def test_a_renewal_delivers_the_new_invoice_and_period(
    endpoint, receiver, account, card, django_capture_on_commit_callbacks
):
    subscription = renewing(account)
    with django_capture_on_commit_callbacks(execute=True):
        run_billing(today=date(2026, 11, 22))
    assert "invoice.issued" in receiver.types()
    updated = [e for e in receiver.events() if e["type"] == "subscription.updated"]
    assert updated
    assert updated[-1]["data"]["object"]["id"] == subscription.pk
    assert updated[-1]["data"]["object"]["current_period_end"] == "2026-12-22"
    assert len(receiver.types()) == len({e["id"] for e in receiver.events()})  # each once


def test_suspension_then_reactivation(
    endpoint, receiver, account, django_capture_on_commit_callbacks
):
    PaymentMethodFactory(
        account=account, gateway_token="tok_sandbox_card_declined_x", is_default=True
    )
    subscription = renewing(account)
    with django_capture_on_commit_callbacks(execute=True):
        run_billing(today=date(2026, 11, 22))
    failed = [e for e in receiver.events() if e["type"] == "invoice.payment_failed"]
    assert failed[0]["data"]["decline_code"] == "card_declined"
    assert failed[0]["data"]["object"]["status"] == "open"
    for day in (25, 27, 29):  # the retries: 3, 5 and 7 days after the first failure
        with django_capture_on_commit_callbacks(execute=True):
            run_billing(today=date(2026, 11, day))
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.UNPAID
    assert receiver.types().count("subscription.suspended") == 1
    suspended = next(e for e in receiver.events() if e["type"] == "subscription.suspended")
    assert suspended["data"]["object"]["grants_access"] is False

    good = PaymentMethodFactory(account=account, gateway_token="tok_sandbox_ok_visa_2")
    invoice = Invoice.objects.get(status=InvoiceStatus.OPEN)
    with django_capture_on_commit_callbacks(execute=True):
        pay_invoice(invoice=invoice, actor=None, payment_method=good)
    # In the one transaction that paid it, in the order it was written.
    assert receiver.types()[-2:] == ["subscription.reactivated", "invoice.paid"]
    assert receiver.types().count("invoice.payment_failed") == 4  # the renewal, three retries
    reactivated = next(e for e in receiver.events() if e["type"] == "subscription.reactivated")
    assert reactivated["data"]["object"]["grants_access"] is True


def test_a_receiver_failing_twice_gets_the_event_on_the_third_try(
    endpoint, receiver, account, contact, django_capture_on_commit_callbacks
):
    receiver.answers = [500, 503]
    subscription = SubscriptionFactory(account=account, seat_count=2)
    with django_capture_on_commit_callbacks(execute=True):
        subscription_services.assign_seat(subscription=subscription, user=contact, actor=contact)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert deliver_due() == 0  # not due yet: 1 minute
    now = timezone.now()
    assert deliver_due(now=now + timedelta(minutes=1, seconds=1)) == 0
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code) == (2, 503)
    assert deliver_due(now=now + timedelta(minutes=7)) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 3)
    assert len(receiver.received) == 3
    assert len({item.body for item in receiver.received}) == 1  # the same event each time


def test_a_rolled_back_change_sends_nothing(
    endpoint, receiver, account, contact, django_capture_on_commit_callbacks
):
    subscription = SubscriptionFactory(account=account, seat_count=2)

    def assign_then_fail():
        with transaction.atomic():
            subscription_services.assign_seat(
                subscription=subscription, user=contact, actor=contact
            )
            raise RuntimeError("the request failed after the change")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        assign_then_fail()
    assert not WebhookEvent.objects.exists()
    deliver_due(now=timezone.now() + timedelta(days=1))
    assert receiver.received == []


def test_an_accounts_events_arrive_in_order(
    endpoint, receiver, account, contact, django_capture_on_commit_callbacks
):
    receiver.answers = [500]  # the first event fails once: the second waits for it
    subscription = SubscriptionFactory(account=account, seat_count=3)
    users = [MembershipFactory(account=account, role=Role.MEMBER).user for _ in range(2)]
    for user in users:
        with django_capture_on_commit_callbacks(execute=True):
            subscription_services.assign_seat(subscription=subscription, user=user, actor=contact)
    assert len(receiver.received) == 1  # only the first, which failed
    deliver_due(now=timezone.now() + timedelta(minutes=2))
    users_in_arrival = [e["data"]["user"] for e in receiver.events()]
    assert users_in_arrival == [users[0].email, users[0].email, users[1].email]


def test_other_accounts_are_not_held_up(
    endpoint, receiver, account, contact, django_capture_on_commit_callbacks
):
    receiver.answers = [500]
    first = SubscriptionFactory(account=account, seat_count=2)
    other_account = AccountFactory()
    other = SubscriptionFactory(account=other_account, seat_count=2)
    other_user = MembershipFactory(account=other_account, role=Role.MEMBER).user
    with django_capture_on_commit_callbacks(execute=True):
        subscription_services.assign_seat(subscription=first, user=contact, actor=contact)
    with django_capture_on_commit_callbacks(execute=True):
        subscription_services.assign_seat(subscription=other, user=other_user, actor=None)
    assert [e["account"] for e in receiver.events()] == [account.pk, other_account.pk]
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 1


def test_an_endpoint_failing_for_a_day_is_disabled_and_staff_told(
    endpoint, receiver, account, contact, settings, django_capture_on_commit_callbacks
):
    settings.ADMINS = [("Staff", "staff@vendor.test")]
    receiver.answers = [500] * 20
    subscription = SubscriptionFactory(account=account, seat_count=2)
    with django_capture_on_commit_callbacks(execute=True):
        subscription_services.assign_seat(subscription=subscription, user=contact, actor=contact)
    start = timezone.now()
    elapsed = 0
    for delay in settings.WEBHOOK_RETRY_DELAYS:
        elapsed += delay + 1
        deliver_due(now=start + timedelta(seconds=elapsed))
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 7)
    assert elapsed > 20 * 3600  # about a day of tries
    endpoint.refresh_from_db()
    # The last try came under a day after the event: disabled at the next failure after it.
    with django_capture_on_commit_callbacks(execute=True):
        subscription_services.unassign_seat(subscription=subscription, user=contact, actor=None)
    deliver_due(now=start + timedelta(days=1, hours=1))
    endpoint.refresh_from_db()
    assert endpoint.active is False
    assert "No delivery succeeded" in endpoint.disabled_reason
    assert any("Webhook endpoint disabled" in m.subject for m in mail.outbox)


def test_staff_resend_a_failed_delivery(
    endpoint, receiver, account, contact, admin_client, django_capture_on_commit_callbacks
):
    receiver.answers = [500] * 7
    subscription = SubscriptionFactory(account=account, seat_count=2)
    with django_capture_on_commit_callbacks(execute=True):
        subscription_services.assign_seat(subscription=subscription, user=contact, actor=contact)
    WebhookDelivery.objects.update(status=DeliveryStatus.FAILED)
    receiver.answers = []
    page = admin_client.get("/admin/integrations/webhookdelivery/")
    assert page.status_code == 200
    assert "seat.assigned" in page.content.decode()
    delivery = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_client.post(
            "/admin/integrations/webhookdelivery/",
            {"action": "resend", "_selected_action": [delivery.pk]},
        )
    assert answer.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED


def test_no_endpoint_no_outbox_row(account, contact, django_capture_on_commit_callbacks):
    subscription = SubscriptionFactory(account=account, seat_count=2)
    with django_capture_on_commit_callbacks(execute=True):
        subscription_services.assign_seat(subscription=subscription, user=contact, actor=contact)
    assert not WebhookEvent.objects.exists()


class TestCommands:
    def test_add_webhook_endpoint_prints_its_secret_once(self, db, settings):
        settings.WEBHOOKS_ALLOW_HTTP = False
        out = StringIO()
        call_command(
            "add_webhook_endpoint",
            "https://products.example/hooks",
            "--events",
            "seat.assigned",
            "subscription.canceled",
            stdout=out,
        )
        endpoint = WebhookEndpoint.objects.get()
        assert endpoint.events == ["seat.assigned", "subscription.canceled"]
        assert f"Signing secret (shown once): {endpoint.secret}" in out.getvalue()

    def test_plain_http_and_unknown_events_are_refused(self, db, settings):
        settings.WEBHOOKS_ALLOW_HTTP = False
        with pytest.raises(CommandError, match="https://"):
            call_command("add_webhook_endpoint", "http://x.example/", "--events", "seat.assigned")
        with pytest.raises(CommandError, match="events"):
            call_command("add_webhook_endpoint", "https://x.example/", "--events", "nope")
        assert not WebhookEndpoint.objects.exists()

    def test_create_api_key_prints_the_key_and_keeps_its_hash(self, db):
        out = StringIO()
        call_command("create_api_key", "products", "--scope", "entitlements:read", stdout=out)
        value = out.getvalue().splitlines()[1]
        key = ApiKey.objects.get()
        assert key.key_hash == hash_secret(value)
        assert value not in str(ApiKey.objects.values().get())
        assert key.scopes == ["entitlements:read"]

    def test_create_api_key_for_an_unknown_account(self, db):
        with pytest.raises(CommandError, match="No account"):
            call_command("create_api_key", "x", "--account", "999999")


def test_users_in_the_payload_are_emails_only(
    endpoint, receiver, account, contact, django_capture_on_commit_callbacks
):
    user = UserFactory()
    MembershipFactory(account=account, user=user, role=Role.MEMBER)
    subscription = SubscriptionFactory(account=account, seat_count=2)
    with django_capture_on_commit_callbacks(execute=True):
        subscription_services.assign_seat(subscription=subscription, user=user, actor=contact)
    body = receiver.received[0].body.decode()
    assert "password" not in body


class TestMoreEvents:
    def test_a_trial_starts_and_ends(
        self, endpoint, receiver, account, contact, django_capture_on_commit_callbacks
    ):
        from subscriptions.lifecycle import expire_trials

        webinar = plan_with_prices(
            product__name="GoTo Webinar", product__trial_offered=True, product__trial_days=14
        )
        with django_capture_on_commit_callbacks(execute=True):
            trial = subscription_services.start_trial(
                account=account, product=webinar.product, plan=webinar, seat_count=3, actor=contact
            )
        assert receiver.types() == ["subscription.created", "trial.started"]
        started = receiver.events()[1]["data"]["object"]
        assert (started["status"], started["trial_end"]) == ("trialing", str(trial.trial_end))
        with django_capture_on_commit_callbacks(execute=True):
            expire_trials(today=trial.trial_end + timedelta(days=1))
        ended = receiver.events()[-1]
        assert ended["type"] == "trial.ended"
        assert ended["data"]["object"]["grants_access"] is False

    def test_a_subscription_canceled_at_its_period_end(
        self, endpoint, receiver, account, contact, django_capture_on_commit_callbacks
    ):
        from subscriptions.lifecycle import cancel_at_period_end, end_canceled_subscriptions

        subscription = renewing(account)
        with django_capture_on_commit_callbacks(execute=True):
            cancel_at_period_end(subscription=subscription, actor=contact)
        assert receiver.types() == ["subscription.updated"]
        assert receiver.events()[0]["data"]["object"]["cancel_at_period_end"] is True
        with django_capture_on_commit_callbacks(execute=True):
            end_canceled_subscriptions(today=date(2026, 11, 22))
        assert receiver.types()[-1] == "subscription.canceled"

    def test_a_service_order_completed(
        self, endpoint, receiver, django_capture_on_commit_callbacks
    ):
        from corporate_portal.tasks import process_service_order
        from tests.corporate_portal.test_payment_faults import placed_service_order

        service_order, _webinar = placed_service_order()
        with django_capture_on_commit_callbacks(execute=True):
            process_service_order.call(service_order.pk)
        completed = [e for e in receiver.events() if e["type"] == "service_order.completed"]
        assert len(completed) == 1
        shown = completed[0]["data"]["object"]
        assert (shown["id"], shown["status"]) == (service_order.pk, "completed")
        assert shown["invoice"].startswith("INV-")
        # The new administrator's seats came with it.
        assert "seat.assigned" in receiver.types()

    def test_staff_move_an_account_to_the_other_portal(
        self, endpoint, receiver, account, admin_client, django_capture_on_commit_callbacks
    ):
        from django.forms.models import model_to_dict

        from subscriptions.models import Portal

        page = admin_client.get(f"/admin/subscriptions/account/{account.pk}/change/")
        assert page.status_code == 200
        form = page.context["adminform"].form
        data = {
            name: value
            for name, value in model_to_dict(account, fields=form.fields).items()
            if value is not None
        }
        data["portal"] = Portal.CORPORATE
        for formset in page.context["inline_admin_formsets"]:
            prefix = formset.formset.prefix  # the inlines are left as they are
            data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
        with django_capture_on_commit_callbacks(execute=True):
            answer = admin_client.post(f"/admin/subscriptions/account/{account.pk}/change/", data)
        assert answer.status_code == 302, answer.context["adminform"].form.errors
        [event] = [e for e in receiver.events() if e["type"] == "account.portal_changed"]
        assert event["data"]["object"]["portal"] == "corporate"
        assert event["data"]["previous"] == {"portal": "billing_center"}
