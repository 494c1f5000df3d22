"""The reconciliation (SPEC "Payments"): every attempt left pending, or captured without an
order, is brought to an end — the gateway is asked how it ended, then the money path completes
what it paid for or gives it back. `manage.py reconcile_payments`, its task and every billing
run call `reconcile_payments`; the page a customer waits on calls `settle`."""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from checkout.models import AttemptStatus, PaymentAttempt
from checkout.payments import attempts, money_path

logger = logging.getLogger(__name__)

# One worker handles an attempt at a time (a lease rather than a row lock held across gateway
# calls: nobody waits on a transaction while the gateway answers).
LEASE = timedelta(minutes=5)


@dataclass
class Reconciliation:
    settled: int = 0
    completed: int = 0
    refunded: int = 0
    failed: int = 0
    still_open: int = 0
    still_open_ids: list[int] = field(default_factory=list)

    def __str__(self):
        return (
            f"{self.settled} settled, {self.completed} completed, {self.refunded} refunded, "
            f"{self.failed} ended without a charge, {self.still_open} still open"
        )


def reconcile_payments(*, opened_by: list[int] | None = None) -> Reconciliation:
    """Every attempt left pending, or captured without an order, past the in-flight window:
    ask the gateway, then complete what it paid for or refund it. Idempotent; safe to run at
    any time, by several workers (each attempt is handled under a lease). An attempt waiting
    for its customer's authentication stays open until the gateway says how it ended.

    `opened_by`: the attempts the caller itself opened (a billing run, done with them), settled
    whatever their age — nobody else is still charging them."""
    report = Reconciliation()
    cutoff = timezone.now() - attempts.in_flight_window()
    ours = Q(pk__in=opened_by) if opened_by else Q(pk__in=[])
    stale = PaymentAttempt.objects.filter(Q(created_at__lt=cutoff) | ours).filter(
        status__in=[AttemptStatus.PENDING, AttemptStatus.CAPTURED], order__isnull=True
    )
    for pk in stale.order_by("pk").values_list("pk", flat=True):
        try:
            _reconcile_one(pk, report)
        except Exception:
            logger.exception("Reconciling payment attempt %s failed", pk)
            report.still_open += 1
            report.still_open_ids.append(pk)
    return report


def settle(attempt: PaymentAttempt) -> None:
    """Bring one attempt to an end now if its request is gone (past the in-flight window, left
    unknown, or waiting for an authentication): the page a customer waits on calls this."""
    young = attempt.created_at >= timezone.now() - attempts.in_flight_window()
    open_ = attempt.status == AttemptStatus.PENDING or (
        attempt.status == AttemptStatus.CAPTURED and attempt.order_id is None
    )
    if open_ and not (young and not attempt.error and not attempt.action_url):
        _reconcile_one(attempt.pk, Reconciliation())
    attempt.refresh_from_db()


def _reconcile_one(pk: int, report: Reconciliation) -> None:
    now = timezone.now()
    claimed = (
        PaymentAttempt.objects.filter(pk=pk)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
    )
    if not claimed:
        return  # another worker has it
    try:
        _reconcile_claimed(PaymentAttempt.objects.get(pk=pk), report)
    finally:
        PaymentAttempt.objects.filter(pk=pk).update(lease_until=None)


def _reconcile_claimed(attempt: PaymentAttempt, report: Reconciliation) -> None:
    if attempt.status == AttemptStatus.PENDING:
        attempts.settle_with_gateway(attempt)
        attempt.refresh_from_db()
        if attempt.status == AttemptStatus.PENDING:
            report.still_open += 1  # the gateway cannot tell yet, or the customer may still act
            report.still_open_ids.append(attempt.pk)
            return
        report.settled += 1
        if attempt.status in (AttemptStatus.FAILED, AttemptStatus.DECLINED):
            report.failed += 1
    money_path.resume(attempt)
    attempt.refresh_from_db()
    if attempt.status == AttemptStatus.CAPTURED and attempt.order_id is None:
        attempts.refund(attempt, reason=_("Nothing could be completed with this payment."))
        attempt.refresh_from_db()
    if attempt.order_id is not None:
        report.completed += 1
    elif attempt.status == AttemptStatus.REFUNDED:
        report.refunded += 1
    elif attempt.status == AttemptStatus.CAPTURED:
        report.still_open += 1  # the refund failed: next run
        report.still_open_ids.append(attempt.pk)
