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

import contextlib
import secrets
from dataclasses import asdict, dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing_center.models import User
from billing_center.money import format_money
from cart.models import Cart
from cart.services import PurchaseError, check_change, check_purchase, empty_cart
from catalog.models import Plan
from checkout import payments
from checkout.billing import BillingDetails, save_billing_details
from checkout.emails import send_order_confirmation_email
from checkout.gateway import PaymentDeclined, TokenizedCard
from checkout.models import AttemptStatus, Order, PaymentAttempt, PaymentMethod, PaymentPurpose
from checkout.orders import OrderError, write_order
from checkout.payment_methods import NewCard, save_card
from checkout.payments import PaymentFailed, PaymentPending
from checkout.pricing import OrderPricing, PricingError, PurchaseRequest, price_order
from checkout.tax import MissingVatRate
from subscriptions.locks import lock_account, lock_live_subscriptions
from subscriptions.models import Account, Subscription, SubscriptionStatus

__all__ = [
    "CheckoutError",
    "LockedCart",
    "PaymentDeclined",
    "PaymentFailed",
    "PaymentPending",
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
    if live is None and "items" in getattr(cart, "_prefetched_objects_cache", {}):
        items = cart.items.all()  # the page's own read (cart.selectors.cart_with_items)
    else:
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
    return _price_requests(
        requests=cart_requests(cart, live),
        account=cart.account,
        billing=billing,
        today=today or timezone.localdate(),
    )


def _price_requests(
    *, requests: list[PurchaseRequest], account: Account, billing: BillingDetails, today: date
) -> OrderPricing:
    return price_order(
        requests=requests,
        currency=account.currency,
        today=today,
        tax=billing.tax_decision(),
        credit_balance=account.credit_balance,
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
        today = today or timezone.localdate()
        check_change(
            subscription=subscription, plan=plan, cycle=cycle, seat_count=seat_count, today=today
        )
        account = subscription.account
        pricing = price_order(
            requests=[
                PurchaseRequest(
                    plan=plan, cycle=cycle, seat_count=seat_count, subscription=subscription
                )
            ],
            currency=account.currency,
            today=today,
            tax=BillingDetails.of_account(account).tax_decision(),
            credit_balance=account.credit_balance,
        )
    except PurchaseError as error:
        return None, error.message
    except PricingError as error:
        return None, str(error)
    except MissingVatRate:
        return None, _("We cannot sell to your country right now. Please contact us.")
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
                    today=today,
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
        return _price_requests(
            requests=requests, account=locked.account, billing=billing, today=today
        )
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
    expected_pricing: str,
    actor: User,
    payment_method: PaymentMethod | None = None,
    new_card: NewCard | None = None,
    today: date | None = None,
) -> Order:
    """Place the order of one version of a cart, once. `expected_pricing` is the fingerprint of
    the priced order the checkout page showed. Raises CheckoutError, PaymentDeclined or
    PaymentFailed with nothing changed, or PaymentPending when the gateway's answer is not
    known yet (the order is then completed by whoever settles the payment, never charged
    twice)."""
    today = today or timezone.localdate()
    reference = cart_reference(cart_id=cart.pk, cart_version=cart_version)
    step = {"cart_id": cart.pk, "cart_version": cart_version, "billing": billing, "today": today}

    with transaction.atomic():
        state = _locked_state(**step, key=reference)
        if state.existing is not None:
            return state.existing
        pricing = state.pricing
        if pricing.fingerprint != expected_pricing:
            raise CheckoutError(_changed_message(pricing), pricing=pricing)
        account = state.locked.account
        if payment_method is not None and payment_method.account_id != account.pk:
            raise CheckoutError(_("Choose one of your account's cards."))
        attempt = None
        if pricing.amount_due.amount > 0:
            token = (
                new_card.card.token if new_card else getattr(payment_method, "gateway_token", "")
            )
            if not token:
                raise CheckoutError(_("Choose a saved card or enter a new one."))
            attempt = payments.open_attempt(
                account=account,
                purpose=PaymentPurpose.CHECKOUT,
                reference=reference,
                amount=pricing.amount_due,
                card_token=token,
                payment_method=None if new_card else payment_method,
                actor=actor,
                details=_attempt_details(
                    billing=billing,
                    new_card=new_card,
                    today=today,
                    expected_pricing=expected_pricing,
                ),
            )
    if attempt is not None:
        attempt = payments.pay(attempt)
    return _finish_order(
        attempt=attempt,
        cart_id=cart.pk,
        cart_version=cart_version,
        billing=billing,
        expected_pricing=expected_pricing,
        new_card=new_card if attempt is not None else None,
        payment_method=payment_method,
        actor=actor,
        today=today,
    )


def cart_reference(*, cart_id: int, cart_version: int) -> str:
    """What an order of a cart version is known by: its idempotency key and its payments'."""
    return f"cart-{cart_id}-v{cart_version}"


def _changed_message(pricing: OrderPricing) -> str:
    return _("The order changed: it now comes to %(total)s. Check it and place it again.") % {
        "total": format_money(pricing.amount_due)
    }


def _attempt_details(
    *, billing: BillingDetails, new_card: NewCard | None, today: date, expected_pricing: str
) -> dict:
    """What completing the order needs if this request is gone (no card number, no CVC)."""
    card = new_card.card if new_card else None
    return {
        "billing": asdict(billing),
        "today": today.isoformat(),
        "expected_pricing": expected_pricing,
        "new_card": {**asdict(card), "cardholder_name": new_card.cardholder_name} if card else None,
    }


def _finish_order(
    *,
    attempt: PaymentAttempt | None,
    cart_id: int,
    cart_version: int,
    billing: BillingDetails,
    expected_pricing: str,
    new_card: NewCard | None,
    payment_method: PaymentMethod | None,
    actor: User | None,
    today: date,
) -> Order:
    """Under the locks again: re-price the cart and write the order it paid for if it is still
    exactly the order the page showed, or give the payment back."""
    reference = cart_reference(cart_id=cart_id, cart_version=cart_version)
    step = {"cart_id": cart_id, "cart_version": cart_version, "billing": billing, "today": today}
    try:
        with transaction.atomic():
            state = _locked_state(**step, key=reference)
            if state.existing is not None:
                return state.existing  # a concurrent submit or the reconciliation won
            if state.pricing.fingerprint != expected_pricing:
                # Changed between the first look and now (another order of the account, a
                # changed price or credit): nothing is written, whatever was due.
                raise CheckoutError(_changed_message(state.pricing), pricing=state.pricing)
            return _write_checkout_order(
                locked=state.locked,
                pricing=state.pricing,
                billing=billing,
                idempotency_key=reference,
                payment_method=payment_method if attempt and not new_card else None,
                new_card=new_card,
                attempt=attempt,
                actor=actor,
                today=today,
            )
    finally:
        # Whatever happened, a payment that no order used is given back (a concurrent submit
        # with another card, a cart changed meanwhile, an error while writing). A failed
        # refund stays captured for the reconciliation to retry.
        if attempt is not None and attempt.order_id is None:
            payments.refund(attempt, reason=_("The order could not be placed."))


def resume_checkout(attempt: PaymentAttempt) -> None:
    """The reconciliation's way to finish a checkout whose request is gone: write the order the
    captured payment was for, exactly as the billing contact submitted it; if the cart changed
    since, the payment is refunded (by the caller)."""
    if attempt.status != AttemptStatus.CAPTURED or attempt.order_id is not None:
        return
    cart_id, cart_version = _parse_cart_reference(attempt.reference)
    details = attempt.details
    new_card = None
    if details.get("new_card"):
        card = dict(details["new_card"])
        cardholder_name = card.pop("cardholder_name", "")
        new_card = NewCard(card=TokenizedCard(**card), cardholder_name=cardholder_name)
    with contextlib.suppress(CheckoutError):  # the payment is refunded by _finish_order
        _finish_order(
            attempt=attempt,
            cart_id=cart_id,
            cart_version=cart_version,
            billing=BillingDetails(**details["billing"]),
            expected_pricing=details["expected_pricing"],
            new_card=new_card,
            payment_method=attempt.payment_method,
            actor=attempt.created_by,
            today=date.fromisoformat(details["today"]),
        )


def _parse_cart_reference(reference: str) -> tuple[int, int]:
    cart_part, version_part = reference.removeprefix("cart-").split("-v")
    return int(cart_part), int(version_part)


def _write_checkout_order(
    *,
    locked: LockedCart,
    pricing: OrderPricing,
    billing: BillingDetails,
    idempotency_key: str,
    payment_method: PaymentMethod | None,
    new_card: NewCard | None,
    attempt: PaymentAttempt | None,
    actor: User | None,
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
            charge_reference=attempt.charge_reference if attempt else "",
            actor=actor,
            today=today,
        )
    except OrderError as error:
        raise CheckoutError(error.message) from error
    if attempt is not None:
        payments.mark_used(attempt, order)
    empty_cart(cart=locked.cart)
    transaction.on_commit(lambda: send_order_confirmation_email.enqueue(order.pk))
    return order
