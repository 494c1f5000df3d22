from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing_center.admin import AuditedAdminMixin, ModelAdmin, countries_in_use, country_column
from billing_center.money import format_money
from subscriptions import services
from subscriptions.activity import credit_entry_description
from subscriptions.identifiers import compact_identifier, identifiers_problems
from subscriptions.models import (
    Account,
    CreditEntry,
    Membership,
    SeatAssignment,
    Subscription,
    Trial,
    VatNumberCheck,
)
from subscriptions.seats import seat_count_problem
from subscriptions.vat import VAT_VALIDATION_METHOD, compact_vat_number, vat_number_problem
from subscriptions.vies import check_vat_number


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]


class SubscriptionInline(admin.TabularInline):
    """The account's subscriptions at a glance; each is changed on its own page (the link), where
    its terms, seats and lifecycle have room — nine editable columns made the account page
    1 976 px wide."""

    model = Subscription
    extra = 0
    fields = ["product", "plan", "cycle", "seat_count", "status", "current_period_end"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product", "plan__product")


class AccountAdminForm(forms.ModelForm):
    """Staff's account form checks the VAT number as the checkout does, with the same function,
    so no page of the account ever meets a number it cannot use."""

    class Meta:
        model = Account
        fields = ["country", "vat_number"]  # the admin adds its fieldsets' fields

    def clean_vat_number(self):
        return compact_vat_number(self.cleaned_data.get("vat_number", ""))

    def clean(self):
        cleaned = super().clean()
        problem = vat_number_problem(cleaned.get("vat_number"), cleaned.get("country"))
        if problem:
            self.add_error("vat_number", problem)
        for field in ("legal_identifier", "sdi_code"):
            if field in cleaned:
                cleaned[field] = compact_identifier(cleaned[field])
        problems = identifiers_problems(
            country=cleaned.get("country") or "",
            legal_identifier=cleaned.get("legal_identifier", ""),
            sdi_code=cleaned.get("sdi_code", ""),
            pec=cleaned.get("pec", ""),
        )
        for field, problem in problems.items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, problem)
        return cleaned

    def save(self, commit=True):
        # The account keeps when and how its VAT number was found valid (SPEC "VAT").
        if {"vat_number", "country"} & set(self.changed_data):
            valid = bool(self.instance.vat_number)
            self.instance.vat_number_validated_at = timezone.now() if valid else None
            self.instance.vat_number_validation = VAT_VALIDATION_METHOD if valid else ""
        return super().save(commit)


