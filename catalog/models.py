from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField


class BillingCycle(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    ANNUAL = "annual", _("Annual")


class SeatNoun(models.TextChoices):
    """What one seat of a product is called; names the "Add Organizers" button and seat counts."""

    ORGANIZER = "organizer", pgettext_lazy("seat noun", "organizer")
    AGENT = "agent", pgettext_lazy("seat noun", "agent")
    EXPERT = "expert", pgettext_lazy("seat noun", "expert")
    TECHNICIAN = "technician", pgettext_lazy("seat noun", "technician")


def seat_count_label(noun: str, count: int) -> str:
    """ "10 organizers", "1 agent"… as whole translated sentences, one per noun (STYLE habit 7)."""
    if noun == SeatNoun.AGENT:
        text = ngettext("%(count)s agent", "%(count)s agents", count)
    elif noun == SeatNoun.EXPERT:
        text = ngettext("%(count)s expert", "%(count)s experts", count)
    elif noun == SeatNoun.TECHNICIAN:
        text = ngettext("%(count)s technician", "%(count)s technicians", count)
    else:
        text = ngettext("%(count)s organizer", "%(count)s organizers", count)
    return text % {"count": count}


def seats_title(noun: str) -> str:
    """What a product's seats are called as a heading or a field: "Organizers", "Agents"…"""
    if noun == SeatNoun.AGENT:
        return gettext("Agents")
    if noun == SeatNoun.EXPERT:
        return gettext("Experts")
    if noun == SeatNoun.TECHNICIAN:
        return gettext("Technicians")
    return gettext("Organizers")


def add_seats_label(noun: str) -> str:
    """The button on a subscription that changes its seats: "Add Organizers", "Add Agents"…"""
    if noun == SeatNoun.AGENT:
        return gettext("Add Agents")
    if noun == SeatNoun.EXPERT:
        return gettext("Add Experts")
    if noun == SeatNoun.TECHNICIAN:
        return gettext("Add Technicians")
    return gettext("Add Organizers")


class Product(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    seat_noun = models.CharField(
        _("seat noun"), max_length=20, choices=SeatNoun.choices, default=SeatNoun.ORGANIZER
    )
    trial_offered = models.BooleanField(_("free trial offered"), default=False)
    trial_days = models.PositiveSmallIntegerField(
        _("trial length (days)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    supports_additional_seats = models.BooleanField(
        _("supports additional seats"),
        default=True,
        help_text=_("Corporate accounts can add seats to it through the Corporate Billing Portal."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(trial_offered=False) | Q(trial_days__isnull=False, trial_days__gte=1),
                name="product_trial_has_length",
                violation_error_message=_(
                    "A product that offers a trial needs its length in days."
                ),
            ),
        ]

    def __str__(self):
        return self.name

    def seat_count_label(self, count: int) -> str:
        return seat_count_label(self.seat_noun, count)

    @property
    def add_seats_label(self) -> str:
        return add_seats_label(self.seat_noun)


class Plan(models.Model):
    """A tier of a product (Professional, Business…) with the seat counts it allows."""

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="plans"
    )
    name = models.CharField(_("name"), max_length=100)
    min_seats = models.PositiveIntegerField(_("minimum seats"), default=1)
    max_seats = models.PositiveIntegerField(_("maximum seats"), default=1000)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["product__position", "product__name", "position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "name"], name="plan_name_unique_per_product"
            ),
            models.CheckConstraint(condition=Q(min_seats__gte=1), name="plan_min_seats_positive"),
            models.CheckConstraint(
                condition=Q(max_seats__gte=F("min_seats")), name="plan_max_seats_not_below_min"
            ),
        ]

    def __str__(self):
        return f"{self.product.name} {self.name}"


class Price(models.Model):
    """The price of one seat of a plan for one billing cycle in one currency."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="prices"
    )
    cycle = models.CharField(_("billing cycle"), max_length=10, choices=BillingCycle.choices)
    amount = MoneyField(
        _("price per seat"),
        max_digits=12,
        decimal_places=2,
        currency_choices=settings.CURRENCY_CHOICES,
    )

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        ordering = ["plan", "amount_currency", "cycle"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "cycle", "amount_currency"],
                name="price_unique_per_plan_cycle_currency",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="price_amount_positive"),
            models.CheckConstraint(
                condition=Q(cycle__in=BillingCycle.values), name="price_cycle_valid"
            ),
            models.CheckConstraint(
                condition=Q(amount_currency__in=settings.CURRENCIES),
                name="price_currency_supported",
            ),
        ]

    def __str__(self):
        return f"{self.plan} · {self.get_cycle_display()} · {self.amount}"
