"""The billing day and the clock: documents are dated on the day they are billed for."""

from datetime import date, datetime

from django.utils import timezone


def moment_on(day: date) -> datetime:
    """Now, if `day` is today; else the same time of day on `day` (a billing run for another
    day — an operator catching up, the demo's clock moved forward — dates its documents then)."""
    now = timezone.localtime()
    if day == now.date():
        return now
    return timezone.make_aware(datetime.combine(day, now.time().replace(tzinfo=None)))
