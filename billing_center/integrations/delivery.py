"""Delivering the outbox: at least once, in order per account and endpoint, retried with
backoff for about a day (settings.WEBHOOK_RETRY_DELAYS), then failed and shown to staff; an
endpoint that has failed for a day is disabled and staff are emailed.

Signed like the big processors: `Billing-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<raw body>" with the endpoint's secret>`. Requests go only to the registered URL (no
redirects followed), within WEBHOOK_TIMEOUT_SECONDS; what the receiver answers is kept as a
status code and a short plain-text error, never rendered.
"""

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.core.mail import mail_admins
from django.db import transaction
from django.utils import timezone

from billing_center import locks, metrics
from billing_center.integrations.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    allowed_scheme,
)

logger = logging.getLogger(__name__)
DISABLE_AFTER = timedelta(days=1)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer like any other: not followed


_opener = urllib.request.build_opener(_NoRedirects)


def post(endpoint: WebhookEndpoint, body: bytes) -> tuple[int | None, str]:
    """POST the signed body; (status code, error) — status None when nothing answered."""
    if not allowed_scheme(endpoint.url):
        return None, "URL refused: https:// only (WEBHOOKS_ALLOW_HTTP is off)"
    timestamp = int(time.time())
    request = urllib.request.Request(
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "BillingCenter-Webhooks/1",
            "Billing-Signature": signature(endpoint.secret, timestamp, body),
        },
    )
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as answer:
            return answer.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return None, str(reason)[:300]


def deliver_due(*, account_id: int | None = None, now=None) -> int:
    """Deliver every due delivery (of one account, or all), each account's events to each
    endpoint in order: a delivery waits while an earlier one of the same account and endpoint
    is still pending. Returns how many were delivered. Safe to run concurrently: a line whose
    first delivery another worker is sending is left to that worker (row locks)."""
    now = now or timezone.now()
    pending = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING)
    if account_id is not None:
        pending = pending.filter(event__account_id=account_id)
    heads = pending.values_list("endpoint_id", "event__account_id").distinct()
    delivered = 0
    for endpoint_id, event_account_id in list(heads):
        delivered += _deliver_in_order(endpoint_id, event_account_id, now)
    return delivered


def _deliver_in_order(endpoint_id: int, account_id: int | None, now) -> int:
    delivered = 0
    while True:
        with transaction.atomic():
            head = locks.lock_first_in_line(
                WebhookDelivery.objects.select_related("event", "endpoint")
                .filter(
                    status=DeliveryStatus.PENDING,
                    endpoint_id=endpoint_id,
                    event__account_id=account_id,
                )
                .order_by("event_id")
            )
            if head is None or head.next_attempt_at > now or not head.endpoint.active:
                return delivered
            if not _attempt(head, now):
                return delivered  # later events wait for this one
            delivered += 1


def _attempt(delivery: WebhookDelivery, now) -> bool:
    """One try, under the delivery's lock. True when delivered."""
    body = json.dumps(delivery.event.payload, separators=(",", ":")).encode()
    status, error = post(delivery.endpoint, body)
    delivery.attempts += 1
    delivery.last_attempt_at = timezone.now()
    delivery.last_status_code = status
    if status is not None and 200 <= status < 300:
        metrics.WEBHOOK_DELIVERIES.labels("delivered").inc()
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = delivery.last_attempt_at
        delivery.last_error = ""
        delivery.save()
        return True
    delivery.last_error = error or f"HTTP {status}"
    metrics.WEBHOOK_DELIVERIES.labels("failed").inc()
    delays = settings.WEBHOOK_RETRY_DELAYS
    if delivery.attempts > len(delays):
        delivery.status = DeliveryStatus.FAILED
        delivery.save()
        _disable_if_failing(delivery.endpoint, now)
        return True  # given up: the account's later events go on
    delivery.next_attempt_at = now + timedelta(seconds=delays[delivery.attempts - 1])
    delivery.save()
    _disable_if_failing(delivery.endpoint, now)
    return False


def _disable_if_failing(endpoint: WebhookEndpoint, now) -> None:
    """An endpoint with no delivery for a day while events waited is disabled; staff told."""
    oldest_failing = (
        endpoint.deliveries.filter(attempts__gt=0)
        .exclude(status=DeliveryStatus.DELIVERED)
        .order_by("event__created_at")
        .values_list("event__created_at", flat=True)
        .first()
    )
    if oldest_failing is None or now - oldest_failing < DISABLE_AFTER:
        return
    last_success = (
        endpoint.deliveries.filter(status=DeliveryStatus.DELIVERED)
        .order_by("-delivered_at")
        .values_list("delivered_at", flat=True)
        .first()
    )
    if last_success is not None and now - last_success < DISABLE_AFTER:
        return
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        active=False,
        disabled_reason=f"No delivery succeeded since {oldest_failing:%Y-%m-%d %H:%M}.",
    )
    endpoint.active = False
    logger.warning("Webhook endpoint %s disabled: failing for a day", endpoint.url)
    mail_admins(
        f"Webhook endpoint disabled: {endpoint.url}",
        f"No event reached {endpoint.url} for a day (since {oldest_failing:%Y-%m-%d %H:%M}). "
        "It is disabled; its pending events wait. Fix the receiver, then turn the endpoint "
        "back on in the admin (Integrations › Webhook endpoints) and resend what failed.",
    )


def resend(delivery: WebhookDelivery) -> None:
    """Staff's resend: pending again, due now (delivered by the next run or task)."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now()
    )
