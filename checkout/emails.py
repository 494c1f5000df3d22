"""The emails checkout sends, as tasks (Django Tasks API), enqueued on commit by the services:
order confirmations, renewal receipts, failed payments and paid invoices."""

from django_tasks import task

from billing_center.emails import send_templated_email
from checkout.models import Invoice, Order
from checkout.payments.gateway import decline_reason
from subscriptions.invoice_recipients import invoice_cc_recipients
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
        context={"order": order, "account": order.account, "invoice": order.invoice},
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
def send_payment_failed_email(invoice_id: int, decline_code: str) -> None:
    """A renewal's charge or one of its retries failed: what, how much, what comes next (the
    next retry, or the suspension after the last), and the link to pay now."""
    invoice = _invoice(invoice_id)
    subscription_ids = invoice.order.lines.values_list("subscription_id", flat=True)
    _invoice_email(
        invoice,
        "payment_failed",
        decline_message=decline_reason(decline_code),
        suspended=invoice.next_retry_on is None,
        subscriptions=invoice.order.lines.all(),
        subscription_ids=list(subscription_ids),
    )


@task()
def send_invoice_paid_email(invoice_id: int) -> None:
    _invoice_email(_invoice(invoice_id), "invoice_paid")
