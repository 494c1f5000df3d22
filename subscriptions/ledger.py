"""The credit ledger: an account's credit balance moves only here, with its entry, in one
transaction, so the balance always equals the sum of the entries (SPEC "Domain")."""

from moneyed import Money

from subscriptions.models import Account, CreditEntry, CreditKind


def move_credit(
    *, account: Account, amount: Money, kind: CreditKind, order=None, description: str = ""
) -> CreditEntry:
    """Add (positive) or use (negative) credit. `account` must be locked by the caller
    (billing_center.locks.lock_account) in the transaction that writes the order. `kind` says why
    (its words are chosen when the entry is read, in the reader's language)."""
    if amount.currency.code != account.currency:
        raise ValueError("Credit in another currency than the account's.")
    if account.credit_balance_amount + amount.amount < 0:
        raise ValueError("More credit used than the account has.")
    entry = CreditEntry.objects.create(
        account=account, amount=amount, kind=kind, description=description, order=order
    )
    account.credit_balance_amount += amount.amount
    account.save(update_fields=["credit_balance_amount"])
    return entry
