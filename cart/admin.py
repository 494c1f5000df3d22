from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from billing_center.admin import ModelAdmin
from cart.models import Cart, CartItem
from cart.services import touch_cart


class CartItemInline(admin.TabularInline):
    model = CartItem
    extra = 0
    fields = ["product", "plan", "cycle", "seat_count", "added_at"]
    readonly_fields = ["added_at"]


@admin.register(Cart)
class CartAdmin(ModelAdmin):
    """Carts are the customers' own: staff look at them to help, and may empty one."""

    list_display = ["owner", "account", "item_count", "version", "updated_at"]
    search_fields = ["owner__email", "account__name"]
    list_select_related = ["owner", "account"]
    readonly_fields = ["owner", "account", "version", "updated_at"]
    inlines = [CartItemInline]

    def has_add_permission(self, request):
        return False

    def save_formset(self, request, form, formset, change):
        """Staff's edits of the items are a change of the cart like the customer's: its version
        moves on, so a checkout page showing the old items cannot place them."""
        super().save_formset(request, form, formset, change)
        if formset.has_changed():
            touch_cart(form.instance)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(item_total=Count("items"))

    @admin.display(description=_("cart items"), ordering="item_total")
    def item_count(self, cart):
        return cart.item_total
