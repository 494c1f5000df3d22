"""Sharing background work between workers: a worker claims a batch of rows with
`SELECT … FOR UPDATE SKIP LOCKED` and marks them leased for a while, so another worker running
at the same moment takes other rows instead of waiting or doing the same work twice. The lease,
not a held row lock, keeps the claim while the work runs (it may call a payment gateway, which
never happens inside a transaction); a worker that dies leaves rows that are claimable again
once the lease runs out."""

from collections.abc import Iterator
from datetime import timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from billing_center import locks

DEFAULT_LEASE = timedelta(minutes=10)


def claim_batch(
    queryset: QuerySet, *, lease_field: str, size: int, lease: timedelta = DEFAULT_LEASE
) -> list[int]:
    """The primary keys of up to `size` rows of `queryset` nobody holds, now leased to us."""
    now = timezone.now()
    free = Q(**{f"{lease_field}__isnull": True}) | Q(**{f"{lease_field}__lt": now})
    with transaction.atomic():
        pks = locks.claim_rows(queryset.filter(free), size=size)
        if pks:
            queryset.model.objects.filter(pk__in=pks).update(**{lease_field: now + lease})
    return pks


def release(model, pks: list[int], *, lease_field: str) -> None:
    for start in range(0, len(pks), 500):
        model.objects.filter(pk__in=pks[start : start + 500]).update(**{lease_field: None})


def each_claimed(
    queryset: QuerySet, *, lease_field: str, batch_size: int, lease: timedelta = DEFAULT_LEASE
) -> Iterator[list[int]]:
    """Batches of `queryset` claimed one after another until none is left. What this run
    claimed stays leased until it ends — a row it could not finish is not taken again by the
    same run — and is released then, for the next run."""
    claimed: list[int] = []
    try:
        while pks := claim_batch(queryset, lease_field=lease_field, size=batch_size, lease=lease):
            claimed.extend(pks)
            yield pks
    finally:
        release(queryset.model, claimed, lease_field=lease_field)
