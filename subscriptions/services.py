"""Writes to subscriptions, trials, seats and members (STYLE habit 2: keyword-only, no request).

The order writer (checkout.orders) applies priced lines through the functions at the end of
this module, so a subscription changes the same way whoever pays for it: checkout, the
corporate worker or a renewal.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from moneyed import Money

from billing_center import locks
from billing_center.audit import record_audit_event, snapshot
from billing_center.models import AuditAction, User
from catalog.models import BillingCycle, Plan, Product
from catalog.prices import PricingError, unit_price
from subscriptions.models import (
    LIVE_STATUSES,
    Account,
    Membership,
    Role,
    SeatAssignment,
    Subscription,
    SubscriptionStatus,
    Trial,
)
from subscriptions.seats import SeatCountError, check_seat_count
from subscriptions.tasks import send_invitation_email, send_trial_welcome_email


class SubscriptionError(Exception):
    """A change that cannot be made; the message is for the billing contact."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def can_try(*, account: Account, product: Product) -> bool:
    """Try is offered when the product has a trial, the account never tried it and has no live
    subscription of it."""
    return product.pk in products_to_try(account=account, products=[product])


def products_to_try(*, account: Account, products) -> set[int]:
    """The ids of those of `products` the account can try (can_try), in two queries for all."""
    offered = {product.pk for product in products if product.trial_offered}
    if not offered:
        return set()
    tried = Trial.objects.filter(account=account, product__in=offered).values_list(
        "product_id", flat=True
    )
    live = Subscription.objects.filter(
        account=account, product__in=offered, status__in=LIVE_STATUSES
    ).values_list("product_id", flat=True)
    return offered - set(tried) - set(live)


def start_trial(
    *,
    account: Account,
    product: Product,
    plan: Plan,
    seat_count: int,
    actor: User | None,
    today: date | None = None,
) -> Subscription:
    """Start the free trial of a product: `trialing` until its end, no payment, a welcome email."""
    today = today or timezone.localdate()
    if not product.is_active or not product.trial_offered:
        raise SubscriptionError(_("%(product)s has no free trial.") % {"product": product})
    if plan.product_id != product.pk or not plan.is_active:
        raise SubscriptionError(
            _("This plan is not available for %(product)s.") % {"product": product}
        )
    try:
        check_seat_count(plan=plan, seat_count=seat_count)
        # The trial is billed at the monthly price if it is converted without another choice.
        trial_price = unit_price(plan=plan, cycle=BillingCycle.MONTHLY, currency=account.currency)
    except SeatCountError as error:
        raise SubscriptionError(error.message) from error
    except PricingError as error:
        raise SubscriptionError(str(error)) from error

    trial_end = today + timedelta(days=product.trial_days)
    with transaction.atomic():
        locks.lock_account(account.pk)
        if Subscription.objects.filter(
            account=account, product=product, status__in=LIVE_STATUSES
        ).exists():
            raise SubscriptionError(
                _("Your account already has %(product)s.") % {"product": product}
            )
        try:
            with transaction.atomic():
                Trial.objects.create(
                    account=account,
                    product=product,
                    started_on=today,
                    ends_on=trial_end,
                    started_by=actor,
                )
        except IntegrityError:
            raise SubscriptionError(
                _("Your account has already had a free trial of %(product)s.")
                % {"product": product}
            ) from None
        subscription = Subscription.objects.create(
            account=account,
            product=product,
            plan=plan,
            cycle=BillingCycle.MONTHLY,
            seat_count=seat_count,
            unit_price=trial_price,
            status=SubscriptionStatus.TRIALING,
            current_period_start=today,
            current_period_end=trial_end,
            billing_anchor_day=today.day,
            trial_end=trial_end,
        )
        record_audit_event(
            actor=actor,
            account=account,
            action=AuditAction.TRIAL_STARTED,
            target=subscription,
            after={"plan": plan.name, "seat_count": seat_count, "trial_end": trial_end},
        )
        transaction.on_commit(lambda: send_trial_welcome_email.enqueue(subscription.pk))
    return subscription


def _lock_subscription(subscription: Subscription) -> Subscription:
    """The subscription under its account's lock, then its own: the one order every writer
    follows (billing_center.locks), so seat assignment never deadlocks with an order or a
    renewal of the same account."""
    locks.lock_account(subscription.account_id)
    return locks.lock_subscription(subscription.pk)


def seat_assignment_problem(*, subscription: Subscription, user: User) -> str | None:
    """Why this user cannot get a seat of this subscription now, or None (the seats page, the
    admin and assign_seat under its lock all ask this)."""
    membership = Membership.objects.filter(user=user).first()
    if membership is None or membership.account_id != subscription.account_id:
        return _("Only users of your account can get a seat.")
    if not subscription.seats_usable:
        if subscription.is_live:
            return _("This subscription is suspended until its invoice is paid.")
        return _("This subscription has ended.")
    if subscription.seat_assignments.filter(user=user).exists():
        return _("%(user)s already has a seat.") % {"user": user.email}
    if subscription.seat_assignments.count() >= subscription.seat_count:
        return ngettext(
            "The %(count)s seat is assigned: unassign it or add seats first.",
            "All %(count)s seats are assigned: unassign one or add seats first.",
            subscription.seat_count,
        ) % {"count": subscription.seat_count}
    return None


