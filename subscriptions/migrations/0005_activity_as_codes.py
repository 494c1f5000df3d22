"""Old rows told in the writer's language become codes, so they read in the reader's
(billing_center.activity, subscriptions.activity).

- Credit entries of an order said "Crédit utilisé pour la commande ORD-…" or "Credit from order
  ORD-…": their kind follows from the sign of the amount, and their order is already linked.
- Invitations stored the role's label ("Membre", "Member"): the role's code instead.
"""

from django.db import migrations
from django.utils import translation

ROLES = {
    "billing_contact": "Billing contact",
    "admin_contact": "Admin contact",
    "member": "Member",
}


def forwards(apps, schema_editor):
    CreditEntry = apps.get_model("subscriptions", "CreditEntry")
    CreditEntry.objects.filter(order__isnull=False, amount__lt=0).update(
        kind="used_for_order", description=""
    )
    CreditEntry.objects.filter(order__isnull=False, amount__gt=0).update(
        kind="from_order", description=""
    )

    codes = {}
    for language in ("en", "fr", "it", "es"):
        with translation.override(language):
            for code, label in ROLES.items():
                codes[translation.gettext(label)] = code
    AuditEvent = apps.get_model("billing_center", "AuditEvent")
    for event in AuditEvent.objects.filter(action="member_invited").iterator():
        role = event.after.get("role")
        if role in codes:
            event.after["role"] = codes[role]
            event.save(update_fields=["after"])


class Migration(migrations.Migration):
    dependencies = [
        ("subscriptions", "0004_credit_entry_kind"),
        ("billing_center", "0004_number_sequence"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
