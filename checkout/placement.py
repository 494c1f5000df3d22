"""Placing an order (STYLE habit 5), and the previews that show exactly what it will charge.

place_order runs the checkout's flow (CheckoutPayment) through the money path
(checkout.payments.money_path): under the account and cart locks the cart is priced exactly as
the checkout page did and compared; the card is charged on-session outside any transaction
with a key tied to the cart version (the customer may authenticate with their bank first);
under the same locks again the cart is re-priced and the order written through the one order
writer (checkout.orders). A decline changes nothing; a failure after the charge gives it back.
The confirmation email goes out once the order has committed.
"""

import secrets
from dataclasses import asdict, dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing_center import locks
from billing_center.models import User
from billing_center.money import format_money
from cart.models import Cart
from cart.services import PurchaseError, check_change, check_purchase, empty_cart
from catalog.models import Plan
from checkout.billing import BillingDetails, save_billing_details
from checkout.emails import send_order_confirmation_email
from checkout.models import Order, PaymentAttempt, PaymentMethod, PaymentPurpose
from checkout.orders import OrderError, write_order
from checkout.payments.attempts import PaymentFailed, PaymentPending, PaymentRequiresAction
from checkout.payments.cards import NewCard, PaymentMethodError, enter_card
from checkout.payments.gateway import PaymentDeclined
from checkout.payments.money_path import (
    Payment,
    PaymentFlow,
    PricedOnce,
    Written,
    take_payment,
)
from checkout.pricing import OrderPricing, PricingError, PurchaseRequest, price_order
from checkout.tax import MissingVatRate
from subscriptions.models import Account, Subscription, SubscriptionStatus

__all__ = [
    "CheckoutError",
    "LockedCart",
    "PaymentDeclined",
    "PaymentFailed",
    "PaymentPending",
    "PaymentRequiresAction",
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
    subscriptions of the cart's products in primary-key order (billing_center.locks)."""

    account: Account
    cart: Cart
    live: dict[int, Subscription]  # by product id

    @classmethod
    def lock(cls, cart_id: int, account_id: int | None = None) -> "LockedCart":
        """`account_id`: the cart's account (a cart never changes account), when known."""
        if account_id is None:
            account_id = Cart.objects.values_list("account_id", flat=True).get(pk=cart_id)
        account = locks.lock_account(account_id)
        cart = locks.lock_cart(cart_id)
        if cart.account_id != account.pk:
            raise ValueError(f"Cart {cart_id} is not of account {account.pk}")
        cart.account = account
        live = locks.lock_live_subscriptions(
            account=account, product_ids=cart.items.values("product")
        )
        return cls(account=account, cart=cart, live=live)


def _pk(row) -> int:
    return row.pk


def cart_requests(
    cart: Cart, live: dict[int, Subscription] | None = None, items_of: Cart | None = None
) -> list[PurchaseRequest]:
    """What the cart asks for. `live` maps product ids to the account's live subscriptions as
    read under lock; changes are priced against those, not against what the page once saw.
    `items_of`: the same cart read by the request before the locks, with its items; used when
    its version is the locked cart's (every change of the items changes the version)."""
    prefetched = items_of if items_of is not None and items_of.version == cart.version else cart
    if (live is None or prefetched is not cart) and "items" in getattr(
        prefetched, "_prefetched_objects_cache", {}
    ):
        items = prefetched.items.all()  # the page's own read (cart.selectors.cart_with_items)
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
    *,
    locked: LockedCart,
    cart_version: int,
    billing: BillingDetails,
    today: date,
    items_of: Cart | None = None,
) -> OrderPricing:
    if locked.cart.version != cart_version:
        raise CheckoutError(_("Your cart changed in the meantime. Check the order again."))
    requests = cart_requests(locked.cart, locked.live, items_of=items_of)
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
                    live=locked.live.get(request.plan.product_id),  # read under the lock
                )
        except PurchaseError as error:
            raise CheckoutError(error.message) from error
    try:
        return _price_requests(
            requests=requests, account=locked.account, billing=billing, today=today
        )
    except PricingError as error:
        raise CheckoutError(str(error)) from error


def cart_reference(*, cart_id: int, cart_version: int) -> str:
    """What an order of a cart version is known by: its idempotency key and its payments'."""
    return f"cart-{cart_id}-v{cart_version}"


def _changed_message(pricing: OrderPricing) -> str:
    return _("The order changed: it now comes to %(total)s. Check it and place it again.") % {
        "total": format_money(pricing.amount_due)
    }


@dataclass(frozen=True)
class _LockedState:
    locked: LockedCart
    existing: Order | None
    pricing: OrderPricing | None


