"""The Billing information page (issue 11) by the STYLE checklist: it saves through the service
checkout uses, audits, applies to the next invoice only, and its extra recipients are copied on
the invoice emails."""

import re
from datetime import date

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing_center.models import AuditAction, AuditEvent
from checkout.billing import (
    BillingDetails,
    BillingInformationError,
    update_billing_information,
)
from checkout.billing_run.run import run_billing
from checkout.models import Invoice
from subscriptions.invoice_recipients import (
    MAX_INVOICE_CC_EMAILS,
    invoice_cc_problem,
    split_invoice_cc_emails,
)
from subscriptions.models import InvoiceCopyConsent, Portal
from subscriptions.vat import VAT_VALIDATION_METHOD
from tests.factories import PaymentMethodFactory, SubscriptionFactory, plan_with_prices

pytestmark = pytest.mark.django_db

URL = reverse("checkout:billing_information")
GERMAN_VAT = "DE136695976"  # valid (python-stdnum); reverse charge from the Irish seller


def confirm_each_link(outbox) -> list[str]:
    """Follow and confirm every invoice-copy link sent (as each address's owner would)."""
    confirmed = []
    for message in outbox:
        for link in re.findall(r"https?://\S+/invoice-copies/\S+/", message.body):
            path = link.split("://", 1)[1].split("/", 1)[1]
            response = Client().post(f"/{path}")
            assert response.status_code == 200
            confirmed += message.to
    return confirmed


def form_data(**overrides):
    return {
        "name": "Acme GmbH",
        "address_line1": "Unter den Linden 1",
        "address_line2": "",
        "postal_code": "10117",
        "city": "Berlin",
        "region": "",
        "country": "DE",
        "vat_number": "de 136 695 976",
        "invoice_cc_emails": "ap@acme.test\nBookkeeper@acme.test",
        **overrides,
    }


class TestPage:
    def test_shows_the_account_details_and_the_menu_entry(self, contact_client, account):
        account.invoice_cc_emails = ["ap@acme.test"]
        account.save()
        response = contact_client.get(URL)
        assert response.status_code == 200
        html = response.content.decode()
        assert f'value="{account.address_line1}"' in html
        assert "ap@acme.test</textarea>" in html
        assert f'href="{URL}" aria-current="page"' in html

    def test_saves_audits_and_shows_when_the_vat_number_was_validated(
        self, contact_client, account, billing_contact
    ):
        response = contact_client.post(URL, form_data())
        assert response.status_code == 302
        account.refresh_from_db()
        assert (account.name, account.city, account.country.code) == (
            "Acme GmbH",
            "Berlin",
            "DE",
        )
        assert account.vat_number == GERMAN_VAT
        assert account.vat_number_validated_at is not None
        assert account.vat_number_validation == VAT_VALIDATION_METHOD
        assert account.invoice_cc_emails == ["ap@acme.test", "Bookkeeper@acme.test"]
        details, recipients = AuditEvent.objects.filter(
            account=account, action=AuditAction.CHANGED
        ).order_by("pk")
        assert details.actor == billing_contact
        assert details.before["city"] == "Paris"
        assert details.after["city"] == "Berlin"
        assert details.after["vat_number"] == GERMAN_VAT
        assert recipients.before == {"invoice_cc_emails": ""}
        assert recipients.after == {"invoice_cc_emails": "ap@acme.test, Bookkeeper@acme.test"}
        page = contact_client.get(URL).content.decode()
        assert "Valid VAT number, checked on 22 November 2026." in page

    def test_saving_the_same_details_again_writes_no_event(self, contact_client, account):
        contact_client.post(URL, form_data())
        count = AuditEvent.objects.count()
        contact_client.post(URL, form_data())
        assert AuditEvent.objects.count() == count

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("vat_number", "DE000000000", "This is not a valid VAT number for Germany."),
            ("vat_number", "FR40303265045", "This is not a valid VAT number for Germany."),
            ("invoice_cc_emails", "ap@acme.test\nnot an email", "is not a valid email address"),
            ("invoice_cc_emails", "ap@acme.test, AP@acme.test", "is in the list twice"),
            (
                "invoice_cc_emails",
                " ".join(f"a{n}@acme.test" for n in range(MAX_INVOICE_CC_EMAILS + 1)),
                "Enter at most 5 addresses.",
            ),
            ("name", "", "This field is required."),
        ],
    )
    def test_bad_input_is_shown_and_changes_nothing(
        self, contact_client, account, field, value, message
    ):
        before = (account.name, account.vat_number, account.invoice_cc_emails)
        response = contact_client.post(URL, form_data(**{field: value}))
        assert response.status_code == 200
        html = response.content.decode()
        assert 'class="error-summary"' in html
        assert message in html.replace("&quot;", '"').replace("&#x27;", "'")
        account.refresh_from_db()
        assert (account.name, account.vat_number, account.invoice_cc_emails) == before
        assert not AuditEvent.objects.exists()

    def test_member_403_anonymous_login_put_405(self, client, member):
        assert client.get(URL).status_code == 302
        client.force_login(member)
        assert client.get(URL).status_code == 403
        assert client.put(URL).status_code == 405

    def test_a_corporate_account_is_sent_to_its_portal_then_uses_it_after_the_move(
        self, contact_client, account
    ):
        account.portal = Portal.CORPORATE
        account.save()
        response = contact_client.get(URL)
        assert response.status_code == 302
        assert response.url == reverse("corporate:subscriptions")
        # Changing the payment method moves it to the Billing Center for good (SPEC C.7).
        account.portal = Portal.BILLING_CENTER
        account.save()
        assert contact_client.get(URL).status_code == 200
        assert contact_client.post(URL, form_data()).status_code == 302
        account.refresh_from_db()
        assert account.city == "Berlin"

    def test_query_count(self, contact_client, django_assert_max_num_queries):
        # session, user + membership + account, cart count, quotes flag: no query per field.
        with django_assert_max_num_queries(8):
            assert contact_client.get(URL).status_code == 200


