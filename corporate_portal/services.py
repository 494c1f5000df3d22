"""Quotes and service orders of the Corporate Billing Portal (SPEC flow C)."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from moneyed import Money

from billing_center.audit import record_audit_event
from billing_center.models import AuditAction, User
from billing_center.money import round_money
from checkout.models import Order, OrderLine, OrderLineKind, PaymentMethod, TaxTreatment
from checkout.services import BillingDetails, issue_invoice, next_number
from checkout.tax import decide_tax
from corporate_portal.models import (
    QUOTE_VALIDITY_DAYS,
    Quote,
    QuoteLine,
    QuoteStatus,
    ServiceOrder,
    ServiceOrderStatus,
)
from subscriptions.models import (
    LIVE_STATUSES,
    Account,
    Membership,
    Portal,
    Role,
    SeatAssignment,
    Subscription,
    SubscriptionStatus,
)
from subscriptions.proration import days_in_period, days_left


class CorporateError(Exception):
    """Something the corporate portal cannot do; the message is for the billing contact."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def contact_services_message() -> str:
    return _(
        "Your account cannot add seats itself. Please contact Corporate Account Services at "
        "%(email)s."
    ) % {"email": settings.CORPORATE_ACCOUNT_SERVICES_EMAIL}


def eligibility_problem(*, account: Account) -> str | None:
    """Why the account cannot add seats in the portal, or None (SPEC flow C preconditions)."""
    if not account.self_service_enabled:
        return contact_services_message()
    if not account.payment_methods.filter(is_default=True).exists():
        return _(
            "Your account needs a default automatic payment method (credit or debit card) "
            "before it can add seats."
        )
    return None


def product_problem(*, subscription: Subscription) -> str | None:
    if not subscription.product.supports_additional_seats:
        return _(
            "%(product)s does not support additional seats here: please contact Corporate "
            "Account Services at %(email)s."
        ) % {"product": subscription.product, "email": settings.CORPORATE_ACCOUNT_SERVICES_EMAIL}
    if subscription.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE):
        return _("%(product)s cannot get more seats now.") % {"product": subscription.product}
    return None


def coterm_amount(*, subscription: Subscription, added_seats: int, on: date) -> Money:
    """Added seats × price per seat × days left / days in the current period (SPEC)."""
    total_days = days_in_period(subscription.current_period_start, subscription.current_period_end)
    remaining = min(days_left(subscription.current_period_end, on), total_days)
    return round_money(subscription.unit_price * added_seats * remaining / total_days)


@dataclass(frozen=True)
class SeatRequest:
    subscription: Subscription
    added_seats: int


def open_quote(*, account: Account) -> Quote | None:
    return account.quotes.filter(status=QuoteStatus.OPEN).first()


