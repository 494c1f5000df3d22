"""Gapless yearly numbers for documents: invoices, credit notes, quotes."""

from django.db import IntegrityError, transaction

from billing_center import locks
from billing_center.models import NumberSequence


def next_number(*, series: str, year: int) -> tuple[int, str]:
    """The next number of a yearly series ("INV-2026-000042", "Q-2026-000012"), taken under the
    sequence row's lock. Call it in the transaction that saves the document: if that rolls
    back, so does the number."""
    # One statement in the common case: the UPDATE takes the row's lock until the caller's
    # transaction ends, so two documents can never get the same number nor leave a gap.
    number = locks.take_next_in_sequence(series=series, year=year)
    if number is None:
        try:
            with transaction.atomic():
                NumberSequence.objects.create(series=series, year=year)
        except IntegrityError:
            pass  # another transaction created the year's row at the same moment
        number = locks.take_next_in_sequence(series=series, year=year)
    return number, f"{series}-{year}-{number:06d}"