@admin.register(Account)
class AccountAdmin(AuditedAdminMixin, ModelAdmin):
    form = AccountAdminForm
    list_display = [
        "name",
        "country_name",
        "currency",
        "language",
        "portal",
        "self_service_enabled",
        "credit_balance_display",
        "subscription_count",
    ]
    list_filter = [
        "portal",
        "self_service_enabled",
        "currency",
        "language",
        countries_in_use("country", _("country")),
    ]
    search_fields = ["name", "vat_number", "memberships__user__email"]
    # checkout.admin adds the account's saved cards (checkout owns payment methods).
    inlines = [MembershipInline, SubscriptionInline]
    fieldsets = [
        (None, {"fields": ["name", "currency", "language", "portal", "self_service_enabled"]}),
        (
            _("Billing address"),
            {
                "fields": [
                    "address_line1",
                    "address_line2",
                    "postal_code",
                    "city",
                    "region",
                    "country",
                ]
            },
        ),
        (
            _("VAT"),
            {"fields": ["vat_number", "vat_number_validated_at", "vat_number_validation"]},
        ),
        (
            _("Company identifiers"),
            {"fields": ["legal_identifier", "sdi_code", "pec", "purchase_order"]},
        ),
        # The billing contact keeps this list on the Billing information page (its rule is in
        # subscriptions.invoice_recipients).
        (_("Invoice emails"), {"fields": ["invoice_cc_emails"]}),
        (_("Credit"), {"fields": ["credit_balance_amount", "created_at"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # The balance moves only through the credit ledger; the currency never changes once set.
        readonly = [
            "credit_balance_amount",
            "created_at",
            "vat_number_validated_at",
            "vat_number_validation",
            "invoice_cc_emails",
        ]
        if obj is not None:
            readonly.append("currency")
        return readonly

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(subscription_total=Count("subscriptions"))

    country_name = country_column("country", Account._meta.get_field("country").verbose_name)

    @admin.display(description=_("credit balance"), ordering="credit_balance_amount")
    def credit_balance_display(self, account):
        return format_money(account.credit_balance)

    @admin.display(description=_("subscriptions"), ordering="subscription_total")
    def subscription_count(self, account):
        return account.subscription_total


@admin.register(Membership)
class MembershipAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ["user", "account", "role", "created_at"]
    list_filter = ["role", "account__portal"]
    search_fields = ["user__email", "user__full_name", "account__name"]
    list_select_related = ["user", "account"]
    autocomplete_fields = ["user", "account"]


class SeatAssignmentFormSet(forms.BaseInlineFormSet):
    """Never more seats given than the subscription has."""

    def clean(self):
        super().clean()
        seat_count = self.instance.seat_count
        kept = [
            form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if seat_count is not None and len(kept) > seat_count:
            raise forms.ValidationError(
                ngettext(
                    "The subscription has %(seats)s seat: give at most %(seats)s.",
                    "The subscription has %(seats)s seats: give at most %(seats)s.",
                    seat_count,
                )
                % {"seats": seat_count}
            )


class SeatAssignmentInline(admin.TabularInline):
    model = SeatAssignment
    formset = SeatAssignmentFormSet
    extra = 0
    fields = ["user", "assigned_at"]
    readonly_fields = ["assigned_at"]
    autocomplete_fields = ["user"]


class SubscriptionAdminForm(forms.ModelForm):
    """Staff change seats by the same rule as billing contacts (subscriptions.seats)."""

    class Meta:
        model = Subscription
        fields = ["plan", "seat_count"]  # the admin adds the others it shows

    def clean(self):
        cleaned = super().clean()
        plan, seat_count = cleaned.get("plan"), cleaned.get("seat_count")
        if plan is not None and seat_count is not None:
            assigned = self.instance.seat_assignments.count() if self.instance.pk else 0
            problem = seat_count_problem(plan=plan, seat_count=seat_count, assigned=assigned)
            if problem:
                self.add_error("seat_count", problem)
        return cleaned


@admin.register(Subscription)
class SubscriptionAdmin(AuditedAdminMixin, ModelAdmin):
    form = SubscriptionAdminForm
    list_display = [
        "account",
        "product",
        "plan",
        "cycle",
        "seats_display",
        "unit_price",
        "status",
        "current_period_end",
        "trial_end",
    ]
    list_filter = ["status", "cycle", "product", "account__portal", "cancel_reason"]
    search_fields = ["account__name", "product__name", "plan__name", "cancel_reason_text"]
    list_select_related = ["account", "product", "plan__product"]
    autocomplete_fields = ["account"]
    date_hierarchy = "current_period_end"
    # Why the billing contact canceled is theirs to say: staff read it.
    readonly_fields = ["created_at", "cancel_reason", "cancel_reason_text"]
    inlines = [SeatAssignmentInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(assigned_total=Count("seat_assignments"))

    @admin.display(description=_("seats (assigned / total)"), ordering="seat_count")
    def seats_display(self, subscription):
        return f"{subscription.assigned_total} / {subscription.seat_count}"


class SeatAssignmentAdminForm(forms.ModelForm):
    """A seat given from its own admin page follows the billing contacts' rule: a user of the
    account, a live subscription, never more seats given than it has."""

    class Meta:
        model = SeatAssignment
        fields = ["subscription", "user"]

    def clean(self):
        cleaned = super().clean()
        subscription, user = cleaned.get("subscription"), cleaned.get("user")
        if subscription is not None and user is not None:
            problem = services.seat_assignment_problem(subscription=subscription, user=user)
            if problem:
                raise forms.ValidationError(problem)
        return cleaned


@admin.register(SeatAssignment)
class SeatAssignmentAdmin(ModelAdmin):
    list_display = ["user", "subscription", "assigned_at"]
    list_filter = ["subscription__product"]
    search_fields = ["user__email", "subscription__account__name"]
    list_select_related = [
        "user",
        "subscription__account",
        "subscription__product",
        "subscription__plan",
    ]
    autocomplete_fields = ["user", "subscription"]
    form = SeatAssignmentAdminForm

    def has_change_permission(self, request, obj=None):
        # A seat is given or taken back (add, delete), as on the seats page; not moved.
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        # Through the service: the account's lock, the seat rule again, the audit event.
        assignment = services.assign_seat(
            subscription=obj.subscription, user=obj.user, actor=request.user
        )
        obj.pk = assignment.pk
        obj.assigned_at = assignment.assigned_at

    def delete_model(self, request, obj):
        services.unassign_seat(subscription=obj.subscription, user=obj.user, actor=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset.select_related("subscription", "user"):
            self.delete_model(request, obj)


@admin.register(Trial)
class TrialAdmin(ModelAdmin):
    list_display = ["account", "product", "started_on", "ends_on", "started_by"]
    list_filter = ["product"]
    search_fields = ["account__name", "product__name"]
    list_select_related = ["account", "product", "started_by"]
    readonly_fields = ["account", "product", "started_on", "ends_on", "started_by"]

    def has_add_permission(self, request):
        return False


@admin.register(CreditEntry)
class CreditEntryAdmin(ModelAdmin):
    """The credit ledger: the account's balance is the sum of these rows, so none is edited."""

    list_display = ["created_at", "account", "amount", "why", "order"]
    list_filter = ["kind"]
    search_fields = ["account__name", "description", "order__number"]
    list_select_related = ["account", "order"]
    date_hierarchy = "created_at"

    @admin.display(description=_("description"))
    def why(self, entry):
        return credit_entry_description(entry)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(VatNumberCheck)
class VatNumberCheckAdmin(ModelAdmin):
    """VIES's answers (subscriptions.vies), with the request identifier that proves them. The
    Rejected filter is where staff find the numbers that lost their reverse charge; "Ask VIES
    again" re-checks the selected numbers now."""

    list_display = ["number", "status", "checked_at", "confirmed_at", "request_identifier"]
    list_filter = ["status"]
    search_fields = ["number", "request_identifier"]
    readonly_fields = [
        "number",
        "status",
        "checked_at",
        "confirmed_at",
        "request_identifier",
        "request_date",
        "error",
    ]
    actions = ["ask_again"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Ask VIES again"))
    def ask_again(self, request, queryset):
        for check in queryset:
            check_vat_number(check.number)
        self.message_user(request, _("VIES was asked again."))