def create_quote(
    *,
    account: Account,
    requests: list[SeatRequest],
    actor,
    replace_open: bool,
    today: date | None = None,
) -> Quote:
    """Save Cart and Review: a quote valid 30 days. An open quote is only replaced when the
    billing contact was warned and confirmed (`replace_open`); it then expires at once."""
    today = today or timezone.localdate()
    requests = [r for r in requests if r.added_seats > 0]
    if not requests:
        raise CorporateError(_("Enter a number of new seats for at least one product."))
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        problem = eligibility_problem(account=account)
        if problem:
            raise CorporateError(problem)
        current = open_quote(account=account)
        if current is not None and not replace_open:
            raise CorporateError(
                _("Your account has an open quote, %(number)s: accept or reject it first.")
                % {"number": current.number}
            )
        subscriptions = {
            s.pk: s
            for s in Subscription.objects.select_for_update(of=("self",))
            .filter(account=account, pk__in=[r.subscription.pk for r in requests])
            .select_related("product")
            .order_by("pk")
        }
        lines = []
        for request in requests:
            subscription = subscriptions.get(request.subscription.pk)
            if subscription is None:
                raise CorporateError(_("This subscription is not part of your account."))
            problem = product_problem(subscription=subscription)
            if problem:
                raise CorporateError(problem)
            if subscription.seat_count + request.added_seats > subscription.plan.max_seats:
                raise CorporateError(
                    _("%(product)s allows at most %(max)s seats.")
                    % {"product": subscription.product, "max": subscription.plan.max_seats}
                )
            lines.append(
                (
                    subscription,
                    request.added_seats,
                    coterm_amount(
                        subscription=subscription, added_seats=request.added_seats, on=today
                    ),
                )
            )
        currency = account.currency
        subtotal = sum((amount for _s, _n, amount in lines), Money(0, currency))
        tax = decide_tax(
            country=account.country.code,
            vat_number=account.vat_number,
            seller_country=settings.SELLER_COUNTRY,
        )
        tax_amount = round_money(subtotal * tax.rate / 100)
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
                    subtotal=subtotal,
                    tax_rate=tax.rate,
                    tax_treatment=tax.treatment,
                    tax=tax_amount,
                    total=subtotal + tax_amount,
                )
        except IntegrityError:
            raise CorporateError(_("Your account already has an open quote.")) from None
        for subscription, added, amount in lines:
            QuoteLine.objects.create(
                quote=quote,
                subscription=subscription,
                product=subscription.product,
                added_seats=added,
                unit_price=subscription.unit_price,
                period_start=today,
                period_end=subscription.current_period_end,
                amount=amount,
            )
        if current is not None:
            current.replaced_by = quote
            current.save(update_fields=["replaced_by"])
        record_audit_event(
            actor=actor, account=account, action=AuditAction.CREATED, target=quote,
            after={"total": quote.total, "replaces": current.number if current else ""},
        )  # fmt: skip
    return quote


def _open_quote_for_update(quote: Quote, today: date) -> Quote:
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    if quote.status == QuoteStatus.OPEN and quote.is_expired_on(today):
        quote.status = QuoteStatus.EXPIRED
        quote.save(update_fields=["status"])
    if quote.status != QuoteStatus.OPEN:
        raise CorporateError(
            _("Quote %(number)s is %(status)s: it cannot be changed.")
            % {"number": quote.number, "status": quote.get_status_display().lower()}
        )
    return quote


def reject_quote(*, quote: Quote, actor, today: date | None = None) -> Quote:
    with transaction.atomic():
        quote = _open_quote_for_update(quote, today or timezone.localdate())
        quote.status = QuoteStatus.REJECTED
        quote.save(update_fields=["status"])
        record_audit_event(
            actor=actor, account=quote.account, action=AuditAction.CHANGED, target=quote,
            before={"status": "open"}, after={"status": "rejected"},
        )  # fmt: skip
    return quote


@dataclass(frozen=True)
class PaymentDetails:
    admin_contact_name: str
    admin_contact_email: str
    payment_method: PaymentMethod
    billing: BillingDetails


def save_service_order(
    *, quote: Quote, details: PaymentDetails, actor, today: date | None = None
) -> ServiceOrder:
    """Proceed to Payment → Save and Proceed to Service Order: the quote is accepted and a draft
    service order holds the admin contact, the card and the billing address."""
    email = details.admin_contact_email.strip().lower()
    with transaction.atomic():
        Account.objects.select_for_update().get(pk=quote.account_id)
        existing = ServiceOrder.objects.filter(quote=quote).first()
        if existing is not None and existing.status != ServiceOrderStatus.DRAFT:
            raise CorporateError(_("This service order is already placed."))
        if existing is None:
            quote = _open_quote_for_update(quote, today or timezone.localdate())
        other = Membership.objects.filter(user__email__iexact=email).exclude(
            account=quote.account_id
        )
        if other.exists():
            raise CorporateError(
                _("%(email)s belongs to another account: choose another admin contact.")
                % {"email": email}
            )
        if details.payment_method.account_id != quote.account_id:
            raise CorporateError(_("Choose one of your account's cards."))
        billing = details.billing
        values = {
            "account_id": quote.account_id,
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
        }
        service_order, _created = ServiceOrder.objects.update_or_create(
            quote=quote, defaults=values
        )
        if quote.status == QuoteStatus.OPEN:
            quote.status = QuoteStatus.ACCEPTED
            quote.save(update_fields=["status"])
            record_audit_event(
                actor=actor, account=quote.account, action=AuditAction.CHANGED, target=quote,
                before={"status": "open"}, after={"status": "accepted"},
            )  # fmt: skip
    return service_order


