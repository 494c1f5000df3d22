"""A negative order is documented by a credit note (SPEC), never by an invoice with a negative
total: its own gapless yearly series, the invoice it corrects, amounts shown as what is credited,
and pages and emails that say what happened. Orders go through the real services: a purchase,
then a seat decrease on the same day (the whole year unused is credited; tests/checkout/
conftest.py)."""

import re
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from moneyed import Money

from billing_center.models import AuditEvent, NumberSequence
from catalog.models import BillingCycle
from checkout.emails import send_order_confirmation_email
from checkout.invoices.issuing import corrected_invoice
from checkout.models import Invoice, InvoiceKind, InvoiceStatus
from subscriptions.models import Subscription
from tests.factories import InvoiceFactory, OrderFactory, OrderLineFactory, SubscriptionFactory
from tests.helpers import change_seats

pytestmark = pytest.mark.django_db

NNBSP = "\u202f"


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def speak(user, language: str) -> None:
    """The user's language choice, which every page follows (subscriptions.middleware)."""
    user.language = language
    user.save(update_fields=["language"])


class TestIssuing:
    def test_a_negative_order_gets_a_credit_note_not_an_invoice(self, purchase, decrease):
        assert (decrease.subtotal, decrease.tax, decrease.total) == (
            eur("-720.00"),
            eur("-144.00"),
            eur("-864.00"),
        )
        assert decrease.credit_added == eur("864.00")
        note = decrease.invoice
        assert note.kind == InvoiceKind.CREDIT_NOTE
        assert note.number == "CN-2026-000001"
        assert (note.year, note.sequence) == (2026, 1)
        assert note.status == InvoiceStatus.CREDITED
        assert note.amount_due == eur("0.00")
        assert note.paid_at is None
        assert note.corrects == purchase.invoice
        assert list(purchase.invoice.credit_notes.all()) == [note]
        assert not Invoice.objects.filter(kind=InvoiceKind.INVOICE, order__total__lt=0).exists()
        account = decrease.account
        account.refresh_from_db()
        assert account.credit_balance == eur("864.00")
        event = AuditEvent.objects.filter(object_id=str(decrease.pk)).latest("pk")
        assert event.after["credit_note"] == "CN-2026-000001"

    def test_each_kind_has_its_own_gapless_yearly_series(
        self, account, billing_contact, purchase, decrease, default_visa
    ):
        subscription = purchase.lines.get().subscription
        more = change_seats(
            account, billing_contact, subscription, 12, card=default_visa
        )  # positive
        less = change_seats(account, billing_contact, subscription, 5)  # negative again
        assert purchase.invoice.number == "INV-2026-000001"
        assert decrease.invoice.number == "CN-2026-000001"
        assert more.invoice.number == "INV-2026-000002"
        assert more.invoice.kind == InvoiceKind.INVOICE
        assert less.invoice.number == "CN-2026-000002"
        assert dict(NumberSequence.objects.values_list("series", "last_number")) == {
            "INV": 2,
            "CN": 2,
        }
        # The latest paid invoice of the subscription is now INV-2026-000002.
        assert less.invoice.corrects == more.invoice

    def test_a_change_that_still_costs_something_is_an_invoice(
        self, account, billing_contact, meeting_plan, default_visa
    ):
        subscription = SubscriptionFactory(
            account=account,
            plan=meeting_plan,
            seat_count=10,
            current_period_start=date(2026, 7, 2),  # 222 of 365 days left on 2026-11-22
        )
        order = change_seats(account, billing_contact, subscription, 8, card=default_visa)
        assert order.total.amount > 0
        assert order.invoice.kind == InvoiceKind.INVOICE
        assert order.invoice.number.startswith("INV-2026-")
        assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()

    def test_nothing_to_correct_when_the_subscription_was_never_invoiced(
        self, account, billing_contact, meeting_plan
    ):
        # Set up by staff (or the demo data) without an order: the credit note stands alone.
        subscription = SubscriptionFactory(
            account=account,
            plan=meeting_plan,
            seat_count=10,
            current_period_start=date(2026, 11, 1),
        )
        order = change_seats(account, billing_contact, subscription, 2)
        assert order.invoice.kind == InvoiceKind.CREDIT_NOTE
        assert order.invoice.corrects is None

    def test_issued_documents_never_change_their_totals(self, purchase, decrease):
        before = {
            invoice.number: (invoice.order.subtotal, invoice.order.tax, invoice.order.total)
            for invoice in Invoice.objects.select_related("order")
        }
        assert before["CN-2026-000001"] == (eur("-720.00"), eur("-144.00"), eur("-864.00"))
        assert before["INV-2026-000001"] == (eur("1200.00"), eur("240.00"), eur("1440.00"))


