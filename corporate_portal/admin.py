from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing_center.admin import ModelAdmin
from corporate_portal.models import Quote, QuoteLine, ServiceOrder, ServiceOrderStatus
from corporate_portal.services import (
    RETRYABLE,
    CorporateError,
    SeatRequest,
    create_quote,
    preview_quote,
    retry_service_order,
)


class QuoteAddForm(forms.ModelForm):
    replace_open_quote = forms.BooleanField(
        label=_("Replace the account's open quote"),
        required=False,
        help_text=_("An account has one open quote: the new one replaces it, which expires."),
    )

    class Meta:
        model = Quote
        fields = ["account"]


class QuoteLineFormSet(forms.BaseInlineFormSet):
    """A staff quote is checked and priced by the same service as the billing contact's
    (corporate_portal.services): lines on the quote's own account only, live subscriptions in
    a period with days left, within the plan's seat limit, co-termed prices."""

    def seat_requests(self) -> list[SeatRequest]:
        return [
            SeatRequest(form.cleaned_data["subscription"].pk, form.cleaned_data["added_seats"])
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("subscription") is not None
        ]

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        account = getattr(self.instance, "account", None) if self.instance.account_id else None
        if account is None:
            return  # the account field has its own error
        # The quote form's tick box, read from the same POST (formsets don't see the form).
        replace_open = forms.BooleanField(required=False).clean(self.data.get("replace_open_quote"))
        try:
            preview_quote(
                account=account,
                requests=self.seat_requests(),
                replace_open=replace_open,
                by_staff=True,
            )
        except CorporateError as error:
            raise forms.ValidationError(error.message) from None


class QuoteLineInline(admin.TabularInline):
    model = QuoteLine
    formset = QuoteLineFormSet
    extra = 1
    fields = ["subscription", "added_seats", "unit_price", "period_start", "period_end", "amount"]
    readonly_fields = ["unit_price", "period_start", "period_end", "amount"]
    autocomplete_fields = ["subscription"]

    def has_change_permission(self, request, obj=None):
        return obj is None  # lines are written once, with the quote

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Quote)
class QuoteAdmin(ModelAdmin):
    """Corporate Account Services write quotes for corporate accounts here: they choose the
    account, the subscriptions and the seats; `create_quote` checks and prices them exactly as
    for a quote the billing contact saves. A saved quote is an offer and is not edited."""

    list_display = ["number", "account", "status", "created_at", "valid_until", "total"]
    list_filter = ["status"]
    search_fields = ["number", "account__name"]
    list_select_related = ["account"]
    autocomplete_fields = ["account"]
    readonly_fields = [
        "account",
        "status",
        "number",
        "valid_until",
        "created_at",
        "created_by",
        "replaced_by",
        "subtotal",
        "tax_rate",
        "tax_treatment",
        "tax",
        "total",
    ]
    inlines = [QuoteLineInline]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = QuoteAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["account", "replace_open_quote"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Nothing is saved here: save_related creates the quote through the service."""

    def save_related(self, request, form, formsets, change):
        (line_formset,) = formsets
        try:
            quote = create_quote(
                account=form.cleaned_data["account"],
                requests=line_formset.seat_requests(),
                actor=request.user,
                replace_open=form.cleaned_data["replace_open_quote"],
                by_staff=True,
            )
        except CorporateError as error:
            # Checked by the formset a moment ago: the account changed in between.
            self.message_user(request, error.message, messages.ERROR)
            line_formset.new_objects = line_formset.changed_objects = []
            line_formset.deleted_objects = []
            return
        form.instance.pk = quote.pk
        form.instance.refresh_from_db()
        # The lines were written by create_quote, not by the formset.
        line_formset.new_objects, line_formset.changed_objects = list(quote.lines.all()), []
        line_formset.deleted_objects = []

    def log_addition(self, request, obj, message):
        if obj.pk is not None:  # create_quote wrote the audit event, this is Django's log
            super().log_addition(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is None:
            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, post_url_continue)


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
class ServiceOrderAdmin(ModelAdmin):
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

    @admin.action(description=_("Retry processing (failed, or stuck in processing)"))
    def retry(self, request, queryset):
        retried = sum(
            retry_service_order(service_order=service_order, actor=request.user)
            for service_order in queryset.filter(status__in=RETRYABLE)
        )
        self.message_user(
            request,
            ngettext(
                "%(count)s service order sent to processing again.",
                "%(count)s service orders sent to processing again.",
                retried,
            )
            % {"count": retried},
            messages.SUCCESS,
        )
