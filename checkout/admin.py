from django.contrib import admin

from billing_center.admin import AuditedAdminMixin
from checkout.models import PaymentMethod


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
    readonly_fields = ["gateway_token", "created_at"]

    def has_add_permission(self, request):
        # A card only comes from the gateway (a token); staff cannot type one in.
        return False
