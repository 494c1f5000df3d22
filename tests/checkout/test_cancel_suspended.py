"""A suspended subscription is canceled at once (issue 18, SPEC "D. Around the flows"): its open
invoice is corrected by a credit note for the days from the suspension to the period end; the
days before stay due and payable with Pay now."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from moneyed import Money

from catalog.models import BillingCycle
from checkout.billing_run.run import run_billing
from checkout.cancellation import cancel_suspended_now
from checkout.invoices.payments import pay_invoice
from checkout.models import Invoice, InvoiceKind, InvoiceStatus, Order
from subscriptions.lifecycle import LifecycleError
from subscriptions.models import CancelReason, CreditEntry, Role, SubscriptionStatus
from tests.factories import (
    AccountFactory,
    MembershipFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    plan_with_prices,
)

pytestmark = pytest.mark.django_db

DUBLIN = ZoneInfo("Europe/Dublin")


def eur(amount):
    return Money(Decimal(amount), "EUR")


@pytest.fixture
def account(db):
    account = AccountFactory(country="FR", language="fr")
    MembershipFactory(account=account, role=Role.BILLING_CONTACT)
    PaymentMethodFactory(
        account=account, gateway_token="tok_sandbox_card_declined_0341", is_default=True
    )
    return account


@pytest.fixture
def suspended(account):
    """2 seats × 10 € monthly, renewal declined on Dec 3 (24,00 € TTC for Dec 3 – Jan 3),
    retried Dec 6 and 8, suspended on Dec 10."""
    plan = plan_with_prices(monthly="10.00", annual="100.00", max_seats=50)
    subscription = SubscriptionFactory(
        account=account,
        plan=plan,
        seat_count=2,
        unit_price=eur("10.00"),
        cycle=BillingCycle.MONTHLY,
        current_period_start=date(2026, 11, 3),
    )
    for day in (date(2026, 12, 3), date(2026, 12, 6), date(2026, 12, 8), date(2026, 12, 10)):
        run_billing(today=day)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.UNPAID
    assert subscription.suspended_on == date(2026, 12, 10)
    return subscription


def test_the_open_invoice_is_corrected_for_the_suspended_days(account, suspended):
    invoice = Invoice.objects.get(status=InvoiceStatus.OPEN)
    assert invoice.amount_due == eur("24.00")
    balance = account.credit_balance_amount

    correction = cancel_suspended_now(
        subscription=suspended,
        actor=None,
        today=date(2026, 12, 20),
        reason=CancelReason.TOO_EXPENSIVE,
    )

    # Dec 10 – Jan 3: 24 of 31 days of 20,00 € HT = 15,48 €, + 3,10 € VAT (as invoiced: 20 %).
    assert correction.credited == eur("18.58")
    credit_note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert credit_note.corrects == invoice
    assert credit_note.order.total == eur("-18.58")
    assert credit_note.order.tax == eur("-3.10")
    line = credit_note.order.lines.get()
    assert (line.period_start, line.period_end) == (date(2026, 12, 10), date(2027, 1, 3))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    assert invoice.amount_due == eur("5.42")  # total − credit notes − payments
    # The credit went to the invoice, not to the balance.
    account.refresh_from_db()
    assert account.credit_balance_amount == balance
    assert not CreditEntry.objects.filter(order=credit_note.order).exists()
    suspended.refresh_from_db()
    assert suspended.status == SubscriptionStatus.CANCELED
    assert suspended.current_period_end == date(2026, 12, 10)
    assert suspended.cancel_reason == CancelReason.TOO_EXPENSIVE

    # Never renewed, never retried; the rest is paid with Pay now on another card.
    run_billing(today=date(2027, 1, 5))
    assert Order.objects.count() == 2
    visa = PaymentMethodFactory(account=account, gateway_token="tok_sandbox_ok_visa_back")
    pay_invoice(invoice=invoice, actor=None, payment_method=visa)
    invoice.refresh_from_db()
    suspended.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.order.amount_charged == eur("5.42")
    assert suspended.status == SubscriptionStatus.CANCELED  # paying does not bring it back


def test_only_a_suspended_subscription_is_canceled_at_once(account, suspended):
    visa = PaymentMethodFactory(account=account, gateway_token="tok_sandbox_ok_visa_back")
    invoice = Invoice.objects.get(status=InvoiceStatus.OPEN)
    pay_invoice(invoice=invoice, actor=None, payment_method=visa)
    with pytest.raises(LifecycleError):
        cancel_suspended_now(subscription=suspended, actor=None, today=date(2026, 12, 20))
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()


def test_the_page_shows_the_correction_then_cancels(account, suspended, client):
    client.force_login(account.memberships.get(role=Role.BILLING_CONTACT).user)
    detail = client.get(reverse("subscriptions:subscription_detail", args=[suspended.pk]))
    cancel_url = reverse("checkout:cancel_suspended", args=[suspended.pk])
    assert cancel_url in detail.content.decode()
    # The old address leads there too, instead of "cannot be canceled".
    old = client.get(reverse("subscriptions:cancel", args=[suspended.pk]))
    assert old.status_code == 302
    assert old.url == cancel_url
    invoice = Invoice.objects.get(status=InvoiceStatus.OPEN)
    with time_machine.travel(datetime(2026, 12, 20, 10, tzinfo=DUBLIN)):
        client.force_login(account.memberships.get(role=Role.BILLING_CONTACT).user)
        page = client.get(cancel_url)
        assert page.status_code == 200, (page.status_code, page.get("Location"))
        text = page.content.decode()
        assert "18,58\N{NO-BREAK SPACE}€" in text or "18,58\N{NARROW NO-BREAK SPACE}€" in text
        assert "5,42" in text
        assert invoice.number in text
        response = client.post(cancel_url, {"reason": "not_used", "comment": ""})
    assert response.status_code == 302
    assert response.url == reverse("checkout:invoice_detail", args=[invoice.number])
    suspended.refresh_from_db()
    assert suspended.status == SubscriptionStatus.CANCELED
    # A second post changes nothing.
    with time_machine.travel(datetime(2026, 12, 20, 11, tzinfo=DUBLIN)):
        again = client.post(cancel_url, {"reason": "", "comment": ""})
    assert again.status_code == 302
    assert Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).count() == 1


def test_another_accounts_subscription_is_not_found(suspended, client):
    stranger = AccountFactory(country="FR", language="fr")
    contact = MembershipFactory(account=stranger, role=Role.BILLING_CONTACT)
    client.force_login(contact.user)
    response = client.post(reverse("checkout:cancel_suspended", args=[suspended.pk]), {})
    assert response.status_code == 404
    suspended.refresh_from_db()
    assert suspended.status == SubscriptionStatus.UNPAID


def test_the_invoice_says_what_it_still_owes_then_who_paid_it(account, suspended, client):
    from checkout.invoices.documents import pdf_of
    from checkout.selectors import invoices_for_display
    from tests.helpers import pdf_facts

    invoice = Invoice.objects.get(status=InvoiceStatus.OPEN)
    cancel_suspended_now(subscription=suspended, actor=None, today=date(2026, 12, 20))
    credit_note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    with time_machine.travel(datetime(2026, 12, 20, 10, tzinfo=DUBLIN)):
        client.force_login(account.memberships.get(role=Role.BILLING_CONTACT).user)
        page = client.get(reverse("checkout:invoice_detail", args=[invoice.number])).content
        text = page.decode()
        assert f"Avoir {credit_note.number}" in text
        assert "5,42" in text
        note = client.get(reverse("checkout:invoice_detail", args=[credit_note.number]))
        assert f"la facture {invoice.number}" in note.content.decode()
    text = pdf_facts(pdf_of(invoices_for_display().get(pk=invoice.pk)))["text"]
    assert credit_note.number in text
    assert "5,42" in text

    visa = PaymentMethodFactory(
        account=account, gateway_token="tok_sandbox_ok_visa_back", last4="4242"
    )
    with time_machine.travel(datetime(2026, 12, 21, 10, tzinfo=DUBLIN)):
        pay_invoice(invoice=invoice, actor=None, payment_method=visa)
    text = pdf_facts(pdf_of(invoices_for_display().get(pk=invoice.pk)))["text"]
    assert "Payée le 21 décembre 2026 par Visa •••• 4242" in " ".join(text.split())


def test_the_billing_contact_is_told_in_their_language(
    account, suspended, django_capture_on_commit_callbacks
):
    from django.core import mail

    invoice = Invoice.objects.get(status=InvoiceStatus.OPEN)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        cancel_suspended_now(subscription=suspended, actor=None, today=date(2026, 12, 20))
    credit_note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    (message,) = mail.outbox
    assert message.to == [account.memberships.get(role=Role.BILLING_CONTACT).user.email]
    body = " ".join(message.body.split())
    assert "10 décembre 2026" in body  # the last day of use
    assert f"avoir {credit_note.number}" in body
    assert "18,58" in body
    assert "5,42" in body
    assert reverse("checkout:pay_invoice", args=[invoice.number]) in body
