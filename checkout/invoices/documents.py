"""The PDF of an issued document (an invoice or a credit note): rendered once, in the document's
language, after the transaction that issued it commits (`render_document_pdf`, a task that
`checkout.invoices.issuing.issue_invoice` enqueues), kept through Django's storage API
(`invoices/<year>/<number>.pdf` under MEDIA_ROOT by default) and served from there ever after.
An issued document never changes, so its PDF is never rendered again — unless the file is gone,
in which case the first one to need it renders it back."""

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import translation
from django_tasks import task

from billing_center.pdf import html_to_pdf
from checkout.models import Invoice
from checkout.selectors import invoices_for_display


def pdf_of(invoice: Invoice) -> bytes:
    """The document as a PDF (tagged, PDF/UA-1), in the language it was issued in."""
    with translation.override(invoice.language):
        html = render_to_string(
            "checkout/invoice_pdf.html", {"invoice": invoice, "order": invoice.order, "pdf": True}
        )
    return html_to_pdf(html)


def pdf_path(invoice: Invoice) -> str:
    return f"invoices/{invoice.year}/{invoice.pdf_filename}"


def store_document_pdf(*, invoice_id: int) -> str:
    """The name of the document's stored PDF, rendered and stored first if it is missing."""
    current = Invoice.objects.values_list("pdf", flat=True).get(pk=invoice_id)
    if current and default_storage.exists(current):
        return current
    invoice = invoices_for_display().get(pk=invoice_id)
    name = default_storage.save(pdf_path(invoice), ContentFile(pdf_of(invoice)))
    # Only the PDF's name is written to the row, and only if no one stored one meanwhile.
    if Invoice.objects.filter(pk=invoice_id, pdf=current).update(pdf=name):
        return name
    default_storage.delete(name)  # another worker's copy was kept first: serve that one
    return Invoice.objects.values_list("pdf", flat=True).get(pk=invoice_id)


def open_document_pdf(invoice: Invoice) -> File:
    """The stored PDF, open for reading; rendered again only if the storage lost it."""
    if invoice.pdf:
        try:
            return default_storage.open(invoice.pdf.name, "rb")
        except FileNotFoundError:
            pass
    return default_storage.open(store_document_pdf(invoice_id=invoice.pk), "rb")


@task()
def render_document_pdf(invoice_id: int) -> str:
    """Enqueued when a document is issued, on commit: its PDF is ready before anyone asks."""
    return store_document_pdf(invoice_id=invoice_id)
