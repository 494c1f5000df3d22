from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from djmoney.models.fields import MoneyField

from subscriptions.models import BuyerIdentifiers

QUOTE_VALIDITY_DAYS = 30


class QuoteStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("Expired")
    REPLACED = "replaced", _("Replaced")


class Quote(models.Model):
    """Seats a corporate account may add, priced co-termed to each subscription's period."""

    number = models.CharField(_("number"), max_length=20, unique=True)
    account = models.ForeignKey(
        "subscriptions.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="quotes",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.OPEN
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    valid_until = models.DateField(_("valid until"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    replaced_by = models.ForeignKey(
        "self", verbose_name=_("replaced by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    subtotal = MoneyField(_("subtotal"), max_digits=12, decimal_places=2)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2)
    tax_treatment = models.CharField(_("tax treatment"), max_length=20)
    tax = MoneyField(_("tax"), max_digits=12, decimal_places=2)
    total = MoneyField(_("total"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Two "Save Cart and Review" at the same moment cannot leave two open quotes.
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status="open"),
                name="quote_one_open_per_account",
                violation_error_message=_("This account already has an open quote."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=QuoteStatus.values), name="quote_status_valid"
            ),
        ]

    def __str__(self):
        return self.number

    def is_expired_on(self, day) -> bool:
        return day > self.valid_until


class QuoteLine(models.Model):
    quote = models.ForeignKey(
        Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="lines"
    )
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        verbose_name=_("subscription"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT
    )
    added_seats = models.PositiveIntegerField(_("added seats"))
    unit_price = MoneyField(_("price per seat"), max_digits=12, decimal_places=2)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    amount = MoneyField(_("prorated amount"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["quote", "product"], name="quote_line_one_per_product"),
            models.CheckConstraint(
                condition=Q(added_seats__gte=1),
                name="quote_line_seats_positive",
                violation_error_message=_("Add at least one seat."),
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="quote_line_period_valid"
            ),
        ]

    def __str__(self):
        return f"{self.product} +{self.added_seats}"


class ServiceOrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PLACED = "placed", _("Placed")
    PROCESSING = "processing", _("Processing")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


class ServiceOrder(BuyerIdentifiers, models.Model):
    """An accepted quote on its way to being charged and applied by the background worker."""

    quote = models.OneToOneField(
        Quote, verbose_name=_("quote"), on_delete=models.PROTECT, related_name="service_order"
    )
    account = models.ForeignKey(
        "subscriptions.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="service_orders",
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ServiceOrderStatus.choices,
        default=ServiceOrderStatus.DRAFT,
    )
    admin_contact_name = models.CharField(_("admin contact name"), max_length=150)
    admin_contact_email = models.EmailField(_("admin contact email"))
    payment_method = models.ForeignKey(
        "checkout.PaymentMethod",
        verbose_name=_("payment method"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    billing_name = models.CharField(_("company name"), max_length=200)
    address_line1 = models.CharField(_("address"), max_length=200)
    address_line2 = models.CharField(_("address (line 2)"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20)
    city = models.CharField(_("city"), max_length=100)
    region = models.CharField(_("region or state"), max_length=100, blank=True)
    country = CountryField(_("country"))
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    # The quote's lines taxed again for the billing address above, when it was saved: the
    # amount the worker charges and the invoice shows (SPEC "VAT").
    subtotal = MoneyField(_("subtotal"), max_digits=12, decimal_places=2)
    tax_country = CountryField(_("tax country"))
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2)
    tax_treatment = models.CharField(_("tax treatment"), max_length=20)
    tax = MoneyField(_("tax"), max_digits=12, decimal_places=2)
    total = MoneyField(_("total"), max_digits=12, decimal_places=2)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("placed by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    placed_at = models.DateTimeField(_("placed"), null=True, blank=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    failure_reason = models.CharField(_("failure reason"), max_length=300, blank=True)
    order = models.OneToOneField(
        "checkout.Order",
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("service order")
        verbose_name_plural = _("service orders")
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ServiceOrderStatus.values), name="service_order_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(placed_at__isnull=False),
                name="service_order_placed_has_date",
            ),
        ]

    def __str__(self):
        return f"{self.quote.number} ({self.get_status_display()})"

    @property
    def idempotency_key(self) -> str:
        """What its order and its payment attempts are known by (checkout.payments numbers the
        attempts: a retry after a refund or a decline charges again, a repeat never does)."""
        return f"service-order-{self.pk}"


class ServiceOrderPayment(models.Model):
    """Which service order a payment attempt pays. Checkout's attempts name carts, invoices and
    renewals by foreign key themselves; this app sits above checkout, so the link to a service
    order is kept here (the money path finds the service order from the attempt through it)."""

    attempt = models.OneToOneField(
        "checkout.PaymentAttempt",
        verbose_name=_("payment attempt"),
        on_delete=models.CASCADE,
        related_name="service_order_payment",
    )
    service_order = models.ForeignKey(
        ServiceOrder,
        verbose_name=_("service order"),
        on_delete=models.PROTECT,
        related_name="payments",
    )

    class Meta:
        verbose_name = _("service order payment")
        verbose_name_plural = _("service order payments")

    def __str__(self):
        return f"{self.service_order} ← {self.attempt}"
