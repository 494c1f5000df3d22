from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from djmoney.models.fields import MoneyField
from moneyed import Money

from catalog.models import BillingCycle


class Portal(models.TextChoices):
    BILLING_CENTER = "billing_center", _("Billing Center")
    CORPORATE = "corporate", _("Corporate Billing Portal")


class BuyerIdentifiers(models.Model):
    """What a buyer's accounts payable route invoices on (subscriptions.identifiers): the
    identifiers of its country — SIREN/SIRET, codice fiscale or NIF; in Italy where the SdI
    delivers (Codice Destinatario or PEC) — and its purchase order number. Kept by the account
    (the defaults) and by a corporate service order (as it was placed)."""

    legal_identifier = models.CharField(_("company identifier"), max_length=30, blank=True)
    sdi_code = models.CharField(_("Codice Destinatario"), max_length=7, blank=True)
    pec = models.EmailField(_("PEC address"), blank=True)
    # Printed on every invoice unless an order gives its own (accounts payable match on it).
    purchase_order = models.CharField(_("purchase order number"), max_length=35, blank=True)

    class Meta:
        abstract = True


class Account(BuyerIdentifiers, models.Model):
    """A customer organisation. Its currency is fixed at creation: amounts never mix currencies."""

    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(
        _("currency"), max_length=3, choices=settings.CURRENCY_CHOICES, default="EUR"
    )
    country = CountryField(_("billing country"))
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    address_line1 = models.CharField(_("address"), max_length=200, blank=True)
    address_line2 = models.CharField(_("address (line 2)"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    region = models.CharField(_("region or state"), max_length=100, blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    # When and how the VAT number was last found valid (SPEC "VAT"); empty while unchecked.
    vat_number_validated_at = models.DateTimeField(
        _("VAT number validated at"), null=True, blank=True
    )
    vat_number_validation = models.CharField(
        _("VAT number validated by"), max_length=100, blank=True
    )
    # Extra addresses that get a copy (cc) of every invoice and credit-note email, besides the
    # billing contacts; kept valid, distinct and few by subscriptions.invoice_recipients.
    invoice_cc_emails = models.JSONField(
        _("invoice email recipients (cc)"), default=list, blank=True
    )
    portal = models.CharField(
        _("billing portal"), max_length=20, choices=Portal.choices, default=Portal.BILLING_CENTER
    )
    self_service_enabled = models.BooleanField(
        _("self-service enabled"),
        default=True,
        help_text=_("Corporate accounts may add seats in the Corporate Billing Portal themselves."),
    )
    # Credit owed to the customer, in the account's currency; the ledger is its history.
    credit_balance_amount = models.DecimalField(
        _("credit balance"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(currency__in=settings.CURRENCIES), name="account_currency_supported"
            ),
            models.CheckConstraint(
                condition=Q(credit_balance_amount__gte=0),
                name="account_credit_balance_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(portal__in=Portal.values), name="account_portal_valid"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def credit_balance(self) -> Money:
        return Money(self.credit_balance_amount, self.currency)

    @property
    def is_corporate(self) -> bool:
        return self.portal == Portal.CORPORATE


class Role(models.TextChoices):
    BILLING_CONTACT = "billing_contact", _("Billing contact")
    ADMIN_CONTACT = "admin_contact", _("Admin contact")
    MEMBER = "member", _("Member")


class Membership(models.Model):
    """A user's place in one account. A person belongs to one account only."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="membership",
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["account", "user__email"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self):
        return f"{self.user} · {self.account} ({self.get_role_display()})"

    @property
    def is_billing_contact(self) -> bool:
        return self.role == Role.BILLING_CONTACT


class SubscriptionStatus(models.TextChoices):
    TRIALING = "trialing", _("Trial")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Past due")
    UNPAID = "unpaid", _("Suspended (unpaid)")
    CANCELED = "canceled", _("Canceled")
    EXPIRED = "expired", _("Expired")


# A subscription in one of these is still the account's: at most one per product, shown on the
# dashboard, renewed or reactivated by paying. Its seats are usable in USABLE_STATUSES only.
LIVE_STATUSES = (
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PAST_DUE,
    SubscriptionStatus.UNPAID,
)
USABLE_STATUSES = (
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PAST_DUE,
)


class CancelReason(models.TextChoices):
    """Why a billing contact cancels (optional; staff read them in the admin)."""

    TOO_EXPENSIVE = "too_expensive", _("Too expensive")
    MISSING_FEATURES = "missing_features", _("Missing features")
    SWITCHING = "switching", _("Switching to another product")
    NOT_USED = "not_used", _("Not used enough")
    OTHER = "other", _("Other")


class Subscription(models.Model):
    # The statuses of a subscription that still holds its product (billing_center.locks reads
    # them from here: the kernel does not import this app).
    LIVE_STATUSES = LIVE_STATUSES

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="subscriptions"
    )
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="subscriptions",
    )
    plan = models.ForeignKey(
        "catalog.Plan", verbose_name=_("plan"), on_delete=models.PROTECT, related_name="+"
    )
    cycle = models.CharField(_("billing cycle"), max_length=10, choices=BillingCycle.choices)
    seat_count = models.PositiveIntegerField(_("seats"))
    # The per-seat price this subscription is billed at, in the account's currency; kept here so
    # proration credits what was actually paid, whatever the catalog says today.
    unit_price = MoneyField(
        _("price per seat"),
        max_digits=12,
        decimal_places=2,
        currency_choices=settings.CURRENCY_CHOICES,
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.ACTIVE,
    )
    current_period_start = models.DateField(_("current period start"))
    current_period_end = models.DateField(_("next billing date"))
    # The day of the month the current terms started (a purchase or a change): every renewal
    # keeps it, clipped to the month's length (subscriptions.periods).
    billing_anchor_day = models.PositiveSmallIntegerField(_("billing day"), null=True, blank=True)
    trial_end = models.DateField(_("trial end"), null=True, blank=True)
    # The day its last dunning retry failed (status unpaid): from then on its seats could not be
    # used, which a cancellation credits (checkout.cancellation).
    suspended_on = models.DateField(_("suspended on"), null=True, blank=True)
    # Why the billing contact canceled (optional), kept for staff.
    cancel_reason = models.CharField(
        _("cancellation reason"), max_length=20, choices=CancelReason.choices, blank=True
    )
    cancel_reason_text = models.CharField(_("cancellation comment"), max_length=500, blank=True)
    # Canceled by the billing contact: it ends at current_period_end and is not renewed.
    cancel_at_period_end = models.BooleanField(_("cancels at period end"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    canceled_at = models.DateTimeField(_("canceled at"), null=True, blank=True)
    # Set while a billing-run worker renews it (checkout.billing_run.renewals), so workers share
    # the work.
    billing_lease_until = models.DateTimeField(_("billing run until"), null=True, blank=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["product__position", "product__name", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "product"],
                condition=Q(status__in=LIVE_STATUSES),
                name="subscription_one_live_per_product",
                violation_error_message=_("This account already has this product."),
            ),
            models.CheckConstraint(
                condition=Q(seat_count__gte=1), name="subscription_seats_positive"
            ),
            models.CheckConstraint(
                condition=Q(current_period_end__gt=F("current_period_start")),
                name="subscription_period_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(status=SubscriptionStatus.TRIALING) | Q(trial_end__isnull=False),
                name="subscription_trial_has_end",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gt=0), name="subscription_unit_price_positive"
            ),
            models.CheckConstraint(
                condition=Q(status__in=SubscriptionStatus.values), name="subscription_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(cycle__in=BillingCycle.values), name="subscription_cycle_valid"
            ),
            models.CheckConstraint(
                condition=Q(billing_anchor_day__isnull=True)
                | Q(billing_anchor_day__gte=1, billing_anchor_day__lte=31),
                name="subscription_anchor_day_of_a_month",
            ),
            models.CheckConstraint(
                condition=Q(cancel_reason__in=["", *CancelReason.values]),
                name="subscription_cancel_reason_valid",
            ),
        ]

    def __str__(self):
        return f"{self.account} · {self.product.name} {self.plan.name}"

    @property
    def anchor_day(self) -> int:
        """The day of the month its renewals keep (set with its terms; a subscription set up
        before there was one renews on its current period's day)."""
        return self.billing_anchor_day or self.current_period_start.day

    @property
    def next_billing_date(self):
        return self.current_period_end

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def seats_usable(self) -> bool:
        """Trialing, active or past due (while payment is retried); not suspended or ended."""
        return self.status in USABLE_STATUSES

    def assigned_seats(self) -> int:
        """How many seats are given to users: the count a selector or lock annotated on the
        row when there is one (`assigned_seat_count`), else one query."""
        annotated = getattr(self, "assigned_seat_count", None)
        return annotated if annotated is not None else self.seat_assignments.count()

    @property
    def period_price(self) -> Money:
        """What a whole period of this subscription costs: seats × price per seat."""
        return self.unit_price * self.seat_count


class SeatAssignment(models.Model):
    """One seat of a subscription given to one user of the account."""

    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="seat_assignments",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="seat_assignments",
    )
    assigned_at = models.DateTimeField(_("assigned"), default=timezone.now)

    class Meta:
        verbose_name = _("seat assignment")
        verbose_name_plural = _("seat assignments")
        ordering = ["subscription", "user__email"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "user"],
                name="seat_assignment_once_per_user",
                violation_error_message=_("This user already has a seat of this subscription."),
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.subscription.product.name}"


class Trial(models.Model):
    """That an account tried a product: one free trial per product per account, ever."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="trials"
    )
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    started_on = models.DateField(_("started on"))
    ends_on = models.DateField(_("ends on"))
    # The "your trial ends in 3 days" email went out (the billing run sends it once).
    reminder_sent_on = models.DateField(_("reminder sent on"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("trial")
        verbose_name_plural = _("trials")
        ordering = ["-started_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "product"],
                name="trial_once_per_product",
                violation_error_message=_("This account has already tried this product."),
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("started_on")), name="trial_ends_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.account} · {self.product}"


class CreditKind(models.TextChoices):
    """Why credit moved; the page words it in the reader's language (subscriptions.activity)."""

    USED_FOR_ORDER = "used_for_order", _("Credit used for an order")
    FROM_ORDER = "from_order", _("Credit from an order")
    # Entries written before the kinds, or by hand: their description says why.
    OTHER = "other", _("Other")


class CreditEntry(models.Model):
    """One movement of an account's credit balance: + credit given, − credit used.

    The balance on the account is the sum of these entries; both change in one transaction.
    Why it moved is a code (`kind`) with its order, never a sentence in the writer's language.
    """

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="credit_entries"
    )
    amount = MoneyField(
        _("amount"), max_digits=12, decimal_places=2, currency_choices=settings.CURRENCY_CHOICES
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=CreditKind.choices, default=CreditKind.OTHER
    )
    # Free text for OTHER entries only (older rows kept theirs).
    description = models.CharField(_("description"), max_length=200, blank=True)
    order = models.ForeignKey(
        "checkout.Order",
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_entries",
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("credit entry")
        verbose_name_plural = _("credit entries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="credit_entry_not_zero"),
        ]

    def __str__(self):
        return f"{self.account} {self.amount}"


class InvoiceCopyConsent(models.Model):
    """An extra invoice recipient's confirmation (double opt-in): an address typed in the
    invoice copies gets documents only after it confirmed the one link sent to it
    (subscriptions.invoice_recipients). A row per address of the account, kept while the
    address stays in the list."""

    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="invoice_copy_consents",
    )
    email = models.EmailField(_("email address"))
    asked_at = models.DateTimeField(_("link sent"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)

    class Meta:
        verbose_name = _("invoice copy confirmation")
        verbose_name_plural = _("invoice copy confirmations")
        constraints = [
            models.UniqueConstraint(
                "account", Lower("email"), name="invoice_copy_consent_one_per_address"
            )
        ]

    def __str__(self):
        return self.email


class VatCheckStatus(models.TextChoices):
    # VIES confirmed the number was registered (the request identifier is the proof).
    CONFIRMED = "confirmed", _("Confirmed by VIES")
    # VIES answered that it is not: no reverse charge on the next documents.
    REJECTED = "rejected", _("Rejected by VIES")
    # VIES could not be asked (unavailable): the offline check applies until it answers.
    PENDING = "pending", _("Waiting for VIES")


class VatNumberCheck(models.Model):
    """The last VIES consultation of a VAT number (SPEC "VAT"): reverse charge is never granted
    to a number VIES rejected; a confirmation is asked again once older than
    VIES_CONFIRMATION_MAX_AGE_DAYS (subscriptions.vies)."""

    number = models.CharField(_("VAT number"), max_length=20, unique=True)
    status = models.CharField(
        _("VIES status"), max_length=10, choices=VatCheckStatus.choices, db_index=True
    )
    checked_at = models.DateTimeField(_("last asked"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("last confirmed"), null=True, blank=True)
    request_identifier = models.CharField(_("VIES request identifier"), max_length=40, blank=True)
    request_date = models.DateField(_("VIES request date"), null=True, blank=True)
    error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("VAT number check")
        verbose_name_plural = _("VAT number checks")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=VatCheckStatus.values), name="vat_check_status_valid"
            )
        ]

    def __str__(self):
        return f"{self.number} ({self.get_status_display()})"