def place_service_order(*, service_order: ServiceOrder, actor) -> ServiceOrder:
    """Place Service Order: processing happens in the background (up to 24 hours)."""
    from corporate_portal.tasks import process_service_order

    with transaction.atomic():
        service_order = ServiceOrder.objects.select_for_update().get(pk=service_order.pk)
        if service_order.status != ServiceOrderStatus.DRAFT:
            return service_order  # a double click: already placed
        service_order.status = ServiceOrderStatus.PLACED
        service_order.placed_at = timezone.now()
        service_order.placed_by = actor
        service_order.save(update_fields=["status", "placed_at", "placed_by"])
        record_audit_event(
            actor=actor, account=service_order.account, action=AuditAction.ORDER_PLACED,
            target=service_order, after={"quote": service_order.quote.number},
        )  # fmt: skip
        transaction.on_commit(lambda: process_service_order.enqueue(service_order.pk))
    return service_order


def retry_service_order(*, service_order: ServiceOrder, actor) -> None:
    """Staff's retry of a failed service order (admin action)."""
    from corporate_portal.tasks import process_service_order

    with transaction.atomic():
        service_order = ServiceOrder.objects.select_for_update().get(pk=service_order.pk)
        if service_order.status != ServiceOrderStatus.FAILED:
            return
        service_order.status = ServiceOrderStatus.PLACED
        service_order.failure_reason = ""
        service_order.attempt += 1
        service_order.save(update_fields=["status", "failure_reason", "attempt"])
        record_audit_event(
            actor=actor, account=service_order.account, action=AuditAction.CHANGED,
            target=service_order, before={"status": "failed"}, after={"status": "placed"},
        )  # fmt: skip
        transaction.on_commit(lambda: process_service_order.enqueue(service_order.pk))


def apply_service_order(
    *, service_order_id: int, charge_reference: str, amount: Money
) -> ServiceOrder:
    """Once charged: add the seats, create the admin contact with a seat of each product, issue
    the invoice, mark completed — all in one transaction, or nothing."""
    with transaction.atomic():
        service_order = (
            ServiceOrder.objects.select_for_update(of=("self",))
            .select_related("quote")
            .get(pk=service_order_id)
        )
        if service_order.status == ServiceOrderStatus.COMPLETED:
            return service_order
        account = Account.objects.select_for_update().get(pk=service_order.account_id)
        quote = service_order.quote
        lines = list(quote.lines.select_related("product"))
        subscriptions = {
            s.pk: s
            for s in Subscription.objects.select_for_update()
            .filter(pk__in=[line.subscription_id for line in lines], status__in=LIVE_STATUSES)
            .order_by("pk")
        }
        today = timezone.localdate()
        order = Order.objects.create(
            number=f"SO-{quote.number}",
            idempotency_key=service_order.idempotency_key,
            account=account,
            placed_by=service_order.placed_by,
            subtotal=quote.subtotal,
            tax_rate=quote.tax_rate,
            tax_treatment=quote.tax_treatment or TaxTreatment.OUTSIDE_SCOPE,
            tax_country=account.country.code,
            tax=quote.tax,
            total=quote.total,
            credit_applied=Money(0, account.currency),
            credit_added=Money(0, account.currency),
            amount_charged=amount,
            payment_method=service_order.payment_method,
            charge_reference=charge_reference,
            buyer_vat_number=account.vat_number,
        )
        admin = _admin_contact(service_order=service_order, account=account)
        for line in lines:
            subscription = subscriptions.get(line.subscription_id)
            if subscription is None:
                raise CorporateError(
                    _("%(product)s is no longer active.") % {"product": line.product}
                )
            before = subscription.seat_count
            subscription.seat_count += line.added_seats
            subscription.save(update_fields=["seat_count"])
            SeatAssignment.objects.get_or_create(subscription=subscription, user=admin)
            OrderLine.objects.create(
                order=order, kind=OrderLineKind.ADDED_SEATS, product=line.product,
                product_name=line.product.name, plan_name=subscription.plan.name,
                cycle=subscription.cycle, seat_count=line.added_seats, unit_price=line.unit_price,
                period_start=min(line.period_start, line.period_end - timedelta(days=1)),
                period_end=line.period_end, amount=line.amount, subscription=subscription,
            )  # fmt: skip
            record_audit_event(
                actor=service_order.placed_by, account=account, action=AuditAction.CHANGED,
                target=subscription, before={"seat_count": before},
                after={"seat_count": subscription.seat_count, "service_order": quote.number},
            )  # fmt: skip
        billing = BillingDetails(
            name=service_order.billing_name, address_line1=service_order.address_line1,
            address_line2=service_order.address_line2, postal_code=service_order.postal_code,
            city=service_order.city, region=service_order.region,
            country=service_order.country.code, vat_number=account.vat_number,
        )  # fmt: skip
        issue_invoice(order=order, billing=billing, today=today)
        service_order.order = order
        service_order.status = ServiceOrderStatus.COMPLETED
        service_order.processed_at = timezone.now()
        service_order.failure_reason = ""
        service_order.save(update_fields=["order", "status", "processed_at", "failure_reason"])
    return service_order


