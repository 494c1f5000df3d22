"""Who else gets the invoice emails: a few extra addresses (an accounts-payable mailbox, a
bookkeeper) copied on every invoice and credit-note email besides the billing contacts.

The one rule for that list: the billing information form, the service that saves it and the
emails all ask here.
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

MAX_INVOICE_CC_EMAILS = 5
_SEPARATORS = re.compile(r"[\s,;]+")


def split_invoice_cc_emails(text: str) -> list[str]:
    """The addresses typed in one box: one per line, or separated by commas or semicolons."""
    return [address for address in _SEPARATORS.split(text or "") if address]


def invoice_cc_problem(addresses: list[str]) -> str | None:
    """Why this list cannot be kept, or None: every address valid, none twice (letter case
    aside), at most MAX_INVOICE_CC_EMAILS."""
    if len(addresses) > MAX_INVOICE_CC_EMAILS:
        return ngettext(
            "Enter at most %(count)d address.",
            "Enter at most %(count)d addresses.",
            MAX_INVOICE_CC_EMAILS,
        ) % {"count": MAX_INVOICE_CC_EMAILS}
    seen = set()
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            return _("“%(address)s” is not a valid email address.") % {"address": address}
        if address.casefold() in seen:
            return _("“%(address)s” is in the list twice.") % {"address": address}
        seen.add(address.casefold())
    return None


def invoice_cc_recipients(account, *, to: list[str]) -> list[str]:
    """The account's extra invoice recipients, without those the email already goes `to`."""
    sent_to = {address.casefold() for address in to}
    return [address for address in account.invoice_cc_emails if address.casefold() not in sent_to]
