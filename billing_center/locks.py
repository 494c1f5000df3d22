"""Every row lock the writers take, from this one module, in one order (STYLE habit 15,
saleor's lock_objects.py). A writer takes, inside its transaction:

1. the account (`lock_account`; a batch of the billing run, its accounts in primary-key order:
   `lock_accounts`);
2. then the one thing it changes for that account: a cart, a quote, a service order, an
   invoice or a card;
3. then the account's subscriptions, in primary-key order (`lock_subscriptions`; a batch: all
   of its accounts' subscriptions, after all of its accounts);
4. then the payment attempts of what it pays (`lock_payment_attempts`);
5. last, a document number sequence (`take_next_in_sequence`, by the invoice writer).

Any two writers of one account queue behind the account's lock instead of deadlocking; writers
of different accounts never wait on each other, since only the rows named here are locked
(`of=("self",)`: never the shared catalog rows a join reads). Batch claims of background work
skip what others hold (`claim_rows`). Nothing calls `select_for_update()` anywhere else.

The kernel names the models by label (django.apps), so that every app can lock through it
while no lower app imports a higher one."""

from django.apps import apps
from django.db import OperationalError, connection
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce


def _model(label: str):
    return apps.get_model(label)


# 1. The account


def lock_account(account_id: int):
    """Lock and return the account row. Call it first, inside the writer's transaction."""
    return _model("subscriptions.Account").objects.select_for_update().get(pk=account_id)


def lock_accounts(account_ids) -> dict:
    """Several accounts at once (a batch of the billing run), in primary-key order, so that two
    batches sharing an account queue behind each other instead of deadlocking. By id; an id
    with no account is missing."""
    rows = (
        _model("subscriptions.Account")
        .objects.select_for_update()
        .filter(pk__in=sorted(set(account_ids)))
        .order_by("pk")
    )
    return {row.pk: row for row in rows}


# 2. The one thing changed for the account


def lock_cart(cart_id: int):
    return _model("cart.Cart").objects.select_for_update().get(pk=cart_id)


def lock_quote(quote_id: int):
    return _model("corporate_portal.Quote").objects.select_for_update().get(pk=quote_id)


def lock_service_order(service_order_id: int, *, related: tuple[str, ...] = ()):
    return (
        _model("corporate_portal.ServiceOrder")
        .objects.select_for_update(of=("self",))
        .select_related(*related)
        .get(pk=service_order_id)
    )


def lock_invoice(invoice_id: int, *, related: tuple[str, ...] = ()):
    return (
        _model("checkout.Invoice")
        .objects.select_for_update(of=("self",))
        .select_related(*related)
        .get(pk=invoice_id)
    )


def lock_payment_method(*, account_id: int, payment_method_id: int):
    """The account's card as it is now, or None if it was removed."""
    return (
        _model("checkout.PaymentMethod")
        .objects.select_for_update()
        .filter(pk=payment_method_id, account=account_id, removed_at__isnull=True)
        .first()
    )


# 3. Subscriptions, in primary-key order


def lock_subscriptions(subscriptions: QuerySet) -> list:
    """Lock these subscriptions (of the account locked first) in primary-key order."""
    return list(subscriptions.select_for_update(of=("self",)).order_by("pk"))


def lock_live_subscriptions(*, account, product_ids=None, subscription_ids=None) -> dict:
    """Lock the account's live subscriptions (of some products, or some ids) in primary-key
    order, after the account. Returned by product id (an account has one live per product),
    each with its assigned seat count read with the lock (the seat rule needs no count per
    subscription later)."""
    subscription = _model("subscriptions.Subscription")
    subscriptions = subscription.objects.filter(
        account=account, status__in=subscription.LIVE_STATUSES
    )
    if product_ids is not None:
        subscriptions = subscriptions.filter(product__in=product_ids)
    if subscription_ids is not None:
        subscriptions = subscriptions.filter(pk__in=subscription_ids)
    assigned = (
        _model("subscriptions.SeatAssignment")
        .objects.filter(subscription=OuterRef("pk"))
        .order_by()
        .values("subscription")
        .annotate(count=Count("pk"))
        .values("count")
    )
    locked = lock_subscriptions(
        subscriptions.select_related("plan__product", "product").annotate(
            assigned_seat_count=Coalesce(Subquery(assigned), Value(0), output_field=IntegerField())
        )
    )
    live = {}
    for row in locked:
        row.account = account  # the locked instance, not a second read
        live[row.product_id] = row
    return live


def lock_subscription(subscription_id: int, *, related: tuple[str, ...] = ()):
    return (
        _model("subscriptions.Subscription")
        .objects.select_for_update(of=("self",))
        .select_related(*related)
        .get(pk=subscription_id)
    )


# 4. Payment attempts


def lock_payment_attempts(*, references: list[str]) -> dict[str, list]:
    """The attempts to pay each of these things, newest first, by reference."""
    rows = (
        _model("checkout.PaymentAttempt")
        .objects.select_for_update()
        .filter(reference__in=references)
        .order_by("reference", "-number")
    )
    earlier: dict[str, list] = {reference: [] for reference in references}
    for row in rows:
        earlier[row.reference].append(row)
    return earlier


# 5. Number sequences


def take_next_in_sequence(*, series: str, year: int, count: int = 1) -> int | None:
    """The next `count` numbers of a yearly series (the last of them is returned), its row
    locked by the UPDATE that takes them until the caller's transaction ends (one statement);
    None if the year has no row yet."""
    table = _model("billing_center.NumberSequence")._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(table)} SET last_number = last_number + %s "
            "WHERE series = %s AND year = %s RETURNING last_number",
            [count, series, year],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


# Background work


def claim_rows(queryset: QuerySet, *, size: int) -> list[int]:
    """The primary keys of up to `size` rows of `queryset` that no other worker holds now,
    locked until the caller's transaction ends (billing_center.claims leases them)."""
    return list(
        queryset.order_by("pk")
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", flat=True)[:size]
    )


def lock_first_in_line(queryset: QuerySet):
    """The first row of an ordered queue (an account's webhook deliveries to one endpoint),
    locked; None when another worker holds it — then the rows behind it wait too (never
    skipped ahead, unlike `claim_rows`), and nothing is delivered out of order."""
    try:
        return queryset.select_for_update(nowait=True, of=("self",)).first()
    except OperationalError:
        return None
