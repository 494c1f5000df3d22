from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CardBrand(models.TextChoices):
    VISA = "visa", "Visa"
    MASTERCARD = "mastercard", "Mastercard"
    AMEX = "amex", "American Express"
    OTHER = "other", _("Other card")


class PaymentMethod(models.Model):
    """A saved card, as the gateway tokenised it.

    The full card number and the CVC are never stored: only the brand, the last four digits,
    the expiry and the gateway's token that charges it.
    """

    account = models.ForeignKey(
        "subscriptions.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="payment_methods",
    )
    brand = models.CharField(_("brand"), max_length=20, choices=CardBrand.choices)
    last4 = models.CharField(_("last 4 digits"), max_length=4)
    exp_month = models.PositiveSmallIntegerField(_("expiry month"))
    exp_year = models.PositiveSmallIntegerField(_("expiry year"))
    cardholder_name = models.CharField(_("name on card"), max_length=100, blank=True)
    gateway_token = models.CharField(_("gateway token"), max_length=100, unique=True)
    is_default = models.BooleanField(_("default"), default=False)
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("payment method")
        verbose_name_plural = _("payment methods")
        ordering = ["-is_default", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(is_default=True),
                name="payment_method_one_default_per_account",
                violation_error_message=_("An account has one default payment method."),
            ),
            models.CheckConstraint(
                condition=Q(last4__regex=r"^[0-9]{4}$"), name="payment_method_last4_digits"
            ),
            models.CheckConstraint(
                condition=Q(exp_month__gte=1, exp_month__lte=12),
                name="payment_method_exp_month_valid",
            ),
            models.CheckConstraint(
                condition=Q(exp_year__gte=2000, exp_year__lte=2100),
                name="payment_method_exp_year_valid",
            ),
            models.CheckConstraint(
                condition=Q(brand__in=CardBrand.values), name="payment_method_brand_valid"
            ),
        ]

    def __str__(self):
        return (
            f"{self.get_brand_display()} •••• {self.last4} ({self.exp_month:02d}/{self.exp_year})"
        )

    def is_expired(self, today) -> bool:
        return (self.exp_year, self.exp_month) < (today.year, today.month)
