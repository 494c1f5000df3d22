"""Placing an order (STYLE habit 5) and issuing its invoice.

place_order is one service in three steps:
1. under the account and cart locks: return the order this cart version already made, or price
   the cart exactly as the checkout page did;
2. outside any transaction: charge the card with the cart version as idempotency key;
3. under the same locks again: re-read and re-price the cart, then write the order, its lines,
   the subscriptions, the invoice, the credit used and the audit events, and empty the cart.
A decline in step 2 changes nothing. A failure in step 3 refunds the charge. The confirmation
email goes out once step 3 has committed.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from moneyed import Money

from billing_center.audit import record_audit_event, snapshot
from billing_center.models import AuditAction
from billing_center.money import format_money
from cart.models import Cart
from cart.services import PurchaseError, check_change, check_purchase, empty_cart
from checkout.gateway import PaymentDeclined, TokenizedCard, get_gateway
from checkout.models import (
    Invoice,
    NumberSequence,
    Order,
    OrderLine,
    OrderLineKind,
    PaymentMethod,
)
from checkout.pricing import OrderPricing, PricingError, PurchaseRequest, price_order
from checkout.tax import VAT_VALIDATION_METHOD, compact_vat_number, vat_number_is_valid
from subscriptions.models import (
    LIVE_STATUSES,
    Account,
    CreditEntry,
    Subscription,
    SubscriptionStatus,
)

__all__ = ["BillingDetails", "CheckoutError", "NewCard", "PaymentDeclined", "place_order"]


class CheckoutError(Exception):
    """The order cannot be placed as it stands; the message is for the billing contact."""

    def __init__(self, message: str, pricing: OrderPricing | None = None):
        super().__init__(message)
        self.message = message
        self.pricing = pricing


@dataclass(frozen=True)
class BillingDetails:
    """Who is billed, where: it decides the VAT and is printed on the invoice."""

    name: str
    address_line1: str
    address_line2: str
    postal_code: str
    city: str
    region: str
    country: str
    vat_number: str

    @classmethod
    def of_account(cls, account: Account) -> "BillingDetails":
        return cls(
            name=account.name,
            address_line1=account.address_line1,
            address_line2=account.address_line2,
            postal_code=account.postal_code,
            city=account.city,
            region=account.region,
            country=account.country.code,
            vat_number=account.vat_number,
        )

    @property
    def address_lines(self) -> list[str]:
        from django_countries import countries

        locality = " ".join(part for part in (self.postal_code, self.city) if part)
        lines = [self.address_line1, self.address_line2, locality, self.region]
        return [line for line in lines if line] + [str(countries.name(self.country))]


@dataclass(frozen=True)
class NewCard:
    """A card typed in at checkout, already tokenized by the gateway (no number, no CVC)."""

    card: TokenizedCard
    cardholder_name: str


def cart_requests(cart: Cart, live: dict | None = None) -> list[PurchaseRequest]:
    """What the cart asks for. `live` maps product ids to the account's live subscriptions as
    read under lock; changes are priced against those, not against what the page once saw."""
    items = cart.items.select_related(
        "plan__product", "subscription__plan", "subscription__product"
    ).prefetch_related("plan__prices")
    requests = []
    for item in items:
        subscription = item.subscription
        if subscription is not None and live is not None:
            subscription = live.get(item.product_id)
            if subscription is None or subscription.pk != item.subscription_id:
                raise CheckoutError(
                    _("%(product)s changed in the meantime. Check the order again.")
                    % {"product": item.product}
                )
        requests.append(
            PurchaseRequest(
                plan=item.plan,
                cycle=item.cycle,
                seat_count=item.seat_count,
                subscription=subscription,
            )
        )
    return requests


def preview_order(
    *, cart: Cart, billing: BillingDetails, today: date | None = None, live: dict | None = None
) -> OrderPricing:
    """What the checkout page shows; place_order charges exactly this."""
    return price_order(
        requests=cart_requests(cart, live),
        currency=cart.account.currency,
        today=today or timezone.localdate(),
        country=billing.country,
        vat_number=billing.vat_number,
        seller_country=settings.SELLER_COUNTRY,
        credit_balance=cart.account.credit_balance,
    )


def change_preview(
    *, subscription: Subscription, plan, cycle: str, seat_count: int, today: date | None = None
) -> tuple[OrderPricing | None, str | None]:
    """What changing a subscription would cost, priced as the checkout will price it; or why
    the change cannot be made."""
    if subscription.status == SubscriptionStatus.TRIALING:
        return None, None
    try:
        check_change(subscription=subscription, plan=plan, cycle=cycle, seat_count=seat_count)
        account = subscription.account
        billing = BillingDetails.of_account(account)
        pricing = price_order(
            requests=[
                PurchaseRequest(
                    plan=plan, cycle=cycle, seat_count=seat_count, subscription=subscription
                )
            ],
            currency=account.currency,
            today=today or timezone.localdate(),
            country=billing.country,
            vat_number=billing.vat_number,
            seller_country=settings.SELLER_COUNTRY,
            credit_balance=account.credit_balance,
        )
    except PurchaseError as error:
        return None, error.message
    except PricingError as error:
        return None, str(error)
    return pricing, None


def _lock(cart_id: int) -> tuple[Account, Cart, dict[int, Subscription]]:
    """Account first, then the cart, then the account's live subscriptions of the cart's
    products in primary-key order: the order every service that writes billing data keeps."""
    account_id = Cart.objects.values_list("account_id", flat=True).get(pk=cart_id)
    account = Account.objects.select_for_update().get(pk=account_id)
    cart = Cart.objects.select_for_update().get(pk=cart_id)
    cart.account = account
    live = {
        s.product_id: s
        for s in Subscription.objects.select_for_update(of=("self",))
        .filter(account=account, status__in=LIVE_STATUSES)
        .filter(product__in=cart.items.values("product"))
        .select_related("plan", "product")
        .order_by("pk")
    }
    return account, cart, live


def _price_locked_cart(
    *,
    account: Account,
    cart: Cart,
    live: dict[int, Subscription],
    cart_version: int,
    billing: BillingDetails,
    today: date,
) -> OrderPricing:
    if cart.version != cart_version:
        raise CheckoutError(_("Your cart changed in the meantime. Check the order again."))
    requests = cart_requests(cart, live)
    if not requests:
        raise CheckoutError(_("Your cart is empty."))
    for request in requests:
        try:
            if request.subscription is not None:
                check_change(
                    subscription=request.subscription,
                    plan=request.plan,
                    cycle=request.cycle,
                    seat_count=request.seat_count,
                )
            else:
                check_purchase(
                    account=account,
                    product=request.plan.product,
                    plan=request.plan,
                    cycle=request.cycle,
                    seat_count=request.seat_count,
                )
        except PurchaseError as error:
            raise CheckoutError(error.message) from error
    try:
        return preview_order(cart=cart, billing=billing, today=today, live=live)
    except PricingError as error:
        raise CheckoutError(str(error)) from error


def _locked_state(*, cart, cart_version, billing, today, key):
    """Under the locks: the order this cart version already made, or the cart priced now."""
    account, locked_cart, live = _lock(cart.pk)
    existing = Order.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return account, locked_cart, live, existing, None
    pricing = _price_locked_cart(
        account=account,
        cart=locked_cart,
        live=live,
        cart_version=cart_version,
        billing=billing,
        today=today,
    )
    return account, locked_cart, live, None, pricing


def place_order(
    *,
    cart: Cart,
    cart_version: int,
    billing: BillingDetails,
    expected_amount_due: Money,
    actor,
    payment_method: PaymentMethod | None = None,
    new_card: NewCard | None = None,
    today: date | None = None,
) -> Order:
    """Place the order of one version of a cart, once. Raises CheckoutError or PaymentDeclined
    with nothing changed."""
    today = today or timezone.localdate()
    idempotency_key = f"cart-{cart.pk}-v{cart_version}"

    step = {"cart": cart, "cart_version": cart_version, "billing": billing, "today": today}
    with transaction.atomic():
        account, _cart, _live, existing, pricing = _locked_state(**step, key=idempotency_key)
        if existing is not None:
            return existing
        if pricing.amount_due != expected_amount_due:
            raise CheckoutError(
                _("The total changed to %(total)s. Check it and place the order again.")
                % {"total": format_money(pricing.amount_due)},
                pricing=pricing,
            )
        if payment_method is not None and payment_method.account_id != account.pk:
            raise CheckoutError(_("Choose one of your account's cards."))

    gateway = get_gateway()
    charge = None
    if pricing.amount_due.amount > 0:
        token = new_card.card.token if new_card else getattr(payment_method, "gateway_token", "")
        if not token:
            raise CheckoutError(_("Choose a saved card or enter a new one."))
        # One key per order and card: a double submit charges once, and after a decline the
        # same order can still be paid with another card.
        card_key = hashlib.sha256(token.encode()).hexdigest()[:16]
        charge = gateway.charge(
            token=token, amount=pricing.amount_due, idempotency_key=f"{idempotency_key}-{card_key}"
        )

    try:
        with transaction.atomic():
            account, locked_cart, live, existing, final = _locked_state(**step, key=idempotency_key)
            if existing is not None:
                # A concurrent submit won. With the same card it was the same charge; with
                # another card ours is given back.
                if charge is not None and charge.reference != existing.charge_reference:
                    gateway.refund(reference=charge.reference)
                return existing
            if final.amount_due != pricing.amount_due:
                raise CheckoutError(_("Your cart changed in the meantime. Check the order again."))
            order = _write_order(
                account=account,
                cart=locked_cart,
                live=live,
                pricing=final,
                billing=billing,
                idempotency_key=idempotency_key,
                payment_method=payment_method,
                new_card=new_card if charge else None,
                charge_reference=charge.reference if charge else "",
                actor=actor,
                today=today,
            )
    except Exception:
        if (
            charge is not None
            and not Order.objects.filter(idempotency_key=idempotency_key).exists()
        ):
            gateway.refund(reference=charge.reference)
        raise
    return order


def _save_billing_details(*, account: Account, billing: BillingDetails, actor) -> None:
    fields = [
        "name", "address_line1", "address_line2", "postal_code", "city", "region", "country",
        "vat_number",
    ]  # fmt: skip
    before = snapshot(account, fields)
    vat_number = compact_vat_number(billing.vat_number)
    for field in fields:
        setattr(account, field, getattr(billing, field))
    account.vat_number = vat_number
    if vat_number and vat_number_is_valid(vat_number, billing.country):
        account.vat_number_validated_at = timezone.now()
        account.vat_number_validation = VAT_VALIDATION_METHOD
    elif not vat_number:
        account.vat_number_validated_at = None
        account.vat_number_validation = ""
    after = snapshot(account, fields)
    changed = [field for field in fields if before[field] != after[field]]
    account.save()
    if changed:
        record_audit_event(
            actor=actor,
            account=account,
            action=AuditAction.CHANGED,
            target=account,
            before={f: before[f] for f in changed},
            after={f: after[f] for f in changed},
        )


def _saved_card(*, account: Account, new_card: NewCard, actor) -> PaymentMethod:
    card = new_card.card
    card_method = PaymentMethod.objects.create(
        account=account,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        cardholder_name=new_card.cardholder_name,
        gateway_token=card.token,
        is_default=not account.payment_methods.filter(is_default=True).exists(),
    )
    record_audit_event(
        actor=actor,
        account=account,
        action=AuditAction.CREATED,
        target=card_method,
        after={"card": str(card_method), "is_default": card_method.is_default},
    )
    return card_method


def _write_order(
    *,
    account: Account,
    cart: Cart,
    live: dict[int, Subscription],
    pricing: OrderPricing,
    billing: BillingDetails,
    idempotency_key: str,
    payment_method: PaymentMethod | None,
    new_card: NewCard | None,
    charge_reference: str,
    actor,
    today: date,
) -> Order:
    _save_billing_details(account=account, billing=billing, actor=actor)
    if new_card is not None:
        payment_method = _saved_card(account=account, new_card=new_card, actor=actor)
    amount_charged = pricing.amount_due if charge_reference else Money(0, pricing.currency)
    order = Order.objects.create(
        number=f"ORD-{today:%Y%m%d}-{secrets.token_hex(4).upper()}",
        idempotency_key=idempotency_key,
        account=account,
        placed_by=actor,
        subtotal=pricing.subtotal,
        tax_rate=pricing.tax.rate,
        tax_treatment=pricing.tax.treatment,
        tax_country=pricing.tax.country,
        tax=pricing.tax_amount,
        total=pricing.total,
        credit_applied=pricing.credit_applied,
        credit_added=pricing.credit_added,
        amount_charged=amount_charged,
        payment_method=payment_method if charge_reference else None,
        charge_reference=charge_reference,
        buyer_vat_number=account.vat_number,
    )

    for line in pricing.lines:
        subscription = _apply_line(account=account, live=live, line=line, order=order, actor=actor)
        OrderLine.objects.create(
            order=order,
            kind=OrderLineKind.TRIAL_CONVERSION
            if line.kind == OrderLineKind.NEW_SUBSCRIPTION and subscription.trial_end
            else line.kind,
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

    if pricing.credit_applied.amount > 0:
        CreditEntry.objects.create(
            account=account,
            amount=-pricing.credit_applied,
            description=_("Credit used for order %(number)s") % {"number": order.number},
            order=order,
        )
        account.credit_balance_amount -= pricing.credit_applied.amount
        account.save(update_fields=["credit_balance_amount"])
    if pricing.credit_added.amount > 0:
        CreditEntry.objects.create(
            account=account,
            amount=pricing.credit_added,
            description=_("Credit from order %(number)s") % {"number": order.number},
            order=order,
        )
        account.credit_balance_amount += pricing.credit_added.amount
        account.save(update_fields=["credit_balance_amount"])

    issue_invoice(order=order, billing=billing, today=today)
    record_audit_event(
        actor=actor,
        account=account,
        action=AuditAction.ORDER_PLACED,
        target=order,
        after={
            "total": order.total,
            "charged": order.amount_charged,
            "invoice": order.invoice.number,
        },
    )
    empty_cart(cart=cart)

    from checkout.tasks import send_order_confirmation_email

    transaction.on_commit(lambda: send_order_confirmation_email.enqueue(order.pk))
    return order


SUBSCRIPTION_FIELDS = [
    "plan", "cycle", "seat_count", "unit_price", "status", "current_period_start",
    "current_period_end",
]  # fmt: skip


def _apply_line(*, account, live, line, order, actor) -> Subscription:
    """What one priced line does to the account's subscriptions; returns the one it is about."""
    if line.kind == OrderLineKind.PRORATION_CREDIT:
        return live[line.product.pk]  # the change line that follows updates it
    values = {
        "plan": line.plan,
        "cycle": line.cycle,
        "seat_count": line.seat_count,
        "unit_price": line.unit_price,
        "status": SubscriptionStatus.ACTIVE,
        "current_period_start": line.period_start,
        "current_period_end": line.period_end,
    }
    subscription = live.get(line.product.pk)
    if line.kind == OrderLineKind.NEW_SUBSCRIPTION and subscription is None:
        subscription = Subscription.objects.create(account=account, product=line.product, **values)
        record_audit_event(
            actor=actor,
            account=account,
            action=AuditAction.CREATED,
            target=subscription,
            after={**values, "order": order.number},
        )
        return subscription
    if (
        line.kind == OrderLineKind.NEW_SUBSCRIPTION
        and subscription.status != SubscriptionStatus.TRIALING
    ):
        raise CheckoutError(_("Your account already has %(product)s.") % {"product": line.product})
    assigned = subscription.seat_assignments.count()
    if line.seat_count < assigned:
        raise CheckoutError(
            _("%(count)s seats of %(product)s are assigned: unassign some first.")
            % {"count": assigned, "product": line.product}
        )
    before = snapshot(subscription, SUBSCRIPTION_FIELDS)
    for field, value in values.items():
        setattr(subscription, field, value)
    subscription.save()
    record_audit_event(
        actor=actor,
        account=account,
        action=AuditAction.CHANGED,
        target=subscription,
        before=before,
        after={**snapshot(subscription, SUBSCRIPTION_FIELDS), "order": order.number},
    )
    return subscription