@transaction.atomic
def assign_seat(*, subscription: Subscription, user: User, actor: User | None) -> SeatAssignment:
    """Give one seat to a user of the account; never more seats than the subscription has."""
    subscription = _lock_subscription(subscription)
    problem = seat_assignment_problem(subscription=subscription, user=user)
    if problem:
        raise SubscriptionError(problem)
    assigned = subscription.seat_assignments.count()
    assignment = SeatAssignment.objects.create(subscription=subscription, user=user)
    record_audit_event(
        actor=actor,
        account=subscription.account,
        action=AuditAction.SEAT_ASSIGNED,
        target=subscription,
        before={"assigned": assigned},
        after={"assigned": assigned + 1, "user": user.email},
    )
    return assignment


@transaction.atomic
def unassign_seat(*, subscription: Subscription, user: User, actor: User | None) -> None:
    subscription = _lock_subscription(subscription)
    assigned = subscription.seat_assignments.count()
    deleted, _detail = subscription.seat_assignments.filter(user=user).delete()
    if not deleted:
        raise SubscriptionError(_("%(user)s has no seat to unassign.") % {"user": user.email})
    record_audit_event(
        actor=actor,
        account=subscription.account,
        action=AuditAction.SEAT_UNASSIGNED,
        target=subscription,
        before={"assigned": assigned, "user": user.email},
        after={"assigned": assigned - 1},
    )


def can_join_account(*, email: str, account: Account) -> bool:
    """May this address become a person of `account`? A new address may; so may someone already
    in the account. Not vendor staff, nor anyone else: a person belongs to one account only."""
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        return True
    if user.is_staff or user.is_superuser:
        return False
    membership = Membership.objects.filter(user=user).first()
    return membership is not None and membership.account_id == account.pk


@transaction.atomic
def invite_member(
    *,
    account: Account,
    email: str,
    full_name: str,
    actor: User | None,
    role: str = Role.MEMBER,
) -> User:
    """Add a person to the account (an invitation email lets them set a password). Someone
    already in the account is returned as they are; anyone else who cannot join (another
    account's person, vendor staff) is refused with the same words whatever the reason, so the
    form does not tell who has an account elsewhere."""
    email = User.objects.normalize_email(email).strip().lower()
    if not can_join_account(email=email, account=account):
        raise SubscriptionError(
            _(
                "We could not invite %(email)s to your account. Check the address, or invite "
                "the person with another email address."
            )
            % {"email": email}
        )
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user
    user = User.objects.create_user(email, None, full_name=full_name.strip())
    Membership.objects.create(user=user, account=account, role=role)
    record_audit_event(
        actor=actor,
        account=account,
        action=AuditAction.MEMBER_INVITED,
        target=user,
        after={"email": email, "role": Role(role).value},
    )
    transaction.on_commit(
        lambda: send_invitation_email.enqueue(user.pk, actor.pk if actor else None)
    )
    return user


@transaction.atomic
def make_admin_contact(*, account: Account, email: str, full_name: str, actor: User | None) -> User:
    """The admin contact a corporate service order names: invited into the account, or, if
    already a member of it, made an admin contact."""
    user = invite_member(
        account=account, email=email, full_name=full_name, actor=actor, role=Role.ADMIN_CONTACT
    )
    membership = user.membership
    if membership.role == Role.MEMBER:
        membership.role = Role.ADMIN_CONTACT
        membership.save(update_fields=["role"])
        record_audit_event(
            actor=actor,
            account=account,
            action=AuditAction.CHANGED,
            target=membership,
            before={"role": Role.MEMBER},
            after={"role": Role.ADMIN_CONTACT},
        )
    return user


@transaction.atomic
def invite_member_to_seat(
    *, subscription: Subscription, email: str, full_name: str, actor: User | None
) -> User:
    """Invite a person and give them a seat, or do neither (no seat free: nobody is invited)."""
    user = invite_member(
        account=subscription.account, email=email, full_name=full_name, actor=actor
    )
    if not subscription.seat_assignments.filter(user=user).exists():
        assign_seat(subscription=subscription, user=user, actor=actor)
    return user


