from django.db.models import Prefetch, Q, QuerySet

from checkout.models import (
    AttemptStatus,
    Invoice,
    InvoiceStatus,
    Order,
    OrderLine,
    PaymentAttempt,
    PaymentMethod,
    PaymentPurpose,
)
from subscriptions.models import Subscription, SubscriptionStatus


def saved_cards(*, account) -> QuerySet[PaymentMethod]:
    """The cards the account can pay with (removed ones are kept for history, not offered)."""
    return PaymentMethod.objects.filter(
        account=account, removed_at__isnull=True, saved=True
    ).order_by("-is_default", "-created_at")


def subscriptions_renewing_on_default_card(*, account) -> QuerySet[Subscription]:
    """The subscriptions whose next charge goes to the account's default card: active ones that
    renew at period end (checkout.billing_run.renewals) and past-due ones whose open invoice is
    retried (checkout.billing_run.dunning)."""
    return Subscription.objects.filter(account=account).filter(
        Q(status=SubscriptionStatus.ACTIVE, cancel_at_period_end=False)
        | Q(status=SubscriptionStatus.PAST_DUE)
    )


def orders_for_display() -> QuerySet[Order]:
    return Order.objects.select_related("invoice", "payment_method", "account").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("product", "subscription"))
    )


def invoices_of_account(*, account) -> QuerySet[Invoice]:
    """Invoices and credit notes, newest first (two numbering series: by date, not number),
    with their lines: the list describes each one (products and period)."""
    return (
        Invoice.objects.filter(account=account)
        .select_related("order")
        .prefetch_related(Prefetch("order__lines", queryset=OrderLine.objects.order_by("pk")))
        .order_by("-issued_at", "-pk")
    )


def invoices_for_display() -> QuerySet[Invoice]:
    return Invoice.objects.select_related(
        "order__payment_method", "account", "corrects"
    ).prefetch_related(
        Prefetch("order__lines", queryset=OrderLine.objects.select_related("product")),
        Prefetch("credit_notes", queryset=Invoice.objects.select_related("order")),
    )


def invoice_pdfs() -> QuerySet[Invoice]:
    """What serving a document's stored PDF reads: its number and the stored file's name."""
    return Invoice.objects.only("pk", "number", "year", "pdf", "account_id")


def order_of_cart_version(*, cart, version) -> Order | None:
    """The order a version of the cart placed, if any (`version` as posted, maybe garbage)."""
    try:
        version = int(version)
    except (TypeError, ValueError):
        return None
    return Order.objects.filter(
        account=cart.account_id, idempotency_key=f"cart-{cart.pk}-v{version}"
    ).first()


def payment_attempts() -> QuerySet[PaymentAttempt]:
    return PaymentAttempt.objects.select_related("order", "payment_method")


def invoice_paid_by(attempt: PaymentAttempt) -> Invoice | None:
    """The invoice an invoice payment ("Pay now") was for: the one of the order it pays."""
    if attempt.purpose != PaymentPurpose.INVOICE:
        return None
    return attempt.invoice


def open_invoices(*, account) -> QuerySet[Invoice]:
    """Invoices still to pay (a renewal whose charge was declined), oldest first."""
    return Invoice.objects.filter(account=account, status=InvoiceStatus.OPEN).order_by(
        "issued_at", "pk"
    )


def last_failed_payment(invoice: Invoice) -> PaymentAttempt | None:
    """The latest payment of an open invoice that did not go through (the renewal's charge or
    a retry), with its card: what the page and the email name."""
    return (
        PaymentAttempt.objects.filter(
            account=invoice.account_id,
            reference=invoice.order.idempotency_key,
            status__in=[AttemptStatus.DECLINED, AttemptStatus.FAILED],
        )
        .select_related("payment_method")
        .order_by("-number")
        .first()
    )


def card_to_offer(*, cards: list[PaymentMethod], failed: PaymentAttempt | None, today):
    """The card Pay now preselects: not the one that was just declined when there is another
    one that has not expired; else the default card (None: a new card). A card whose bank only
    asked the customer to confirm is offered again: Pay now is where they can."""
    if failed is not None and failed.decline_code == "authentication_required":
        again = next((card for card in cards if card.pk == failed.payment_method_id), None)
        if again is not None and not again.is_expired(today):
            return again
    failed = failed.payment_method if failed is not None else None
    usable = [card for card in cards if not card.is_expired(today)]
    others = [card for card in usable if failed is None or card.pk != failed.pk]
    if failed is not None and others:
        return next((card for card in others if card.is_default), others[0])
    return next((card for card in cards if card.is_default), None)