def next_number(*, series: str, year: int) -> tuple[int, str]:
    """The next number of a yearly series ("INV-2026-000042", "Q-2026-000012"), taken under the
    sequence row's lock. Call it in the transaction that saves the document: if that rolls
    back, so does the number."""
    try:
        with transaction.atomic():
            NumberSequence.objects.get_or_create(series=series, year=year)
    except IntegrityError:
        pass  # another transaction created the year's row at the same moment
    sequence = NumberSequence.objects.select_for_update().get(series=series, year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number, f"{series}-{year}-{sequence.last_number:06d}"


def issue_invoice(*, order: Order, billing: BillingDetails, today: date) -> Invoice:
    account = order.account
    sequence, number = next_number(series="INV", year=today.year)
    return Invoice.objects.create(
        number=number,
        year=today.year,
        sequence=sequence,
        order=order,
        account=account,
        language=account.language,
        seller_name=settings.SELLER_NAME,
        seller_address=settings.SELLER_ADDRESS,
        seller_country=settings.SELLER_COUNTRY,
        seller_vat_number=settings.SELLER_VAT_NUMBER,
        buyer_name=billing.name,
        buyer_address="\n".join(billing.address_lines),
        buyer_country=billing.country,
        buyer_vat_number=order.buyer_vat_number,
    )


def add_payment_method(
    *, account: Account, card: TokenizedCard, cardholder_name: str, make_default: bool, actor
) -> PaymentMethod:
    """Save a card the gateway tokenized; the first card of an account is its default."""
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        card_method = _saved_card(
            account=account,
            new_card=NewCard(card=card, cardholder_name=cardholder_name),
            actor=actor,
        )
        if make_default and not card_method.is_default:
            set_default_payment_method(payment_method=card_method, actor=actor)
    return card_method


def set_default_payment_method(*, payment_method: PaymentMethod, actor) -> None:
    with transaction.atomic():
        Account.objects.select_for_update().get(pk=payment_method.account_id)
        PaymentMethod.objects.filter(account=payment_method.account_id, is_default=True).update(
            is_default=False
        )
        PaymentMethod.objects.filter(pk=payment_method.pk).update(is_default=True)
        record_audit_event(
            actor=actor, account=payment_method.account, action=AuditAction.CHANGED,
            target=payment_method, after={"is_default": True},
        )  # fmt: skip
