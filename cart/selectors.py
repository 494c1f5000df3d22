"""Reads for the Add New Subscription wizard and the cart, scoped to the account."""

from django.db.models import Prefetch, QuerySet

from cart.models import Cart, CartItem
from catalog.models import Plan, Price, Product
from subscriptions.models import LIVE_STATUSES, Subscription, SubscriptionStatus


def plans_sold_in(*, product: Product, currency: str) -> QuerySet[Plan]:
    """The product's active plans that have both prices in the account's currency."""
    return _plans_sold(currency).filter(product=product)


def plans_sold_by_product(*, product_ids, currency: str) -> dict[int, list[Plan]]:
    """The plans_sold_in of several products in one query (and one for their prices): the
    cart's Change forms."""
    plans: dict[int, list[Plan]] = {pk: [] for pk in product_ids}
    for plan in _plans_sold(currency).filter(product_id__in=plans):
        plans[plan.product_id].append(plan)
    return plans


def _plans_sold(currency: str) -> QuerySet[Plan]:
    return (
        Plan.objects.filter(is_active=True, prices__amount_currency=currency)
        .distinct()
        .prefetch_related(
            Prefetch("prices", queryset=Price.objects.filter(amount_currency=currency))
        )
        .order_by("position", "name")
    )


def products_to_add(*, account) -> list[Product]:
    """Active products the account has no paid subscription of (a product in trial can be
    bought), each with its plans sold in the account's currency."""
    paid = Subscription.objects.filter(account=account, status__in=LIVE_STATUSES).exclude(
        status="trialing"
    )
    products = (
        Product.objects.filter(is_active=True)
        .exclude(pk__in=paid.values("product"))
        .prefetch_related(
            Prefetch(
                "plans",
                queryset=Plan.objects.filter(is_active=True).prefetch_related(
                    Prefetch(
                        "prices", queryset=Price.objects.filter(amount_currency=account.currency)
                    )
                ),
            )
        )
    )
    return [p for p in products if any(plan.prices.all() for plan in p.plans.all())]


def cart_with_items(*, owner, account=None) -> Cart | None:
    """The owner's cart with its items, their plans and prices, and the subscriptions they
    change. `account`: the owner's account as the request read it (then not read again). An
    item's plan and subscription are of the item's product: it is not read once more for each."""
    carts = Cart.objects.filter(owner=owner)
    if account is None:
        carts = carts.select_related("account")
    cart = carts.prefetch_related(
        Prefetch(
            "items",
            queryset=CartItem.objects.select_related(
                "product", "plan", "subscription__plan"
            ).prefetch_related("plan__prices"),
        )
    ).first()
    if cart is None:
        return None
    if account is not None and cart.account_id == account.pk:
        cart.account = account
    for item in cart.items.all():
        if item.plan.product_id == item.product_id:
            item.plan.product = item.product
        subscription = item.subscription
        if subscription is not None and subscription.product_id == item.product_id:
            subscription.product = item.product
            if subscription.plan.product_id == item.product_id:
                subscription.plan.product = item.product
    return cart


def cart_item_count(*, owner) -> int:
    return CartItem.objects.filter(cart__owner=owner).count()


def has_paid_subscription(*, account, product) -> bool:
    """The account has a live subscription of the product that is not a trial."""
    return (
        Subscription.objects.filter(account=account, product=product, status__in=LIVE_STATUSES)
        .exclude(status=SubscriptionStatus.TRIALING)
        .exists()
    )
