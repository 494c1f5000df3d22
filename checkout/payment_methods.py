"""Saved cards: only what the gateway tokenized is kept (brand, last 4, expiry, token)."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing_center.audit import record_audit_event
from billing_center.models import AuditAction, User
from checkout.gateway import TokenizedCard
from checkout.models import PaymentMethod
from checkout.selectors import subscriptions_renewing_on_default_card
from subscriptions.locks import lock_account
from subscriptions.models import Account


@dataclass(frozen=True)
class NewCard:
    """A card typed in at checkout, already tokenized by the gateway (no number, no CVC)."""

    card: TokenizedCard
    cardholder_name: str


def save_card(*, account: Account, new_card: NewCard, actor: User | None) -> PaymentMethod:
    """Keep a tokenized card on the account; its first card becomes the default. `account` is
    locked by the caller."""
    card = new_card.card
    payment_method = PaymentMethod.objects.create(
        account=account,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        cardholder_name=new_card.cardholder_name,
        gateway_token=card.token,
        is_default=not account.payment_methods.filter(is_default=True).exists(),
    )
    record_audit_event(
        actor=actor,
        account=account,
        action=AuditAction.CREATED,
        target=payment_method,
        after={"card": str(payment_method), "is_default": payment_method.is_default},
    )
    return payment_method


def add_payment_method(
    *, account: Account, new_card: NewCard, make_default: bool, actor: User | None
) -> PaymentMethod:
    """Save a card the gateway tokenized; the first card of an account is its default."""
    with transaction.atomic():
        account = lock_account(account.pk)
        payment_method = save_card(account=account, new_card=new_card, actor=actor)
        if make_default and not payment_method.is_default:
            set_default_payment_method(payment_method=payment_method, actor=actor)
    return payment_method


class PaymentMethodError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _lock_card(account: Account, payment_method: PaymentMethod) -> PaymentMethod:
    """The card as it is now, under the account's lock; refused if it was removed meanwhile."""
    card = (
        PaymentMethod.objects.select_for_update()
        .filter(pk=payment_method.pk, account=account, removed_at__isnull=True)
        .first()
    )
    if card is None:
        raise PaymentMethodError(_("This card was removed."))
    return card


def set_default_payment_method(*, payment_method: PaymentMethod, actor: User | None) -> None:
    with transaction.atomic():
        account = lock_account(payment_method.account_id)
        _lock_card(account, payment_method)
        PaymentMethod.objects.filter(account=account, is_default=True).update(is_default=False)
        PaymentMethod.objects.filter(pk=payment_method.pk).update(is_default=True)
        record_audit_event(
            actor=actor,
            account=account,
            action=AuditAction.CHANGED,
            target=payment_method,
            after={"is_default": True},
        )


def removal_problem(*, payment_method: PaymentMethod) -> str | None:
    """Why this card cannot be removed now, or None: the default card stays while a
    subscription renews on it (renewals and dunning retries charge the default card)."""
    if payment_method.is_default and (
        subscriptions_renewing_on_default_card(account=payment_method.account_id).exists()
    ):
        return _(
            "%(card)s is your default card and your subscriptions renew on it: make another "
            "card the default first, then remove this one."
        ) % {"card": payment_method}
    return None


def remove_payment_method(*, payment_method: PaymentMethod, actor: User | None) -> None:
    """Remove a saved card. Renewals and dunning retries charge the default card, so the default
    card stays while a subscription will renew on it; any other card can go. When the default
    goes, the newest remaining card becomes the default.

    The card is kept, marked removed, for the orders and service orders it paid; the sandbox
    gateway has no call to detach a token, and a removed card is never charged again."""
    with transaction.atomic():
        account = lock_account(payment_method.account_id)
        card = _lock_card(account, payment_method)
        problem = removal_problem(payment_method=card)
        if problem:
            raise PaymentMethodError(problem)
        was_default = card.is_default
        card.is_default = False
        card.removed_at = timezone.now()
        card.save(update_fields=["is_default", "removed_at"])
        record_audit_event(
            actor=actor,
            account=account,
            action=AuditAction.DELETED,
            target=card,
            before={"card": str(card), "is_default": was_default},
        )
        if was_default:
            successor = (
                account.payment_methods.filter(removed_at__isnull=True)
                .order_by("-created_at", "-pk")
                .first()
            )
            if successor is not None:
                successor.is_default = True
                successor.save(update_fields=["is_default"])
                record_audit_event(
                    actor=actor,
                    account=account,
                    action=AuditAction.CHANGED,
                    target=successor,
                    after={"is_default": True},
                )
