"""What the sandbox processor keeps on its side, as a real processor keeps it on its own:
card tokens (never the card number nor the CVC), charges and card setups by idempotency key,
and the mandates customers gave for later off-session charges."""

from django.db import models
from django.utils import timezone
from djmoney.models.fields import MoneyField


class SandboxCard(models.Model):
    """A card the sandbox's card fields tokenized: what the test card does, and what may be
    shown of it."""

    token = models.CharField(max_length=100, unique=True)
    behaviour = models.CharField(max_length=40)
    brand = models.CharField(max_length=20)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.brand} •••• {self.last4}"


class SandboxCharge(models.Model):
    """A charge (a payment intent, in Stripe's words) by idempotency key: a retried charge
    returns the first answer instead of charging again, exactly as the processors do."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded"
        REQUIRES_ACTION = "requires_action"
        FAILED = "failed"

    idempotency_key = models.CharField(max_length=120, unique=True)
    token = models.CharField(max_length=100)
    amount = MoneyField(max_digits=12, decimal_places=2)
    on_session = models.BooleanField(default=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    # Captured (status succeeded): kept as a column so that a count of captures is one filter.
    succeeded = models.BooleanField(default=False)
    decline_code = models.CharField(max_length=40, blank=True)
    reference = models.CharField(max_length=60, unique=True)
    refunded = models.BooleanField(default=False)
    mandate = models.CharField(max_length=60, blank=True)
    # While it requires action: where the customer goes back to, and until when they may.
    return_url = models.CharField(max_length=500, blank=True)
    action_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.reference} {self.amount} ({self.status})"


class SandboxSetup(models.Model):
    """A card saved for later off-session charges (a setup intent), by idempotency key."""

    idempotency_key = models.CharField(max_length=120, unique=True)
    token = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=SandboxCharge.Status.choices)
    decline_code = models.CharField(max_length=40, blank=True)
    reference = models.CharField(max_length=60, unique=True)
    mandate = models.CharField(max_length=60, blank=True)
    return_url = models.CharField(max_length=500, blank=True)
    action_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.reference} ({self.status})"


class SandboxMandate(models.Model):
    """The customer authenticated this card for later merchant-initiated charges."""

    token = models.CharField(max_length=100, db_index=True)
    reference = models.CharField(max_length=60, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.reference
