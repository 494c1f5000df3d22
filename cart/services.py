"""Writes to carts. Every change bumps the cart's version, which the checkout page carries."""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from billing_center import locks
from cart.models import Cart, CartItem
from catalog.models import BillingCycle, Plan, Product
from catalog.prices import PricingError, unit_price
from subscriptions.models import LIVE_STATUSES, Subscription, SubscriptionStatus
from subscriptions.seats import seat_count_problem


class PurchaseError(Exception):
    """A purchase that cannot be made; the message is for the billing contact."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


_UNREAD = object()


def check_purchase(
    *,
    account,
    product: Product,
    plan: Plan,
    cycle: str,
    seat_count: int,
    live=_UNREAD,
) -> None:
    """The rules a new subscription (or a trial's conversion) must follow, checked when it goes
    into the cart and again, under lock, when the order is placed. `live`: the account's live
    subscription of the product (or None) when the caller read it under lock already."""
    if not product.is_active:
        raise PurchaseError(_("%(product)s is not available any more.") % {"product": product})
    if plan.product_id != product.pk or not plan.is_active:
        raise PurchaseError(_("This plan is not available for %(product)s.") % {"product": product})
    if cycle not in BillingCycle.values:
        raise PurchaseError(_("Choose Monthly or Annual."))
    problem = seat_count_problem(plan=plan, seat_count=seat_count)
    if problem:
        raise PurchaseError(problem)
    try:
        unit_price(plan=plan, cycle=cycle, currency=account.currency)
    except PricingError as error:
        raise PurchaseError(str(error)) from error
    if live is _UNREAD:
        paid = (
            Subscription.objects.filter(account=account, product=product, status__in=LIVE_STATUSES)
            .exclude(status=SubscriptionStatus.TRIALING)
            .exists()
        )
    else:
        paid = live is not None and live.status != SubscriptionStatus.TRIALING
    if paid:
        raise PurchaseError(_("Your account already has %(product)s.") % {"product": product})


def check_change(
    *,
    subscription: Subscription,
    plan: Plan,
    cycle: str,
    seat_count: int,
    today: date | None = None,
) -> None:
    """The rules a change of a live subscription must follow (SPEC flow B), checked when it goes
    into the cart and again, under lock, when the order is placed."""
    product = subscription.product
    today = today or timezone.localdate()
    if subscription.status in (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID):
        # Its current period is not paid: no credit can be given for it.
        raise PurchaseError(
            _("%(product)s has an unpaid invoice: pay it first, then change the subscription.")
            % {"product": product}
        )
    if subscription.status != SubscriptionStatus.ACTIVE:
        raise PurchaseError(_("This subscription cannot be changed."))
    if subscription.cancel_at_period_end:
        raise PurchaseError(
            _("%(product)s is canceled at the end of its period: resume it to change it.")
            % {"product": product}
        )
    if subscription.current_period_end <= today:
        raise PurchaseError(
            _(
                "The billing period of %(product)s ended on %(date)s: it is being renewed. "
                "Try the change again once the renewal is on your invoices."
            )
            % {
                "product": product,
                "date": date_format(subscription.current_period_end, "DATE_FORMAT"),
            }
        )
    if plan.product_id != product.pk or not plan.is_active:
        raise PurchaseError(_("This plan is not available for %(product)s.") % {"product": product})
    if cycle not in BillingCycle.values:
        raise PurchaseError(_("Choose Monthly or Annual."))
    problem = seat_count_problem(
        plan=plan, seat_count=seat_count, assigned=subscription.assigned_seats()
    )
    if problem:
        raise PurchaseError(problem)
    if (plan.pk, cycle, seat_count) == (
        subscription.plan_id,
        subscription.cycle,
        subscription.seat_count,
    ):
        raise PurchaseError(_("Nothing changes: choose another number of seats, plan or cycle."))
    try:
        unit_price(plan=plan, cycle=cycle, currency=subscription.account.currency)
    except PricingError as error:
        raise PurchaseError(str(error)) from error


@transaction.atomic
def add_change_to_cart(
    *, cart: Cart, subscription: Subscription, plan: Plan, cycle: str, seat_count: int
) -> CartItem:
    """Put a change of a live subscription in the cart (replacing one already there)."""
    cart = _lock(cart)
    if subscription.account_id != cart.account_id:
        raise PurchaseError(_("This subscription is not part of your account."))
    check_change(subscription=subscription, plan=plan, cycle=cycle, seat_count=seat_count)
    item = _put_item(
        cart=cart,
        product=subscription.product,
        plan=plan,
        cycle=cycle,
        seat_count=seat_count,
        subscription=subscription,
    )
    touch_cart(cart)
    return item


def _put_item(*, cart: Cart, product, plan, cycle, seat_count, subscription) -> CartItem:
    """The cart's one item of the product, written over or made; the cart is locked (so no
    other request puts one meanwhile: no get-or-create savepoints needed)."""
    item = CartItem.objects.filter(cart=cart, product=product).first()
    if item is None:
        item = CartItem(cart=cart, product=product)
    item.plan, item.cycle, item.seat_count = plan, cycle, seat_count
    item.subscription = subscription
    item.save()
    return item


def get_cart(*, owner, account) -> Cart:
    cart, _created = Cart.objects.get_or_create(owner=owner, defaults={"account": account})
    if cart.account_id == account.pk:
        cart.account = account  # as the request read it: not read again
    return cart


def _lock(cart: Cart) -> Cart:
    """The cart locked, with its account as the caller read it (a cart never changes account)."""
    locked = locks.lock_cart(cart.pk)
    if Cart.account.is_cached(cart) and locked.account_id == cart.account_id:
        locked.account = cart.account
    return locked


def touch_cart(cart: Cart) -> None:
    """A change of the cart's items: its version moves on (the checkout page carries it)."""
    cart.version += 1
    cart.updated_at = timezone.now()
    cart.save(update_fields=["version", "updated_at"])


@transaction.atomic
def add_to_cart(
    *, cart: Cart, product: Product, plan: Plan, cycle: str, seat_count: int
) -> CartItem:
    """Put a new subscription in the cart; a product already there is replaced, not doubled."""
    cart = _lock(cart)
    check_purchase(
        account=cart.account, product=product, plan=plan, cycle=cycle, seat_count=seat_count
    )
    item = _put_item(
        cart=cart, product=product, plan=plan, cycle=cycle, seat_count=seat_count, subscription=None
    )
    touch_cart(cart)
    return item


@transaction.atomic
def update_cart_item(*, item: CartItem, plan: Plan, cycle: str, seat_count: int) -> CartItem:
    cart = locks.lock_cart(item.cart_id)
    if item.subscription is not None:
        check_change(subscription=item.subscription, plan=plan, cycle=cycle, seat_count=seat_count)
    else:
        check_purchase(
            account=cart.account,
            product=item.product,
            plan=plan,
            cycle=cycle,
            seat_count=seat_count,
        )
    item.plan, item.cycle, item.seat_count = plan, cycle, seat_count
    item.save(update_fields=["plan", "cycle", "seat_count"])
    touch_cart(cart)
    return item


@transaction.atomic
def remove_cart_item(*, item: CartItem) -> None:
    cart = locks.lock_cart(item.cart_id)
    item.delete()
    touch_cart(cart)


def empty_cart(*, cart: Cart) -> None:
    """Called by place_order inside its transaction, with the cart row already locked."""
    cart.items.all().delete()
    touch_cart(cart)
