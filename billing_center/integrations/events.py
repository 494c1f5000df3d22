"""Events for other systems, written to the outbox in the transaction of the change they tell of
(never for a rolled-back change, never lost for a committed one), then delivered by a task
(billing_center.integrations.delivery).

Every change the billing center makes is recorded by billing_center.audit.record_audit_event, in
its transaction: `from_audit` reads the webhook events out of that record, so no writer has to
remember a second call. The object an event carries is "the object as the API shows it": each
app registers how its objects are shown (`register_payload`, in AppConfig.ready).
"""

import time
import uuid
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from billing_center.integrations.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

PayloadFactory = Callable[[Any], dict]
_PAYLOADS: dict[str, PayloadFactory] = {}

# Endpoints are read at most every few seconds per process, not at every change.
_ENDPOINTS_TTL = 5.0
_endpoints_cache: tuple[float, list[WebhookEndpoint]] = (0.0, [])


def register_payload(label: str, factory: PayloadFactory) -> None:
    """How an object of model `label` ("app_label.model") is shown in events and the API."""
    _PAYLOADS[label] = factory


def payload_of(obj) -> dict:
    return _PAYLOADS[obj._meta.label_lower](obj)


def forget_endpoints() -> None:
    """Read the endpoints again at the next event (an endpoint was saved)."""
    global _endpoints_cache
    _endpoints_cache = (0.0, [])


def _endpoints() -> list[WebhookEndpoint]:
    global _endpoints_cache
    read_at, endpoints = _endpoints_cache
    if time.monotonic() - read_at > _ENDPOINTS_TTL:
        endpoints = list(WebhookEndpoint.objects.filter(active=True))
        _endpoints_cache = (time.monotonic(), endpoints)
    return endpoints


def wanted(event_type: str) -> bool:
    """Whether an endpoint wants events of this type (before building one)."""
    return any(endpoint.wants(event_type) for endpoint in _endpoints())


def emit(event_type: str, *, account, obj, extra: dict | None = None) -> WebhookEvent | None:
    """Put an event in the outbox for every endpoint that wants it, in the caller's transaction;
    its delivery starts when that transaction commits. None when no endpoint wants it."""
    endpoints = [endpoint for endpoint in _endpoints() if endpoint.wants(event_type)]
    if not endpoints:
        return None
    created = timezone.now()
    public_id = f"evt_{uuid.uuid4().hex}"
    payload = {
        "id": public_id,
        "type": event_type,
        "created": int(created.timestamp()),
        "account": account.pk if account is not None else None,
        "data": {"object": payload_of(obj), **(extra or {})},
    }
    event = WebhookEvent.objects.create(
        public_id=public_id, type=event_type, account=account, payload=payload, created_at=created
    )
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=created)
        for endpoint in endpoints
    )
    from billing_center.integrations.tasks import deliver_webhooks

    account_id = account.pk if account is not None else None
    transaction.on_commit(lambda: deliver_webhooks.enqueue(account_id=account_id))
    return event


# What the audit record of a change means for other systems

SUBSCRIPTION = "subscriptions.subscription"
STATUS_EVENTS = {
    "canceled": "subscription.canceled",
    "unpaid": "subscription.suspended",
    "expired": "trial.ended",
}
TERMS = {"seat_count", "plan", "cycle", "current_period_end", "cancel_at_period_end", "status"}


def events_of_audit(audit, target) -> list[tuple[str, dict]]:
    """The webhook events an audit record stands for, with what they add to the object."""
    label = audit.object_type
    action = audit.action
    before, after = audit.before or {}, audit.after or {}
    if label == SUBSCRIPTION:
        if action == "trial_started":
            return [("subscription.created", {}), ("trial.started", {})]
        if action == "created":
            return [("subscription.created", {})]
        if action == "seat_assigned":
            return [("seat.assigned", {"user": after.get("user", "")})]
        if action == "seat_unassigned":
            return [("seat.unassigned", {"user": before.get("user", "")})]
        if action != "changed":
            return []
        status, was = after.get("status"), before.get("status")
        if status in STATUS_EVENTS:
            return [(STATUS_EVENTS[status], {})]
        if status == "active" and was in ("past_due", "unpaid"):
            return [("subscription.reactivated", {})]
        if status == "active" and was == "trialing":
            return [("trial.ended", {}), ("subscription.updated", {})]
        if TERMS & set(after):
            return [("subscription.updated", {"previous": before})]
        return []
    if label == "checkout.order" and action == "order_placed":
        return [("invoice.issued", {})]
    if label == "checkout.invoice" and after.get("status") == "paid":
        return [("invoice.paid", {})]
    if label == "corporate_portal.serviceorder" and after.get("status") == "completed":
        return [("service_order.completed", {})]
    if label == "subscriptions.account" and "portal" in after:
        return [("account.portal_changed", {"previous": {"portal": before.get("portal")}})]
    return []


def from_audit(audit, target) -> None:
    """Called by record_audit_event, in the change's transaction."""
    if target is None or not _endpoints():
        return
    for event_type, extra in events_of_audit(audit, target):
        obj = target
        if event_type == "invoice.issued":
            obj = getattr(target, "invoice", None)
            if obj is None:
                continue
        if obj._meta.label_lower not in _PAYLOADS:
            continue
        emit(event_type, account=audit.account, obj=obj, extra=extra)
