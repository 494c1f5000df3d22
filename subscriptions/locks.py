"""Row locks every service that writes billing data takes, in one order (STYLE habit 5): the
account first, then the rest in primary-key order. Two writers of one account queue behind the
account lock instead of deadlocking; writers of different accounts never wait on each other,
since only the rows named here are locked (`of=("self",)`: never the shared catalog rows a
join reads)."""

from collections.abc import Iterable

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from subscriptions.models import LIVE_STATUSES, Account, SeatAssignment, Subscription


def lock_account(account_id: int) -> Account:
    """Lock and return the account row. Call it first, inside the writer's transaction."""
    return Account.objects.select_for_update().get(pk=account_id)


def lock_live_subscriptions(
    *,
    account: Account,
    product_ids: Iterable[int] | None = None,
    subscription_ids: Iterable[int] | None = None,
) -> dict[int, Subscription]:
    """Lock the account's live subscriptions (of some products, or some ids) in primary-key
    order, after the account. Returned by product id (an account has one live per product)."""
    subscriptions = Subscription.objects.filter(account=account, status__in=LIVE_STATUSES)
    if product_ids is not None:
        subscriptions = subscriptions.filter(product__in=product_ids)
    if subscription_ids is not None:
        subscriptions = subscriptions.filter(pk__in=subscription_ids)
    assigned = (
        SeatAssignment.objects.filter(subscription=OuterRef("pk"))
        .order_by()
        .values("subscription")
        .annotate(count=Count("pk"))
        .values("count")
    )
    locked = (
        subscriptions.select_for_update(of=("self",))
        .select_related("plan__product", "product")
        # Read with the lock, so the seat rule needs no count per subscription later.
        .annotate(
            assigned_seat_count=Coalesce(Subquery(assigned), Value(0), output_field=IntegerField())
        )
        .order_by("pk")
    )
    live = {}
    for subscription in locked:
        subscription.account = account  # the locked instance, not a second read
        live[subscription.product_id] = subscription
    return live
