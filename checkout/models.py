import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField
from djmoney.models.fields import MoneyField

from catalog.models import BillingCycle


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
    # A card typed in to pay something is kept once that payment went through; until then it
    # is only entered (not offered, not the default). A card added on the payment methods page
    # is saved once the processor set it up.
    saved = models.BooleanField(_("saved"), default=True)
    # The processor's record that the customer authenticated the card for later off-session
    # charges (renewals, dunning, service orders): their mandate. Empty: none given yet.
    mandate = models.CharField(_("mandate"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    # A removed card is kept for the orders, invoices and service orders it paid (they name it),
    # but is never offered, charged nor the default again.
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)

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
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True) | Q(is_default=False),
                name="payment_method_removed_is_not_default",
            ),
            models.CheckConstraint(
                condition=Q(saved=True) | Q(is_default=False),
                name="payment_method_unsaved_is_not_default",
            ),
        ]

    def __str__(self):
        return (
            f"{self.get_brand_display()} •••• {self.last4} ({self.exp_month:02d}/{self.exp_year})"
        )

    def is_expired(self, today) -> bool:
        return (self.exp_year, self.exp_month) < (today.year, today.month)


class VatRate(models.Model):
    """The standard VAT rate of an EU member state, kept as data so staff can follow changes."""

    country = CountryField(_("country"), unique=True)
    rate = models.DecimalField(
        _("standard rate (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("99.99"))],
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("VAT rate")
        verbose_name_plural = _("VAT rates")
        ordering = ["country"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gte=0, rate__lt=100), name="vat_rate_between_0_and_100"
            ),
        ]

    def __str__(self):
        return f"{self.country.name}: {self.rate} %"


class TaxTreatment(models.TextChoices):
    STANDARD = "standard", _("VAT at the customer's country rate")
    REVERSE_CHARGE = "reverse_charge", _("Reverse charge")
    OUTSIDE_SCOPE = "outside_scope", _("Outside the scope of EU VAT")


class PaymentPurpose(models.TextChoices):
    CHECKOUT = "checkout", _("Checkout")
    SERVICE_ORDER = "service_order", _("Service order")
    RENEWAL = "renewal", _("Renewal")
    INVOICE = "invoice", _("Invoice payment")


class AttemptStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    CAPTURED = "captured", _("Captured")
    DECLINED = "declined", _("Declined")
    FAILED = "failed", _("Failed, nothing charged")
    REFUNDED = "refunded", _("Refunded")


