"""Cards: only what the processor tokenized is kept (brand, last 4, expiry, token, and the
mandate the customer gave for later off-session charges). A card typed in to pay something is
entered first and kept once that payment went through (the money path); a card added on the
payment methods page is saved once the processor set it up — with the customer's
authentication when the card asks for it."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from billing_center import locks
from billing_center.audit import record_audit_event
from billing_center.locks import lock_account
from billing_center.models import AuditAction, User
from checkout.models import AttemptStatus, PaymentAttempt, PaymentMethod
from checkout.payments.gateway import (
    ChargeFailed,
    ChargeStatus,
    LookupFailed,
    PaymentDeclined,
    TokenizedCard,
    decline_message,
    gateway_customer,
    get_gateway,
)
from checkout.selectors import subscriptions_renewing_on_default_card
from subscriptions.models import Account


@dataclass(frozen=True)
class NewCard:
    """A card typed in at checkout, already tokenized by the gateway (no number, no CVC)."""

    card: TokenizedCard
    cardholder_name: str


class PaymentMethodError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def enter_card(*, account: Account, new_card: NewCard) -> PaymentMethod:
    """The card typed in to pay something or to be saved: a card of the account, not offered
    nor charged by itself until it is kept. `account` is locked by the caller. The same token
    twice (a double submit) is the same card."""
    card = new_card.card
    existing = PaymentMethod.objects.filter(gateway_token=card.token).first()
    if existing is not None:
        if existing.account_id != account.pk or existing.removed_at is not None:
            raise PaymentMethodError(_("This card cannot be used. Enter it again."))
        return existing
    return PaymentMethod.objects.create(
        account=account,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        cardholder_name=new_card.cardholder_name,
        gateway_token=card.token,
        saved=False,
        is_default=False,
    )


def _keep(card: PaymentMethod, *, mandate: str, actor: User | None) -> PaymentMethod:
    """An entered card becomes a saved one (the account's default if it has none), with the
    mandate the customer gave; a saved card gets the newer mandate. The account is locked."""
    if not card.saved:
        account = card.account
        card.saved = True
        card.is_default = not account.payment_methods.filter(is_default=True).exists()
        card.mandate = mandate or card.mandate
        card.save(update_fields=["saved", "is_default", "mandate"])
        record_audit_event(
            actor=actor,
            account=account,
            action=AuditAction.CREATED,
            target=card,
            after={"card": str(card), "is_default": card.is_default},
        )
    elif mandate and not card.mandate:
        card.mandate = mandate
        card.save(update_fields=["mandate"])
    return card


def keep_card_of(attempt: PaymentAttempt, *, actor: User | None) -> PaymentMethod | None:
    """In the transaction that writes what a captured attempt paid: the card that paid is kept
    with the mandate its payment gave (the money path calls it; the account is locked)."""
    if attempt.status != AttemptStatus.CAPTURED or attempt.payment_method_id is None:
        return None
    card = attempt.payment_method  # read with the attempt (or when it was opened)
    attempt.payment_method = _keep(card, mandate=attempt.mandate, actor=actor)
    return attempt.payment_method


@dataclass(frozen=True)
class CardSaving:
    """Where saving a card stands: saved, or waiting for the customer's authentication at
    `action_url` (the processor's page), after which they come back to the card's return."""

    payment_method: PaymentMethod
    action_url: str = ""


def setup_key(payment_method: PaymentMethod) -> str:
    return f"card-setup-{payment_method.pk}"


def add_payment_method(
    *, account: Account, new_card: NewCard, make_default: bool, actor: User | None
) -> CardSaving:
    """Save a card the processor tokenized, for later off-session charges: the processor sets
    it up (a mandate), asking the customer to authenticate where the card wants it. Raises
    PaymentMethodError (declined, or the processor failed) with nothing saved."""
    with transaction.atomic():
        account = lock_account(account.pk)
        card = enter_card(account=account, new_card=new_card)
    return _set_up(card, make_default=make_default, actor=actor)


def _set_up(card: PaymentMethod, *, make_default: bool, actor: User | None) -> CardSaving:
    return_path = reverse("checkout:card_setup_return", kwargs={"pk": card.pk})
    try:
        setup = get_gateway().set_up_card(
            token=card.gateway_token,
            idempotency_key=setup_key(card),
            return_url=f"{settings.SITE_URL}{return_path}",
            customer=gateway_customer(card.account),
        )
    except PaymentDeclined as declined:
        card.delete()  # not saved: the account's cards are as they were
        raise PaymentMethodError(declined.message) from declined
    except ChargeFailed as error:
        card.delete()
        raise PaymentMethodError(
            _("The payment service did not answer and nothing was saved. Please try again.")
        ) from error
    return _after_setup(card, setup, make_default=make_default, actor=actor)


def _after_setup(card, setup, *, make_default: bool, actor: User | None) -> CardSaving:
    if setup.status == ChargeStatus.REQUIRES_ACTION:
        return CardSaving(payment_method=card, action_url=setup.action_url)
    if setup.status != ChargeStatus.SUCCEEDED:
        PaymentMethod.objects.filter(pk=card.pk, saved=False).delete()
        raise PaymentMethodError(decline_message(setup.decline_code or "authentication_failed"))
    with transaction.atomic():
        account = lock_account(card.account_id)
        card = locks.lock_payment_method(account_id=account.pk, payment_method_id=card.pk)
        if card is None:
            raise PaymentMethodError(_("This card was removed."))
        card.account = account
        card = _keep(card, mandate=setup.mandate, actor=actor)
        if make_default and not card.is_default:
            set_default_payment_method(payment_method=card, actor=actor)
    return CardSaving(payment_method=card)


def finish_card_setup(
    *, payment_method: PaymentMethod, make_default: bool, actor: User | None
) -> CardSaving:
    """The customer is back from authenticating a card being saved: ask the processor how the
    setup ended (never the visit), and save the card if it succeeded. Again and again: the
    same answer."""
    if payment_method.saved:
        return CardSaving(payment_method=payment_method)
    try:
        setup = get_gateway().find_card_setup(idempotency_key=setup_key(payment_method))
    except LookupFailed as error:
        raise PaymentMethodError(
            _("The payment service did not answer. Please try again in a moment.")
        ) from error
    if setup is None:
        raise PaymentMethodError(_("This card is not saved. Enter it again."))
    return _after_setup(payment_method, setup, make_default=make_default, actor=actor)


def _lock_card(account: Account, payment_method: PaymentMethod) -> PaymentMethod:
    """The card as it is now, under the account's lock; refused if it was removed meanwhile."""
    card = locks.lock_payment_method(account_id=account.pk, payment_method_id=payment_method.pk)
    if card is None or not card.saved:
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
                account.payment_methods.filter(removed_at__isnull=True, saved=True)
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
