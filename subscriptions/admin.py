from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from billing_center.admin import AuditedAdminMixin
from billing_center.money import format_money
from checkout.admin import CARD_FIELDS, CARD_READONLY_FIELDS
from checkout.models import PaymentMethod
from subscriptions.models import (
    Account,
    CreditEntry,
    Membership,
    SeatAssignment,
    Subscription,
    Trial,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    extra = 0
    fields = [
        "product",
        "plan",
        "cycle",
        "seat_count",
        "unit_price",
        "status",
        "current_period_start",
        "current_period_end",
        "trial_end",
    ]
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product", "plan__product")


class PaymentMethodInline(admin.TabularInline):
    model = PaymentMethod
    extra = 0
    fields = CARD_FIELDS
    readonly_fields = CARD_READONLY_FIELDS

    def has_add_permission(self, request, obj=None):
        # A card only comes from the gateway (a token); staff cannot type one in.
        return False


@admin.register(Account)
class AccountAdmin(AuditedAdminMixin, admin.ModelAdmin):
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
    list_filter = ["portal", "self_service_enabled", "currency", "language", "country"]
    search_fields = ["name", "vat_number", "memberships__user__email"]
    inlines = [MembershipInline, SubscriptionInline, PaymentMethodInline]
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
        (_("Credit"), {"fields": ["credit_balance_amount", "created_at"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # The balance moves only through the credit ledger; the currency never changes once set.
        readonly = [
            "credit_balance_amount",
            "created_at",
            "vat_number_validated_at",
            "vat_number_validation",
        ]
        if obj is not None:
            readonly.append("currency")
        return readonly

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(subscription_total=Count("subscriptions"))

    @admin.display(description=Account._meta.get_field("country").verbose_name, ordering="country")
    def country_name(self, account):
        # The same name the generic column shows, without rebuilding the list of ~250
        # translated country choices for every row (two thirds of this page's time).
        return account.country.name

    @admin.display(description=_("credit balance"), ordering="credit_balance_amount")
    def credit_balance_display(self, account):
        return format_money(account.credit_balance)

    @admin.display(description=_("subscriptions"), ordering="subscription_total")
    def subscription_count(self, account):
        return account.subscription_total


@admin.register(Membership)
class MembershipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "account", "role", "created_at"]
    list_filter = ["role", "account__portal"]
    search_fields = ["user__email", "user__full_name", "account__name"]
    list_select_related = ["user", "account"]
    autocomplete_fields = ["user", "account"]


class SeatAssignmentInline(admin.TabularInline):
    model = SeatAssignment
    extra = 0
    fields = ["user", "assigned_at"]
    readonly_fields = ["assigned_at"]
    autocomplete_fields = ["user"]


@admin.register(Subscription)
class SubscriptionAdmin(AuditedAdminMixin, admin.ModelAdmin):
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
    list_filter = ["status", "cycle", "product", "account__portal"]
    search_fields = ["account__name", "product__name", "plan__name"]
    list_select_related = ["account", "product", "plan__product"]
    autocomplete_fields = ["account"]
    date_hierarchy = "current_period_end"
    readonly_fields = ["created_at"]
    inlines = [SeatAssignmentInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(assigned_total=Count("seat_assignments"))

    @admin.display(description=_("seats (assigned / total)"), ordering="seat_count")
    def seats_display(self, subscription):
        return f"{subscription.assigned_total} / {subscription.seat_count}"


@admin.register(SeatAssignment)
class SeatAssignmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
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


@admin.register(Trial)
class TrialAdmin(admin.ModelAdmin):
    list_display = ["account", "product", "started_on", "ends_on", "started_by"]
    list_filter = ["product"]
    search_fields = ["account__name", "product__name"]
    list_select_related = ["account", "product", "started_by"]
    readonly_fields = ["account", "product", "started_on", "ends_on", "started_by"]

    def has_add_permission(self, request):
        return False


@admin.register(CreditEntry)
class CreditEntryAdmin(admin.ModelAdmin):
    """The credit ledger: the account's balance is the sum of these rows, so none is edited."""

    list_display = ["created_at", "account", "amount", "description", "order"]
    search_fields = ["account__name", "description", "order__number"]
    list_select_related = ["account", "order"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
