"""The background worker's part of the corporate portal (Django Tasks API; `db_worker`)."""

import logging

from django.db import transaction
from django.utils.translation import gettext as _
from django_tasks import task

from billing_center.emails import send_templated_email
from checkout.gateway import PaymentDeclined, get_gateway
from corporate_portal.models import ServiceOrder, ServiceOrderStatus
from corporate_portal.services import CorporateError, admin_contact_problem, apply_service_order
from subscriptions.tasks import billing_contact_emails

logger = logging.getLogger(__name__)


@task()
def process_service_order(service_order_id: int) -> str:
    """Charge the card, then add the seats, create the admin contact, issue the invoice and
    email the receipt. Any failure leaves the order failed with its reason and nothing else
    changed; running it again after success changes nothing."""
    with transaction.atomic():
        service_order = ServiceOrder.objects.select_for_update().get(pk=service_order_id)
        if service_order.status not in (ServiceOrderStatus.PLACED, ServiceOrderStatus.PROCESSING):
            return service_order.status
        service_order.status = ServiceOrderStatus.PROCESSING
        service_order.save(update_fields=["status"])

    # What can be checked before the charge is checked before it: nothing to refund later.
    problem = admin_contact_problem(
        email=service_order.admin_contact_email, account=service_order.account
    )
    if problem:
        return _fail(service_order, problem)
    quote = service_order.quote
    gateway = get_gateway()
    charge = None
    try:
        if quote.total.amount > 0:
            charge = gateway.charge(
                token=service_order.payment_method.gateway_token,
                amount=quote.total,
                idempotency_key=service_order.charge_key,
            )
        apply_service_order(
            service_order_id=service_order.pk,
            charge_reference=charge.reference if charge else "",
            amount=charge.amount if charge else quote.total,
        )
    except PaymentDeclined as declined:
        return _fail(service_order, declined.message)
    except Exception as error:
        if charge is not None:
            gateway.refund(reference=charge.reference)
        if isinstance(error, CorporateError):
            reason = error.message
        else:
            logger.exception("Service order %s failed after the charge", service_order.pk)
            reason = _("The order could not be applied; the charge was refunded.")
        return _fail(service_order, reason)

    service_order.refresh_from_db()
    account = service_order.account
    send_templated_email(
        to=billing_contact_emails(account),
        template="service_order_receipt",
        context={"service_order": service_order, "order": service_order.order, "account": account},
        language=account.language,
    )
    return service_order.status


def _fail(service_order: ServiceOrder, reason: str) -> str:
    ServiceOrder.objects.filter(pk=service_order.pk).update(
        status=ServiceOrderStatus.FAILED, failure_reason=str(reason)[:300]
    )
    service_order.refresh_from_db()
    account = service_order.account
    send_templated_email(
        to=billing_contact_emails(account),
        template="service_order_failed",
        context={"service_order": service_order, "account": account},
        language=account.language,
    )
    return service_order.status
