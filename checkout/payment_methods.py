"""Saved cards: only what the gateway tokenized is kept (brand, last 4, expiry, token)."""

from dataclasses import dataclass

from django.db import transaction

from billing_center.audit import record_audit_event
from billing_center.models import AuditAction, User
from checkout.gateway import TokenizedCard
from checkout.models import PaymentMethod
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


def set_default_payment_method(*, payment_method: PaymentMethod, actor: User | None) -> None:
    with transaction.atomic():
        account = lock_account(payment_method.account_id)
        PaymentMethod.objects.filter(account=account, is_default=True).update(is_default=False)
        PaymentMethod.objects.filter(pk=payment_method.pk).update(is_default=True)
        record_audit_event(
            actor=actor,
            account=account,
            action=AuditAction.CHANGED,
            target=payment_method,
            after={"is_default": True},
        )
