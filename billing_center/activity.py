"""The activity list: each audit event told in the reader's language, built when the page is read.

Events store codes and values (`seat_count: 10 → 12`, `cycle: "annual"`, `"192.00 EUR"`, ISO
dates), never sentences, so that an Italian reader sees Italian whoever made the change. This is
the one place where they become words: field names are the model fields' verbose names, choice
values their labels, money and dates in the reader's format.

`billing_center` is the bottom layer: the apps above register a renderer for their own objects
(`register`), with the labels only they know (a product's seat noun, an account role).
"""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from moneyed import Money

from billing_center.models import AuditEvent
from billing_center.money import format_money

# "192.00 EUR", as billing_center.audit stores money.
MONEY = re.compile(r"^(-?\d+(?:\.\d+)?) ([A-Z]{3})$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")

# What the keys that are not a field of the changed object are called.
EXTRA_LABELS = {
    "order": _("Order"),
    "invoice": _("Invoice"),
    "credit_note": _("Credit note"),
    "total": _("Total"),
    "charged": _("Amount charged"),
    "paid": _("Amount paid"),
    "quote": _("Quote"),
    "replaces": _("Replaces quote"),
    "assigned": _("Seats assigned"),
    "user": _("User"),
    "email": _("Email address"),
    "card": _("Card"),
    "retried": _("Retried"),
    "ends_on": _("Ends on"),
}

# Keys that the audit log keeps for staff but a customer's activity never shows: a gateway's
# secret reference to a card, the billing run's lease, a password hash.
INTERNAL_KEYS = frozenset({"gateway_token", "billing_lease_until", "password", "last_login"})


@dataclass(frozen=True)
class EventText:
    """An audit event as the activity page shows it, every word in the reader's language."""

    event: AuditEvent
    title: str  # "Abonnement · modifié"
    subject: str  # what was changed: "Acme · GoTo Meeting Business"
    summary: str  # a sentence when the change says more than its fields ("Seat given to …")
    lines: list[str]  # "Organisateurs : 10 → 12", one per changed field


def yes_no(value: bool) -> str:
    return gettext("Yes") if value else gettext("No")


def format_value(value: Any, field: models.Field | None = None, choices=None) -> str:
    """A stored value as the reader reads it: a choice's label, money and dates in their format."""
    if value is None or value == "":
        return "—"
    choices = choices if choices is not None else (field.flatchoices if field else None)
    if choices and isinstance(value, str):
        labels = {str(code): label for code, label in choices}
        if value in labels:
            return str(labels[value])
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, int | float):
        return formats.localize(value)
    if not isinstance(value, str):
        return str(value)
    if isinstance(field, models.BooleanField) and value in ("True", "False"):
        return yes_no(value == "True")
    if match := MONEY.match(value):
        try:
            return format_money(Money(Decimal(match[1]), match[2]))
        except (InvalidOperation, ValueError):
            return value
    if ISO_DATETIME.match(value) and (moment := parse_datetime(value)) is not None:
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return formats.date_format(moment, "DATETIME_FORMAT")
    if ISO_DATE.match(value) and (day := parse_date(value)) is not None:
        return formats.date_format(day, "DATE_FORMAT")
    if isinstance(field, models.DecimalField):
        try:
            return formats.localize(Decimal(value))
        except InvalidOperation:
            return value
    return value


def change_line(label: str, before: Any, after: Any, *, only_after: bool, only_before: bool) -> str:
    if only_after:
        return gettext("%(field)s: %(value)s") % {"field": label, "value": after}
    if only_before:
        return gettext("%(field)s: %(value)s (removed)") % {"field": label, "value": before}
    return gettext("%(field)s: %(before)s → %(after)s") % {
        "field": label,
        "before": before,
        "after": after,
    }


