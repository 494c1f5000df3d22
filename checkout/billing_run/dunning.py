"""Dunning (SPEC "D. Around the flows"): an open invoice is retried on the schedule
(settings.DUNNING_RETRY_DAYS days after the first failure) on the account's default card,
off-session, through the invoice's payment flow; each failed retry emails, and after the last
one the subscription is suspended."""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction

from billing_center import metrics
from billing_center.claims import ClaimedBatches
from billing_center.integrations import events as webhook_events
from checkout.emails import send_payment_failed_email
from checkout.invoices.payments import InvoicePayment, locked_invoice, subscriptions_of
from checkout.models import Invoice, InvoiceStatus
from checkout.payments.money_path import take_payment
from subscriptions import lifecycle


@dataclass
class DunningReport:
    paid: int = 0
    failed: int = 0
    suspended: int = 0
    waiting: int = 0
    left_behind: int = 0  # due, but held by another run past the wait

    def record(self, suspended: bool) -> None:
        """One more failed retry (the last one suspends)."""
        self.failed += 1
        self.suspended += int(suspended)

    def __str__(self):
        return (
            f"{self.paid} paid, {self.failed} declined again, {self.suspended} suspended, "
            f"{self.waiting} waiting for the gateway"
        )


def retry_open_invoices(*, today: date, batch_size: int = 200) -> DunningReport:
    """Every open invoice whose retry is due: charged again to the default card; a decline moves
    it along the schedule, the last one suspends the subscription. Each step emails."""
    report = DunningReport()
    due = Invoice.objects.filter(status=InvoiceStatus.OPEN, next_retry_on__lte=today)
    batches = ClaimedBatches(
        due,
        lease_field="dunning_lease_until",
        batch_size=batch_size,
        wait=timedelta(seconds=settings.BILLING_RUN_WAIT_SECONDS),
    )
    for pks in batches:
        for pk in pks:
            _retry(pk, today, report)
    report.left_behind = batches.left_behind
    return report


class DunningRetry(InvoicePayment):
    """A retry is the invoice's payment flow, merchant-initiated on the default card; what
    differs is what each answer does to the schedule: paid, or one more failed retry (then the
    next one, or suspension), or — the gateway's answer not known — the schedule waits."""

    def __init__(self, *, invoice_id: int, card, report: DunningReport, today: date):
        super().__init__(invoice_id=invoice_id, actor=None, on_session=False, payment_method=card)
        self.report = report
        self.today = today

    def write(self, invoice, attempt):
        self.report.paid += 1
        metrics.DUNNING.labels("paid").inc()
        return super().write(invoice, attempt)

    def declined(self, attempt, declined):
        metrics.DUNNING.labels("declined").inc()
        self.report.record(
            record_failed_retry(invoice_id=self.invoice_id, decline=declined.code, today=self.today)
        )

    def failed(self, attempt, failed):
        self.report.waiting += 1  # not the card's answer: the schedule does not move

    def pending(self, attempt, pending):
        self.report.waiting += 1


def _retry(invoice_id: int, today: date, report: DunningReport) -> None:
    invoice = Invoice.objects.select_related("account").get(pk=invoice_id)
    card = invoice.account.payment_methods.filter(is_default=True).first()
    if card is None:
        report.record(record_failed_retry(invoice_id=invoice_id, decline="no_card", today=today))
        return
    take_payment(DunningRetry(invoice_id=invoice_id, card=card, report=report, today=today))


def next_retry_after(*, retries_done: int, attempted_on: date) -> date:
    """When the next retry is due after a failed attempt: the schedule's gap from that attempt
    (settings.DUNNING_RETRY_DAYS, days after the first failure: 3, 5, 7 → 3, 2 and 2 days
    between attempts). From the last attempt, whatever runs were skipped: retries never pile
    up on consecutive run days."""
    schedule = settings.DUNNING_RETRY_DAYS
    previous = schedule[retries_done - 1] if retries_done else 0
    return attempted_on + timedelta(days=schedule[retries_done] - previous)


def record_failed_retry(*, invoice_id: int, decline: str, today: date) -> bool:
    """One more retry failed (on `today`): the next one on the schedule, or, after the last,
    suspension. True if the subscription was suspended."""
    schedule = settings.DUNNING_RETRY_DAYS
    with transaction.atomic():
        invoice = locked_invoice(invoice_id)
        if invoice.status != InvoiceStatus.OPEN:
            return False
        invoice.retries_done += 1
        suspended = invoice.retries_done >= len(schedule)
        invoice.next_retry_on = (
            None
            if suspended
            else next_retry_after(retries_done=invoice.retries_done, attempted_on=today)
        )
        invoice.save(update_fields=["retries_done", "next_retry_on"])
        if suspended:
            for subscription in subscriptions_of(invoice):
                lifecycle.suspend(subscription=subscription, today=today)
        notify_payment_failed(account_id=invoice.account_id, invoice_id=invoice_id, decline=decline)
    return suspended


# The billing contact hears of failed payments once per account per billing run: the run
# collects them (one_email_per_account) and sends one email each at its end; a failure outside
# a run (a renewal Pay now started) is told at once.
_notices: ContextVar[dict | None] = ContextVar("dunning_notices", default=None)


def notify_payment_failed(*, account_id: int, invoice_id: int, decline: str) -> None:
    """In the transaction that records the failure: told once it commits (to the billing
    contact by email, and to the integrations as invoice.payment_failed)."""
    if webhook_events.wanted("invoice.payment_failed"):
        invoice = Invoice.objects.select_related("account").get(pk=invoice_id)
        webhook_events.emit(
            "invoice.payment_failed",
            account=invoice.account,
            obj=invoice,
            extra={"decline_code": decline},
        )
    notices = _notices.get()
    if notices is None:
        transaction.on_commit(
            lambda: send_payment_failed_email.enqueue(account_id, [[invoice_id, decline]])
        )
    else:
        transaction.on_commit(
            lambda: notices.setdefault(account_id, []).append([invoice_id, decline])
        )


@contextmanager
def one_email_per_account():
    """While the run renews and retries: its failures are told in one email per account."""
    notices: dict[int, list] = {}
    token = _notices.set(notices)
    try:
        yield
    finally:
        _notices.reset(token)
        # After the failures' own commits (registered last, so it runs last).
        transaction.on_commit(lambda: _send_each(notices))


def _send_each(notices: dict[int, list]) -> None:
    for account_id, failures in notices.items():
        send_payment_failed_email.enqueue(account_id, failures)
