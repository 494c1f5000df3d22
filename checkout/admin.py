from django.contrib import admin

from billing_center.admin import AuditedAdminMixin
from checkout.models import PaymentMethod

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
