from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from billing_center.admin import AuditedAdminMixin, ModelAdmin
from billing_center.money import format_money
from catalog.models import Plan, Price, Product


class PlanInline(admin.TabularInline):
    model = Plan
    extra = 0
    fields = ["name", "min_seats", "max_seats", "is_active", "position", "price_list"]
    readonly_fields = ["price_list"]
    show_change_link = True  # prices are edited on the plan's page

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("prices")

    @admin.display(description=_("prices per seat"))
    def price_list(self, plan):
        prices = sorted(plan.prices.all(), key=lambda p: (p.amount_currency, p.cycle))
        return ", ".join(f"{p.get_cycle_display()} {format_money(p.amount)}" for p in prices) or "—"


class PriceInline(admin.TabularInline):
    model = Price
    extra = 0
    fields = ["cycle", "amount"]


@admin.register(Product)
class ProductAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = [
        "name",
        "seat_noun",
        "trial_offered",
        "trial_days",
        "supports_additional_seats",
        "plan_count",
        "is_active",
        "position",
    ]
    list_editable = ["position"]
    list_filter = ["is_active", "trial_offered", "supports_additional_seats", "seat_noun"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [PlanInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(plan_total=Count("plans"))

    @admin.display(description=_("plans"), ordering="plan_total")
    def plan_count(self, product):
        return product.plan_total


@admin.register(Plan)
class PlanAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ["name", "product", "min_seats", "max_seats", "is_active", "position"]
    list_filter = ["product", "is_active"]
    search_fields = ["name", "product__name"]
    list_select_related = ["product"]
    inlines = [PriceInline]


@admin.register(Price)
class PriceAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ["plan", "cycle", "amount"]
    list_filter = ["cycle", "amount_currency", "plan__product"]
    search_fields = ["plan__name", "plan__product__name"]
    list_select_related = ["plan__product"]
