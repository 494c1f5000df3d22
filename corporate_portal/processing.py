"""What the background worker does with a placed service order (SPEC flow C.5): charge the
card, then add the seats, create the admin contact, issue the invoice through the one order
writer and email the receipt. `tasks.process_service_order` runs it; services enqueue that."""

import logging
from dataclasses import replace

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from moneyed import Money

from billing_center.emails import send_templated_email
from billing_center.money import format_money
from checkout import payments
from checkout.billing import BillingDetails
from checkout.gateway import PaymentDeclined
from checkout.models import AttemptStatus, OrderLineKind, PaymentAttempt, PaymentPurpose
from checkout.orders import OrderError, write_order
from checkout.pricing import PricedLine, price_lines
from checkout.tax import TaxDecision
from corporate_portal.models import Quote, ServiceOrder, ServiceOrderStatus
from corporate_portal.rules import CorporateError, admin_contact_problem
from subscriptions import services as subscription_services
from subscriptions.invoice_recipients import invoice_cc_recipients
from subscriptions.locks import lock_account, lock_live_subscriptions
from subscriptions.selectors import billing_contact_emails

logger = logging.getLogger(__name__)


def quote_lines_as_priced(quote: Quote) -> list[PricedLine]:
    """A quote's lines at the prices they were offered at (a quote is a fixed offer)."""
    return [
        PricedLine(
            kind=OrderLineKind.ADDED_SEATS,
            plan=line.subscription.plan,
            cycle=line.subscription.cycle,
            seat_count=line.added_seats,
            unit_price=line.unit_price,
            period_start=line.period_start,
            period_end=line.period_end,
            amount=line.amount,
            subscription=line.subscription,
        )
        for line in quote.lines.select_related("subscription__plan__product")
    ]


def process_service_order(service_order_id: int) -> str:
    """Charge the card, then apply the service order. A decline or a failure leaves it failed
    with its true reason and nothing else changed; an unknown outcome leaves it processing
    until the charge is settled (the reconciliation, or a retry, looks it up first). Running it
    again, or twice at once, never charges twice nor sends a second email."""
    with transaction.atomic():
        account_id = ServiceOrder.objects.values_list("account_id", flat=True).get(
            pk=service_order_id
        )
        account = lock_account(account_id)
        service_order = (
            ServiceOrder.objects.select_for_update()
            .select_related("payment_method")
            .get(pk=service_order_id)
        )
        if service_order.status not in (ServiceOrderStatus.PLACED, ServiceOrderStatus.PROCESSING):
            return service_order.status
        service_order.status = ServiceOrderStatus.PROCESSING
        service_order.save(update_fields=["status"])
        # What can be checked before the charge is checked before it: nothing to refund later.
        problem = admin_contact_problem(email=service_order.admin_contact_email, account=account)
        if problem:
            return _fail(service_order.pk, problem)
        attempt = None
        if service_order.total.amount > 0:
            try:
                attempt = payments.open_attempt(
                    account=account,
                    purpose=PaymentPurpose.SERVICE_ORDER,
                    reference=service_order.idempotency_key,
                    amount=service_order.total,
                    card_token=service_order.payment_method.gateway_token,
                    payment_method=service_order.payment_method,
                    actor=service_order.placed_by,
                )
            except payments.PaymentPending:
                return ServiceOrderStatus.PROCESSING
    with translation.override(account.language):
        try:
            if attempt is not None:
                attempt = payments.pay(attempt)
        except PaymentDeclined as declined:
            return _fail(service_order.pk, declined.message)
        except payments.PaymentFailed:
            return _fail(
                service_order.pk,
                _("The payment service failed before charging the card: nothing was charged."),
            )
        except payments.PaymentPending:
            return ServiceOrderStatus.PROCESSING
        return complete_service_order(service_order.pk, attempt)


def complete_service_order(service_order_id: int, attempt: PaymentAttempt | None) -> str:
    """Apply a paid service order; if that fails, give the charge back and fail it with the
    reason. A refund that fails leaves it processing: the reconciliation refunds later."""
    try:
        apply_service_order(service_order_id=service_order_id, attempt=attempt)
    except Exception as error:
        if isinstance(error, CorporateError):
            reason = error.message
        else:
            logger.exception("Service order %s could not be applied", service_order_id)
            reason = _("The order could not be applied.")
        if attempt is None:
            return _fail(service_order_id, reason)
        if payments.refund(attempt, reason=reason):
            return _fail(
                service_order_id,
                _("%(reason)s The charge of %(amount)s was refunded.")
                % {"reason": reason, "amount": format_money(attempt.amount)},
            )
        ServiceOrder.objects.filter(pk=service_order_id).update(
            failure_reason=_("%(reason)s The charge will be refunded.") % {"reason": reason}
        )
        return ServiceOrderStatus.PROCESSING
    if attempt is not None:
        attempt.refresh_from_db()
        if attempt.order_id is None:  # the service order was completed by another payment
            payments.refund(attempt, reason=_("The service order was already paid."))
    return ServiceOrderStatus.COMPLETED


def resume_service_order(attempt: PaymentAttempt) -> None:
    """The reconciliation's way to end a service order whose worker run is gone: complete it
    with a captured charge, or fail it when nothing was (or no longer is) charged."""
    service_order_id = int(attempt.reference.removeprefix("service-order-"))
    account = attempt.account
    with translation.override(account.language):
        if attempt.status == AttemptStatus.CAPTURED and attempt.order_id is None:
            complete_service_order(service_order_id, attempt)
        elif attempt.status == AttemptStatus.FAILED:
            _fail(service_order_id, _("The payment could not be confirmed: nothing was charged."))
        elif attempt.status == AttemptStatus.REFUNDED:
            _fail(
                service_order_id,
                _("The order could not be applied. The charge of %(amount)s was refunded.")
                % {"amount": format_money(attempt.amount)},
            )


