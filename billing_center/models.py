from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        # Sign-in is by email, whatever the case the person types it in.
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: a billing contact, a member holding seats, or vendor staff."""

    email = models.EmailField(_("email address"), max_length=254, unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    # Empty means "follow the account's language"; set by the language switcher.
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, blank=True, default=""
    )
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Designates whether the user can log into the Django admin."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
        ]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class AuditAction(models.TextChoices):
    CREATED = "created", _("created")
    CHANGED = "changed", _("changed")
    DELETED = "deleted", _("deleted")
    SEAT_ASSIGNED = "seat_assigned", _("seat assigned")
    SEAT_UNASSIGNED = "seat_unassigned", _("seat unassigned")
    TRIAL_STARTED = "trial_started", _("trial started")
    ORDER_PLACED = "order_placed", _("order placed")
    MEMBER_INVITED = "member_invited", _("user invited")


# "Suscripción · creada", "Facture · créée": the participle after an object's name agrees with
# the noun's grammatical gender in the reader's language. The nouns (each model's verbose_name as
# translated) that are feminine, per language; every other one takes the masculine form.
FEMININE_OBJECT_TYPES = {
    "es": {
        "subscriptions.account",
        "subscriptions.membership",
        "subscriptions.subscription",
        "subscriptions.seatassignment",
        "subscriptions.trial",
        "checkout.orderline",
        "checkout.numbersequence",
        "checkout.invoice",
        "corporate_portal.quoteline",
    },
    "fr": {
        "catalog.plan",
        "subscriptions.membership",
        "subscriptions.seatassignment",
        "subscriptions.creditentry",
        "checkout.paymentmethod",
        "checkout.order",
        "checkout.orderline",
        "checkout.numbersequence",
        "checkout.invoice",
        "corporate_portal.quoteline",
        "corporate_portal.serviceorder",
    },
    "it": {
        "subscriptions.membership",
        "subscriptions.seatassignment",
        "subscriptions.trial",
        "checkout.vatrate",
        "checkout.orderline",
        "checkout.numbersequence",
        "checkout.invoice",
        "corporate_portal.quoteline",
    },
}
# (masculine, feminine) forms of the actions that agree with their object.
AGREEING_ACTIONS = {
    AuditAction.CREATED: (
        pgettext_lazy("masculine", "created"),
        pgettext_lazy("feminine", "created"),
    ),
    AuditAction.CHANGED: (
        pgettext_lazy("masculine", "changed"),
        pgettext_lazy("feminine", "changed"),
    ),
    AuditAction.DELETED: (
        pgettext_lazy("masculine", "deleted"),
        pgettext_lazy("feminine", "deleted"),
    ),
}


class AuditEvent(models.Model):
    """One billing change: who did it, when, to which account, and the state before → after.

    Written only through `billing_center.audit.record_audit_event`; read-only everywhere else.
    """

    occurred_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    account = models.ForeignKey(
        "subscriptions.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    action = models.CharField(_("what"), max_length=64, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["account", "-occurred_at"], name="audit_account_recent")]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"

    @property
    def object_type_label(self) -> str:
        """The changed object's kind in the reader's language ("Subscription", "Abonnement")."""
        try:
            return str(apps.get_model(self.object_type)._meta.verbose_name).capitalize()
        except (LookupError, ValueError):
            return self.object_type

    @property
    def action_label(self) -> str:
        """What happened, agreeing with the object's noun ("Suscripción · creada")."""
        forms = AGREEING_ACTIONS.get(self.action)
        if forms is None:
            return self.get_action_display()
        language = (translation.get_language() or "")[:2]
        return str(forms[self.object_type in FEMININE_OBJECT_TYPES.get(language, set())])

    @property
    def changes(self):
        """(field, before, after) for every field the event touched, for display."""
        keys = list(dict.fromkeys([*self.before.keys(), *self.after.keys()]))
        return [(key, self.before.get(key), self.after.get(key)) for key in keys]


class NumberSequence(models.Model):
    """The last number given in a yearly series of documents ("INV" invoices, "CN" credit
    notes, "Q" quotes). Its row is locked while a number is taken, in the transaction that
    writes the document (`billing_center.numbering.next_number`): numbers of a series never
    skip and never repeat."""

    series = models.CharField(_("series"), max_length=10)
    year = models.PositiveSmallIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")
        constraints = [
            models.UniqueConstraint(
                fields=["series", "year"], name="document_number_sequence_unique"
            ),
        ]

    def __str__(self):
        return f"{self.series} {self.year}: {self.last_number}"
