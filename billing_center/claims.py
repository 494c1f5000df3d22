"""Sharing background work between workers: a worker claims a batch of rows with
`SELECT … FOR UPDATE SKIP LOCKED` and marks them leased for a while, so another worker running
at the same moment takes other rows instead of waiting or doing the same work twice. The lease,
not a held row lock, keeps the claim while the work runs (it may call a payment gateway, which
never happens inside a transaction); a worker that dies leaves rows that are claimable again
once the lease runs out."""

import time
from collections.abc import Iterator
from datetime import timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from billing_center import locks

# Long enough for a batch of work (gateway calls included); short enough that the rows a killed
# run held are free again within minutes.
DEFAULT_LEASE = timedelta(minutes=5)
WAIT_POLL_SECONDS = 1.0


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


class ClaimedBatches:
    """Batches of `queryset` claimed one after another until none is left, as an iterator.
    What this run claimed stays leased until it ends — a row it could not finish is not taken
    again by the same run — and is released then, for the next run.

    A run never silently leaves due work behind: rows another run holds are waited for (they
    are released when that run is done, or their lease runs out if it died) for up to `wait`;
    what is still held then is counted in `left_behind` for the caller to report."""

    def __init__(
        self,
        queryset: QuerySet,
        *,
        lease_field: str,
        batch_size: int,
        lease: timedelta = DEFAULT_LEASE,
        wait: timedelta = timedelta(0),
    ):
        self.queryset = queryset
        self.lease_field = lease_field
        self.batch_size = batch_size
        self.lease = lease
        self.wait = wait
        self.left_behind = 0

    def __iter__(self) -> Iterator[list[int]]:
        claimed: list[int] = []
        deadline = time.monotonic() + self.wait.total_seconds()
        try:
            while True:
                pks = claim_batch(
                    self.queryset.exclude(pk__in=claimed),
                    lease_field=self.lease_field,
                    size=self.batch_size,
                    lease=self.lease,
                )
                if pks:
                    claimed.extend(pks)
                    yield pks
                    continue
                held = self._held_by_others(claimed)
                if not held or time.monotonic() >= deadline:
                    self.left_behind = held
                    return
                time.sleep(min(WAIT_POLL_SECONDS, max(deadline - time.monotonic(), 0)))
        finally:
            release(self.queryset.model, claimed, lease_field=self.lease_field)

    def _held_by_others(self, claimed: list[int]) -> int:
        """Rows still to do that another run has leased now."""
        return (
            self.queryset.exclude(pk__in=claimed)
            .filter(**{f"{self.lease_field}__gt": timezone.now()})
            .count()
        )


def each_claimed(
    queryset: QuerySet, *, lease_field: str, batch_size: int, lease: timedelta = DEFAULT_LEASE
) -> Iterator[list[int]]:
    """Batches of `queryset` claimed one after another until none is left (see ClaimedBatches;
    this one does not wait for rows another run holds)."""
    yield from ClaimedBatches(queryset, lease_field=lease_field, batch_size=batch_size, lease=lease)