@transaction.atomic
def change_trial_seats(
    *, subscription: Subscription, seat_count: int, actor: User | None
) -> Subscription:
    """During a trial seats change for free: no proration, no payment, the trial end stays."""
    subscription = _lock_subscription(subscription)
    if subscription.status != SubscriptionStatus.TRIALING:
        raise SubscriptionError(_("This subscription is not in trial."))
    if subscription.trial_end <= timezone.localdate():
        raise SubscriptionError(_("This trial has ended: buy the product to keep it."))
    try:
        check_seat_count(
            plan=subscription.plan,
            seat_count=seat_count,
            assigned=subscription.seat_assignments.count(),
        )
    except SeatCountError as error:
        raise SubscriptionError(error.message) from error
    return _set_seat_count(
        subscription=subscription,
        seat_count=seat_count,
        actor=actor,
        note={"trial_end": subscription.trial_end},
    )


# What an order line does to a subscription. The caller (checkout.orders.write_order) holds the
# account lock and the subscriptions' locks (billing_center.locks) in its transaction.

SUBSCRIPTION_TERMS = [
    "plan",
    "cycle",
    "seat_count",
    "unit_price",
    "status",
    "current_period_start",
    "current_period_end",
    "billing_anchor_day",
]


@dataclass(frozen=True)
class Terms:
    """What a paid subscription is billed for in a period: tier, cycle, seats, price per seat
    and the period itself."""

    plan: Plan
    cycle: str
    seat_count: int
    unit_price: Money
    period_start: date
    period_end: date
    # The day of the month the renewals keep: the day new terms start, unless a renewal keeps
    # the subscription's own.
    anchor_day: int | None = None

    def fields(self) -> dict:
        return {
            "plan": self.plan,
            "cycle": self.cycle,
            "seat_count": self.seat_count,
            "unit_price": self.unit_price,
            "status": SubscriptionStatus.ACTIVE,
            "current_period_start": self.period_start,
            "current_period_end": self.period_end,
            "billing_anchor_day": self.anchor_day or self.period_start.day,
        }


def start_paid_subscription(
    *,
    account: Account,
    terms: Terms,
    trial: Subscription | None,
    actor: User | None,
    reference: str,
) -> Subscription:
    """A new paid subscription on these terms, or the account's trial of the product converted
    into it (the seats it gave stay given)."""
    if trial is not None:
        if trial.status != SubscriptionStatus.TRIALING:
            raise SubscriptionError(
                _("Your account already has %(product)s.") % {"product": trial.product}
            )
        return change_subscription_terms(
            subscription=trial, terms=terms, actor=actor, reference=reference
        )
    check_seat_count(plan=terms.plan, seat_count=terms.seat_count)
    subscription = Subscription.objects.create(
        account=account, product=terms.plan.product, **terms.fields()
    )
    record_audit_event(
        actor=actor,
        account=account,
        action=AuditAction.CREATED,
        target=subscription,
        after={**terms.fields(), "order": reference},
    )
    return subscription


def change_subscription_terms(
    *, subscription: Subscription, terms: Terms, actor: User | None, reference: str
) -> Subscription:
    """New terms from `terms.period_start`: seats, tier or cycle changed with a whole new
    period (flow B), or a trial converted. Never below the seats already given."""
    check_seat_count(
        plan=terms.plan, seat_count=terms.seat_count, assigned=subscription.assigned_seats()
    )
    return _apply_terms(subscription=subscription, terms=terms, actor=actor, reference=reference)


def renew_subscription(
    *, subscription: Subscription, terms: Terms, actor: User | None, reference: str
) -> Subscription:
    """The next period of the same terms (a renewal): no seat rule to pass again, the seats were
    sold already."""
    return _apply_terms(subscription=subscription, terms=terms, actor=actor, reference=reference)


def _apply_terms(
    *, subscription: Subscription, terms: Terms, actor: User | None, reference: str
) -> Subscription:
    before = snapshot(subscription, SUBSCRIPTION_TERMS)
    fields = terms.fields()
    for field, value in fields.items():
        setattr(subscription, field, value)
    subscription.save(update_fields=list(fields))
    record_audit_event(
        actor=actor,
        account=subscription.account,
        action=AuditAction.CHANGED,
        target=subscription,
        before=before,
        after={**snapshot(subscription, SUBSCRIPTION_TERMS), "order": reference},
    )
    return subscription


def add_seats(
    *, subscription: Subscription, added_seats: int, actor: User | None, reference: str
) -> Subscription:
    """Seats added to the current period, which stays as it is (corporate quotes co-term)."""
    seat_count = subscription.seat_count + added_seats
    check_seat_count(plan=subscription.plan, seat_count=seat_count)
    return _set_seat_count(
        subscription=subscription, seat_count=seat_count, actor=actor, note={"order": reference}
    )


def _set_seat_count(
    *, subscription: Subscription, seat_count: int, actor: User | None, note: dict
) -> Subscription:
    before = subscription.seat_count
    subscription.seat_count = seat_count
    subscription.save(update_fields=["seat_count"])
    record_audit_event(
        actor=actor,
        account=subscription.account,
        action=AuditAction.CHANGED,
        target=subscription,
        before={"seat_count": before},
        after={"seat_count": seat_count, **note},
    )
    return subscription
