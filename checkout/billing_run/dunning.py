"""Dunning (SPEC "D. Around the flows"): an open invoice is retried on the schedule
(settings.DUNNING_RETRY_DAYS days after the first failure) on the account's default card,
off-session, through the invoice's payment flow; each failed retry emails, and after the last
one the subscription is suspended."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction

from billing_center.claims import each_claimed
from checkout.emails import send_payment_failed_email
from checkout.invoices.payments import locked_invoice, pay_invoice, subscriptions_of
from checkout.models import Invoice, InvoiceStatus
from checkout.payments.attempts import PaymentFailed, PaymentPending
from checkout.payments.gateway import PaymentDeclined
from subscriptions import lifecycle


@dataclass
class DunningReport:
    paid: int = 0
    failed: int = 0
    suspended: int = 0
    waiting: int = 0

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
    for pks in each_claimed(due, lease_field="dunning_lease_until", batch_size=batch_size):
        for pk in pks:
            _retry(pk, today, report)
    return report


def _retry(invoice_id: int, today: date, report: DunningReport) -> None:
    invoice = Invoice.objects.select_related("account").get(pk=invoice_id)
    card = invoice.account.payment_methods.filter(is_default=True).first()
    decline = "no_card"
    if card is not None:
        try:
            pay_invoice(invoice=invoice, actor=None, payment_method=card, on_session=False)
        except PaymentDeclined as declined:
            decline = declined.code
        except (PaymentFailed, PaymentPending):
            report.waiting += 1  # not the card's answer: the schedule does not move
            return
        else:
            report.paid += 1
            return
    suspended = record_failed_retry(invoice_id=invoice_id, decline=decline)
    report.failed += 1
    report.suspended += int(suspended)


def record_failed_retry(*, invoice_id: int, decline: str) -> bool:
    """One more retry failed: the next one on the schedule, or, after the last, suspension.
    True if the subscription was suspended."""
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
            else invoice.first_failed_on + timedelta(days=schedule[invoice.retries_done])
        )
        invoice.save(update_fields=["retries_done", "next_retry_on"])
        if suspended:
            for subscription in subscriptions_of(invoice):
                lifecycle.suspend(subscription=subscription)
        transaction.on_commit(lambda: send_payment_failed_email.enqueue(invoice_id, decline))
    return suspended
