from datetime import timedelta

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing_center.admin import AuditedAdminMixin
from corporate_portal.models import Quote, QuoteLine, ServiceOrder, ServiceOrderStatus
from corporate_portal.services import retry_service_order


class QuoteLineInline(admin.TabularInline):
    model = QuoteLine
    extra = 1
    fields = [
        "subscription",
        "product",
        "added_seats",
        "unit_price",
        "period_start",
        "period_end",
        "amount",
    ]
    autocomplete_fields = ["subscription"]


@admin.register(Quote)
class QuoteAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Corporate Account Services write quotes for corporate accounts here."""

    list_display = ["number", "account", "status", "created_at", "valid_until", "total"]
    list_filter = ["status"]
    search_fields = ["number", "account__name"]
    list_select_related = ["account"]
    autocomplete_fields = ["account"]
    readonly_fields = ["replaced_by", "created_at"]
    inlines = [QuoteLineInline]


class OverdueFilter(admin.SimpleListFilter):
    title = _("processing")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Unprocessed after 24 hours"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(
                status__in=[ServiceOrderStatus.PLACED, ServiceOrderStatus.PROCESSING],
                placed_at__lt=timezone.now() - timedelta(hours=24),
            )
        return queryset


@admin.register(ServiceOrder)
class ServiceOrderAdmin(admin.ModelAdmin):
    list_display = ["quote", "account", "status", "placed_at", "processed_at", "failure_reason"]
    list_filter = [OverdueFilter, "status"]
    search_fields = ["quote__number", "account__name", "admin_contact_email"]
    list_select_related = ["quote", "account"]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Retry processing of the failed service orders"))
    def retry(self, request, queryset):
        failed = queryset.filter(status=ServiceOrderStatus.FAILED)
        for service_order in failed:
            retry_service_order(service_order=service_order, actor=request.user)
        self.message_user(
            request,
            _("%(count)s service orders sent to processing again.") % {"count": failed.count()},
            messages.SUCCESS,
        )
