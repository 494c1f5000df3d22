"""Quotes and service orders of the Corporate Billing Portal (SPEC flow C). The billing
contact's pages and the staff's admin write through the same functions here; prices and tax
come from checkout.pricing, orders from checkout.orders (via corporate_portal.processing)."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from moneyed import Money

from billing_center import locks
from billing_center.audit import record_audit_event
from billing_center.locks import lock_account, lock_live_subscriptions
from billing_center.models import AuditAction, User
from billing_center.numbering import next_number
from checkout.billing import BillingDetails, save_billing_details
from checkout.models import PaymentMethod
from checkout.pricing import OrderPricing, PricedLine, coterm_line, price_lines
from checkout.tax import MissingVatRate
from corporate_portal.models import (
    QUOTE_VALIDITY_DAYS,
    Quote,
    QuoteLine,
    QuoteStatus,
    ServiceOrder,
    ServiceOrderStatus,
)
from corporate_portal.processing import quote_lines_as_priced
from corporate_portal.rules import (
    CorporateError,
    admin_contact_problem,
    eligibility_problem,
    product_problem,
)
from corporate_portal.tasks import process_service_order
from subscriptions.models import Account, Portal
from subscriptions.seats import seat_count_problem

__all__ = [
    "CorporateError",
    "PaymentDetails",
    "SeatRequest",
    "create_quote",
    "move_to_billing_center",
    "place_service_order",
    "preview_quote",
    "reject_quote",
    "retry_service_order",
    "save_service_order",
]


@dataclass(frozen=True)
class SeatRequest:
    subscription_id: int
    added_seats: int


def open_quote(*, account: Account) -> Quote | None:
    return account.quotes.filter(status=QuoteStatus.OPEN).first()


def _priced_quote(
    *, account: Account, requests: list[SeatRequest], today: date, by_staff: bool
) -> OrderPricing:
    """The co-termed lines of a quote and their totals, under the account's lock: every line on
    a live subscription of this account, open to more seats, within its plan's seat limit and
    with days left in its period."""
    requests = [r for r in requests if r.added_seats > 0]
    if not requests:
        raise CorporateError(_("Enter a number of new seats for at least one product."))
    problem = eligibility_problem(account=account, by_staff=by_staff)
    if problem:
        raise CorporateError(problem)
    ids = [r.subscription_id for r in requests]
    if len(set(ids)) != len(ids):
        raise CorporateError(_("Each subscription can appear once in a quote."))
    live = {
        s.pk: s for s in lock_live_subscriptions(account=account, subscription_ids=ids).values()
    }
    lines = []
    for request in requests:
        subscription = live.get(request.subscription_id)
        if subscription is None:
            raise CorporateError(_("This subscription is not part of the account."))
        problem = product_problem(subscription=subscription, today=today, by_staff=by_staff)
        problem = problem or seat_count_problem(
            plan=subscription.plan, seat_count=subscription.seat_count + request.added_seats
        )
        if problem:
            raise CorporateError(problem)
        lines.append(
            coterm_line(subscription=subscription, added_seats=request.added_seats, on=today)
        )
    try:
        return price_lines(
            lines=lines,
            currency=account.currency,
            tax=BillingDetails.of_account(account).tax_decision(),
            credit_balance=Money(0, account.currency),
        )
    except MissingVatRate:
        raise CorporateError(
            _("We cannot sell to your country right now. Please contact us.")
        ) from None


def _open_quote_to_replace(*, account: Account, replace_open: bool) -> Quote | None:
    current = open_quote(account=account)
    if current is not None and not replace_open:
        raise CorporateError(
            _("Your account has an open quote, %(number)s: accept or reject it first.")
            % {"number": current.number}
        )
    return current


def preview_quote(
    *,
    account: Account,
    requests: list[SeatRequest],
    replace_open: bool,
    by_staff: bool,
    today: date | None = None,
) -> OrderPricing:
    """What create_quote would price, without saving anything (the admin checks a staff quote
    with it before saving). Raises CorporateError."""
    with transaction.atomic():
        account = lock_account(account.pk)
        _open_quote_to_replace(account=account, replace_open=replace_open)
        return _priced_quote(
            account=account,
            requests=requests,
            today=today or timezone.localdate(),
            by_staff=by_staff,
        )


def create_quote(
    *,
    account: Account,
    requests: list[SeatRequest],
    actor: User | None,
    replace_open: bool,
    by_staff: bool = False,
    today: date | None = None,
) -> Quote:
    """Save Cart and Review (or a quote staff write in the admin): a quote valid 30 days. An
    open quote is only replaced when the author was warned and confirmed (`replace_open`); it
    then is marked replaced at once."""
    today = today or timezone.localdate()
    with transaction.atomic():
        account = lock_account(account.pk)
        current = _open_quote_to_replace(account=account, replace_open=replace_open)
        pricing = _priced_quote(account=account, requests=requests, today=today, by_staff=by_staff)
        if current is not None:
            current.status = QuoteStatus.REPLACED
            current.save(update_fields=["status"])
        _sequence, number = next_number(series="Q", year=today.year)
        try:
            with transaction.atomic():
                quote = Quote.objects.create(
                    number=number,
                    account=account,
                    valid_until=today + timedelta(days=QUOTE_VALIDITY_DAYS),
                    created_by=actor,
                    subtotal=pricing.subtotal,
                    tax_rate=pricing.tax.rate,
                    tax_treatment=pricing.tax.treatment,
                    tax=pricing.tax_amount,
                    total=pricing.total,
                )
        except IntegrityError:
            raise CorporateError(_("Your account already has an open quote.")) from None
        QuoteLine.objects.bulk_create(_quote_line(quote, line) for line in pricing.lines)
        if current is not None:
            current.replaced_by = quote
            current.save(update_fields=["replaced_by"])
        record_audit_event(
            actor=actor,
            account=account,
            action=AuditAction.CREATED,
            target=quote,
            after={"total": quote.total, "replaces": current.number if current else ""},
        )
    return quote


def _quote_line(quote: Quote, line: PricedLine) -> QuoteLine:
    return QuoteLine(
        quote=quote,
        subscription=line.subscription,
        product=line.product,
        added_seats=line.seat_count,
        unit_price=line.unit_price,
        period_start=line.period_start,
        period_end=line.period_end,
        amount=line.amount,
    )


def _open_quote_for_update(quote: Quote, today: date) -> Quote:
    quote = locks.lock_quote(quote.pk)
    if quote.status == QuoteStatus.OPEN and quote.is_expired_on(today):
        quote.status = QuoteStatus.EXPIRED
        quote.save(update_fields=["status"])
    if quote.status != QuoteStatus.OPEN:
        raise CorporateError(
            _("Quote %(number)s is %(status)s: it cannot be changed.")
            % {"number": quote.number, "status": quote.get_status_display().lower()}
        )
    return quote


def reject_quote(*, quote: Quote, actor: User | None, today: date | None = None) -> Quote:
    with transaction.atomic():
        lock_account(quote.account_id)
        quote = _open_quote_for_update(quote, today or timezone.localdate())
        quote.status = QuoteStatus.REJECTED
        quote.save(update_fields=["status"])
        record_audit_event(
            actor=actor,
            account=quote.account,
            action=AuditAction.CHANGED,
            target=quote,
            before={"status": QuoteStatus.OPEN},
            after={"status": QuoteStatus.REJECTED},
        )
    return quote


@dataclass(frozen=True)
class PaymentDetails:
    admin_contact_name: str
    admin_contact_email: str
    payment_method: PaymentMethod
    billing: BillingDetails


def save_service_order(
    *, quote: Quote, details: PaymentDetails, actor: User | None, today: date | None = None
) -> ServiceOrder:
    """Proceed to Payment → Save and Proceed to Service Order: the quote is accepted and a draft
    service order holds the admin contact, the card and the billing details. The details are
    kept on the account, and the quote's lines are taxed again for them: the service order
    charges what its page shows."""
    email = details.admin_contact_email.strip().lower()
    with transaction.atomic():
        account = lock_account(quote.account_id)
        existing = ServiceOrder.objects.filter(quote=quote).first()
        if existing is not None and existing.status != ServiceOrderStatus.DRAFT:
            raise CorporateError(_("This service order is already placed."))
        if existing is None:
            quote = _open_quote_for_update(quote, today or timezone.localdate())
        problem = admin_contact_problem(email=email, account=account)
        if problem:
            raise CorporateError(problem)
        if details.payment_method.account_id != account.pk:
            raise CorporateError(_("Choose one of your account's cards."))
        billing = details.billing
        try:
            tax = billing.tax_decision()
        except MissingVatRate:
            raise CorporateError(
                _("We cannot sell to this country right now. Please contact us.")
            ) from None
        save_billing_details(account=account, billing=billing, actor=actor)
        pricing = price_lines(
            lines=quote_lines_as_priced(quote),
            currency=account.currency,
            tax=tax,
            credit_balance=Money(0, account.currency),
        )
        values = {
            "account": account,
            "admin_contact_name": details.admin_contact_name.strip(),
            "admin_contact_email": email,
            "payment_method": details.payment_method,
            "billing_name": billing.name,
            "address_line1": billing.address_line1,
            "address_line2": billing.address_line2,
            "postal_code": billing.postal_code,
            "city": billing.city,
            "region": billing.region,
            "country": billing.country,
            "vat_number": account.vat_number,
            "legal_identifier": billing.legal_identifier,
            "sdi_code": billing.sdi_code,
            "pec": billing.pec,
            "purchase_order": billing.purchase_order,
            "subtotal": pricing.subtotal,
            "tax_country": tax.country,
            "tax_rate": tax.rate,
            "tax_treatment": tax.treatment,
            "tax": pricing.tax_amount,
            "total": pricing.total,
        }
        service_order, _created = ServiceOrder.objects.update_or_create(
            quote=quote, defaults=values
        )
        if quote.status == QuoteStatus.OPEN:
            quote.status = QuoteStatus.ACCEPTED
            quote.save(update_fields=["status"])
            record_audit_event(
                actor=actor,
                account=account,
                action=AuditAction.CHANGED,
                target=quote,
                before={"status": QuoteStatus.OPEN},
                after={"status": QuoteStatus.ACCEPTED},
            )
    return service_order


def place_service_order(*, service_order: ServiceOrder, actor: User | None) -> ServiceOrder:
    """Place Service Order: processing happens in the background (up to 24 hours)."""
    with transaction.atomic():
        lock_account(service_order.account_id)
        service_order = locks.lock_service_order(service_order.pk)
        if service_order.status != ServiceOrderStatus.DRAFT:
            return service_order  # a double click: already placed
        service_order.status = ServiceOrderStatus.PLACED
        service_order.placed_at = timezone.now()
        service_order.placed_by = actor
        service_order.save(update_fields=["status", "placed_at", "placed_by"])
        record_audit_event(
            actor=actor,
            account=service_order.account,
            action=AuditAction.ORDER_PLACED,
            target=service_order,
            after={"quote": service_order.quote.number, "total": service_order.total},
        )
        transaction.on_commit(lambda: process_service_order.enqueue(service_order.pk))
    return service_order


RETRYABLE = (ServiceOrderStatus.FAILED, ServiceOrderStatus.PROCESSING)


def retry_service_order(*, service_order: ServiceOrder, actor: User | None) -> bool:
    """Staff's retry (admin action) of a failed service order, or of one stuck in processing
    (its charge's outcome unknown: the worker looks the charge up before charging anything).
    False if there was nothing to retry."""
    with transaction.atomic():
        lock_account(service_order.account_id)
        service_order = locks.lock_service_order(service_order.pk)
        if service_order.status not in RETRYABLE:
            return False
        before = service_order.status
        if before == ServiceOrderStatus.FAILED:
            service_order.status = ServiceOrderStatus.PLACED
            service_order.failure_reason = ""
            service_order.save(update_fields=["status", "failure_reason"])
        record_audit_event(
            actor=actor,
            account=service_order.account,
            action=AuditAction.CHANGED,
            target=service_order,
            before={"status": before},
            after={"status": service_order.status, "retried": True},
        )
        transaction.on_commit(lambda: process_service_order.enqueue(service_order.pk))
    return True


def move_to_billing_center(*, account: Account, actor: User | None) -> Account:
    """Changing the payment method from the corporate portal moves the account to the Billing
    Center for good (SPEC C.7). Nothing else about the account changes."""
    with transaction.atomic():
        account = lock_account(account.pk)
        if account.portal == Portal.BILLING_CENTER:
            return account
        account.portal = Portal.BILLING_CENTER
        account.save(update_fields=["portal"])
        record_audit_event(
            actor=actor,
            account=account,
            action=AuditAction.CHANGED,
            target=account,
            before={"portal": Portal.CORPORATE},
            after={"portal": Portal.BILLING_CENTER},
        )
    return account


def expire_quotes(*, today: date | None = None) -> int:
    """Open quotes past their validity become expired; returns how many."""
    today = today or timezone.localdate()
    return Quote.objects.filter(status=QuoteStatus.OPEN, valid_until__lt=today).update(
        status=QuoteStatus.EXPIRED
    )


def overdue_service_orders():
    """Service orders placed more than 24 hours ago and still not processed."""
    cutoff = timezone.now() - timedelta(hours=24)
    return ServiceOrder.objects.filter(
        status__in=[ServiceOrderStatus.PLACED, ServiceOrderStatus.PROCESSING], placed_at__lt=cutoff
    )
