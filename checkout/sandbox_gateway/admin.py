from django.contrib import admin

from billing_center.admin import ModelAdmin
from checkout.sandbox_gateway.models import SandboxCharge, SandboxSetup


class _ProcessorRecord(ModelAdmin):
    """What the sandbox processor recorded, for staff to look at (the processor's dashboard)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SandboxCharge)
class SandboxChargeAdmin(_ProcessorRecord):
    list_display = [
        "reference",
        "amount",
        "status",
        "on_session",
        "decline_code",
        "refunded",
        "created_at",
    ]
    list_filter = ["status", "on_session", "refunded", "decline_code"]
    search_fields = ["reference", "idempotency_key"]
    exclude = ["token"]


@admin.register(SandboxSetup)
class SandboxSetupAdmin(_ProcessorRecord):
    list_display = ["reference", "status", "decline_code", "created_at"]
    list_filter = ["status"]
    search_fields = ["reference", "idempotency_key"]
    exclude = ["token"]
