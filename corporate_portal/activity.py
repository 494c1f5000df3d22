"""How the activity list tells service orders (billing_center.activity holds the rest;
registered in CorporatePortalConfig.ready)."""

from typing import Any

from billing_center.activity import EventRenderer, register
from billing_center.models import AuditEvent


@register
class ServiceOrderRenderer(EventRenderer):
    object_type = "corporate_portal.serviceorder"

    def subject(self, event: AuditEvent, context: Any) -> str:
        # Stored as "Q-2026-000001 (Processing)", the status in the writer's language and long
        # out of date: the quote number is the subject, the change lines tell the status.
        head, _sep, _status = event.object_repr.rpartition(" (")
        return head or event.object_repr
