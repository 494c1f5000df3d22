"""Background work of checkout (Django Tasks API): the order confirmation email."""

from django_tasks import task

from billing_center.emails import send_templated_email
from checkout import payments
from checkout.models import Order
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
        template="order_confirmation",
        context={"order": order, "account": order.account, "invoice": order.invoice},
        language=order.account.language,
    )


@task()
def reconcile_payments() -> str:
    """The reconciliation as a task (manage.py reconcile_payments does the same)."""
    return str(payments.reconcile_payments())
