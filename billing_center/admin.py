from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django_countries.fields import Country

from billing_center.admin_base import ModelAdmin
from billing_center.audit import record_audit_event, snapshot
from billing_center.models import AuditAction, AuditEvent, User


def account_of(obj):
    """The customer account an object belongs to, for its audit event (None for the catalog).
    Told by shape, not by import: the kernel knows no app above it."""
    if obj._meta.label_lower == "subscriptions.account":
        return obj
    if hasattr(obj, "account_id"):
        return obj.account
    if hasattr(obj, "subscription_id"):
        return obj.subscription.account
    return None


def _model_fields(obj, names):
    """The names among `names` that are concrete fields of obj (not inline formsets, m2m…)."""
    concrete = {f.name for f in obj._meta.fields}
    return [name for name in names if name in concrete]


def _fields_of(form):
    return _model_fields(form.instance, form.changed_data)


def _changed_model_fields(obj, formset, instance):
    form = next(f for f in formset.forms if f.instance is instance)
    return _fields_of(form)


def country_column(field: str, description):
    """A changelist column with a country's name: the generic column rebuilds the list of ~250
    translated country choices for every row (most of an account list's time)."""

    @admin.display(description=description, ordering=field)
    def column(self, obj):
        return getattr(obj, field).name

    return column


def countries_in_use(field: str, title):
    """A changelist filter with the countries the rows have, not all ~250 of the world."""

    class CountriesInUse(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            codes = (
                model_admin.get_queryset(request)
                .order_by()
                .values_list(field, flat=True)
                .distinct()
            )
            return sorted(
                ((code, Country(code).name) for code in codes if code),
                key=lambda choice: str(choice[1]),
            )

        def queryset(self, request, queryset):
            if self.value():
                return queryset.filter(**{field: self.value()})
            return queryset

    CountriesInUse.title = title
    return CountriesInUse


class AuditedAdminMixin:
    """Every change staff make to billing data in the admin leaves an audit event."""

    def save_model(self, request, obj, form, change):
        self._save_audited(request, obj, _fields_of(form), change)

    def delete_model(self, request, obj):
        self._delete_audited(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self._delete_audited(request, obj)

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)
        for obj in formset.deleted_objects:
            self._delete_audited(request, obj)
        for obj in formset.new_objects:
            self._save_audited(request, obj, _changed_model_fields(obj, formset, obj), False)
        for obj, changed in formset.changed_objects:
            self._save_audited(request, obj, _model_fields(obj, changed), True)
        formset.save_m2m()

    def _save_audited(self, request, obj, fields, change):
        before = {}
        if change and fields:
            before = snapshot(type(obj)._default_manager.get(pk=obj.pk), fields)
        obj.save()
        if change and not fields:
            return
        record_audit_event(
            actor=request.user,
            account=account_of(obj),
            action=AuditAction.CHANGED if change else AuditAction.CREATED,
            target=obj,
            before=before,
            after=snapshot(obj, fields),
        )

    def _delete_audited(self, request, obj):
        fields = [f.name for f in obj._meta.fields if f.name != "id"]
        record_audit_event(
            actor=request.user,
            account=account_of(obj),
            action=AuditAction.DELETED,
            target=obj,
            before=snapshot(obj, fields),
        )
        obj.delete()


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_per_page = ModelAdmin.list_per_page
    ordering = ["email"]
    list_display = [
        "email",
        "full_name",
        "membership_account",
        "membership_role",
        "is_staff",
        "is_active",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", "membership__role"]
    search_fields = ["email", "full_name", "membership__account__name"]
    list_select_related = ["membership__account"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["full_name", "language"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]}),
    ]

    @admin.display(description=_("account"), ordering="membership__account__name")
    def membership_account(self, user):
        membership = getattr(user, "membership", None)
        return membership.account if membership else "—"

    @admin.display(description=_("role"), ordering="membership__role")
    def membership_role(self, user):
        membership = getattr(user, "membership", None)
        return membership.get_role_display() if membership else "—"


@admin.register(AuditEvent)
class AuditEventAdmin(ModelAdmin):
    """The audit log is evidence: staff read it, nobody edits or deletes it."""

    list_display = ["occurred_at", "account", "actor", "object_type", "object_repr", "action"]
    list_filter = ["action", "object_type", "occurred_at"]
    search_fields = ["object_repr", "account__name", "actor__email"]
    list_select_related = ["account", "actor"]
    date_hierarchy = "occurred_at"
    readonly_fields = [
        "occurred_at",
        "actor",
        "account",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "before",
        "after",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
