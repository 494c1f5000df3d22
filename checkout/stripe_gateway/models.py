"""What we keep of Stripe's objects: only the names that let us find them again."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StripeCustomer(models.Model):
    """The Stripe Customer of one of our accounts (gateway customer reference "account-<pk>");
    cards are saved on it for off-session charges."""

    reference = models.CharField(_("reference"), max_length=100, unique=True)
    customer_id = models.CharField(_("Stripe customer"), max_length=100, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("Stripe customer")
        verbose_name_plural = _("Stripe customers")

    def __str__(self):
        return f"{self.reference} → {self.customer_id}"


class StripeCardSetup(models.Model):
    """A SetupIntent our card fields started for a customer (usage off_session): the card
    typed into Stripe's card element is confirmed on it in the browser, with the customer's
    authentication when the card asks for it. `payment_method` is filled once it succeeded."""

    customer = models.ForeignKey(
        StripeCustomer, on_delete=models.CASCADE, related_name="card_setups"
    )
    setup_intent_id = models.CharField(_("SetupIntent"), max_length=100, unique=True)
    payment_method = models.CharField(_("PaymentMethod"), max_length=100, blank=True)
    # Set when the server set the card up (set_up_card): the key find_card_setup looks for.
    idempotency_key = models.CharField(_("idempotency key"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("Stripe card setup")
        verbose_name_plural = _("Stripe card setups")
        indexes = [
            models.Index(fields=["payment_method"]),
            models.Index(fields=["idempotency_key"]),
        ]

    def __str__(self):
        return self.setup_intent_id


class StripeEvent(models.Model):
    """A webhook event Stripe delivered, once: a repeated delivery of the same event is
    acknowledged and changes nothing."""

    event_id = models.CharField(_("event"), max_length=100, unique=True)
    type = models.CharField(_("type"), max_length=100)
    object_id = models.CharField(_("object"), max_length=100, blank=True)
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.type} {self.event_id}"
