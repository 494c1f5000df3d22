"""VAT numbers confirmed with VIES, the EU's VAT Information Exchange System (SPEC "VAT").

A number that passes the offline check (subscriptions.vat) is also asked of VIES, as a task after
it is saved and again by the billing run when its confirmation is older than
VIES_CONFIRMATION_MAX_AGE_DAYS. The answer is kept per number (VatNumberCheck) with VIES's request
identifier and date, which staff see in the admin:

- confirmed: reverse charge applies;
- rejected: no reverse charge on the next documents, and staff are alerted (an email to the
  admins; the admin's list of checks filters on it);
- VIES unavailable: the number stays pending and the offline result applies until VIES answers.

The client is a setting (VIES_CLIENT): python-stdnum's SOAP client (`StdnumVies`, over zeep) in
production; `SandboxVies`, which answers a few documented numbers and never touches the network,
in the demo and the tests.
"""

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import mail_admins
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task

from subscriptions.models import LIVE_STATUSES, Account, VatCheckStatus, VatNumberCheck
from subscriptions.vat import EU_MEMBER_STATES, compact_vat_number

logger = logging.getLogger(__name__)


class ViesUnavailable(Exception):
    """VIES could not answer (down, busy, the member state's service unavailable, a timeout)."""


@dataclass(frozen=True)
class ViesAnswer:
    valid: bool
    request_identifier: str
    request_date: date | None


class StdnumVies:
    """VIES's SOAP service through python-stdnum (`check_vies_approx`, which returns the
    consultation's request identifier when the requester gives its own VAT number)."""

    timeout = 20

    def check(self, number: str, *, requester: str) -> ViesAnswer:
        from stdnum.eu import vat

        try:
            answer = vat.check_vies_approx(number, requester, timeout=self.timeout)
        except Exception as error:  # zeep's faults, requests' errors, timeouts: all "no answer"
            raise ViesUnavailable(str(error)[:300]) from error
        return ViesAnswer(
            valid=bool(answer["valid"]),
            request_identifier=str(answer.get("requestIdentifier") or ""),
            request_date=answer.get("requestDate"),
        )


# The sandbox's documented numbers (README, "VIES"): all valid by their check digits.
SANDBOX_REJECTED = frozenset({"IT00743110157", "ESB58378431"})
SANDBOX_UNAVAILABLE = frozenset({"NL004495445B01"})


class SandboxVies:
    """A VIES that answers without the network: every number confirmed, except the documented
    ones it rejects or cannot answer for."""

    def check(self, number: str, *, requester: str) -> ViesAnswer:
        if number in SANDBOX_UNAVAILABLE:
            raise ViesUnavailable("MS_UNAVAILABLE (sandbox)")
        return ViesAnswer(
            valid=number not in SANDBOX_REJECTED,
            request_identifier=f"SANDBOX-{number}-{timezone.localdate():%Y%m%d}",
            request_date=timezone.localdate(),
        )


def vies_client():
    return import_string(settings.VIES_CLIENT)()


def is_rejected(vat_number: str) -> bool:
    """VIES said this number is not registered (its last answer): no reverse charge."""
    number = compact_vat_number(vat_number)
    return VatNumberCheck.objects.filter(number=number, status=VatCheckStatus.REJECTED).exists()


def has_answer(vat_number: str) -> bool:
    """VIES has answered for this number (confirmed or rejected) at least once."""
    return VatNumberCheck.objects.filter(
        number=compact_vat_number(vat_number), request_identifier__gt=""
    ).exists()


def check_vat_number(vat_number: str) -> VatNumberCheck:
    """Ask VIES about a number now and keep its answer (or that it could not answer)."""
    number = compact_vat_number(vat_number)
    now = timezone.now()
    try:
        answer = vies_client().check(number, requester=settings.SELLER_VAT_NUMBER)
    except ViesUnavailable as error:
        check, _created = VatNumberCheck.objects.get_or_create(
            number=number, defaults={"status": VatCheckStatus.PENDING, "checked_at": now}
        )
        # A number VIES answered for before keeps that answer; an unknown one waits.
        check.checked_at = now
        check.error = str(error)[:300]
        check.save(update_fields=["checked_at", "error"])
        logger.warning("VIES unavailable for %s: %s", number, error)
        return check
    status = VatCheckStatus.CONFIRMED if answer.valid else VatCheckStatus.REJECTED
    with transaction.atomic():
        previous = (
            VatNumberCheck.objects.filter(number=number).values_list("status", flat=True).first()
        )
        check, _created = VatNumberCheck.objects.update_or_create(
            number=number,
            defaults={
                "status": status,
                "checked_at": now,
                "request_identifier": answer.request_identifier[:40],
                "request_date": answer.request_date,
                "error": "",
                **({"confirmed_at": now} if answer.valid else {}),
            },
        )
    if status == VatCheckStatus.REJECTED and previous != VatCheckStatus.REJECTED:
        _alert_staff(check)
    return check


def _alert_staff(check: VatNumberCheck) -> None:
    accounts = ", ".join(
        Account.objects.filter(vat_number=check.number).values_list("name", flat=True)
    )
    mail_admins(
        f"VIES rejected VAT number {check.number}",
        f"VIES answered that {check.number} is not a registered VAT number "
        f"(request {check.request_identifier or '—'}, {check.request_date or '—'}).\n"
        f"Accounts using it: {accounts or '—'}.\n"
        "Their next invoices are charged VAT (no reverse charge) until the number is corrected.",
    )


@task()
def check_vat_number_task(vat_number: str) -> str:
    """Enqueued when a VAT number is saved (checkout, Billing information, the corporate
    payment step, the admin)."""
    return check_vat_number(vat_number).status


def ask_vies_after_saving(vat_number: str, country: str) -> None:
    """In the transaction that saved an EU number: VIES is asked once it commits."""
    number = compact_vat_number(vat_number)
    if number and country in EU_MEMBER_STATES:
        transaction.on_commit(lambda: check_vat_number_task.enqueue(number))


def recheck_vat_numbers(*, today: date, limit: int = 200) -> int:
    """The billing run's re-check, before it renews: the numbers of accounts with a live
    subscription whose last answer is missing, pending, or a confirmation older than
    VIES_CONFIRMATION_MAX_AGE_DAYS. Returns how many were asked."""
    stale_before = timezone.now() - timedelta(days=settings.VIES_CONFIRMATION_MAX_AGE_DAYS)
    numbers = set(
        Account.objects.filter(
            subscriptions__status__in=LIVE_STATUSES, country__in=EU_MEMBER_STATES
        )
        .exclude(vat_number="")
        .values_list("vat_number", flat=True)
        .distinct()
    )
    fresh = set(
        VatNumberCheck.objects.filter(number__in=numbers)
        .exclude(status=VatCheckStatus.PENDING)
        .filter(checked_at__gte=stale_before)
        .values_list("number", flat=True)
    )
    due = sorted(numbers - fresh)[:limit]
    for number in due:
        check_vat_number(number)
    return len(due)
