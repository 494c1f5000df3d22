"""What happens to subscriptions as time passes (SPEC "D. Around the flows") and what a billing
contact decides about their end: trial reminders and expiry, cancellation at period end and
its resumption, suspension for an unpaid invoice and reactivation once it is paid.

The billing run (checkout.billing_run.run) calls the time-driven ones with the day it runs for; each
is idempotent and takes the account's lock before the subscription's, like every writer."""

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from billing_center.audit import record_audit_event
from billing_center.claims import each_claimed
from billing_center.locks import lock_account, lock_subscription
from billing_center.models import AuditAction, User
from subscriptions.models import (
    Subscription,
    SubscriptionStatus,
    Trial,
)
from subscriptions.tasks import (
    send_subscription_cancel_email,
    send_trial_ended_email,
    send_trial_reminder_email,
)


class LifecycleError(Exception):
    """A cancellation or resumption that cannot be made; the message is for the billing contact."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _locked(pk: int) -> Subscription | None:
    """The subscription under its account's lock, then its own (the writers' order)."""
    account_id = Subscription.objects.filter(pk=pk).values_list("account_id", flat=True).first()
    if account_id is None:
        return None
    lock_account(account_id)
    return lock_subscription(pk, related=("account", "product", "plan"))


def _each_claimed(queryset, *, batch_size: int):
    """Every row of `queryset`, claimed in batches so concurrent runs share them."""
    for pks in each_claimed(queryset, lease_field="billing_lease_until", batch_size=batch_size):
        yield from pks


# Trials


def remind_trials(*, today: date, batch_size: int = 200) -> int:
    """Trials ending within TRIAL_REMINDER_DAYS get their reminder, once."""
    horizon = today + timedelta(days=settings.TRIAL_REMINDER_DAYS)
    reminded = Trial.objects.filter(
        account=OuterRef("account"), product=OuterRef("product"), reminder_sent_on__isnull=False
    )
    due = Subscription.objects.filter(
        status=SubscriptionStatus.TRIALING, trial_end__gt=today, trial_end__lte=horizon
    ).exclude(Exists(reminded))
    sent = 0
    for pk in _each_claimed(due, batch_size=batch_size):
        with transaction.atomic():
            subscription = _locked(pk)
            trial = Trial.objects.filter(
                account=subscription.account_id, product=subscription.product_id
            ).first()
            if (
                subscription.status != SubscriptionStatus.TRIALING
                or trial is None
                or trial.reminder_sent_on is not None
            ):
                continue
            trial.reminder_sent_on = today
            trial.save(update_fields=["reminder_sent_on"])
            transaction.on_commit(lambda pk=pk: send_trial_reminder_email.enqueue(pk))
            sent += 1
    return sent


def expire_trials(*, today: date, batch_size: int = 200) -> int:
    """Trials whose end has come are expired: their seats are no longer usable; an email says
    how to buy."""
    due = Subscription.objects.filter(status=SubscriptionStatus.TRIALING, trial_end__lte=today)
    expired = 0
    for pk in _each_claimed(due, batch_size=batch_size):
        with transaction.atomic():
            subscription = _locked(pk)
            if subscription.status != SubscriptionStatus.TRIALING or subscription.trial_end > today:
                continue
            subscription.status = SubscriptionStatus.EXPIRED
            subscription.save(update_fields=["status"])
            record_audit_event(
                actor=None,
                account=subscription.account,
                action=AuditAction.CHANGED,
                target=subscription,
                before={"status": SubscriptionStatus.TRIALING},
                after={"status": SubscriptionStatus.EXPIRED, "trial_end": subscription.trial_end},
            )
            transaction.on_commit(lambda pk=pk: send_trial_ended_email.enqueue(pk))
            expired += 1
    return expired


# Cancellation


CANCELABLE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)


def cancel_at_period_end(
    *, subscription: Subscription, actor: User | None, reason: str = "", comment: str = ""
) -> Subscription:
    """The billing contact cancels: the subscription runs to the end of its period, then ends;
    it is not renewed. Resumable until then. `reason` (a CancelReason, optional) and its
    `comment` are kept for staff."""
    with transaction.atomic():
        subscription = _locked(subscription.pk)
        _check_cancelable(subscription, CANCELABLE)
        if subscription.cancel_at_period_end:
            return subscription
        subscription.cancel_at_period_end = True
        subscription.save(
            update_fields=[
                "cancel_at_period_end",
                *_kept_cancellation(subscription, reason, comment),
            ]
        )
        record_audit_event(
            actor=actor,
            account=subscription.account,
            action=AuditAction.CHANGED,
            target=subscription,
            before={"cancel_at_period_end": False},
            after={"cancel_at_period_end": True, "ends_on": subscription.current_period_end},
        )
        pk = subscription.pk
        transaction.on_commit(lambda: send_subscription_cancel_email.enqueue(pk, True))
    return subscription


def _check_cancelable(subscription: Subscription, statuses) -> None:
    """Who may cancel what: never a corporate account's subscription (its services do), and
    only a subscription in one of `statuses`."""
    if subscription.account.is_corporate:
        raise LifecycleError(
            _("Corporate Account Services cancel subscriptions of corporate accounts.")
        )
    if subscription.status not in statuses:
        raise LifecycleError(_("This subscription cannot be canceled."))


def _kept_cancellation(subscription: Subscription, reason: str, comment: str) -> list[str]:
    """When and why it was canceled, set on `subscription`; the fields to save."""
    subscription.canceled_at = timezone.now()
    subscription.cancel_reason = reason
    subscription.cancel_reason_text = comment.strip()[:500]
    return ["canceled_at", "cancel_reason", "cancel_reason_text"]


def resume(*, subscription: Subscription, actor: User | None) -> Subscription:
    """Take a cancellation back before the period ends: the subscription renews again."""
    with transaction.atomic():
        subscription = _locked(subscription.pk)
        if not subscription.cancel_at_period_end or subscription.status not in CANCELABLE:
            raise LifecycleError(_("This subscription is not canceled."))
        subscription.cancel_at_period_end = False
        subscription.canceled_at = None
        subscription.save(update_fields=["cancel_at_period_end", "canceled_at"])
        record_audit_event(
            actor=actor,
            account=subscription.account,
            action=AuditAction.CHANGED,
            target=subscription,
            before={"cancel_at_period_end": True},
            after={"cancel_at_period_end": False},
        )
        pk = subscription.pk
        transaction.on_commit(lambda: send_subscription_cancel_email.enqueue(pk, False))
    return subscription


def end_canceled_subscriptions(*, today: date, batch_size: int = 200) -> int:
    """Canceled subscriptions whose period has ended are canceled for good, not renewed."""
    due = Subscription.objects.filter(
        cancel_at_period_end=True, status__in=CANCELABLE, current_period_end__lte=today
    )
    ended = 0
    for pk in _each_claimed(due, batch_size=batch_size):
        with transaction.atomic():
            subscription = _locked(pk)
            if (
                not subscription.cancel_at_period_end
                or subscription.status not in CANCELABLE
                or subscription.current_period_end > today
            ):
                continue
            before = subscription.status
            subscription.status = SubscriptionStatus.CANCELED
            subscription.save(update_fields=["status"])
            record_audit_event(
                actor=None,
                account=subscription.account,
                action=AuditAction.CHANGED,
                target=subscription,
                before={"status": before},
                after={"status": SubscriptionStatus.CANCELED},
            )
            ended += 1
    return ended


# Payment state (the caller holds the account's and the subscription's locks)


def mark_past_due(*, subscription: Subscription) -> None:
    if subscription.status == SubscriptionStatus.ACTIVE:
        _set_status(subscription, SubscriptionStatus.PAST_DUE)


def suspend(*, subscription: Subscription, today: date) -> None:
    """The last retry failed (on `today`): seats are no longer usable until the invoice is
    paid."""
    if subscription.status == SubscriptionStatus.PAST_DUE:
        subscription.suspended_on = today
        subscription.save(update_fields=["suspended_on"])
        _set_status(subscription, SubscriptionStatus.UNPAID)


def cancel_suspended(
    *,
    subscription: Subscription,
    actor: User | None,
    ends_on: date,
    reason: str = "",
    comment: str = "",
) -> None:
    """A suspended subscription canceled at once: it ends on `ends_on` (the day its seats stopped
    being usable) and is never renewed. The caller holds the account's and the subscription's
    locks and corrects its open invoice in the same transaction
    (checkout.cancellation)."""
    _check_cancelable(subscription, (SubscriptionStatus.UNPAID,))
    before = {"status": subscription.status, "current_period_end": subscription.current_period_end}
    subscription.status = SubscriptionStatus.CANCELED
    subscription.current_period_end = max(ends_on, subscription.current_period_start)
    subscription.save(
        update_fields=[
            "status",
            "current_period_end",
            *_kept_cancellation(subscription, reason, comment),
        ]
    )
    record_audit_event(
        actor=actor,
        account=subscription.account,
        action=AuditAction.CHANGED,
        target=subscription,
        before=before,
        after={
            "status": SubscriptionStatus.CANCELED,
            "current_period_end": subscription.current_period_end,
        },
    )


def reactivate(
    *, subscription: Subscription, actor: User | None = None, today: date | None = None
) -> None:
    """Its open invoice is paid (or forgiven): active again. A suspended subscription whose
    period ended while its seats could not be used is never charged for the time since: it
    starts a new period on the day it is reactivated, due at once (the renewal charges it), and
    that day becomes its anchor (SPEC "D. Around the flows")."""
    today = today or timezone.localdate()
    if subscription.status not in (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID):
        return
    if subscription.status == SubscriptionStatus.UNPAID and subscription.current_period_end < today:
        before = {
            "current_period_end": subscription.current_period_end,
            "billing_anchor_day": subscription.billing_anchor_day,
        }
        subscription.current_period_end = today
        subscription.billing_anchor_day = today.day
        subscription.save(update_fields=["current_period_end", "billing_anchor_day"])
        record_audit_event(
            actor=actor,
            account=subscription.account,
            action=AuditAction.CHANGED,
            target=subscription,
            before=before,
            after={"current_period_end": today, "billing_anchor_day": today.day},
        )
    if subscription.suspended_on is not None:
        subscription.suspended_on = None
        subscription.save(update_fields=["suspended_on"])
    _set_status(subscription, SubscriptionStatus.ACTIVE, actor=actor)


def _set_status(subscription: Subscription, status: str, actor: User | None = None) -> None:
    before = subscription.status
    subscription.status = status
    subscription.save(update_fields=["status"])
    record_audit_event(
        actor=actor,
        account=subscription.account,
        action=AuditAction.CHANGED,
        target=subscription,
        before={"status": before},
        after={"status": status},
    )
