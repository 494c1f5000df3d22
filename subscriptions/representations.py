"""Accounts, subscriptions and seats as other systems see them: the read API
(checkout.api) and the webhooks' events show the same objects, built here."""

from datetime import date

from django.utils import timezone
from ninja import Schema

from subscriptions.models import Account, SeatAssignment, Subscription, SubscriptionStatus

# A subscription in these states lets its seats be used.
GRANTING = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)


def grants_access(subscription: Subscription, today: date | None = None) -> bool:
    """Whether its seats may be used today: active (or being retried), or a trial until its
    end. Suspended (unpaid), canceled and expired ones grant nothing."""
    today = today or timezone.localdate()
    if subscription.status in GRANTING:
        return True
    return (
        subscription.status == SubscriptionStatus.TRIALING
        and subscription.trial_end is not None
        and subscription.trial_end >= today
    )


class Money(Schema):
    amount: str
    currency: str


class ProductRef(Schema):
    slug: str
    name: str


class AccountRef(Schema):
    id: int
    name: str


class AccountOut(Schema):
    id: int
    name: str
    portal: str
    country: str
    currency: str
    language: str

    @classmethod
    def of(cls, account: Account) -> "AccountOut":
        return cls(
            id=account.pk,
            name=account.name,
            portal=account.portal,
            country=str(account.country),
            currency=account.currency,
            language=account.language,
        )


class SubscriptionOut(Schema):
    id: int
    account: AccountRef
    product: ProductRef
    plan: str
    cycle: str
    status: str
    grants_access: bool
    seats: int
    seats_assigned: list[str]
    unit_price: Money
    current_period_start: date
    current_period_end: date
    trial_end: date | None
    cancel_at_period_end: bool

    @classmethod
    def of(cls, subscription: Subscription) -> "SubscriptionOut":
        assigned = [
            assignment.user.email
            for assignment in subscription.seat_assignments.select_related("user").order_by(
                "user__email"
            )
        ]
        return cls(
            id=subscription.pk,
            account=AccountRef(id=subscription.account_id, name=subscription.account.name),
            product=ProductRef(slug=subscription.product.slug, name=subscription.product.name),
            plan=subscription.plan.name,
            cycle=subscription.cycle,
            status=subscription.status,
            grants_access=grants_access(subscription),
            seats=subscription.seat_count,
            seats_assigned=assigned,
            unit_price=Money(
                amount=str(subscription.unit_price.amount),
                currency=subscription.unit_price.currency.code,
            ),
            current_period_start=subscription.current_period_start,
            current_period_end=subscription.current_period_end,
            trial_end=subscription.trial_end,
            cancel_at_period_end=subscription.cancel_at_period_end,
        )


class EntitlementOut(Schema):
    """One product a user may use now, through one seat."""

    product: ProductRef
    account: AccountRef
    subscription: int
    plan: str
    status: str
    user: str
    seat_assigned_at: str
    until: date | None

    @classmethod
    def of(cls, assignment: SeatAssignment) -> "EntitlementOut":
        subscription = assignment.subscription
        trial = subscription.status == SubscriptionStatus.TRIALING
        return cls(
            product=ProductRef(slug=subscription.product.slug, name=subscription.product.name),
            account=AccountRef(id=subscription.account_id, name=subscription.account.name),
            subscription=subscription.pk,
            plan=subscription.plan.name,
            status=subscription.status,
            user=assignment.user.email,
            seat_assigned_at=assignment.assigned_at.isoformat(),
            until=subscription.trial_end if trial else subscription.current_period_end,
        )


def entitlements(assignments) -> list[EntitlementOut]:
    """The seats that let their users in today, as entitlements."""
    today = timezone.localdate()
    return [
        EntitlementOut.of(assignment)
        for assignment in assignments.select_related(
            "user", "subscription__account", "subscription__product", "subscription__plan"
        ).order_by("subscription__product__position", "subscription__pk", "user__email")
        if grants_access(assignment.subscription, today)
    ]


def subscription_payload(subscription: Subscription) -> dict:
    return SubscriptionOut.of(subscription).model_dump(mode="json")


def account_payload(account: Account) -> dict:
    return AccountOut.of(account).model_dump(mode="json")
