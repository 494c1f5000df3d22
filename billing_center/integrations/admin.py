from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing_center.admin_base import ModelAdmin
from billing_center.integrations import delivery
from billing_center.integrations.forms import ApiKeyForm, WebhookEndpointForm
from billing_center.integrations.models import (
    ApiKey,
    WebhookDelivery,
    WebhookEndpoint,
)


@admin.register(ApiKey)
class ApiKeyAdmin(ModelAdmin):
    form = ApiKeyForm
    list_display = [
        "name",
        "prefix",
        "scope_list",
        "account",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix"]
    list_select_related = ["account"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    @admin.display(description=_("scopes"))
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # a key's rights never change: revoke it and make another
            return [*self.readonly_fields, "name", "scopes", "account"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return
        key, value = ApiKey.issue(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            account=form.cleaned_data["account"],
        )
        obj.pk = key.pk
        messages.warning(
            request,
            _("The key, shown this once (only its hash is kept): %(key)s") % {"key": value},
        )

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        done = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, _("%(count)d key(s) revoked.") % {"count": done})


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "event_list", "active", "disabled_reason", "created_at"]
    list_filter = ["active"]

    @admin.display(description=_("events"))
    def event_list(self, obj):
        return ", ".join(obj.events)

    def has_delete_permission(self, request, obj=None):
        return False  # turned off instead (active), so its deliveries stay listed

    def save_model(self, request, obj, form, change):
        if not change:
            obj.secret = WebhookEndpoint.new_secret()
        if obj.active:
            obj.disabled_reason = ""
        super().save_model(request, obj, form, change)
        if not change:
            messages.warning(
                request,
                _("The signing secret, shown this once: %(secret)s") % {"secret": obj.secret},
            )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ModelAdmin):
    list_display = [
        "event_type",
        "event",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "last_attempt_at",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "event__type", "endpoint"]
    search_fields = ["event__public_id", "endpoint__url"]
    list_select_related = ["event", "endpoint"]
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]
    actions = ["resend"]

    @admin.display(description=_("type"), ordering="event__type")
    def event_type(self, obj):
        return obj.event.type

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send the selected deliveries again"))
    def resend(self, request, queryset):
        for row in queryset:
            delivery.resend(row)
        from billing_center.integrations.tasks import deliver_webhooks

        deliver_webhooks.enqueue()
        self.message_user(
            request,
            _("%(count)d delivery(ies) will be sent again.") % {"count": queryset.count()},
        )