class TestWhichInvoiceIsCorrected:
    """The invoice of the credited period: the latest paid invoice with a line on a credited
    subscription; the most recent of them when the order credits several."""

    def credit_order(self, account, *subscriptions):
        order = OrderFactory(account=account, total=eur("-100.00"))
        for subscription in subscriptions:
            OrderLineFactory(order=order, subscription=subscription, kind="proration_credit")
            OrderLineFactory(order=order, subscription=subscription, kind="change")
        return order

    def invoice_of(self, subscription, *, when, status=InvoiceStatus.PAID, **fields):
        order = OrderFactory(account=subscription.account)
        OrderLineFactory(order=order, subscription=subscription)
        with time_machine.travel(when):
            return InvoiceFactory(order=order, status=status, issued_at=when, **fields)

    def test_the_latest_paid_invoice_of_the_subscription(self, account):
        meeting = SubscriptionFactory(account=account)
        self.invoice_of(meeting, when="2025-11-22 10:00Z")
        latest = self.invoice_of(meeting, when="2026-06-01 10:00Z")
        self.invoice_of(meeting, when="2026-07-01 10:00Z", status=InvoiceStatus.VOID)
        self.invoice_of(SubscriptionFactory(account=account), when="2026-08-01 10:00Z")
        assert corrected_invoice(self.credit_order(account, meeting)) == latest

    def test_the_most_recent_when_several_subscriptions_are_credited(self, account):
        meeting, webinar = (
            SubscriptionFactory(account=account),
            SubscriptionFactory(account=account),
        )
        self.invoice_of(meeting, when="2026-03-01 10:00Z")
        recent = self.invoice_of(webinar, when="2026-09-01 10:00Z")
        assert corrected_invoice(self.credit_order(account, meeting, webinar)) == recent

    def test_never_another_credit_note(self, account):
        meeting = SubscriptionFactory(account=account)
        invoice = self.invoice_of(meeting, when="2026-03-01 10:00Z")
        self.invoice_of(
            meeting,
            when="2026-04-01 10:00Z",
            kind=InvoiceKind.CREDIT_NOTE,
            status=InvoiceStatus.CREDITED,
            amount_due=eur("0.00"),
            number="CN-2026-000009",
        )
        assert corrected_invoice(self.credit_order(account, meeting)) == invoice