class EventRenderer:
    """Tells the events of one kind of object. The default tells any object: its changed fields,
    each with its verbose name. Subclasses (one per object type, registered by the app that owns
    the model) add a sentence, other labels, or what they need fetched once for a whole page."""

    object_type = ""
    # Keys the summary already tells (not repeated as lines).
    told_by_summary: ClassVar[dict[str, set[str]]] = {}
    # Choices of keys that are not a field of the model: key → [(code, label)].
    extra_choices: ClassVar[dict[str, Any]] = {}

    def prefetch(self, events: list[AuditEvent]) -> Any:
        """What the page's events of this kind need from the database, fetched in a constant
        number of queries; passed back to every method below as `context`."""
        return None

    def model(self, event: AuditEvent):
        try:
            return apps.get_model(event.object_type)
        except (LookupError, ValueError):
            return None

    def field(self, event: AuditEvent, key: str) -> models.Field | None:
        model = self.model(event)
        if model is None:
            return None
        try:
            field = model._meta.get_field(key)
        except FieldDoesNotExist:
            return None
        return field if field.concrete else None  # not a reverse relation of the same name

    def label(self, event: AuditEvent, key: str, context: Any) -> str:
        field = self.field(event, key)
        if field is not None and getattr(field, "verbose_name", None):
            return capfirst(str(field.verbose_name))
        if key in EXTRA_LABELS:
            return str(EXTRA_LABELS[key])
        # An old or unknown key: never shown as a raw name ("seat_count").
        return capfirst(key.replace("_", " "))

    def value(self, event: AuditEvent, key: str, value: Any, context: Any) -> str:
        return format_value(value, self.field(event, key), self.extra_choices.get(key))

    def title(self, event: AuditEvent) -> str:
        return f"{event.object_type_label} · {event.action_label}"

    def subject(self, event: AuditEvent, context: Any) -> str:
        return event.object_repr

    def summary(self, event: AuditEvent, context: Any) -> str:
        return ""

    def lines(self, event: AuditEvent, context: Any) -> list[str]:
        told = self.told_by_summary.get(event.action, set())
        result = []
        for key in dict.fromkeys([*event.before.keys(), *event.after.keys()]):
            if key in told or key in INTERNAL_KEYS:
                continue
            in_before, in_after = key in event.before, key in event.after
            if in_before and in_after and event.before[key] == event.after[key]:
                continue  # a snapshot's unchanged field ("Annual → Annual") tells nothing
            result.append(
                change_line(
                    self.label(event, key, context),
                    self.value(event, key, event.before.get(key), context),
                    self.value(event, key, event.after.get(key), context),
                    only_after=in_after and not in_before,
                    only_before=in_before and not in_after,
                )
            )
        return result

    def describe(self, event: AuditEvent, context: Any = None) -> EventText:
        return EventText(
            event=event,
            title=self.title(event),
            subject=self.subject(event, context),
            summary=self.summary(event, context),
            lines=self.lines(event, context),
        )


_renderers: dict[str, EventRenderer] = {}
_default = EventRenderer()


def register(renderer: type[EventRenderer]) -> type[EventRenderer]:
    """Class decorator: the renderer of `renderer.object_type` ("app_label.modelname")."""
    _renderers[renderer.object_type] = renderer()
    return renderer


def renderer_for(object_type: str) -> EventRenderer:
    return _renderers.get(object_type, _default)


def describe_events(events: Iterable[AuditEvent]) -> list[EventText]:
    """The page's events told in the active language; each renderer prefetches once per page."""
    events = list(events)
    by_type: dict[str, list[AuditEvent]] = defaultdict(list)
    for event in events:
        by_type[event.object_type].append(event)
    contexts = {
        object_type: renderer_for(object_type).prefetch(of_type)
        for object_type, of_type in by_type.items()
    }
    return [
        renderer_for(event.object_type).describe(event, contexts[event.object_type])
        for event in events
    ]


def ids_of(events: list[AuditEvent]) -> set[int]:
    """The integer primary keys of the events' objects (object_id is stored as text)."""
    return {int(event.object_id) for event in events if event.object_id.isdigit()}