class TestRecipientsRule:
    def test_split_accepts_lines_commas_and_semicolons(self):
        assert split_invoice_cc_emails(" a@x.test,b@x.test;\n c@x.test ") == [
            "a@x.test",
            "b@x.test",
            "c@x.test",
        ]

    def test_the_service_refuses_what_the_form_refuses(self, account, billing_contact):
        billing = BillingDetails.of_account(account)
        with pytest.raises(BillingInformationError):
            update_billing_information(
                account=account,
                billing=billing,
                invoice_cc_emails=["x@x.test", "X@x.test"],
                actor=billing_contact,
            )
        account.refresh_from_db()
        assert account.invoice_cc_emails == []
        assert invoice_cc_problem([]) is None


@pytest.fixture
def renewing(account, billing_contact):
    """A monthly subscription on the default card whose period ends on Oct 22, then Nov 22."""
    PaymentMethodFactory(account=account, gateway_token="tok_sandbox_ok_bi", is_default=True)
    plan = plan_with_prices(monthly="10.00", annual="100.00")
    return SubscriptionFactory(
        account=account,
        plan=plan,
        cycle="monthly",
        seat_count=2,
        current_period_start=date(2026, 9, 22),
    )


class TestNextInvoice:
    def test_issued_invoices_keep_their_details_the_next_one_has_the_new_ones(
        self, contact_client, account, renewing, django_capture_on_commit_callbacks
    ):
        run_billing(today=date(2026, 10, 22))
        (issued,) = Invoice.objects.all()
        before = (issued.buyer_name, issued.buyer_address, issued.buyer_vat_number)
        assert issued.buyer_name == account.name

        with django_capture_on_commit_callbacks(execute=True):
            contact_client.post(URL, form_data())
        confirm_each_link(mail.outbox)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            run_billing(today=date(2026, 11, 22))

        issued.refresh_from_db()
        assert (issued.buyer_name, issued.buyer_address, issued.buyer_vat_number) == before
        latest = Invoice.objects.exclude(pk=issued.pk).get()
        assert latest.buyer_name == "Acme GmbH"
        assert "Berlin" in latest.buyer_address
        assert latest.buyer_vat_number == GERMAN_VAT
        assert latest.order.tax.amount == 0  # a valid German VAT number: reverse charge
        # …and its email went to the billing contact, copied to the extra recipients.
        (receipt,) = [m for m in mail.outbox if latest.number in m.subject]
        assert receipt.to == [account.memberships.get().user.email]
        assert receipt.cc == ["ap@acme.test", "Bookkeeper@acme.test"]


