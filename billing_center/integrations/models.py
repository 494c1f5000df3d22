"""API keys, webhook endpoints, and the outbox of events with their deliveries."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

EVENT_TYPES = [
    "subscription.created",
    "subscription.updated",
    "subscription.canceled",
    "subscription.suspended",
    "subscription.reactivated",
    "trial.started",
    "trial.ended",
    "seat.assigned",
    "seat.unassigned",
    "invoice.issued",
    "invoice.paid",
    "invoice.payment_failed",
    "service_order.completed",
    "account.portal_changed",
]

API_SCOPES = ["entitlements:read", "subscriptions:read", "invoices:read"]


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class ApiKey(models.Model):
    """A key another system reads the API with. Only its hash is kept: the key is shown once,
    when it is made. A key may be limited to one account (a support tool of that account)."""

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    account = models.ForeignKey(
        "subscriptions.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Leave empty for a key that reads every account (the products)."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, *, name: str, scopes: list[str], account=None) -> tuple["ApiKey", str]:
        """A new key and its secret value, which is never stored."""
        value = f"bc_{secrets.token_urlsafe(32)}"
        key = cls.objects.create(
            name=name,
            prefix=value[:10],
            key_hash=hash_secret(value),
            scopes=list(scopes),
            account=account,
        )
        return key, value

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class WebhookEndpoint(models.Model):
    """A URL of another system that receives signed events of the types it asked for."""

    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    description = models.CharField(_("description"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["pk"]

    def __str__(self):
        return self.url

    @staticmethod
    def new_secret() -> str:
        return f"whsec_{secrets.token_urlsafe(32)}"

    def wants(self, event_type: str) -> bool:
        return self.active and (event_type in self.events or "*" in self.events)


class WebhookEvent(models.Model):
    """An event in the outbox: written in the transaction of the change it tells of."""

    public_id = models.CharField(_("event"), max_length=40, unique=True)
    type = models.CharField(_("type"), max_length=40, db_index=True)
    account = models.ForeignKey(
        "subscriptions.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
    )
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["pk"]

    def __str__(self):
        return f"{self.type} {self.public_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event to one endpoint: tried at once, then again with backoff, until delivered or
    failed (settings.WEBHOOK_RETRY_DELAYS). An account's events reach an endpoint in order."""

    event = models.ForeignKey(
        WebhookEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="deliveries"
    )
    # Without a database constraint: a process that read the endpoints a few seconds before
    # one was deleted still writes its delivery, which is then never sent, instead of failing
    # the change it tells of. Staff disable endpoints rather than delete them.
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("endpoint"),
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_constraint=False,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    last_error = models.CharField(_("error"), max_length=300, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.event} → {self.endpoint}"


def allowed_scheme(url: str) -> bool:
    return url.startswith("https://") or (
        settings.WEBHOOKS_ALLOW_HTTP and url.startswith("http://")
    )
