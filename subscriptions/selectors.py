"""Reads of accounts and subscriptions, each scoped to one account (STYLE habit 3)."""

from django.db.models import Count, Prefetch, QuerySet

from billing_center.models import AuditEvent, User
from subscriptions.models import (
    LIVE_STATUSES,
    CreditEntry,
    Membership,
    Role,
    SeatAssignment,
    Subscription,
    SubscriptionStatus,
)


def membership_for_user(*, user) -> Membership | None:
    """The user's membership with its account: no query when the user was loaded with them
    (subscriptions.backends.MembershipBackend), one otherwise."""
    try:
        membership = user.membership
    except Membership.DoesNotExist:
        return None
    membership.account  # noqa: B018 (loaded with it, or now)
    return membership


def dashboard_subscriptions(*, account) -> QuerySet[Subscription]:
    """The account's live subscriptions with product, plan and assigned seat count: one query."""
    return (
        Subscription.objects.filter(account=account, status__in=LIVE_STATUSES)
        .select_related("product", "plan", "account")
        .annotate(assigned_seat_count=Count("seat_assignments"))
        .order_by("product__position", "product__name")
    )


def ended_subscriptions(*, account) -> list[Subscription]:
    """What the account had and has no more (canceled subscriptions, expired trials), the
    latest of each product it does not have again now: the dashboard's Ended section, with
    Buy again. One query."""
    live_products = Subscription.objects.filter(account=account, status__in=LIVE_STATUSES).values(
        "product"
    )
    ended = (
        Subscription.objects.filter(
            account=account,
            status__in=[SubscriptionStatus.CANCELED, SubscriptionStatus.EXPIRED],
        )
        .exclude(product__in=live_products)
        .select_related("product", "plan")
        .order_by("product__position", "product__name", "-current_period_end", "-pk")
    )
    latest = {}
    for subscription in ended:
        latest.setdefault(subscription.product_id, subscription)
    return list(latest.values())


def subscriptions_of_account(*, account) -> QuerySet[Subscription]:
    """Every subscription of the account, for lookups by id (live or not)."""
    return Subscription.objects.filter(account=account).select_related("product", "plan", "account")


def live_subscriptions_with_seat_counts(*, account) -> QuerySet[Subscription]:
    """The account's live subscriptions, each read with its assigned seat count (the seat rule
    of a change needs it twice: for the form and for the preview)."""
    return (
        Subscription.objects.filter(account=account, status__in=LIVE_STATUSES)
        .select_related("product", "plan", "account")
        .annotate(assigned_seat_count=Count("seat_assignments"))
    )


def subscription_for_detail() -> QuerySet[Subscription]:
    """What the subscription page shows: the subscription and who holds its seats."""
    return Subscription.objects.select_related("product", "plan").prefetch_related(
        Prefetch(
            "seat_assignments",
            queryset=SeatAssignment.objects.select_related("user").order_by("user__email"),
        )
    )


def account_activity(*, account) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(account=account).select_related("actor")


def account_users(*, account):
    """The people of the account (billing contacts, admin contacts, members), by email."""
    return User.objects.filter(membership__account=account, is_active=True).order_by("email")


def credit_history(*, account):
    return (
        CreditEntry.objects.filter(account=account)
        .select_related("order")
        .order_by("-created_at", "-pk")
    )


def billing_contact_emails(account) -> list[str]:
    """Where an account's billing emails go: its billing contacts."""
    return list(
        account.memberships.filter(role=Role.BILLING_CONTACT).values_list("user__email", flat=True)
    )
