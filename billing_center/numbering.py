"""Gapless yearly numbers for documents: invoices, credit notes, quotes."""

from django.db import IntegrityError, transaction

from billing_center import locks
from billing_center.models import NumberSequence


def next_number(*, series: str, year: int) -> tuple[int, str]:
    """The next number of a yearly series ("INV-2026-000042", "Q-2026-000012"), taken under the
    sequence row's lock. Call it in the transaction that saves the document: if that rolls
    back, so does the number."""
    return next_numbers(series=series, year=year, count=1)[0]


def next_numbers(*, series: str, year: int, count: int) -> list[tuple[int, str]]:
    """The next `count` numbers of a yearly series, in order, for documents the caller saves
    in this transaction, every one of them (a batch of renewals' invoices): taken together, so
    that no other document's number falls between them."""
    # One statement in the common case: the UPDATE takes the row's lock until the caller's
    # transaction ends, so two documents can never get the same number nor leave a gap.
    last = locks.take_next_in_sequence(series=series, year=year, count=count)
    if last is None:
        try:
            with transaction.atomic():
                NumberSequence.objects.create(series=series, year=year)
        except IntegrityError:
            pass  # another transaction created the year's row at the same moment
        last = locks.take_next_in_sequence(series=series, year=year, count=count)
    return [
        (number, f"{series}-{year}-{number:06d}") for number in range(last - count + 1, last + 1)
    ]
