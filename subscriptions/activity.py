"""How the activity list and the credit history tell subscriptions' and accounts' changes
(billing_center.activity holds the rest; registered in SubscriptionsConfig.ready)."""

from typing import Any

from django.utils.translation import gettext

from billing_center.activity import EventRenderer, format_value, ids_of, register
from billing_center.models import AuditAction, AuditEvent
from catalog.models import seats_title
from subscriptions.models import CreditEntry, CreditKind, Role, Subscription


@register
class SubscriptionRenderer(EventRenderer):
    """Seats are called what the product calls them ("Organizers: 10 → 12")."""

    object_type = "subscriptions.subscription"
    told_by_summary = {
        AuditAction.SEAT_ASSIGNED: {"user"},
        AuditAction.SEAT_UNASSIGNED: {"user"},
    }

    def prefetch(self, events: list[AuditEvent]) -> dict[int, str]:
        """The seat noun of each subscription on the page, in one query."""
        ids = ids_of(events)
        if not ids:
            return {}
        return dict(Subscription.objects.filter(pk__in=ids).values_list("pk", "product__seat_noun"))

    def seat_noun(self, event: AuditEvent, context: dict[int, str] | None) -> str | None:
        if not context or not event.object_id.isdigit():
            return None
        return context.get(int(event.object_id))

    def label(self, event: AuditEvent, key: str, context: Any) -> str:
        noun = self.seat_noun(event, context)
        if key == "seat_count" and noun:
            return seats_title(noun)
        return super().label(event, key, context)

    def summary(self, event: AuditEvent, context: Any) -> str:
        if event.action == AuditAction.SEAT_ASSIGNED:
            user = event.after.get("user", "")
            return gettext("Seat given to %(user)s.") % {"user": user} if user else ""
        if event.action == AuditAction.SEAT_UNASSIGNED:
            user = event.before.get("user", "")
            return gettext("Seat taken back from %(user)s.") % {"user": user} if user else ""
        return ""


@register
class UserRenderer(EventRenderer):
    """An invitation reads as one sentence: "ana@example.com invited as Member"."""

    object_type = "billing_center.user"
    extra_choices = {"role": Role.choices}
    told_by_summary = {AuditAction.MEMBER_INVITED: {"email", "role"}}

    def summary(self, event: AuditEvent, context: Any) -> str:
        if event.action != AuditAction.MEMBER_INVITED:
            return ""
        return gettext("%(email)s invited as %(role)s.") % {
            "email": event.after.get("email") or event.object_repr,
            "role": format_value(event.after.get("role"), choices=Role.choices),
        }


@register
class MembershipRenderer(EventRenderer):
    object_type = "subscriptions.membership"

    def subject(self, event: AuditEvent, context: Any) -> str:
        # Stored as "person · account (Role)", the role in the writer's language: the change
        # lines say the role in the reader's.
        head, _sep, _role = event.object_repr.rpartition(" (")
        return head or event.object_repr


def credit_entry_description(entry: CreditEntry) -> str:
    """Why credit moved, in the reader's language ("Crédit utilisé pour la commande …")."""
    number = entry.order.number if entry.order_id else ""
    if entry.kind == CreditKind.USED_FOR_ORDER and number:
        return gettext("Credit used for order %(number)s") % {"number": number}
    if entry.kind == CreditKind.FROM_ORDER and number:
        return gettext("Credit from order %(number)s") % {"number": number}
    return entry.description or entry.get_kind_display()