def _admin_contact(*, service_order: ServiceOrder, account: Account) -> User:
    email = service_order.admin_contact_email
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        from subscriptions.tasks import send_invitation_email

        user = User.objects.create_user(email, None, full_name=service_order.admin_contact_name)
        Membership.objects.create(user=user, account=account, role=Role.ADMIN_CONTACT)
        transaction.on_commit(lambda: send_invitation_email.enqueue(user.pk, None))
        return user
    membership = Membership.objects.filter(user=user).first()
    if membership is None or membership.account_id != account.pk:
        raise CorporateError(_("%(email)s belongs to another account.") % {"email": email})
    if membership.role == Role.MEMBER:
        membership.role = Role.ADMIN_CONTACT
        membership.save(update_fields=["role"])
    return user


def move_to_billing_center(*, account: Account, actor) -> Account:
    """Changing the payment method from the corporate portal moves the account to the Billing
    Center for good (SPEC C.7). Nothing else about the account changes."""
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        if account.portal == Portal.BILLING_CENTER:
            return account
        account.portal = Portal.BILLING_CENTER
        account.save(update_fields=["portal"])
        record_audit_event(
            actor=actor, account=account, action=AuditAction.CHANGED, target=account,
            before={"portal": Portal.CORPORATE}, after={"portal": Portal.BILLING_CENTER},
        )  # fmt: skip
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


def price_staff_quote(*, quote: Quote, actor, today: date | None = None) -> Quote:
    """A quote staff wrote in the admin: number, validity, co-termed line amounts and totals are
    computed here, exactly as for a quote the billing contact saved."""
    today = today or timezone.localdate()
    with transaction.atomic():
        quote = Quote.objects.select_for_update().get(pk=quote.pk)
        currency = quote.account.currency
        subtotal = Money(0, currency)
        for line in quote.lines.select_related("subscription"):
            subscription = line.subscription
            line.product = subscription.product
            line.unit_price = subscription.unit_price
            line.period_start = today
            line.period_end = max(today, subscription.current_period_end)
            line.amount = coterm_amount(
                subscription=subscription, added_seats=line.added_seats, on=today
            )
            line.save()
            subtotal += line.amount
        tax = decide_tax(
            country=quote.account.country.code,
            vat_number=quote.account.vat_number,
            seller_country=settings.SELLER_COUNTRY,
        )
        tax_amount = round_money(subtotal * tax.rate / 100)
        quote.subtotal, quote.tax_rate, quote.tax_treatment = subtotal, tax.rate, tax.treatment
        quote.tax, quote.total = tax_amount, subtotal + tax_amount
        quote.save()
    return quote