class TestTheDatabaseHoldsTheRules:
    @pytest.mark.parametrize(
        "fields",
        [
            {"kind": "credit_note", "status": "paid"},
            {"kind": "credit_note", "status": "open", "amount_due": Money(5, "EUR")},
            {"kind": "credit_note", "status": "credited", "amount_due": Money(5, "EUR")},
            {"kind": "invoice", "status": "credited"},
            {"kind": "receipt"},
        ],
    )
    def test_refused(self, fields):
        with pytest.raises(IntegrityError), transaction.atomic():
            InvoiceFactory(**fields)

    def test_only_a_credit_note_corrects_an_invoice(self):
        invoice = InvoiceFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            InvoiceFactory(corrects=invoice)
        note = InvoiceFactory(
            kind="credit_note", status="credited", amount_due=eur("0"), corrects=invoice
        )
        assert note.corrects == invoice

    def test_the_same_sequence_number_in_both_series(self):
        InvoiceFactory(year=2026, sequence=7)
        InvoiceFactory(
            year=2026, sequence=7, number="CN-2026-000007", kind="credit_note", status="credited"
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            InvoiceFactory(year=2026, sequence=7, number="INV-X")


class TestPages:
    def test_the_confirmation_says_what_happened(self, contact_client, purchase, decrease):
        html = contact_client.get(
            reverse("checkout:order_confirmation", args=[decrease.number])
        ).content.decode()
        assert "Your seats are changed; a credit note of €864.00 is added to your account" in html
        assert "Your new subscriptions are active" not in html
        assert "Credit note:" in html
        assert reverse("checkout:invoice_detail", args=["CN-2026-000001"]) in html
        # Fewer seats: nothing new to assign.
        assert "Assign the new seats" not in html
        subscription = decrease.lines.first().subscription_id
        assert reverse("subscriptions:seats", args=[subscription]) not in html

    def test_in_french(self, contact_client, billing_contact, purchase, decrease):
        speak(billing_contact, "fr")
        html = contact_client.get(
            reverse("checkout:order_confirmation", args=[decrease.number])
        ).content.decode()
        assert (
            f"Vos postes sont modifiés{NNBSP}; un avoir de 864,00\xa0€ est ajouté à votre solde"
        ) in html
        assert f"Avoir{NNBSP}:" in html

    def test_a_plan_or_cycle_change_says_subscriptions(
        self, contact_client, account, billing_contact, purchase, django_capture_on_commit_callbacks
    ):
        subscription = purchase.lines.get().subscription
        order = change_seats(account, billing_contact, subscription, 10, cycle=BillingCycle.MONTHLY)
        assert order.invoice.is_credit_note
        html = contact_client.get(
            reverse("checkout:order_confirmation", args=[order.number])
        ).content.decode()
        assert "Your subscriptions are changed; a credit note of" in html

    def test_one_assign_seats_link_per_subscription_with_new_seats(
        self, contact_client, account, billing_contact, purchase, default_visa
    ):
        subscription = purchase.lines.get().subscription
        more = change_seats(account, billing_contact, subscription, 12, card=default_visa)
        html = contact_client.get(
            reverse("checkout:order_confirmation", args=[more.number])
        ).content.decode()
        assert html.count(reverse("subscriptions:seats", args=[subscription.pk])) == 1
        assert "Your new subscriptions are active" in html

    def test_the_invoices_list_shows_both(
        self, contact_client, billing_contact, purchase, decrease
    ):
        speak(billing_contact, "fr")
        html = contact_client.get(reverse("checkout:invoices")).content.decode()
        assert "INV-2026-000001" in html
        assert "CN-2026-000001" in html
        assert '<span class="badge badge--credit-note">Avoir</span>' in html
        assert html.index("CN-2026-000001") < html.index("INV-2026-000001")  # newest first

    def test_the_credit_note_page(self, contact_client, purchase, decrease):
        response = contact_client.get(reverse("checkout:invoice_detail", args=["CN-2026-000001"]))
        html = response.content.decode()
        assert "Credit note <span" in html
        assert "Corrected invoice:" in html
        assert reverse("checkout:invoice_detail", args=["INV-2026-000001"]) in html
        assert "Amount credited" in html
        assert "Total credited" in html
        # What is credited reads positive: the unused year, less the new period, VAT, total.
        for amount in ("€1,200.00", "-€480.00", "€720.00", "€144.00", "€864.00"):
            assert amount in html, amount
        assert "This credit note adds €864.00 to your account balance." in html
        assert "Pay now" not in html

    def test_the_credit_note_page_in_spanish(
        self, contact_client, billing_contact, purchase, decrease
    ):
        speak(billing_contact, "es")
        html = contact_client.get(
            reverse("checkout:invoice_detail", args=["CN-2026-000001"])
        ).content.decode()
        assert "Nota de crédito" in html
        assert "Factura rectificada" in html

    def test_nothing_to_pay_on_a_credit_note(self, contact_client, decrease):
        response = contact_client.get(reverse("checkout:pay_invoice", args=["CN-2026-000001"]))
        assert response.url == reverse("checkout:invoice_detail", args=["CN-2026-000001"])

    def test_the_invoice_page_keeps_its_issued_figures(self, contact_client, purchase):
        html = contact_client.get(
            reverse("checkout:invoice_detail", args=["INV-2026-000001"])
        ).content.decode()
        assert "€1,440.00" in html
        # Its state: who paid it and when, and that it owes nothing now.
        text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
        assert re.search(r"Paid on \d+ \w+ \d{4} by Visa •••• \d{4}\.", text), text[-1500:]
        assert "Amount due €0.00" in text


class TestEmails:
    def test_the_order_email_says_what_happened(self, account, purchase, decrease):
        mail.outbox.clear()
        send_order_confirmation_email.call(decrease.pk)
        (email,) = mail.outbox
        html = email.alternatives[0][0]
        for body in (email.body, html):
            assert "your seats are changed; a credit note of €864.00 is added" in body
            assert "new subscriptions are active" not in body
            assert "Added to your account balance" in body
            assert "Credit note:" in body
            assert "CN-2026-000001" in body
            assert "/seats/" not in body  # nothing to assign after a decrease
        assert "Added to your account balance: €864.00" in email.body

    def test_one_seats_link_per_subscription(
        self, account, billing_contact, purchase, default_visa
    ):
        subscription = purchase.lines.get().subscription
        more = change_seats(account, billing_contact, subscription, 12, card=default_visa)
        mail.outbox.clear()
        send_order_confirmation_email.call(more.pk)
        (email,) = mail.outbox
        seats = reverse("subscriptions:seats", args=[subscription.pk])
        assert email.body.count(seats) == 1
        assert email.alternatives[0][0].count(seats) == 1

    @pytest.mark.parametrize(
        ("language", "expected"),
        [
            ("fr", f"vos postes sont modifiés{NNBSP}; un avoir de 864,00\xa0€"),
            ("it", "nota di credito di 864,00\xa0€"),
        ],
    )
    def test_in_the_account_language(self, account, purchase, decrease, language, expected):
        account.language = language
        account.save()
        mail.outbox.clear()
        send_order_confirmation_email.call(decrease.pk)
        (email,) = mail.outbox
        assert expected in email.body
        assert expected in email.alternatives[0][0]


def test_the_subscription_is_changed_as_the_order_says(purchase, decrease):
    subscription = Subscription.objects.get(pk=decrease.lines.first().subscription_id)
    assert subscription.seat_count == 4
    with translation.override("en"):
        assert decrease.changes_seats_only
        assert decrease.lines_with_seats_to_assign == []
        assert [line.kind for line in purchase.lines_with_seats_to_assign] == ["new_subscription"]
