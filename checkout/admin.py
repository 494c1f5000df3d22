from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from billing_center.admin import AuditedAdminMixin
from checkout.models import (
    GatewayCharge,
    Invoice,
    Order,
    OrderLine,
    PaymentAttempt,
    PaymentMethod,
    VatRate,
)
from subscriptions.admin import AccountAdmin
from subscriptions.models import Account

CARD_FIELDS = [
    "brand",
    "last4",
    "exp_month",
    "exp_year",
    "cardholder_name",
    "is_default",
    "gateway_token",
    "created_at",
]
# What the gateway tokenised is the card's evidence; staff only rename or choose the default.
CARD_READONLY_FIELDS = ["brand", "last4", "exp_month", "exp_year", "gateway_token", "created_at"]


@admin.register(PaymentMethod)
class PaymentMethodAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = [
        "account",
        "brand",
        "last4",
        "exp_month",
        "exp_year",
        "is_default",
        "created_at",
    ]
    list_filter = ["brand", "is_default"]
    search_fields = ["account__name", "last4", "cardholder_name"]
    list_select_related = ["account"]
    fields = ["account", *CARD_FIELDS]
    readonly_fields = ["account", *CARD_READONLY_FIELDS]

    def has_add_permission(self, request):
        # A card only comes from the gateway (a token); staff cannot type one in.
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Orders, invoices and charges are records of what happened: staff read them only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    fields = [
        "kind",
        "product_name",
        "plan_name",
        "cycle",
        "seat_count",
        "unit_price",
        "period_start",
        "period_end",
        "amount",
        "subscription",
    ]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "account",
        "placed_at",
        "total",
        "amount_charged",
        "tax_treatment",
        "invoice_number",
    ]
    list_filter = ["tax_treatment", "placed_at"]
    search_fields = ["number", "account__name", "invoice__number", "charge_reference"]
    list_select_related = ["account", "invoice"]
    date_hierarchy = "placed_at"
    inlines = [OrderLineInline]

    @admin.display(description=_("invoice"), ordering="invoice__number")
    def invoice_number(self, order):
        return getattr(getattr(order, "invoice", None), "number", "—")


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["number", "account", "issued_at", "buyer_country", "buyer_vat_number", "order"]
    list_filter = ["year", "buyer_country"]
    search_fields = ["number", "account__name", "buyer_name", "buyer_vat_number", "order__number"]
    list_select_related = ["account", "order"]
    date_hierarchy = "issued_at"


@admin.register(VatRate)
class VatRateAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["country", "rate", "updated_at"]
    list_editable = ["rate"]
    search_fields = ["country"]


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(ReadOnlyAdmin):
    """Every try to take money and what came of it; the reconciliation ends the open ones."""

    list_display = [
        "idempotency_key",
        "account",
        "purpose",
        "amount",
        "status",
        "order",
        "error",
        "created_at",
    ]
    list_filter = ["status", "purpose", "created_at"]
    search_fields = ["idempotency_key", "reference", "charge_reference", "account__name"]
    list_select_related = ["account", "order"]
    date_hierarchy = "created_at"
    exclude = ["card_token", "details"]


@admin.register(GatewayCharge)
class GatewayChargeAdmin(ReadOnlyAdmin):
    list_display = ["reference", "amount", "succeeded", "decline_code", "refunded", "created_at"]
    list_filter = ["succeeded", "refunded", "decline_code"]
    search_fields = ["reference", "idempotency_key"]


class PaymentMethodInline(admin.TabularInline):
    model = PaymentMethod
    extra = 0
    fields = CARD_FIELDS
    readonly_fields = CARD_READONLY_FIELDS

    def has_add_permission(self, request, obj=None):
        # A card only comes from the gateway (a token); staff cannot type one in.
        return False


# The account's page shows its saved cards too: checkout owns cards, so it extends the
# subscriptions app's AccountAdmin here rather than that app importing checkout.
admin.site.unregister(Account)


@admin.register(Account)
class AccountWithCardsAdmin(AccountAdmin):
    inlines = [*AccountAdmin.inlines, PaymentMethodInline]