class PaymentAttempt(models.Model):
    """One try to take money for one thing, written and committed before the gateway is called
    and updated with what came back (STYLE habit 13). What it pays is named by foreign keys (a
    cart version, a renewal's subscription and period, an invoice; a service order through
    corporate_portal's ServiceOrderPayment), and `reference` is the idempotency key derived
    from it. A pending attempt is one whose outcome is not known yet — a timeout, or the
    customer's authentication waited for — that only the gateway, asked by its idempotency
    key, can settle (checkout.payments)."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(
        "subscriptions.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="payment_attempts",
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=PaymentPurpose.choices)
    reference = models.CharField(_("paying for"), max_length=100, db_index=True)
    number = models.PositiveSmallIntegerField(_("attempt"), default=1)
    idempotency_key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    amount = MoneyField(_("amount"), max_digits=12, decimal_places=2)
    payment_method = models.ForeignKey(
        PaymentMethod,
        verbose_name=_("payment method"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="payment_attempts",
    )
    # The card the gateway is asked to charge: a saved card's token or a new card's (never a
    # card number). Kept so that an attempt can be settled and completed without the request.
    card_token = models.CharField(_("card token"), max_length=100)
    # What it pays (one of these, by purpose).
    cart = models.ForeignKey(
        "cart.Cart",
        verbose_name=_("cart"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment_attempts",
    )
    cart_version = models.PositiveIntegerField(_("cart version"), null=True, blank=True)
    invoice = models.ForeignKey(
        "Invoice",
        verbose_name=_("invoice"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment_attempts",
    )
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        verbose_name=_("subscription"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment_attempts",
    )
    period_start = models.DateField(_("period start"), null=True, blank=True)
    # The customer is there (checkout, Pay now) or not (renewals, dunning, service orders: a
    # merchant-initiated charge under the card's mandate).
    on_session = models.BooleanField(_("customer present"), default=True)
    # While the customer authenticates the payment with their bank: the processor's page.
    action_url = models.CharField(_("authentication page"), max_length=500, blank=True)
    # The mandate an authenticated on-session payment gave, kept on the card it saves.
    mandate = models.CharField(_("mandate"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=AttemptStatus.choices, default=AttemptStatus.PENDING
    )
    charge_reference = models.CharField(_("charge reference"), max_length=60, blank=True)
    decline_code = models.CharField(_("decline code"), max_length=40, blank=True)
    error = models.CharField(_("last error"), max_length=300, blank=True)
    # What completing the payment needs when the request that started it is gone (checkout:
    # the billing details and the new card's display fields). No card number, no CVC.
    details = models.JSONField(_("details"), default=dict, blank=True)
    order = models.ForeignKey(
        "Order",
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment_attempts",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Set while a reconciliation worker handles the attempt (checkout.payments).
    lease_until = models.DateTimeField(_("handled until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("payment attempt")
        verbose_name_plural = _("payment attempts")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["reference", "number"], name="payment_attempt_number_unique"
            ),
            # One attempt at a time per thing paid for: a second one waits for the first's end.
            models.UniqueConstraint(
                fields=["reference"],
                condition=Q(status="pending"),
                name="payment_attempt_one_pending",
            ),
            models.CheckConstraint(
                condition=Q(status__in=AttemptStatus.values), name="payment_attempt_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(purpose__in=PaymentPurpose.values),
                name="payment_attempt_purpose_valid",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="payment_attempt_amount_positive"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["captured", "refunded"]) | ~Q(charge_reference=""),
                name="payment_attempt_capture_has_reference",
            ),
            # What it pays, by foreign key (service orders: corporate_portal's link).
            models.CheckConstraint(
                condition=~Q(purpose="checkout")
                | Q(cart__isnull=False, cart_version__isnull=False),
                name="payment_attempt_checkout_names_its_cart",
            ),
            models.CheckConstraint(
                condition=~Q(purpose="renewal")
                | Q(subscription__isnull=False, period_start__isnull=False),
                name="payment_attempt_renewal_names_its_period",
            ),
            models.CheckConstraint(
                condition=~Q(purpose="invoice") | Q(invoice__isnull=False),
                name="payment_attempt_invoice_payment_names_its_invoice",
            ),
        ]

    def __str__(self):
        return f"{self.idempotency_key} {self.amount} ({self.get_status_display()})"


class Order(models.Model):
    """A placed order: what was bought, at which prices and tax, and what was charged.

    Everything here is a snapshot taken at placement; nothing is recomputed from today's prices.
    """

    number = models.CharField(_("number"), max_length=30, unique=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    account = models.ForeignKey(
        "subscriptions.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("placed by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    placed_at = models.DateTimeField(_("placed"), default=timezone.now)
    subtotal = MoneyField(_("subtotal"), max_digits=12, decimal_places=2)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2)
    tax_treatment = models.CharField(
        _("tax treatment"), max_length=20, choices=TaxTreatment.choices
    )
    tax_country = CountryField(_("tax country"))
    tax = MoneyField(_("tax"), max_digits=12, decimal_places=2)
    total = MoneyField(_("total"), max_digits=12, decimal_places=2)
    credit_applied = MoneyField(_("credit applied"), max_digits=12, decimal_places=2)
    amount_charged = MoneyField(_("amount charged"), max_digits=12, decimal_places=2)
    # A negative total becomes account credit: how much this order added to the balance.
    credit_added = MoneyField(
        _("credit added"), max_digits=12, decimal_places=2, default=0, default_currency="EUR"
    )
    payment_method = models.ForeignKey(
        PaymentMethod,
        verbose_name=_("payment method"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
    )
    charge_reference = models.CharField(_("charge reference"), max_length=60, blank=True)
    buyer_vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    # The buyer's purchase order this order answers (the account's default, or its own).
    purchase_order = models.CharField(
        _("purchase order number"), max_length=35, blank=True, db_index=True
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tax_treatment__in=TaxTreatment.values), name="order_tax_treatment_valid"
            ),
            models.CheckConstraint(
                condition=Q(amount_charged__gte=0)
                & Q(credit_applied__gte=0)
                & Q(credit_added__gte=0),
                name="order_charge_and_credit_not_negative",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def changes_seats_only(self) -> bool:
        """Does the order only change seat counts (each credited subscription keeps its plan and
        cycle, and nothing else is bought)? Pages and emails then say "your seats are changed"."""
        before, after = {}, {}
        for line in self.lines.all():
            if line.kind == OrderLineKind.PRORATION_CREDIT:
                before[line.subscription_id] = (line.plan_name, line.cycle)
            elif line.kind == OrderLineKind.CHANGE:
                after[line.subscription_id] = (line.plan_name, line.cycle)
            else:
                return False
        return bool(before) and before == after

    @property
    def lines_with_seats_to_assign(self) -> list["OrderLine"]:
        """One line per subscription that has more seats after the order than before (a new
        subscription, seats added): the confirmation page and email link each to its seat
        assignment. A decrease has nothing to assign."""
        lines = list(self.lines.all())
        seats_before = {
            line.subscription_id: line.seat_count
            for line in lines
            if line.kind == OrderLineKind.PRORATION_CREDIT
        }
        found = {}
        for line in lines:
            if line.kind == OrderLineKind.PRORATION_CREDIT or line.subscription_id in found:
                continue
            if line.kind == OrderLineKind.RENEWAL:
                continue
            if line.kind == OrderLineKind.CHANGE and line.seat_count <= seats_before.get(
                line.subscription_id, 0
            ):
                continue
            found[line.subscription_id] = line
        return list(found.values())


class OrderLineKind(models.TextChoices):
    NEW_SUBSCRIPTION = "new_subscription", _("New subscription")
    TRIAL_CONVERSION = "trial_conversion", _("Trial converted to a subscription")
    CHANGE = "change", _("New period from today")
    PRORATION_CREDIT = "proration_credit", _("Credit for the unused time")
    ADDED_SEATS = "added_seats", _("Seats added until the next billing date")
    RENEWAL = "renewal", _("Renewal for the next period")


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=OrderLineKind.choices)
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT
    )
    product_name = models.CharField(_("product"), max_length=100)
    plan_name = models.CharField(_("plan"), max_length=100)
    cycle = models.CharField(_("billing cycle"), max_length=10, choices=BillingCycle.choices)
    seat_count = models.PositiveIntegerField(_("seats"))
    unit_price = MoneyField(_("price per seat"), max_digits=12, decimal_places=2)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    amount = MoneyField(_("amount"), max_digits=12, decimal_places=2)
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        verbose_name=_("subscription"),
        on_delete=models.PROTECT,
        related_name="order_lines",
    )

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(seat_count__gte=1), name="order_line_seats_positive"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")), name="order_line_period_valid"
            ),
        ]

    def __str__(self):
        return f"{self.product_name} {self.plan_name} × {self.seat_count}"


class InvoiceStatus(models.TextChoices):
    # "la facture": feminine in French, Italian and Spanish ("Ouverte", "Aperta", "Abierta").
    OPEN = "open", pgettext_lazy("invoice status", "Open")
    PAID = "paid", pgettext_lazy("invoice status", "Paid")
    VOID = "void", pgettext_lazy("invoice status", "Void")
    # A credit note's only status: what it credits went to the account balance when it was
    # issued. Nothing is ever owed on it.
    CREDITED = "credited", _("Credited")


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


# The yearly numbering series of each kind of document (billing_center.numbering).
NUMBER_SERIES = {InvoiceKind.INVOICE: "INV", InvoiceKind.CREDIT_NOTE: "CN"}


class Invoice(models.Model):
    """The document of an order, with seller and buyer as they were when it was issued: an
    invoice, or — for an order whose total is negative — a credit note (SPEC: "never an invoice
    with a negative total"). Both kinds share this table and everything an issued document
    keeps; each kind has its own gapless yearly series ("INV-2026-000042", "CN-2026-000001").

    A credit note `corrects` the invoice of the period it credits: the latest paid invoice with
    a line on a subscription the order credits (the most recent of them when the order credits
    several). A credit note is never open: its status is `credited` from the start.
    """

    number = models.CharField(_("number"), max_length=20, unique=True)
    kind = models.CharField(
        _("kind"), max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE
    )
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrected invoice"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("sequence"))
    order = models.OneToOneField(
        Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="invoice"
    )
    account = models.ForeignKey(
        "subscriptions.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    seller_name = models.CharField(_("seller"), max_length=200)
    seller_address = models.CharField(_("seller address"), max_length=300)
    seller_country = CountryField(_("seller country"))
    seller_vat_number = models.CharField(_("seller VAT number"), max_length=20)
    buyer_name = models.CharField(_("buyer"), max_length=200)
    buyer_address = models.TextField(_("buyer address"))
    buyer_country = CountryField(_("buyer country"))
    buyer_vat_number = models.CharField(_("buyer VAT number"), max_length=20, blank=True)
    buyer_legal_identifier = models.CharField(
        _("buyer company identifier"), max_length=30, blank=True
    )
    buyer_sdi_code = models.CharField(_("buyer Codice Destinatario"), max_length=7, blank=True)
    buyer_pec = models.EmailField(_("buyer PEC address"), blank=True)
    # Paid when the order was charged (or owed nothing); open while a renewal's payment is
    # being retried (dunning) or waits for "Pay now"; void when staff forgive it.
    status = models.CharField(
        _("status"), max_length=8, choices=InvoiceStatus.choices, default=InvoiceStatus.PAID
    )
    amount_due = MoneyField(
        _("amount due"), max_digits=12, decimal_places=2, default=0, default_currency="EUR"
    )
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    # Dunning: the first failed charge, the retries made since, and when the next one is due.
    first_failed_on = models.DateField(_("first payment failure"), null=True, blank=True)
    retries_done = models.PositiveSmallIntegerField(_("retries made"), default=0)
    next_retry_on = models.DateField(_("next retry"), null=True, blank=True)
    # Set while a billing-run worker retries its payment (billing_center.claims).
    dunning_lease_until = models.DateTimeField(_("retried until"), null=True, blank=True)
    # The PDF, rendered once after the document is issued (checkout.invoices.documents) and
    # served from the storage ever after: an issued document never changes, so neither does its
    # PDF.
    pdf = models.FileField(_("PDF"), max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "year", "sequence"], name="invoice_sequence_unique_per_kind_year"
            ),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="invoice_sequence_positive"),
            models.CheckConstraint(
                condition=Q(kind__in=InvoiceKind.values), name="invoice_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=InvoiceStatus.values), name="invoice_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="open") | Q(amount_due__gt=0), name="invoice_open_owes"
            ),
            # A credit note is credited from the start and owes nothing; an invoice never is.
            models.CheckConstraint(
                condition=Q(kind="credit_note", status="credited", amount_due=0)
                | (Q(kind="invoice") & ~Q(status="credited")),
                name="invoice_credit_note_credited",
            ),
            models.CheckConstraint(
                condition=Q(kind="credit_note") | Q(corrects__isnull=True),
                name="invoice_only_credit_notes_correct",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE

    @property
    def pdf_filename(self) -> str:
        return f"{self.number}.pdf"
