"""Invoice and credit note PDFs: rendered once, when first downloaded (never at issue: issue 22),
stored through Django's storage API and served from there (rendered again only if the file is
gone); tagged PDF/UA in the document's language (issue 11, issue 12)."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from checkout.invoices import documents
from checkout.invoices.payments import void_invoice
from checkout.models import Invoice, InvoiceStatus
from tests.factories import InvoiceFactory, OrderLineFactory
from tests.helpers import pdf_facts

pytestmark = pytest.mark.django_db

NNBSP = "\u202f"


def pdf_url(number: str) -> str:
    return reverse("checkout:invoice_pdf", args=[number])


@pytest.fixture
def renders(monkeypatch):
    """Counts WeasyPrint renders of documents."""
    calls = []
    real = documents.html_to_pdf

    def counting(html, **options):
        calls.append(html)
        return real(html, **options)

    monkeypatch.setattr(documents, "html_to_pdf", counting)
    return calls


@pytest.fixture
def no_render(monkeypatch):
    def refuse(html, **options):
        raise AssertionError("rendered again")

    monkeypatch.setattr(documents, "html_to_pdf", refuse)


@pytest.fixture
def stored_note(purchase, decrease):
    """The credit note, its PDF downloaded once already (stored)."""
    note = Invoice.objects.get(number="CN-2026-000001")
    documents.store_document_pdf(invoice_id=note.pk)
    note.refresh_from_db()
    return note


class TestStoredOnce:
    def test_issuing_renders_nothing(self, purchase, decrease, renders):
        # `decrease` ran its on-commit work (the email): still no PDF rendered or stored.
        assert renders == []
        assert set(Invoice.objects.values_list("pdf", flat=True)) == {""}
        assert not default_storage.exists("invoices/2026/CN-2026-000001.pdf")

    def test_the_first_download_renders_and_stores_it(self, contact_client, purchase, renders):
        first = contact_client.get(pdf_url("INV-2026-000001"))
        assert first.status_code == 200
        assert first.content.startswith(b"%PDF")
        assert len(renders) == 1
        invoice = Invoice.objects.get(number="INV-2026-000001")
        assert invoice.pdf.name == "invoices/2026/INV-2026-000001.pdf"
        with default_storage.open(invoice.pdf.name) as stored:
            assert stored.read() == first.content

    def test_served_from_storage_and_never_rendered_again(
        self, contact_client, stored_note, no_render
    ):
        with default_storage.open(stored_note.pdf.name) as stored:
            expected = stored.read()
        response = contact_client.get(pdf_url("CN-2026-000001"))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'inline; filename="CN-2026-000001.pdf"'
        assert response["Cache-Control"] == "private, no-store"
        assert response.content == expected
        # The render task (a retry, the backlog) keeps the stored copy.
        assert documents.render_document_pdf.call(stored_note.pk) == stored_note.pdf.name

    def test_a_state_change_restates_only_a_stored_pdf(
        self, purchase, stored_note, renders, django_capture_on_commit_callbacks
    ):
        invoice = purchase.invoice
        Invoice.objects.filter(pk=invoice.pk).update(
            status=InvoiceStatus.OPEN, paid_at=None, amount_due=purchase.total
        )
        with django_capture_on_commit_callbacks(execute=True):
            void_invoice(invoice=invoice, actor=None)
        # Never downloaded: nothing to restate; its first download renders it void.
        assert renders == []
        assert Invoice.objects.get(pk=invoice.pk).pdf.name == ""
        # A stored one is rendered again, replacing it.
        restated = documents.restate_document_pdf.call(stored_note.pk)
        assert restated == Invoice.objects.get(pk=stored_note.pk).pdf.name
        assert not default_storage.exists(stored_note.pdf.name)
        assert len(renders) == 1

    def test_the_backlog_task_renders_what_nobody_asked_for(self, purchase, stored_note, renders):
        assert documents.render_missing_documents.call() == 1  # the invoice; the note is stored
        assert len(renders) == 1
        assert Invoice.objects.filter(pdf="").count() == 0
        assert documents.render_missing_documents.call() == 0
        assert documents.render_missing_documents.priority < 0  # after every other task

    def test_the_command_renders_the_missing_ones(self, purchase, stored_note, renders):
        from io import StringIO

        from django.core.management import call_command

        out = StringIO()
        call_command("render_documents", "--missing", stdout=out)
        assert out.getvalue().strip() == "1 documents rendered."
        assert len(renders) == 1

    def test_an_invoice_paid_or_voided_later_keeps_its_pdf(
        self, contact_client, purchase, no_render
    ):
        invoice = purchase.invoice
        default_storage.save("invoices/2026/INV-2026-000001.pdf", ContentFile(b"%PDF issued"))
        Invoice.objects.filter(pk=invoice.pk).update(pdf="invoices/2026/INV-2026-000001.pdf")
        Invoice.objects.filter(pk=invoice.pk).update(
            status=InvoiceStatus.OPEN, paid_at=None, amount_due=purchase.total
        )
        void_invoice(invoice=invoice, actor=None)
        assert contact_client.get(pdf_url("INV-2026-000001")).content == b"%PDF issued"

    def test_rendered_again_only_when_missing(self, contact_client, purchase, renders):
        # Issued before stored PDFs existed, or the storage lost it: the first request renders it.
        first = contact_client.get(pdf_url("INV-2026-000001"))
        assert first.content.startswith(b"%PDF")
        assert len(renders) == 1
        invoice = Invoice.objects.get(number="INV-2026-000001")
        assert invoice.pdf.name == "invoices/2026/INV-2026-000001.pdf"
        contact_client.get(pdf_url("INV-2026-000001"))
        assert len(renders) == 1
        default_storage.delete(invoice.pdf.name)
        again = contact_client.get(pdf_url("INV-2026-000001"))
        assert again.content.startswith(b"%PDF")
        assert len(renders) == 2
        assert default_storage.exists("invoices/2026/INV-2026-000001.pdf")

    def test_two_workers_at_once_keep_one_copy(self, purchase, monkeypatch):
        invoice = purchase.invoice
        real = documents.pdf_of

        def other_worker_stores_first(document):
            name = default_storage.save(documents.pdf_path(document), ContentFile(b"%PDF first"))
            Invoice.objects.filter(pk=document.pk).update(pdf=name)
            return real(document)

        monkeypatch.setattr(documents, "pdf_of", other_worker_stores_first)
        name = documents.store_document_pdf(invoice_id=invoice.pk)
        assert name == "invoices/2026/INV-2026-000001.pdf"
        with default_storage.open(name) as stored:
            assert stored.read() == b"%PDF first"
        assert default_storage.listdir("invoices/2026")[1] == ["INV-2026-000001.pdf"]

    def test_the_pdf_view_is_one_query_past_the_page_guard(
        self, contact_client, stored_note, django_assert_num_queries
    ):
        # session, user with membership + account, the credit note's number and stored file
        with django_assert_num_queries(3):
            response = contact_client.get(pdf_url("CN-2026-000001"))
        assert response.status_code == 200

    def test_another_account_gets_404_and_a_member_403(
        self, client, outsider, member, purchase, decrease
    ):
        client.force_login(outsider)
        assert client.get(pdf_url("CN-2026-000001")).status_code == 404
        client.force_login(member)
        assert client.get(pdf_url("CN-2026-000001")).status_code == 403


class TestTaggedAndInTheDocumentsLanguage:
    def test_a_french_credit_note(self, account, purchase, decrease):
        note = decrease.invoice
        Invoice.objects.filter(pk=note.pk).update(language="fr")
        facts = pdf_facts(documents.pdf_of(Invoice.objects.get(pk=note.pk)))
        assert facts["tagged"]
        assert facts["pdf_ua"]
        assert facts["lang"] == "fr"
        assert facts["title"] == "Avoir CN-2026-000001"
        assert facts["display_title"]
        assert {"/H1", "/H2", "/Table", "/THead", "/TH", "/TD"} <= facts["structure"]
        text = facts["text"]
        assert "Avoir CN-2026-000001" in text
        assert "Facture d'origine" in text
        assert "INV-2026-000001" in text
        assert "MONTANT CRÉDITÉ" in text  # a column header, in capitals
        assert "Total crédité" in text
        assert "864,00" in text
        assert "Facture INV" not in text

    def test_an_italian_invoice(self, account, purchase):
        Invoice.objects.filter(pk=purchase.invoice.pk).update(language="it")
        facts = pdf_facts(documents.pdf_of(Invoice.objects.get(pk=purchase.invoice.pk)))
        assert facts["tagged"]
        assert facts["lang"] == "it"
        assert facts["title"] == "Fattura INV-2026-000001"
        assert "Netto a pagare" in facts["text"]
        assert "1.440,00" in facts["text"]

    def test_a_spanish_credit_note_served_by_the_view(
        self, contact_client, account, purchase, decrease
    ):
        note = decrease.invoice
        Invoice.objects.filter(pk=note.pk).update(language="es", pdf="")
        facts = pdf_facts(contact_client.get(pdf_url(note.number)).content)
        assert facts["lang"] == "es"
        assert facts["title"] == "Nota de crédito CN-2026-000001"
        assert "Factura rectificada" in facts["text"]
        assert "Total abonado" in facts["text"]

    def test_a_line_of_another_kind_still_renders(self, account):
        invoice = InvoiceFactory(order__account=account, language="en")
        OrderLineFactory(order=invoice.order, kind="added_seats")
        facts = pdf_facts(documents.pdf_of(invoice))
        assert facts["title"] == f"Invoice {invoice.number}"
        assert "Seats added until the next billing date" in " ".join(facts["text"].split())
