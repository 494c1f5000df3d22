from django.db.models import Prefetch, QuerySet

from corporate_portal.models import Quote, QuoteLine, ServiceOrder
from subscriptions.models import LIVE_STATUSES, Subscription


def portal_subscriptions(*, account) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(account=account, status__in=LIVE_STATUSES)
        .select_related("product", "plan")
        .order_by("product__position", "product__name")
    )


def quotes_of_account(*, account) -> QuerySet[Quote]:
    return Quote.objects.filter(account=account).order_by("-created_at", "-pk")


def quote_for_display() -> QuerySet[Quote]:
    return Quote.objects.select_related("account").prefetch_related(
        Prefetch("lines", queryset=QuoteLine.objects.select_related("product", "subscription"))
    )


def service_orders_of_account(*, account) -> QuerySet[ServiceOrder]:
    return ServiceOrder.objects.filter(account=account).select_related("quote").order_by("-pk")


def service_order_for_display() -> QuerySet[ServiceOrder]:
    return ServiceOrder.objects.select_related(
        "quote", "payment_method", "order__invoice"
    ).prefetch_related(
        Prefetch("quote__lines", queryset=QuoteLine.objects.select_related("product"))
    )


def account_has_quotes(*, account) -> bool:
    return Quote.objects.filter(account=account).exists()
