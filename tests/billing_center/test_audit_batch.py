"""billing_center.audit.audit_batch: the audit events of a write in one INSERT (issue 22)."""

import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing_center.audit import audit_batch, record_audit_event
from billing_center.models import AuditAction, AuditEvent
from tests.factories import AccountFactory, CartItemFactory

pytestmark = pytest.mark.django_db


def inserts(queries) -> int:
    return sum(
        query["sql"].startswith('INSERT INTO "billing_center_auditevent"')
        for query in queries.captured_queries
    )


def record(account, name):
    return record_audit_event(
        actor=None, account=account, action=AuditAction.CHANGED, after={"name": name}
    )


def test_a_batch_writes_its_events_in_one_insert_in_the_order_recorded():
    account = AccountFactory()
    with CaptureQueriesContext(connection) as queries, transaction.atomic(), audit_batch():
        for name in ("a", "b", "c"):
            record(account, name)
        assert not AuditEvent.objects.filter(account=account).exists()  # not yet
    assert inserts(queries) == 1
    events = AuditEvent.objects.filter(account=account).order_by("pk")
    assert [event.after["name"] for event in events] == ["a", "b", "c"]


def test_outside_a_batch_each_event_is_written_at_once():
    account = AccountFactory()
    event = record(account, "now")
    assert event.pk is not None
    assert AuditEvent.objects.get(pk=event.pk).after == {"name": "now"}


def test_an_error_in_the_batch_writes_none():
    account = AccountFactory()

    def fails():
        with transaction.atomic(), audit_batch():
            record(account, "lost")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fails()
    assert not AuditEvent.objects.filter(account=account).exists()
    record(account, "after")  # the batch is over: written at once again
    assert AuditEvent.objects.filter(account=account).count() == 1


def test_a_nested_batch_joins_the_outer_one():
    account = AccountFactory()
    with CaptureQueriesContext(connection) as queries, transaction.atomic(), audit_batch():
        record(account, "outer")
        with audit_batch():
            record(account, "inner")
        assert not AuditEvent.objects.filter(account=account).exists()
    assert inserts(queries) == 1
    assert AuditEvent.objects.filter(account=account).count() == 2


@pytest.mark.django_db(transaction=True)
def test_another_threads_events_are_not_held_by_this_batch():
    account = AccountFactory()
    seen = []

    def elsewhere():
        record(account, "other thread")
        seen.append(AuditEvent.objects.filter(account=account).count())
        connection.close()

    with transaction.atomic(), audit_batch():
        record(account, "this thread")
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
    assert seen == [1]  # written by the other thread at once, not held back here
    assert AuditEvent.objects.filter(account=account).count() == 2


def items_formset(*items, **changes) -> dict:
    """The cart admin page's inline of items, as posted (each item with `changes`)."""
    data = {
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": str(len(items)),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for number, item in enumerate(items):
        fields = {
            "id": item.pk,
            "cart": item.cart_id,
            "product": item.product_id,
            "plan": item.plan_id,
            "cycle": item.cycle,
            "seat_count": item.seat_count,
            **changes,
        }
        data.update({f"items-{number}-{name}": str(value) for name, value in fields.items()})
    return data


def test_staff_editing_a_cart_item_moves_the_carts_version_on(admin_client):
    """A checkout page showing the old items cannot place them (the placement reuses the items
    a request read when the version is unchanged)."""
    item = CartItemFactory(seat_count=5)
    cart = item.cart
    version = cart.version
    response = admin_client.post(
        reverse("admin:cart_cart_change", args=[cart.pk]), items_formset(item, seat_count=7)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    item.refresh_from_db()
    cart.refresh_from_db()
    assert item.seat_count == 7
    assert cart.version == version + 1


def test_staff_saving_a_cart_unchanged_keeps_its_version(admin_client):
    item = CartItemFactory(seat_count=5)
    cart = item.cart
    version = cart.version
    response = admin_client.post(
        reverse("admin:cart_cart_change", args=[cart.pk]), items_formset(item)
    )
    assert response.status_code == 302
    cart.refresh_from_db()
    assert cart.version == version
