from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import BillingCycle


class Cart(models.Model):
    """A billing contact's cart, kept in the database so it survives sessions and devices.

    `version` goes up with every change, and with every order placed from it: the checkout page
    posts the version it showed, which is also the order's idempotency key, so a double click,
    a reload or a second tab of the same cart can only ever place one order.
    """

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="cart",
    )
    account = models.ForeignKey(
        "subscriptions.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="carts",
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")

    def __str__(self):
        return f"{self.owner} ({self.account})"


class CartItem(models.Model):
    """A new subscription in the cart (for a product in trial, its conversion to paid), or a
    change of a live subscription's seats, tier or cycle (`subscription` set)."""

    cart = models.ForeignKey(
        Cart, verbose_name=_("cart"), on_delete=models.CASCADE, related_name="items"
    )
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.CASCADE
    )
    plan = models.ForeignKey("catalog.Plan", verbose_name=_("plan"), on_delete=models.CASCADE)
    cycle = models.CharField(_("billing cycle"), max_length=10, choices=BillingCycle.choices)
    seat_count = models.PositiveIntegerField(_("seats"))
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        verbose_name=_("subscription changed"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    added_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("cart item")
        verbose_name_plural = _("cart items")
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="cart_item_one_per_product"),
            models.CheckConstraint(condition=Q(seat_count__gte=1), name="cart_item_seats_positive"),
            models.CheckConstraint(
                condition=Q(cycle__in=BillingCycle.values), name="cart_item_cycle_valid"
            ),
        ]

    def __str__(self):
        return f"{self.plan} × {self.seat_count} ({self.get_cycle_display()})"