def apply_service_order(*, service_order_id: int, attempt: PaymentAttempt | None) -> ServiceOrder:
    """Once charged: add the seats, create the admin contact with a seat of each product and
    write the order and its invoice, in one transaction under the account's lock, or nothing.
    Every line must be on a live subscription of the service order's own account, in the
    period it was quoted for."""
    with transaction.atomic():
        account_id = ServiceOrder.objects.values_list("account_id", flat=True).get(
            pk=service_order_id
        )
        account = lock_account(account_id)
        service_order = (
            ServiceOrder.objects.select_for_update()
            .select_related("quote", "payment_method")
            .get(pk=service_order_id)
        )
        if service_order.status != ServiceOrderStatus.PROCESSING:
            return service_order  # completed or failed meanwhile: the caller refunds its charge
        quote = service_order.quote
        lines = quote_lines_as_priced(quote)
        if any(line.subscription.account_id != account.pk for line in lines):
            raise CorporateError(
                _("Quote %(number)s names a subscription of another account.")
                % {"number": quote.number}
            )
        live = lock_live_subscriptions(
            account=account, subscription_ids=[line.subscription.pk for line in lines]
        )
        lines = [_current(line, live) for line in lines]
        tax = TaxDecision.of(service_order)
        pricing = price_lines(
            lines=lines,
            currency=account.currency,
            tax=tax,
            credit_balance=Money(0, account.currency),
        )
        if pricing.total != service_order.total:
            raise CorporateError(_("The quote's total changed: ask for a new quote."))
        try:
            admin = subscription_services.make_admin_contact(
                account=account,
                email=service_order.admin_contact_email,
                full_name=service_order.admin_contact_name,
                actor=service_order.placed_by,
            )
            order = write_order(
                account=account,
                subscriptions=live,
                pricing=pricing,
                billing=_billing_details(service_order),
                number=f"SO-{quote.number}",
                idempotency_key=service_order.idempotency_key,
                payment_method=service_order.payment_method,
                charge_reference=attempt.charge_reference if attempt else "",
                actor=service_order.placed_by,
                today=timezone.localdate(),
            )
            for subscription in live.values():
                if not subscription.seat_assignments.filter(user=admin).exists():
                    subscription_services.assign_seat(
                        subscription=subscription, user=admin, actor=service_order.placed_by
                    )
        except (OrderError, subscription_services.SubscriptionError) as error:
            raise CorporateError(error.message) from error
        if attempt is not None:
            payments.mark_used(attempt, order)
        service_order.order = order
        service_order.status = ServiceOrderStatus.COMPLETED
        service_order.processed_at = timezone.now()
        service_order.failure_reason = ""
        service_order.save(update_fields=["order", "status", "processed_at", "failure_reason"])
        # Sent once: only the run that completes it gets here.
        transaction.on_commit(lambda: _send_receipt(service_order.pk))
    return service_order


def _send_receipt(service_order_id: int) -> None:
    service_order = ServiceOrder.objects.select_related("order__invoice", "account").get(
        pk=service_order_id
    )
    account = service_order.account
    recipients = billing_contact_emails(account)
    send_templated_email(
        to=recipients,
        cc=invoice_cc_recipients(account, to=recipients),  # the receipt carries the invoice
        template="service_order_receipt",
        context={"service_order": service_order, "order": service_order.order, "account": account},
        language=account.language,
    )


def _current(line: PricedLine, live: dict) -> PricedLine:
    """The quoted line on the subscription as locked now; refused if it ended or was renewed
    since the quote (its co-termed price was for another period)."""
    subscription = live.get(line.product.pk)
    if subscription is None or subscription.pk != line.subscription.pk:
        raise CorporateError(_("%(product)s is no longer active.") % {"product": line.product})
    if subscription.current_period_end != line.period_end:
        raise CorporateError(
            _("The billing period of %(product)s changed since the quote: ask for a new quote.")
            % {"product": line.product}
        )
    return replace(line, subscription=subscription)


def _billing_details(service_order: ServiceOrder) -> BillingDetails:
    return BillingDetails(
        name=service_order.billing_name,
        address_line1=service_order.address_line1,
        address_line2=service_order.address_line2,
        postal_code=service_order.postal_code,
        city=service_order.city,
        region=service_order.region,
        country=service_order.country.code,
        vat_number=service_order.vat_number,
    )


def _fail(service_order_id: int, reason: str) -> str:
    """Placed or processing → failed, with the reason, once; the billing contact is told once."""
    with transaction.atomic():
        failed = ServiceOrder.objects.filter(
            pk=service_order_id,
            status__in=[ServiceOrderStatus.PLACED, ServiceOrderStatus.PROCESSING],
        ).update(status=ServiceOrderStatus.FAILED, failure_reason=str(reason)[:300])
        if failed:
            transaction.on_commit(lambda: _send_failure(service_order_id))
    return ServiceOrder.objects.values_list("status", flat=True).get(pk=service_order_id)


def _send_failure(service_order_id: int) -> None:
    service_order = ServiceOrder.objects.select_related("account").get(pk=service_order_id)
    account = service_order.account
    send_templated_email(
        to=billing_contact_emails(account),
        template="service_order_failed",
        context={"service_order": service_order, "account": account},
        language=account.language,
    )
