from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from moneyed import Money

from billing_center.admin import AuditedAdminMixin
from checkout.services import next_number
from corporate_portal.models import (
    QUOTE_VALIDITY_DAYS,
    Quote,
    QuoteLine,
    ServiceOrder,
    ServiceOrderStatus,
)
from corporate_portal.services import coterm_amount, price_staff_quote, retry_service_order


class QuoteLineForm(forms.ModelForm):
    class Meta:
        model = QuoteLine
        fields = ["subscription", "added_seats"]

    def clean(self):
        cleaned = super().clean()
        subscription, seats = cleaned.get("subscription"), cleaned.get("added_seats")
        if subscription is not None and seats:
            # Priced like a quote the billing contact saves (price_staff_quote redoes the totals).
            today = timezone.localdate()
            line = self.instance
            line.product = subscription.product
            line.unit_price = subscription.unit_price
            line.period_start = today
            line.period_end = max(today, subscription.current_period_end)
            line.amount = coterm_amount(subscription=subscription, added_seats=seats, on=today)
        return cleaned


class QuoteLineInline(admin.TabularInline):
    model = QuoteLine
    form = QuoteLineForm
    extra = 1
    fields = ["subscription", "added_seats", "unit_price", "period_start", "period_end", "amount"]
    readonly_fields = ["unit_price", "period_start", "period_end", "amount"]
    autocomplete_fields = ["subscription"]


@admin.register(Quote)
class QuoteAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Corporate Account Services write quotes for corporate accounts here."""

    list_display = ["number", "account", "status", "created_at", "valid_until", "total"]
    list_filter = ["status"]
    search_fields = ["number", "account__name"]
    list_select_related = ["account"]
    autocomplete_fields = ["account"]
    fields = [
        "account", "status", "number", "valid_until", "created_at", "replaced_by",
        "subtotal", "tax_rate", "tax_treatment", "tax", "total",
    ]  # fmt: skip
    # Staff choose the account, the subscriptions and the seats; the rest is computed.
    readonly_fields = [
        "number", "valid_until", "created_at", "replaced_by", "subtotal", "tax_rate",
        "tax_treatment", "tax", "total",
    ]  # fmt: skip
    inlines = [QuoteLineInline]

    def save_model(self, request, obj, form, change):
        if not change:
            today = timezone.localdate()
            obj.number = next_number(series="Q", year=today.year)[1]
            obj.valid_until = today + timedelta(days=QUOTE_VALIDITY_DAYS)
            obj.created_by = request.user
            zero = Money(0, obj.account.currency)
            obj.subtotal = obj.tax = obj.total = zero
            obj.tax_rate, obj.tax_treatment = 0, ""
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        price_staff_quote(quote=form.instance, actor=request.user)


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
