"""Prometheus metrics of the billing itself (django-prometheus adds the HTTP and database ones),
at /metrics for the addresses in METRICS_ALLOWED_IPS or with `Authorization: Bearer
<METRICS_TOKEN>`. Each is counted where the one function that does the thing does it: orders by
the order writer, payment attempts where an attempt ends, renewals and dunning by the billing
run, webhook deliveries by their delivery."""

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponseForbidden
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import Counter, Gauge

ORDERS_PLACED = Counter(
    "billing_orders_placed_total", "Orders written (checkout, renewals, corporate)", ["kind"]
)
PAYMENT_ATTEMPTS = Counter(
    "billing_payment_attempts_total", "Payment attempts ended, by outcome", ["outcome"]
)
RENEWALS = Counter("billing_renewals_total", "Renewals by the billing run, by outcome", ["outcome"])
DUNNING = Counter("billing_dunning_retries_total", "Dunning retries, by outcome", ["outcome"])
WEBHOOK_DELIVERIES = Counter(
    "billing_webhook_deliveries_total", "Webhook delivery tries, by result", ["result"]
)
OLDEST_PENDING_TASK = Gauge(
    "billing_oldest_pending_task_seconds",
    "How long the oldest task waiting for a worker has waited (0: none)",
)


def _read_backlog() -> float:
    from billing_center.health import oldest_pending_task_age

    age = oldest_pending_task_age()
    return age.total_seconds() if age is not None else 0.0


OLDEST_PENDING_TASK.set_function(_read_backlog)


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header, f"Bearer {token}"):
        return True
    address = request.META.get("REMOTE_ADDR", "")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net) for net in settings.METRICS_ALLOWED_IPS)


def metrics(request):
    if not _allowed(request):
        return HttpResponseForbidden("Metrics are for the monitoring system.")
    return ExportToDjangoView(request)
