"""What the background worker does with a placed service order (SPEC flow C.5): charge the
card (off-session, on the money path), then add the seats, create the admin contact, issue the
invoice through the one order writer and email the receipt. `tasks.process_service_order`
runs it; services enqueue that."""

import logging
from dataclasses import replace

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from moneyed import Money

from billing_center import locks
from billing_center.audit import record_audit_event
from billing_center.emails import send_templated_email
from billing_center.models import AuditAction
from billing_center.money import format_money
from checkout.billing import BillingDetails
from checkout.models import AttemptStatus, OrderLineKind, PaymentAttempt, PaymentPurpose
from checkout.orders import OrderError, write_order
from checkout.payments.gateway import PaymentDeclined
from checkout.payments.money_path import Payment, PaymentFlow, Written, take_payment
from checkout.pricing import PricedLine, price_lines
from checkout.tax import TaxDecision
from corporate_portal.models import Quote, ServiceOrder, ServiceOrderStatus
from corporate_portal.models import ServiceOrderPayment as ServiceOrderPaymentLink
from corporate_portal.rules import CorporateError, admin_contact_problem
from subscriptions import services as subscription_services
from subscriptions.invoice_recipients import invoice_cc_recipients
from subscriptions.models import Account
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


class ServiceOrderPayment(PaymentFlow):
    """A placed service order on the money path, processed by the background worker: charged
    off-session (merchant-initiated) to the card chosen at Proceed to Payment, then applied.
    A decline or a failure leaves it failed with its true reason and nothing else changed; an
    unknown outcome leaves it processing until the charge is settled. Running it again, or
    twice at once, never charges twice nor sends a second email."""

    purpose = PaymentPurpose.SERVICE_ORDER
    on_session = False
    refusal = Exception  # whatever stops it from applying: given back, then failed with why
    unused_reason = "The service order was already paid."

    def __init__(self, service_order_id: int):
        self.service_order_id = service_order_id

    @classmethod
    def of_attempt(cls, attempt: PaymentAttempt) -> "ServiceOrderPayment":
        return cls(attempt.service_order_payment.service_order_id)

    def lock(self) -> ServiceOrder:
        account_id = ServiceOrder.objects.values_list("account_id", flat=True).get(
            pk=self.service_order_id
        )
        account = locks.lock_account(account_id)
        service_order = locks.lock_service_order(
            self.service_order_id, related=("quote", "payment_method", "placed_by")
        )
        service_order.account = account
        self.actor = service_order.placed_by
        return service_order

    def done(self, service_order: ServiceOrder) -> str | None:
        if service_order.status == ServiceOrderStatus.PLACED:
            # First look: processing from now on. What can be checked before the charge is
            # checked before it: nothing to refund later.
            service_order.status = ServiceOrderStatus.PROCESSING
            service_order.save(update_fields=["status"])
            with translation.override(service_order.account.language):
                problem = admin_contact_problem(
                    email=service_order.admin_contact_email, account=service_order.account
                )
            if problem:
                return _fail(service_order.pk, problem)
        if service_order.status != ServiceOrderStatus.PROCESSING:
            return service_order.status
        return None

    def payment(self, service_order: ServiceOrder) -> Payment | None:
        if service_order.total.amount <= 0:
            return None
        return Payment(
            account=service_order.account,
            amount=service_order.total,
            payment_method=service_order.payment_method,
            reference=service_order.idempotency_key,
            pays={},
        )

    def attach(self, attempt: PaymentAttempt) -> None:
        ServiceOrderPaymentLink.objects.create(
            attempt=attempt, service_order_id=self.service_order_id
        )

    def write(self, service_order: ServiceOrder, attempt: PaymentAttempt | None) -> Written:
        with translation.override(service_order.account.language):
            service_order = _apply(service_order, attempt)
        return Written(result=ServiceOrderStatus.COMPLETED, order=service_order.order)

    def declined(self, attempt, declined) -> str:
        with translation.override(attempt.account.language):
            return _fail(self.service_order_id, declined.message)

    def failed(self, attempt, failed) -> str:
        with translation.override(attempt.account.language):
            return _fail(
                self.service_order_id,
                _("The payment service failed before charging the card: nothing was charged."),
            )

    def pending(self, attempt, pending) -> str:
        return ServiceOrderStatus.PROCESSING

    def refused(self, attempt, refusal, refunded: bool) -> str:
        account = Account.objects.get(
            pk=ServiceOrder.objects.values_list("account_id", flat=True).get(
                pk=self.service_order_id
            )
        )
        with translation.override(account.language):
            if isinstance(refusal, CorporateError):
                reason = refusal.message
            else:
                logger.exception(
                    "Service order %s could not be applied",
                    self.service_order_id,
                    exc_info=refusal,
                )
                reason = _("The order could not be applied.")
            if attempt is None:
                return _fail(self.service_order_id, reason)
            if refunded:
                return _fail(
                    self.service_order_id,
                    _("%(reason)s The charge of %(amount)s was refunded.")
                    % {"reason": reason, "amount": format_money(attempt.amount)},
                )
            ServiceOrder.objects.filter(pk=self.service_order_id).update(
                failure_reason=_("%(reason)s The charge will be refunded.") % {"reason": reason}
            )
            return ServiceOrderStatus.PROCESSING

    def abandoned(self, attempt: PaymentAttempt) -> None:
        with translation.override(attempt.account.language):
            if attempt.status == AttemptStatus.REFUNDED:
                _fail(
                    self.service_order_id,
                    _("The order could not be applied. The charge of %(amount)s was refunded.")
                    % {"amount": format_money(attempt.amount)},
                )
            elif attempt.status == AttemptStatus.DECLINED:
                _fail(self.service_order_id, PaymentDeclined(attempt.decline_code).message)
            else:
                _fail(
                    self.service_order_id,
                    _("The payment could not be confirmed: nothing was charged."),
                )


def process_service_order(service_order_id: int) -> str:
    """Charge the card, then apply the service order (the worker's task)."""
    return take_payment(ServiceOrderPayment(service_order_id))


def _apply(service_order: ServiceOrder, attempt: PaymentAttempt | None) -> ServiceOrder:
    """Once charged, under the account's lock: add the seats, create the admin contact with a
    seat of each product and write the order and its invoice — or nothing (the money path
    rolls back and gives the charge back). Every line must be on a live subscription of the
    service order's own account, in the period it was quoted for."""
    account = service_order.account
    quote = service_order.quote
    lines = quote_lines_as_priced(quote)
    if any(line.subscription.account_id != account.pk for line in lines):
        raise CorporateError(
            _("Quote %(number)s names a subscription of another account.")
            % {"number": quote.number}
        )
    live = locks.lock_live_subscriptions(
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
    service_order.order = order
    service_order.status = ServiceOrderStatus.COMPLETED
    service_order.processed_at = timezone.now()
    service_order.failure_reason = ""
    service_order.save(update_fields=["order", "status", "processed_at", "failure_reason"])
    record_audit_event(
        actor=None,
        account=service_order.account,
        action=AuditAction.CHANGED,
        target=service_order,
        after={"status": ServiceOrderStatus.COMPLETED, "order": order.number},
    )
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
        legal_identifier=service_order.legal_identifier,
        sdi_code=service_order.sdi_code,
        pec=service_order.pec,
        purchase_order=service_order.purchase_order,
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
