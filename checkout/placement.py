"""Placing an order (STYLE habit 5), and the previews that show exactly what it will charge.

place_order is one service in three steps:
1. under the account and cart locks: return the order this cart version already made, or price
   the cart exactly as the checkout page did and compare;
2. outside any transaction: charge the card with an idempotency key tied to the order;
3. under the same locks again: re-read and re-price the cart, then write the order through the
   one order writer (checkout.orders) and empty the cart.
A decline in step 2 changes nothing. A failure in step 3 refunds the charge. The confirmation
email goes out once step 3 has committed.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from moneyed import Money

from billing_center.models import User
from billing_center.money import format_money
from cart.models import Cart
from cart.services import PurchaseError, check_change, check_purchase, empty_cart
from catalog.models import Plan
from checkout.billing import BillingDetails, save_billing_details
from checkout.gateway import PaymentDeclined, get_gateway
from checkout.models import Order, PaymentMethod
from checkout.orders import OrderError, write_order
from checkout.payment_methods import NewCard, save_card
from checkout.pricing import OrderPricing, PricingError, PurchaseRequest, price_order
from checkout.tasks import send_order_confirmation_email
from subscriptions.locks import lock_account, lock_live_subscriptions
from subscriptions.models import Account, Subscription, SubscriptionStatus

__all__ = [
    "CheckoutError",
    "LockedCart",
    "PaymentDeclined",
    "change_preview",
    "place_order",
    "preview_order",
]


class CheckoutError(Exception):
    """The order cannot be placed as it stands; the message is for the billing contact."""

    def __init__(self, message: str, pricing: OrderPricing | None = None):
        super().__init__(message)
        self.message = message
        self.pricing = pricing


@dataclass(frozen=True)
class LockedCart:
    """A cart read under its locks: the account first, then the cart, then the account's live
    subscriptions of the cart's products in primary-key order (subscriptions.locks)."""

    account: Account
    cart: Cart
    live: dict[int, Subscription]  # by product id

    @classmethod
    def lock(cls, cart_id: int) -> "LockedCart":
        account_id = Cart.objects.values_list("account_id", flat=True).get(pk=cart_id)
        account = lock_account(account_id)
        cart = Cart.objects.select_for_update().get(pk=cart_id)
        cart.account = account
        live = lock_live_subscriptions(account=account, product_ids=cart.items.values("product"))
        return cls(account=account, cart=cart, live=live)


def cart_requests(cart: Cart, live: dict[int, Subscription] | None = None) -> list[PurchaseRequest]:
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
    *,
    cart: Cart,
    billing: BillingDetails,
    today: date | None = None,
    live: dict[int, Subscription] | None = None,
) -> OrderPricing:
    """What the checkout page shows; place_order charges exactly this."""
    return price_order(
        requests=cart_requests(cart, live),
        currency=cart.account.currency,
        today=today or timezone.localdate(),
        tax=billing.tax_decision(),
        credit_balance=cart.account.credit_balance,
    )


def change_preview(
    *,
    subscription: Subscription,
    plan: Plan,
    cycle: str,
    seat_count: int,
    today: date | None = None,
) -> tuple[OrderPricing | None, str | None]:
    """What changing a subscription would cost, priced as the checkout will price it; or why
    the change cannot be made."""
    if subscription.status == SubscriptionStatus.TRIALING:
        return None, None
    try:
        check_change(subscription=subscription, plan=plan, cycle=cycle, seat_count=seat_count)
        account = subscription.account
        pricing = price_order(
            requests=[
                PurchaseRequest(
                    plan=plan, cycle=cycle, seat_count=seat_count, subscription=subscription
                )
            ],
            currency=account.currency,
            today=today or timezone.localdate(),
            tax=BillingDetails.of_account(account).tax_decision(),
            credit_balance=account.credit_balance,
        )
    except PurchaseError as error:
        return None, error.message
    except PricingError as error:
        return None, str(error)
    return pricing, None


