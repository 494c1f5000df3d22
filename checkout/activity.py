"""How the activity list tells orders (billing_center.activity holds the rest; registered in
CheckoutConfig.ready): a renewal reads as a renewal, not as an order the contact placed."""

from typing import Any

from django.utils.translation import gettext

from billing_center.activity import EventRenderer, EventText, ids_of, register
from billing_center.models import AuditAction, AuditEvent
from checkout.models import OrderLine, OrderLineKind


@register
class OrderRenderer(EventRenderer):
    object_type = "checkout.order"

    def prefetch(self, events: list[AuditEvent]) -> dict[int, set[str]]:
        """The kinds of lines of each order of the page: one query."""
        kinds: dict[int, set[str]] = {}
        for order_id, kind in OrderLine.objects.filter(order__in=ids_of(events)).values_list(
            "order_id", "kind"
        ):
            kinds.setdefault(order_id, set()).add(kind)
        return kinds

    def describe(self, event: AuditEvent, context: Any = None) -> EventText:
        text = super().describe(event, context)
        kinds = (context or {}).get(int(event.object_id) if event.object_id.isdigit() else 0)
        if event.action != AuditAction.ORDER_PLACED or not kinds:
            return text
        if kinds == {OrderLineKind.RENEWAL}:
            title = gettext("Renewal")
        elif kinds == {OrderLineKind.PRORATION_CREDIT}:
            title = gettext("Credit note")
        else:
            return text
        return EventText(
            event=text.event,
            title=title,
            subject=text.subject,
            summary=text.summary,
            lines=text.lines,
        )