class TestInvoiceEmailsCopy:
    def test_order_confirmation_and_failed_payment_emails_are_copied(
        self, account, billing_contact, django_capture_on_commit_callbacks
    ):
        from checkout.emails import send_order_confirmation_email, send_payment_failed_email

        account.invoice_cc_emails = ["ap@acme.test", billing_contact.email.upper()]
        account.save()
        for address in account.invoice_cc_emails:
            InvoiceCopyConsent.objects.create(
                account=account, email=address, confirmed_at=timezone.now()
            )
        PaymentMethodFactory(
            account=account, gateway_token="tok_sandbox_card_declined_0341", is_default=True
        )
        plan = plan_with_prices(monthly="10.00", annual="100.00")
        SubscriptionFactory(
            account=account,
            plan=plan,
            cycle="monthly",
            seat_count=2,
            current_period_start=date(2026, 10, 22),
        )
        with django_capture_on_commit_callbacks(execute=True):
            run_billing(today=date(2026, 11, 22))
        invoice = Invoice.objects.get()
        (failed,) = [m for m in mail.outbox if invoice.number in m.subject]
        # The billing contact is not copied on what is already sent to them.
        assert (failed.to, failed.cc) == ([billing_contact.email], ["ap@acme.test"])
        mail.outbox.clear()
        send_order_confirmation_email.call(invoice.order_id)
        send_payment_failed_email.call(account.pk, [[invoice.pk, "card_declined"]])
        assert [m.cc for m in mail.outbox] == [["ap@acme.test"], ["ap@acme.test"]]

    def test_no_recipients_no_cc(
        self, account, billing_contact, renewing, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            run_billing(today=date(2026, 11, 22))
        assert mail.outbox
        assert all(m.cc == [] for m in mail.outbox)


class TestDoubleOptIn:
    """Issue 18: an invoice copy address gets documents only after it confirmed the one link
    sent to it (the cc list was a spam relay)."""

    def test_each_address_is_asked_once_and_copied_only_once_confirmed(
        self, contact_client, account, billing_contact, renewing, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            contact_client.post(URL, form_data(country="FR", vat_number=""))
        asks = list(mail.outbox)
        assert sorted(m.to[0] for m in asks) == ["Bookkeeper@acme.test", "ap@acme.test"]
        assert all("/invoice-copies/" in m.body for m in asks)
        assert all(m.cc == [] for m in asks)
        page = contact_client.get(URL).content.decode()
        assert page.count("Waiting for confirmation") == 2

        # Saving again (and again) sends no second link.
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            contact_client.post(URL, form_data(country="FR", vat_number=""))
            contact_client.post(URL, form_data(country="FR", vat_number=""))
        assert mail.outbox == []

        # Nothing goes to an address that did not confirm.
        with django_capture_on_commit_callbacks(execute=True):
            run_billing(today=date(2026, 10, 22))
        assert mail.outbox
        assert all(m.cc == [] for m in mail.outbox)

        # Opening the link confirms nothing (mail scanners follow links); confirming does.
        (ap_ask,) = [m for m in asks if m.to == ["ap@acme.test"]]
        link = re.search(r"https?://\S+(/invoice-copies/\S+/)", ap_ask.body).group(1)
        opened = Client().get(link)
        assert opened.status_code == 200
        assert "Acme GmbH" in opened.content.decode()
        assert not InvoiceCopyConsent.objects.filter(confirmed_at__isnull=False).exists()
        assert Client().post(link).status_code == 200
        assert Client().post(link[:-3] + "xx/").status_code == 404  # altered

        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            run_billing(today=date(2026, 11, 22))
        assert mail.outbox
        assert all(m.cc == ["ap@acme.test"] for m in mail.outbox)
        page = contact_client.get(URL).content.decode()
        assert page.count("Waiting for confirmation") == 1
        assert page.count("Confirmed") == 1

        # Removed from the list: its confirmation goes too, and so does its old link.
        with django_capture_on_commit_callbacks(execute=True):
            contact_client.post(URL, form_data(country="FR", vat_number="", invoice_cc_emails=""))
        assert not InvoiceCopyConsent.objects.exists()
        assert Client().post(link).status_code == 404
