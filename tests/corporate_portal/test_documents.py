"""The corporate portal's invoices (a list of its own, the shared invoice page and PDF) and quote
PDFs, in the account's language, on both portals' quote pages (issue 11)."""

from datetime import date

import pytest
from django.urls import reverse
from moneyed import Money

from checkout.models import Invoice
from corporate_portal import services
from corporate_portal.models import QuoteStatus
from subscriptions.models import Portal
from tests.corporate_portal.test_portal import place, quote_for
from tests.factories import (
    InvoiceFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    plan_with_prices,
)
from tests.helpers import pdf_facts

pytestmark = pytest.mark.django_db

NNBSP = "\u202f"


@pytest.fixture
def corporate(account):
    account.portal = Portal.CORPORATE
    account.country = "US"
    account.currency = "USD"
    account.save()
    return account


@pytest.fixture
def card(corporate):
    return PaymentMethodFactory(
        account=corporate, gateway_token="tok_sandbox_ok_c", is_default=True
    )


@pytest.fixture
def webinar(corporate):
    """5 organizers at $1,344.00 a year until 2027-07-25: 245 of 365 days left on 2026-11-22."""
    plan = plan_with_prices(
        monthly="145.00", annual="1344.00", currency="USD", product__name="GoTo Webinar"
    )
    return SubscriptionFactory(
        account=corporate,
        plan=plan,
        seat_count=5,
        unit_price=Money("1344.00", "USD"),
        current_period_start=date(2026, 7, 25),
    )


@pytest.fixture
def client_(client, corporate, billing_contact):
    client.force_login(billing_contact)
    return client


@pytest.fixture
def invoiced(corporate, card, webinar, billing_contact, django_capture_on_commit_callbacks):
    """A service order processed by the worker: its invoice (no PDF rendered yet)."""
    service_order = place(corporate, webinar, card)
    with django_capture_on_commit_callbacks(execute=True):
        services.place_service_order(service_order=service_order, actor=billing_contact)
    service_order.refresh_from_db()
    return Invoice.objects.get(order=service_order.order)


class TestInvoices:
    def test_the_portal_links_to_the_pdf_its_first_download_stores(self, client_, invoiced):
        assert invoiced.pdf.name == ""
        html = client_.get(reverse("corporate:invoices")).content.decode()
        assert invoiced.number in html
        detail = reverse("checkout:invoice_detail", args=[invoiced.number])
        pdf = reverse("checkout:invoice_pdf", args=[invoiced.number])
        assert f'href="{detail}"' in html
        assert f'href="{pdf}"' in html
        response = client_.get(pdf)
        assert response.status_code == 200
        assert pdf_facts(response.content)["title"] == f"Invoice {invoiced.number}"
        invoiced.refresh_from_db()
        assert invoiced.pdf.name == f"invoices/2026/{invoiced.number}.pdf"

    def test_the_navigation_has_invoices(self, client_, invoiced):
        html = client_.get(reverse("corporate:invoices")).content.decode()
        url = reverse("corporate:invoices")
        assert f'<a href="{url}" aria-current="page">Invoices</a>' in html
        # The shared invoice page is the portal's too: its menu item and breadcrumb lead back.
        page = client_.get(reverse("checkout:invoice_detail", args=[invoiced.number]))
        html = page.content.decode()
        assert f'<a href="{url}" aria-current="page">Invoices</a>' in html
        assert f'<a href="{url}">Invoices</a> ›' in html

    def test_in_french(self, client_, corporate, invoiced):
        corporate.language = "fr"
        corporate.save()
        html = client_.get(reverse("corporate:invoices")).content.decode()
        assert "<h1>Factures</h1>" in html
        assert f"Télécharger {invoiced.number} (PDF)" in html

    def test_only_the_account_own_invoices(self, client_, corporate, invoiced, outsider):
        other = InvoiceFactory(order__account=outsider.membership.account, year=2025)
        html = client_.get(reverse("corporate:invoices")).content.decode()
        assert other.number not in html

    def test_empty(self, client_):
        assert "No invoice yet." in client_.get(reverse("corporate:invoices")).content.decode()

    def test_query_count(self, client_, invoiced, django_assert_num_queries):
        # session, user with membership + account, count, invoices + orders, their lines (the
        # descriptions), open invoices (the past-due banner)
        with django_assert_num_queries(6):
            client_.get(reverse("corporate:invoices"))

    def test_post_is_405(self, client_):
        assert client_.post(reverse("corporate:invoices")).status_code == 405


class TestQuotePdf:
    def test_download_from_the_quote_page(self, client_, corporate, card, webinar):
        quote = quote_for(corporate, webinar)
        html = client_.get(reverse("corporate:quote_detail", args=[quote.number])).content.decode()
        url = reverse("corporate:quote_pdf", args=[quote.number])
        assert f'href="{url}"' in html
        response = client_.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f'inline; filename="{quote.number}.pdf"'
        facts = pdf_facts(response.content)
        assert facts["tagged"]
        assert facts["pdf_ua"]
        assert facts["lang"] == "en"
        assert facts["title"] == f"Quote {quote.number}"
        assert {"/H1", "/Table", "/TH"} <= facts["structure"]
        assert "GoTo Webinar" in " ".join(facts["text"].split())
        assert "$1,804.27" in facts["text"]  # 2 × $1,344.00 × 245/365, co-termed
        text = " ".join(facts["text"].split())  # lines wrap where the page ends them
        assert "This quote can be accepted until 22 December 2026." in text

    def test_in_the_account_language_with_its_status_now(self, client_, corporate, card, webinar):
        corporate.language = "fr"
        corporate.save()
        first = quote_for(corporate, webinar)
        quote_for(corporate, webinar, seats=3, replace=True)
        first.refresh_from_db()
        assert first.status == QuoteStatus.REPLACED
        facts = pdf_facts(client_.get(reverse("corporate:quote_pdf", args=[first.number])).content)
        assert facts["lang"] == "fr"
        assert facts["title"] == f"Devis {first.number}"
        assert f"Statut{NNBSP}: Remplacé" in facts["text"]
        assert "ÉTABLI POUR" in facts["text"]  # a heading, in capitals
        assert "1\u202f804,27\xa0$US" in facts["text"] or "1 804,27" in facts["text"]
        assert "peut être accepté" not in facts["text"]  # no longer open

    def test_an_account_that_moved_downloads_it_in_the_billing_center(
        self, client, corporate, card, webinar, billing_contact
    ):
        quote = quote_for(corporate, webinar)
        corporate.portal = Portal.BILLING_CENTER
        corporate.save()
        client.force_login(billing_contact)
        page = client.get(reverse("billing_quotes:quote_detail", args=[quote.number]))
        url = reverse("billing_quotes:quote_pdf", args=[quote.number])
        assert f'href="{url}"' in page.content.decode()
        assert client.get(url).content.startswith(b"%PDF")

    def test_another_account_gets_404(self, client, corporate, card, webinar, outsider):
        quote = quote_for(corporate, webinar)
        outsider.membership.account.portal = Portal.CORPORATE
        outsider.membership.account.save()
        client.force_login(outsider)
        assert client.get(reverse("corporate:quote_pdf", args=[quote.number])).status_code == 404
