from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing_center.admin import AuditedAdminMixin, ModelAdmin, countries_in_use, country_column
from checkout.invoices.payments import InvoicePaymentError, pay_invoice, void_invoice
from checkout.models import (
    Invoice,
    InvoiceStatus,
    Order,
    OrderLine,
    PaymentAttempt,
    PaymentMethod,
    VatRate,
)
from checkout.payments.attempts import PaymentFailed, PaymentPending
from checkout.payments.cards import set_default_payment_method
from checkout.payments.gateway import PaymentDeclined
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
    "removed_at",
]
# What the gateway tokenised is the card's evidence; staff only rename or choose the default.
# A removed card stays removed (the billing contact removed it; it is never the default again).
CARD_READONLY_FIELDS = [
    "brand",
    "last4",
    "exp_month",
    "exp_year",
    "gateway_token",
    "created_at",
    "removed_at",
]


class PaymentMethodAdminForm(forms.ModelForm):
    """Staff choose the default card as billing contacts do: never a removed card, nor one only
    entered for a payment that did not go through."""

    class Meta:
        model = PaymentMethod
        fields = ["cardholder_name", "is_default"]

    def clean_is_default(self):
        is_default = self.cleaned_data["is_default"]
        card = self.instance
        if is_default and (card.removed_at is not None or not card.saved):
            raise forms.ValidationError(_("A removed card cannot be the default card."))
        return is_default


class PaymentMethodFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        defaults = [
            form
            for form in self.forms
            if form.cleaned_data.get("is_default") and not form.cleaned_data.get("DELETE")
        ]
        if len(defaults) > 1:
            raise forms.ValidationError(_("An account has one default payment method."))


@admin.register(PaymentMethod)
class PaymentMethodAdmin(AuditedAdminMixin, ModelAdmin):
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
    form = PaymentMethodAdminForm

    def has_add_permission(self, request):
        # A card only comes from the gateway (a token); staff cannot type one in.
        return False

    def save_model(self, request, obj, form, change):
        # The default moves through the service (the other default is unset, audited).
        if "is_default" in form.changed_data and obj.is_default:
            obj.is_default = False
            super().save_model(request, obj, form, change)
            set_default_payment_method(payment_method=obj, actor=request.user)
            return
        super().save_model(request, obj, form, change)


class ReadOnlyAdmin(ModelAdmin):
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
    search_fields = [
        "number",
        "account__name",
        "invoice__number",
        "charge_reference",
        "purchase_order",
    ]
    list_select_related = ["account", "invoice"]
    date_hierarchy = "placed_at"
    inlines = [OrderLineInline]

    @admin.display(description=_("invoice"), ordering="invoice__number")
    def invoice_number(self, order):
        return getattr(getattr(order, "invoice", None), "number", "—")


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    """Invoices are records; staff act on an open one only through the services: retry its
    payment on the account's default card, or void it (both audited)."""

    list_display = [
        "number",
        "kind",
        "account",
        "issued_at",
        "status",
        "amount_due",
        "next_retry_on",
        "buyer_country_name",
        "order",
        "corrects",
    ]
    list_filter = [
        "kind",
        "status",
        "year",
        countries_in_use("buyer_country", _("buyer country")),
    ]
    actions = ["retry_payment", "void"]

    @admin.action(description=_("Retry the payment of the open invoices now (default card)"))
    def retry_payment(self, request, queryset):
        for invoice in queryset.filter(status=InvoiceStatus.OPEN).select_related("account"):
            card = invoice.account.payment_methods.filter(is_default=True).first()
            try:
                if card is None:
                    raise InvoicePaymentError(_("The account has no default card."))
                pay_invoice(
                    invoice=invoice, actor=request.user, payment_method=card, on_session=False
                )
            except (PaymentDeclined, PaymentFailed, InvoicePaymentError) as error:
                self.message_user(request, f"{invoice.number}: {error.message}", messages.ERROR)
            except PaymentPending:
                self.message_user(
                    request,
                    _(
                        "%(number)s: the gateway's answer is not known yet; the reconciliation "
                        "will settle it."
                    )
                    % {"number": invoice.number},
                    messages.WARNING,
                )
            else:
                self.message_user(
                    request, _("%(number)s is paid.") % {"number": invoice.number}, messages.SUCCESS
                )

    @admin.action(description=_("Void the open invoices (nothing owed; reactivates)"))
    def void(self, request, queryset):
        voided = 0
        for invoice in queryset.filter(status=InvoiceStatus.OPEN):
            void_invoice(invoice=invoice, actor=request.user)
            voided += 1
        self.message_user(
            request,
            ngettext("%(count)s invoice voided.", "%(count)s invoices voided.", voided)
            % {"count": voided},
            messages.SUCCESS,
        )

    search_fields = [
        "number",
        "account__name",
        "buyer_name",
        "buyer_vat_number",
        "buyer_legal_identifier",
        "order__number",
        "order__purchase_order",
    ]
    list_select_related = ["account", "order", "corrects"]
    date_hierarchy = "issued_at"
    buyer_country_name = country_column("buyer_country", _("buyer country"))


@admin.register(VatRate)
class VatRateAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ["country_name", "rate", "updated_at"]
    country_name = country_column("country", _("country"))
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


class PaymentMethodInline(admin.TabularInline):
    """The account's cards, compact (the token and dates are on each card's own page) so that
    the account page fits a laptop's width."""

    model = PaymentMethod
    form = PaymentMethodAdminForm
    formset = PaymentMethodFormSet
    extra = 0
    fields = ["card", "cardholder_name", "is_default", "removed_at"]
    readonly_fields = ["card", "removed_at"]
    show_change_link = True

    @admin.display(description=_("card"))
    def card(self, obj):
        return str(obj)

    def has_add_permission(self, request, obj=None):
        # A card only comes from the gateway (a token); staff cannot type one in.
        return False


# The account's page shows its saved cards too: checkout owns cards, so it extends the
# subscriptions app's AccountAdmin here rather than that app importing checkout.
admin.site.unregister(Account)


@admin.register(Account)
class AccountWithCardsAdmin(AccountAdmin):
    inlines = [*AccountAdmin.inlines, PaymentMethodInline]
