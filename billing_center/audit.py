"""The one way to write an audit event, so every billing change is recorded the same way."""

from decimal import Decimal
from typing import Any

from django.db import models
from moneyed import Money

from billing_center.integrations import events as webhook_events
from billing_center.models import AuditAction, AuditEvent


def _plain(value: Any) -> Any:
    """A JSON-safe rendering of a field value (money as "120.00 EUR", dates as ISO)."""
    if isinstance(value, Money):
        return f"{value.amount} {value.currency.code}"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The named fields of an instance as they are now, for `before`/`after`."""
    return {name: _plain(getattr(instance, name)) for name in fields}


def record_audit_event(
    *,
    actor,
    account,
    action: AuditAction,
    target: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        account=account,
        action=action,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        object_repr=str(target)[:200] if target is not None else "",
        before={key: _plain(value) for key, value in (before or {}).items()},
        after={key: _plain(value) for key, value in (after or {}).items()},
    )
    # What other systems learn of the change, in its transaction (webhooks' outbox).
    webhook_events.from_audit(event, target)
    return event
