"""The emails checkout sends, as tasks (Django Tasks API), enqueued on commit by the services:
order confirmations, renewal receipts, failed payments and paid invoices."""

from django_tasks import task

from billing_center.emails import send_templated_email
from checkout.models import Invoice, InvoiceStatus, Order
from checkout.payments.gateway import decline_reason
from checkout.pricing import renewals_of
from checkout.selectors import last_failed_payment
from checkout.tax import TaxDecision
from subscriptions.invoice_recipients import invoice_cc_recipients
from subscriptions.models import Subscription
from subscriptions.selectors import billing_contact_emails


@task()
def send_order_confirmation_email(order_id: int) -> None:
    order = (
        Order.objects.select_related("account", "invoice", "payment_method", "placed_by")
        .prefetch_related("lines")
        .get(pk=order_id)
    )
    recipients = billing_contact_emails(order.account)
    if order.placed_by and order.placed_by.email not in recipients:
        recipients.append(order.placed_by.email)
    send_templated_email(
        to=recipients,
        cc=invoice_cc_recipients(order.account, to=recipients),
        template="order_confirmation",
        context={
            "order": order,
            "account": order.account,
            "invoice": order.invoice,
            "renewals": renewals_of(lines=order.lines.all(), tax=TaxDecision.of(order)),
        },
        language=order.account.language,
    )


def _invoice_email(invoice: Invoice, template: str, **context) -> None:
    """An email about an invoice or credit note: to the billing contacts, copied to the
    account's extra invoice recipients."""
    account = invoice.account
    recipients = billing_contact_emails(account)
    send_templated_email(
        to=recipients,
        cc=invoice_cc_recipients(account, to=recipients),
        template=template,
        context={"invoice": invoice, "order": invoice.order, "account": account, **context},
        language=account.language,
    )


def _invoice(invoice_id: int) -> Invoice:
    return (
        Invoice.objects.select_related("account", "order__payment_method")
        .prefetch_related("order__lines__product")
        .get(pk=invoice_id)
    )


@task()
def send_renewal_receipt_email(order_id: int) -> None:
    order = Order.objects.select_related("invoice").get(pk=order_id)
    _invoice_email(_invoice(order.invoice.pk), "renewal_receipt")


@task()
def send_payment_failed_email(account_id: int, failures: list[list]) -> None:
    """The billing contact's dunning email: one per account per billing run (SPEC "D. Around
    the flows"). `failures` are the [invoice id, decline code] pairs whose payment failed in
    the run: each says why and what comes next (the next retry, or the suspension after the
    last); every other invoice still open is listed too, to be paid with it."""
    reasons = {int(invoice_id): code for invoice_id, code in failures}
    invoices = list(
        Invoice.objects.filter(account=account_id, status=InvoiceStatus.OPEN)
        .select_related("account", "order")
        .prefetch_related("order__lines")
        .order_by("issued_at", "pk")
    )
    if not any(invoice.pk in reasons for invoice in invoices):
        return  # paid or voided since: nothing to tell
    account = invoices[0].account
    items = [
        {
            "invoice": invoice,
            "decline_message": decline_reason(reasons[invoice.pk]) if invoice.pk in reasons else "",
            "suspended": invoice.next_retry_on is None,
            "lines": invoice.order.lines.all(),
            "card": _failed_card(invoice) if invoice.pk in reasons else None,
        }
        for invoice in invoices
    ]
    recipients = billing_contact_emails(account)
    send_templated_email(
        to=recipients,
        cc=invoice_cc_recipients(account, to=recipients),
        template="payment_failed",
        context={"account": account, "items": items, "invoice": invoices[0]},
        language=account.language,
    )


def _failed_card(invoice: Invoice):
    failed = last_failed_payment(invoice)
    return failed.payment_method if failed is not None else None


@task()
def send_invoice_paid_email(invoice_id: int) -> None:
    _invoice_email(_invoice(invoice_id), "invoice_paid")


@task()
def send_suspended_cancellation_email(subscription_id: int, invoice_id: int | None) -> None:
    """A suspended subscription canceled at once: when it ended and, when it had an open invoice,
    the credit note that corrected it and what stays due (copied like every document email)."""
    subscription = Subscription.objects.select_related("account", "product").get(pk=subscription_id)
    if invoice_id is None:
        recipients = billing_contact_emails(subscription.account)
        send_templated_email(
            to=recipients,
            template="subscription_canceled_now",
            context={"subscription": subscription, "account": subscription.account},
            language=subscription.account.language,
        )
        return
    invoice = _invoice(invoice_id)
    credit_note = invoice.credit_notes.order_by("-pk").first()
    _invoice_email(
        invoice, "subscription_canceled_now", subscription=subscription, credit_note=credit_note
    )
