"""The one way to write an audit event, so every billing change is recorded the same way."""

import contextlib
import threading
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


_batches = threading.local()


@contextlib.contextmanager
def audit_batch():
    """Inside a transaction: the audit events recorded in the block are written by one INSERT
    when it ends (with their webhook events, in the order recorded), not one each (issue 22:
    an order of 11 subscriptions writes 12 events). An error in the block writes none (the
    transaction is rolled back anyway). Nested blocks join the outermost; the events of
    another thread are not held by this one."""
    if getattr(_batches, "pending", None) is not None:
        yield
        return
    _batches.pending = pending = []
    try:
        yield
    except BaseException:
        _batches.pending = None
        raise
    _batches.pending = None
    _write(pending)


def _write(pending: list[tuple[AuditEvent, models.Model | None]]) -> None:
    if not pending:
        return
    AuditEvent.objects.bulk_create([event for event, _target in pending])
    # What other systems learn of the change, in its transaction (webhooks' outbox).
    for event, target in pending:
        webhook_events.from_audit(event, target)


def record_audit_event(
    *,
    actor,
    account,
    action: AuditAction,
    target: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor=actor if actor is not None and actor.is_authenticated else None,
        account=account,
        action=action,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        object_repr=str(target)[:200] if target is not None else "",
        before={key: _plain(value) for key, value in (before or {}).items()},
        after={key: _plain(value) for key, value in (after or {}).items()},
    )
    pending = getattr(_batches, "pending", None)
    if pending is not None:
        pending.append((event, target))  # written when the batch ends (audit_batch)
    else:
        _write([(event, target)])
    return event
