"""The one order writer. Checkout, the corporate service-order worker and renewals all record
what they sold through `write_order`: the order and its lines (a snapshot of prices and tax),
what each line does to the account's subscriptions, the credit used or added, the invoice (a
credit note when the total is negative: checkout.invoices.issuing) and the audit event — in the
caller's transaction, under the caller's locks, or not at all."""

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _
from moneyed import Money

from billing_center import metrics
from billing_center.audit import record_audit_event
from billing_center.clock import moment_on
from billing_center.models import AuditAction, User
from checkout.billing import BillingDetails
from checkout.invoices.documents import document_state_changed
from checkout.invoices.issuing import InvoiceRequest, issue_invoices
from checkout.models import Invoice, InvoiceStatus, Order, OrderLine, OrderLineKind, PaymentMethod
from checkout.pricing import OrderPricing, PricedLine
from subscriptions import services as subscription_services
from subscriptions.ledger import move_credit
from subscriptions.models import Account, CreditKind, Subscription, SubscriptionStatus
from subscriptions.seats import SeatCountError
from subscriptions.services import Terms
from subscriptions.vat import compact_vat_number


class OrderError(Exception):
    """What the lines ask cannot be done to the subscriptions as they are now; the message is
    for the billing contact. Raised before anything is kept: the caller's transaction rolls
    back."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class OrderRequest:
    """An order to record (`write_order`'s arguments)."""

    account: Account
    subscriptions: dict[int, Subscription]
    pricing: OrderPricing
    billing: BillingDetails
    number: str
    idempotency_key: str
    payment_method: PaymentMethod | None
    charge_reference: str
    actor: User | None
    today: date
    corrects: Invoice | None = None


def write_order(
    *,
    account: Account,
    subscriptions: dict[int, Subscription],
    pricing: OrderPricing,
    billing: BillingDetails,
    number: str,
    idempotency_key: str,
    payment_method: PaymentMethod | None,
    charge_reference: str,
    actor: User | None,
    today: date,
    corrects: Invoice | None = None,
) -> Order:
    """Record a priced order. The caller holds, in its transaction, the lock of `account` and
    of the live `subscriptions` the lines touch (by product id; billing_center.locks), and has
    charged `pricing.amount_due` under `charge_reference` when it is above zero — or, for a
    renewal whose charge was declined, not: its invoice is then open for that amount.

    A credit (negative total) goes to the account's balance — or, with `corrects` (an invoice
    the caller locked), first to what that invoice still owes: its credit note lowers its amount
    due (SPEC: amount due = total − credit notes − payments) and only the rest becomes credit."""
    request = OrderRequest(
        account=account,
        subscriptions=subscriptions,
        pricing=pricing,
        billing=billing,
        number=number,
        idempotency_key=idempotency_key,
        payment_method=payment_method,
        charge_reference=charge_reference,
        actor=actor,
        today=today,
        corrects=corrects,
    )
    return write_orders([request])[0]


def write_orders(requests: list[OrderRequest]) -> list[Order]:
    """`write_order` for orders of different accounts (a batch of renewals, each account
    locked by the caller): the orders, their lines and their invoices written by one statement
    each, whatever their number."""
    to_invoice = [_credit_to_invoice(request) for request in requests]
    orders = [
        _order(request, to_invoice=credit)
        for request, credit in zip(requests, to_invoice, strict=True)
    ]
    Order.objects.bulk_create(orders)
    OrderLine.objects.bulk_create(
        _order_line(order=order, line=line, subscription=subscription, kind=kind)
        for request, order in zip(requests, orders, strict=True)
        for line in request.pricing.lines
        for subscription, kind in [
            _apply_line(
                account=request.account,
                subscriptions=request.subscriptions,
                line=line,
                order=order,
                actor=request.actor,
            )
        ]
    )
    invoiced = []
    for request, order, credit in zip(requests, orders, to_invoice, strict=True):
        pricing, account = request.pricing, request.account
        if pricing.credit_applied.amount:
            move_credit(
                account=account,
                amount=-pricing.credit_applied,
                kind=CreditKind.USED_FOR_ORDER,
                order=order,
            )
        if order.credit_added.amount:
            move_credit(
                account=account,
                amount=order.credit_added,
                kind=CreditKind.FROM_ORDER,
                order=order,
            )
        if credit.amount:
            _lower_amount_due(
                invoice=request.corrects,
                credit=credit,
                actor=request.actor,
                today=request.today,
            )
        invoiced.append(
            InvoiceRequest(
                order=order,
                billing=request.billing,
                today=request.today,
                amount_due=pricing.amount_due,
                paid=pricing.amount_due.amount == 0 or bool(request.charge_reference),
                corrects=request.corrects,
            )
        )
    for request, order, invoice in zip(requests, orders, issue_invoices(invoiced), strict=True):
        kind = "credit_note" if invoice.is_credit_note else "invoice"
        transaction.on_commit(lambda kind=kind: metrics.ORDERS_PLACED.labels(kind).inc())
        record_audit_event(
            actor=request.actor,
            account=request.account,
            action=AuditAction.ORDER_PLACED,
            target=order,
            after={
                "total": order.total,
                "charged": order.amount_charged,
                "credit_note" if invoice.is_credit_note else "invoice": invoice.number,
            },
        )
    return orders


def _credit_to_invoice(request: OrderRequest) -> Money:
    """What of the credit a negative total adds goes to what `corrects` still owes."""
    corrects = request.corrects
    if corrects is not None and corrects.status == InvoiceStatus.OPEN:
        return min(request.pricing.credit_added, corrects.amount_due)
    return Money(0, request.pricing.currency)


def _order(request: OrderRequest, *, to_invoice: Money) -> Order:
    """The order row (not saved): its totals, tax and charge as priced and paid."""
    pricing = request.pricing
    charged = bool(request.charge_reference)
    order = Order(
        number=request.number,
        idempotency_key=request.idempotency_key,
        account=request.account,
        placed_by=request.actor,
        placed_at=moment_on(request.today),
        subtotal=pricing.subtotal,
        tax_rate=pricing.tax.rate,
        tax_treatment=pricing.tax.treatment,
        tax_country=pricing.tax.country,
        tax=pricing.tax_amount,
        total=pricing.total,
        credit_applied=pricing.credit_applied,
        credit_added=pricing.credit_added - to_invoice,
        amount_charged=pricing.amount_due if charged else Money(0, pricing.currency),
        payment_method=request.payment_method if charged else None,
        charge_reference=request.charge_reference,
        buyer_vat_number=compact_vat_number(request.billing.vat_number),
        purchase_order=request.billing.purchase_order,
    )
    return order


def _lower_amount_due(*, invoice: Invoice, credit: Money, actor: User | None, today: date):
    """An open invoice's credit note takes `credit` off what it owes; owing nothing, it is
    settled (paid by the credit note)."""
    before = {"amount_due": invoice.amount_due, "status": invoice.status}
    invoice.amount_due -= credit
    if invoice.amount_due.amount == 0:
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = moment_on(today)
        invoice.next_retry_on = None
    invoice.save(update_fields=["amount_due", "status", "paid_at", "next_retry_on"])
    record_audit_event(
        actor=actor,
        account=invoice.account,
        action=AuditAction.CHANGED,
        target=invoice,
        before=before,
        after={"amount_due": invoice.amount_due, "status": invoice.status},
    )
    document_state_changed(invoice.pk)


def _order_line(*, order: Order, line: PricedLine, subscription: Subscription, kind: str):
    return OrderLine(
        order=order,
        kind=kind,
        product=line.product,
        product_name=line.product.name,
        plan_name=line.plan.name,
        cycle=line.cycle,
        seat_count=line.seat_count,
        unit_price=line.unit_price,
        period_start=line.period_start,
        period_end=line.period_end,
        amount=line.amount,
        subscription=subscription,
    )


def _apply_line(
    *,
    account: Account,
    subscriptions: dict[int, Subscription],
    line: PricedLine,
    order: Order,
    actor: User | None,
) -> tuple[Subscription, str]:
    """What one priced line does to the account's subscriptions: the subscription it is about
    and the kind the order line keeps."""
    live = subscriptions.get(line.product.pk)
    if line.kind != OrderLineKind.NEW_SUBSCRIPTION and (
        live is None or line.subscription is None or live.pk != line.subscription.pk
    ):
        raise OrderError(
            _("%(product)s changed in the meantime. Check the order again.")
            % {"product": line.product}
        )
    terms = Terms(
        plan=line.plan,
        cycle=line.cycle,
        seat_count=line.seat_count,
        unit_price=line.unit_price,
        period_start=line.period_start,
        period_end=line.period_end,
        # A renewal keeps the anchor day; new terms (a purchase, a change) start their own.
        anchor_day=live.anchor_day if line.kind == OrderLineKind.RENEWAL else None,
    )
    reference = order.number
    try:
        if line.kind == OrderLineKind.PRORATION_CREDIT:
            return live, line.kind  # the change line that follows sets the new terms
        if line.kind == OrderLineKind.NEW_SUBSCRIPTION:
            if live is not None and live.status != SubscriptionStatus.TRIALING:
                raise OrderError(
                    _("Your account already has %(product)s.") % {"product": line.product}
                )
            subscription = subscription_services.start_paid_subscription(
                account=account, terms=terms, trial=live, actor=actor, reference=reference
            )
            kind = OrderLineKind.TRIAL_CONVERSION if live is not None else line.kind
            return subscription, kind
        if line.kind == OrderLineKind.CHANGE:
            return subscription_services.change_subscription_terms(
                subscription=live, terms=terms, actor=actor, reference=reference
            ), line.kind
        if line.kind == OrderLineKind.RENEWAL:
            return subscription_services.renew_subscription(
                subscription=live, terms=terms, actor=actor, reference=reference
            ), line.kind
        if line.kind == OrderLineKind.ADDED_SEATS:
            return subscription_services.add_seats(
                subscription=live,
                added_seats=line.seat_count,
                actor=actor,
                reference=reference,
            ), line.kind
    except (subscription_services.SubscriptionError, SeatCountError) as error:
        raise OrderError(error.message) from error
    raise ValueError(f"No order writer for lines of kind {line.kind!r}")
