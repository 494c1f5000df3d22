"""Who else gets the invoice emails: a few extra addresses (an accounts-payable mailbox, a
bookkeeper) copied on every invoice and credit-note email besides the billing contacts.

An address gets documents only once it confirmed (double opt-in): when it is added, one email
with a link is sent to it, once; until it follows the link and confirms, nothing else is sent to
it. Every address is asked, whatever its domain: a billing contact's own domain may be a
webmail's, and an address anyone can type must not become a relay.

The one rule for that list: the billing information form, the service that saves it and the
emails all ask here.
"""

import re
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from subscriptions.models import InvoiceCopyConsent

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
    """The account's extra invoice recipients that confirmed, without those the email already
    goes `to`."""
    sent_to = {address.casefold() for address in to}
    confirmed = confirmed_addresses(account)
    return [
        address
        for address in account.invoice_cc_emails
        if address.casefold() in confirmed and address.casefold() not in sent_to
    ]


def confirmed_addresses(account) -> set[str]:
    return {
        email.casefold()
        for email in InvoiceCopyConsent.objects.filter(
            account=account, confirmed_at__isnull=False
        ).values_list("email", flat=True)
    }


@dataclass(frozen=True)
class CopyRecipient:
    email: str
    confirmed: bool


def invoice_cc_states(account) -> list[CopyRecipient]:
    """The list as the billing information page shows it: each address, confirmed or pending."""
    confirmed = confirmed_addresses(account)
    return [
        CopyRecipient(email=address, confirmed=address.casefold() in confirmed)
        for address in account.invoice_cc_emails
    ]


def ask_for_consent(*, account, addresses: list[str], send) -> None:
    """In the transaction that saves the list (the account locked): addresses removed lose
    their consent; each address without one is asked once — `send(consent_id)` is called on
    commit for it (it enqueues the email)."""
    wanted = {address.casefold(): address for address in addresses}
    consents = {c.email.casefold(): c for c in InvoiceCopyConsent.objects.filter(account=account)}
    gone = [c.pk for key, c in consents.items() if key not in wanted]
    if gone:
        InvoiceCopyConsent.objects.filter(pk__in=gone).delete()
    for key, address in wanted.items():
        if key in consents:
            continue
        consent = InvoiceCopyConsent.objects.create(account=account, email=address)
        transaction.on_commit(lambda pk=consent.pk: send(pk))


CONSENT_SALT = "invoice-copy-consent"
CONSENT_MAX_AGE = 14 * 24 * 3600  # the link works for two weeks


def consent_token(consent: InvoiceCopyConsent) -> str:
    return signing.dumps([consent.pk, consent.email.casefold()], salt=CONSENT_SALT)


def consent_of_token(token: str) -> InvoiceCopyConsent | None:
    """The consent a link asks for, or None (a link altered, expired, or for an address that
    was removed since)."""
    try:
        pk, email = signing.loads(token, salt=CONSENT_SALT, max_age=CONSENT_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    consent = InvoiceCopyConsent.objects.select_related("account").filter(pk=pk).first()
    if consent is None or consent.email.casefold() != email:
        return None
    return consent


def confirm_consent(consent: InvoiceCopyConsent) -> InvoiceCopyConsent:
    if consent.confirmed_at is None:
        consent.confirmed_at = timezone.now()
        consent.save(update_fields=["confirmed_at"])
    return consent
