"""Who is billed, where: the billing details that decide the VAT and are printed on invoices."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing_center.addresses import format_address
from billing_center.audit import record_audit_event, snapshot
from billing_center.locks import lock_account
from billing_center.models import AuditAction, User
from checkout.tax import TaxDecision, decide_tax
from subscriptions import vies
from subscriptions.invoice_recipients import ask_for_consent, invoice_cc_problem
from subscriptions.models import Account
from subscriptions.tasks import send_invoice_copy_consent_email
from subscriptions.vat import VAT_VALIDATION_METHOD, compact_vat_number, vat_number_is_valid

BILLING_FIELDS = [
    "name",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "region",
    "country",
    "vat_number",
    "legal_identifier",
    "sdi_code",
    "pec",
]


@dataclass(frozen=True)
class BillingDetails:
    """Who is billed, where: it decides the VAT and is printed on the invoice."""

    name: str
    address_line1: str
    address_line2: str
    postal_code: str
    city: str
    region: str
    country: str
    vat_number: str
    legal_identifier: str = ""
    sdi_code: str = ""
    pec: str = ""
    # Not kept by checkout on the account (an order's own purchase order overrides the
    # account's default for that order only): the Billing information page keeps the default.
    purchase_order: str = ""

    @classmethod
    def of_account(cls, account: Account) -> "BillingDetails":
        return cls(
            name=account.name,
            address_line1=account.address_line1,
            address_line2=account.address_line2,
            postal_code=account.postal_code,
            city=account.city,
            region=account.region,
            country=account.country.code,
            vat_number=account.vat_number,
            legal_identifier=account.legal_identifier,
            sdi_code=account.sdi_code,
            pec=account.pec,
            purchase_order=account.purchase_order,
        )

    @property
    def address_lines(self) -> list[str]:
        """As the billing country writes an address, its name in the active language."""
        return format_address(
            line1=self.address_line1,
            line2=self.address_line2,
            postal_code=self.postal_code,
            city=self.city,
            region=self.region,
            country=self.country,
        )

    def tax_decision(self) -> TaxDecision:
        """The VAT these details get (SPEC "VAT"): the one call every seller flow makes."""
        return decide_tax(
            country=self.country,
            vat_number=self.vat_number,
            seller_country=settings.SELLER_COUNTRY,
        )


def save_billing_details(*, account: Account, billing: BillingDetails, actor: User | None) -> None:
    """Keep the details on the account for the next invoice, with when and how the VAT number
    was found valid; audited when something changed. `account` is locked by the caller."""
    before = snapshot(account, BILLING_FIELDS)
    vat_number = compact_vat_number(billing.vat_number)
    for field in BILLING_FIELDS:
        setattr(account, field, getattr(billing, field))
    account.vat_number = vat_number
    if vat_number and vat_number_is_valid(vat_number, billing.country):
        if before["vat_number"] != vat_number or account.vat_number_validated_at is None:
            account.vat_number_validated_at = timezone.now()
        account.vat_number_validation = VAT_VALIDATION_METHOD
    else:
        account.vat_number_validated_at = None
        account.vat_number_validation = ""
    if vat_number and (before["vat_number"] != vat_number or not vies.has_answer(vat_number)):
        vies.ask_vies_after_saving(vat_number, billing.country)
    after = snapshot(account, BILLING_FIELDS)
    changed = [field for field in BILLING_FIELDS if before[field] != after[field]]
    if not changed:
        return
    account.save(update_fields=[*changed, "vat_number_validated_at", "vat_number_validation"])
    record_audit_event(
        actor=actor,
        account=account,
        action=AuditAction.CHANGED,
        target=account,
        before={f: before[f] for f in changed},
        after={f: after[f] for f in changed},
    )


class BillingInformationError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def update_billing_information(
    *, account: Account, billing: BillingDetails, invoice_cc_emails: list[str], actor: User | None
) -> Account:
    """The Billing information page: the billing details, saved as checkout saves them, the
    default purchase order number, and the extra invoice email recipients; all audited, all for
    the next invoice (issued invoices keep the details they were issued with). Refused whole if
    the recipients are not valid."""
    problem = invoice_cc_problem(invoice_cc_emails)
    if problem:
        raise BillingInformationError(problem)
    with transaction.atomic():
        account = lock_account(account.pk)
        save_billing_details(account=account, billing=billing, actor=actor)
        if account.purchase_order != billing.purchase_order:  # the default for every order
            record_audit_event(
                actor=actor,
                account=account,
                action=AuditAction.CHANGED,
                target=account,
                before={"purchase_order": account.purchase_order},
                after={"purchase_order": billing.purchase_order},
            )
            account.purchase_order = billing.purchase_order
            account.save(update_fields=["purchase_order"])
        before = list(account.invoice_cc_emails)
        if before != invoice_cc_emails:
            account.invoice_cc_emails = list(invoice_cc_emails)
            account.save(update_fields=["invoice_cc_emails"])
            record_audit_event(
                actor=actor,
                account=account,
                action=AuditAction.CHANGED,
                target=account,
                before={"invoice_cc_emails": ", ".join(before)},
                after={"invoice_cc_emails": ", ".join(invoice_cc_emails)},
            )
        ask_for_consent(
            account=account,
            addresses=invoice_cc_emails,
            send=send_invoice_copy_consent_email.enqueue,
        )
    return account
