"""The PDF of an issued document (an invoice or a credit note), in the document's language:
rendered when it is first asked for (the PDF link, `open_document_pdf`), kept through Django's
storage API (`invoices/<year>/<number>.pdf` under MEDIA_ROOT by default) and served from there
afterwards. Nothing is rendered when a document is issued: most are never downloaded, and a
render costs the worker ~200 ms (issue 22). `render_documents --missing` (or the low-priority
`render_missing_documents` task) renders the backlog off-peak for those who want every PDF in
storage, a mail that attaches one calls `open_document_pdf` too.

What was fixed when it was issued never changes; its state does (paid later, lowered by a
credit note, voided: checkout.invoices.state), and then `restate_document_pdf` renders a stored
PDF again so that it says what the page says; a document with no stored PDF yet has nothing to
restate (its first download renders its state then). A file the storage lost is rendered back
by the first one to need it."""

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django_tasks import task

from billing_center.pdf import html_to_pdf
from checkout.invoices.einvoice import factur_x_file
from checkout.models import Invoice
from checkout.selectors import invoices_for_display


def pdf_of(invoice: Invoice) -> bytes:
    """The document as a Factur-X PDF (PDF/A-3a, tagged, claiming PDF/UA-1) in the language it
    was issued in, its EN 16931 XML embedded as factur-x.xml (checkout.invoices.einvoice)."""
    with translation.override(invoice.language):
        html = render_to_string(
            "checkout/invoice_pdf.html", {"invoice": invoice, "order": invoice.order, "pdf": True}
        )
    return html_to_pdf(html, embedded=factur_x_file(invoice))


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
    """The document's PDF stored, rendered first if it is missing (a retry keeps the stored
    copy)."""
    return store_document_pdf(invoice_id=invoice_id)


MISSING_BATCH = 200


@task(priority=-50)
def render_missing_documents(limit: int = MISSING_BATCH) -> int:
    """The backlog rendered off-peak, oldest first, `limit` documents per task (low priority:
    the worker takes every other task first); enqueue it from the nightly jobs, or run
    `render_documents --missing`. The number of documents rendered."""
    missing = Invoice.objects.filter(pdf="").order_by("pk").values_list("pk", flat=True)
    count = 0
    for pk in missing[:limit]:
        store_document_pdf(invoice_id=pk)
        count += 1
    return count


@task()
def restate_document_pdf(invoice_id: int) -> str:
    """Enqueued on commit when a document's state changes: its stored PDF rendered again,
    replacing the stored one (unless another render replaced it meanwhile: that one is as
    recent)."""
    invoice = invoices_for_display().get(pk=invoice_id)
    current = invoice.pdf.name if invoice.pdf else ""
    if not current:
        return ""  # never rendered: its first download renders its state then
    name = default_storage.save(pdf_path(invoice), ContentFile(pdf_of(invoice)))
    if Invoice.objects.filter(pk=invoice_id, pdf=current).update(pdf=name):
        if current and current != name:
            default_storage.delete(current)
        return name
    default_storage.delete(name)
    return Invoice.objects.values_list("pdf", flat=True).get(pk=invoice_id)


def document_state_changed(invoice_id: int) -> None:
    """Call in the transaction that paid, corrected or voided a document."""
    transaction.on_commit(lambda: restate_document_pdf.enqueue(invoice_id))