def _price_locked_cart(
    *, locked: LockedCart, cart_version: int, billing: BillingDetails, today: date
) -> OrderPricing:
    if locked.cart.version != cart_version:
        raise CheckoutError(_("Your cart changed in the meantime. Check the order again."))
    requests = cart_requests(locked.cart, locked.live)
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
                    account=locked.account,
                    product=request.plan.product,
                    plan=request.plan,
                    cycle=request.cycle,
                    seat_count=request.seat_count,
                )
        except PurchaseError as error:
            raise CheckoutError(error.message) from error
    try:
        return preview_order(cart=locked.cart, billing=billing, today=today, live=locked.live)
    except PricingError as error:
        raise CheckoutError(str(error)) from error


@dataclass(frozen=True)
class _LockedState:
    locked: LockedCart
    existing: Order | None
    pricing: OrderPricing | None


def _locked_state(*, cart_id, cart_version, billing, today, key) -> _LockedState:
    """Under the locks: the order this cart version already made, or the cart priced now."""
    locked = LockedCart.lock(cart_id)
    existing = Order.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _LockedState(locked=locked, existing=existing, pricing=None)
    pricing = _price_locked_cart(
        locked=locked, cart_version=cart_version, billing=billing, today=today
    )
    return _LockedState(locked=locked, existing=None, pricing=pricing)


def place_order(
    *,
    cart: Cart,
    cart_version: int,
    billing: BillingDetails,
    expected_amount_due: Money,
    actor: User,
    payment_method: PaymentMethod | None = None,
    new_card: NewCard | None = None,
    today: date | None = None,
) -> Order:
    """Place the order of one version of a cart, once. Raises CheckoutError or PaymentDeclined
    with nothing changed."""
    today = today or timezone.localdate()
    idempotency_key = f"cart-{cart.pk}-v{cart_version}"
    step = {
        "cart_id": cart.pk,
        "cart_version": cart_version,
        "billing": billing,
        "today": today,
        "key": idempotency_key,
    }

    with transaction.atomic():
        state = _locked_state(**step)
        if state.existing is not None:
            return state.existing
        pricing = state.pricing
        if pricing.amount_due != expected_amount_due:
            raise CheckoutError(
                _("The total changed to %(total)s. Check it and place the order again.")
                % {"total": format_money(pricing.amount_due)},
                pricing=pricing,
            )
        if payment_method is not None and payment_method.account_id != state.locked.account.pk:
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
            state = _locked_state(**step)
            if state.existing is not None:
                # A concurrent submit won. With the same card it was the same charge; with
                # another card ours is given back.
                if charge is not None and charge.reference != state.existing.charge_reference:
                    gateway.refund(reference=charge.reference)
                return state.existing
            if state.pricing.amount_due != pricing.amount_due:
                raise CheckoutError(_("Your cart changed in the meantime. Check the order again."))
            order = _write_checkout_order(
                locked=state.locked,
                pricing=state.pricing,
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


def _write_checkout_order(
    *,
    locked: LockedCart,
    pricing: OrderPricing,
    billing: BillingDetails,
    idempotency_key: str,
    payment_method: PaymentMethod | None,
    new_card: NewCard | None,
    charge_reference: str,
    actor: User,
    today: date,
) -> Order:
    account = locked.account
    save_billing_details(account=account, billing=billing, actor=actor)
    if new_card is not None:
        payment_method = save_card(account=account, new_card=new_card, actor=actor)
    try:
        order = write_order(
            account=account,
            subscriptions=locked.live,
            pricing=pricing,
            billing=billing,
            number=f"ORD-{today:%Y%m%d}-{secrets.token_hex(4).upper()}",
            idempotency_key=idempotency_key,
            payment_method=payment_method,
            charge_reference=charge_reference,
            actor=actor,
            today=today,
        )
    except OrderError as error:
        raise CheckoutError(error.message) from error
    empty_cart(cart=locked.cart)
    transaction.on_commit(lambda: send_order_confirmation_email.enqueue(order.pk))
    return order