class CheckoutPayment(PaymentFlow):
    """Place Order on the money path: the customer is there (on-session). A version of a cart
    is placed once; its price must be the one the checkout page showed, both before the
    charge and after it; a decline or a failure is shown on the checkout page."""

    purpose = PaymentPurpose.CHECKOUT
    on_session = True
    refusal = CheckoutError
    unused_reason = "The order could not be placed."

    def __init__(
        self,
        *,
        cart_id: int,
        cart_version: int,
        billing: BillingDetails,
        expected_pricing: str,
        actor: User | None,
        today: date,
        payment_method: PaymentMethod | None = None,
        new_card: NewCard | None = None,
        account_id: int | None = None,
        cart_read: Cart | None = None,
    ):
        self.cart_id = cart_id
        self.cart_read = cart_read  # the request's own read of the cart and its items, if any
        self.account_id = account_id  # the cart's, when known (else read before the locks)
        self.cart_version = cart_version
        self.billing = billing
        self.expected_pricing = expected_pricing
        self.actor = actor
        self.today = today
        self.payment_method = payment_method
        self.new_card = new_card
        self.reference = cart_reference(cart_id=cart_id, cart_version=cart_version)
        self._priced = PricedOnce()  # the pricing under the first lock, reused if unchanged

    @classmethod
    def of_attempt(cls, attempt: PaymentAttempt) -> "CheckoutPayment":
        details = attempt.details
        billing = details.get("billing")
        return cls(
            cart_id=attempt.cart_id,
            cart_version=attempt.cart_version,
            # Exactly as the billing contact submitted it (an attempt always records it).
            billing=BillingDetails(**billing)
            if billing
            else BillingDetails.of_account(attempt.account),
            expected_pricing=details.get("expected_pricing", ""),
            actor=attempt.created_by,
            today=date.fromisoformat(details.get("today") or str(attempt.created_at.date())),
            payment_method=attempt.payment_method,
            account_id=attempt.account_id,
        )

    def lock(self) -> _LockedState:
        """Under the locks: the order this cart version already made, or the cart priced now
        exactly as the checkout page priced it."""
        locked = LockedCart.lock(self.cart_id, self.account_id)
        existing = Order.objects.filter(idempotency_key=self.reference).first()
        if existing is not None:
            return _LockedState(locked=locked, existing=existing, pricing=None)
        live = sorted(locked.live.values(), key=_pk)
        pricing = self._priced(
            (locked.account, locked.cart, *live),
            lambda: _price_locked_cart(
                locked=locked,
                cart_version=self.cart_version,
                billing=self.billing,
                today=self.today,
                items_of=self.cart_read,
            ),
        )
        if pricing.fingerprint != self.expected_pricing:
            # Changed between the page and now (another order of the account, a changed price
            # or credit): nothing is charged or written, whatever was due.
            raise CheckoutError(_changed_message(pricing), pricing=pricing)
        return _LockedState(locked=locked, existing=None, pricing=pricing)

    def done(self, state: _LockedState) -> Order | None:
        return state.existing

    def payment(self, state: _LockedState) -> Payment | None:
        pricing, account = state.pricing, state.locked.account
        if pricing.amount_due.amount <= 0:
            return None
        card = self.payment_method
        if card is not None and (card.account_id != account.pk or not card.saved):
            raise CheckoutError(_("Choose one of your account's cards."))
        if self.new_card is not None:
            try:
                card = enter_card(account=account, new_card=self.new_card)
            except PaymentMethodError as error:
                raise CheckoutError(error.message) from error
        if card is None:
            raise CheckoutError(_("Choose a saved card or enter a new one."))
        return Payment(
            account=account,
            amount=pricing.amount_due,
            payment_method=card,
            reference=self.reference,
            pays={"cart_id": self.cart_id, "cart_version": self.cart_version},
            details={
                "billing": asdict(self.billing),
                "today": self.today.isoformat(),
                "expected_pricing": self.expected_pricing,
            },
        )

    def write(self, state: _LockedState, attempt: PaymentAttempt | None) -> Written:
        order = _write_checkout_order(
            locked=state.locked,
            pricing=state.pricing,
            billing=self.billing,
            idempotency_key=self.reference,
            payment_method=attempt.payment_method if attempt is not None else None,
            attempt=attempt,
            actor=self.actor,
            today=self.today,
        )
        return Written(result=order, order=order)


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
    """Place the order of one version of a cart, once, through the money path.
    `expected_pricing` is the fingerprint of the priced order the checkout page showed.
    Raises CheckoutError, PaymentDeclined or PaymentFailed with nothing changed,
    PaymentRequiresAction when the customer must authenticate with their bank first, or
    PaymentPending when the gateway's answer is not known yet (the order is then completed by
    whoever settles the payment, never charged twice)."""
    return take_payment(
        CheckoutPayment(
            cart_id=cart.pk,
            account_id=cart.account_id,
            cart_read=cart,
            cart_version=cart_version,
            billing=billing,
            expected_pricing=expected_pricing,
            actor=actor,
            today=today or timezone.localdate(),
            payment_method=payment_method,
            new_card=new_card,
        )
    )


def _write_checkout_order(
    *,
    locked: LockedCart,
    pricing: OrderPricing,
    billing: BillingDetails,
    idempotency_key: str,
    payment_method: PaymentMethod | None,
    attempt: PaymentAttempt | None,
    actor: User | None,
    today: date,
) -> Order:
    account = locked.account
    save_billing_details(account=account, billing=billing, actor=actor)
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
    empty_cart(cart=locked.cart)
    transaction.on_commit(lambda: send_order_confirmation_email.enqueue(order.pk))
    return order
