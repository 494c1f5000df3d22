"""Gapless yearly numbers for documents: invoices, credit notes, quotes."""

from django.db import IntegrityError, transaction

from billing_center.models import NumberSequence


def next_number(*, series: str, year: int) -> tuple[int, str]:
    """The next number of a yearly series ("INV-2026-000042", "Q-2026-000012"), taken under the
    sequence row's lock. Call it in the transaction that saves the document: if that rolls
    back, so does the number."""
    try:
        with transaction.atomic():
            NumberSequence.objects.get_or_create(series=series, year=year)
    except IntegrityError:
        pass  # another transaction created the year's row at the same moment
    sequence = NumberSequence.objects.select_for_update().get(series=series, year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number, f"{series}-{year}-{sequence.last_number:06d}"
