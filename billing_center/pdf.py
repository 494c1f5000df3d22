"""HTML to PDF for every document the product prints (invoices, credit notes, quotes).

Tagged PDF/UA-1, as far as WeasyPrint takes it: a structure tree built from the HTML's headings,
paragraphs and tables (`<th scope>` included), the document's language from `<html lang>`, its
title from `<title>` shown as the window title. The template gives those; this function adds
nothing a document could forget.

A document that carries a file (an invoice's Factur-X XML: checkout.invoices.einvoice) is a
PDF/A-3a instead — still tagged, and still claiming PDF/UA-1 in its XMP — with the file embedded
as an associated file and the caller's XMP descriptions added to the metadata.
"""

import base64
from dataclasses import dataclass

from django.conf import settings

PDF_VARIANT = "pdf/ua-1"
PDF_VARIANT_WITH_FILE = "pdf/a-3a"
PDF_UA_CLAIM = (
    '<rdf:Description xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/" rdf:about="" pdfuaid:part="1"/>'
)


@dataclass(frozen=True)
class EmbeddedFile:
    name: str
    content: bytes
    mime_type: str
    relationship: str  # the PDF/A-3 AFRelationship: "Alternative", "Data", "Source"…
    xmp: str = ""  # rdf:Description elements the metadata must carry for it


def html_to_pdf(html: str, *, embedded: EmbeddedFile | None = None) -> bytes:
    # Imported on first use: loading WeasyPrint costs a process a second or more, and only the
    # task worker and the PDF views need it.
    from weasyprint import HTML, Attachment

    document = HTML(string=html, base_url=settings.SITE_URL + "/").render()
    if embedded is None:
        return document.write_pdf(pdf_variant=PDF_VARIANT)
    _add_to_xmp(document.metadata, PDF_UA_CLAIM + embedded.xmp)
    data_url = f"data:{embedded.mime_type};base64,{base64.b64encode(embedded.content).decode()}"
    attachment = Attachment(url=data_url, name=embedded.name, relationship=embedded.relationship)
    return document.write_pdf(pdf_variant=PDF_VARIANT_WITH_FILE, attachments=[attachment])


def _add_to_xmp(metadata, descriptions: str) -> None:
    """WeasyPrint writes one rdf:RDF; the descriptions go inside it (one XMP packet)."""
    generate = metadata.generate_rdf_metadata

    def with_descriptions(*args, **kwargs):
        rdf = generate(*args, **kwargs)
        head, end, tail = rdf.rpartition(b"</rdf:RDF>")
        if not end:
            raise ValueError("WeasyPrint's XMP has no rdf:RDF to add to")
        return head + descriptions.encode() + end + tail

    metadata.generate_rdf_metadata = with_descriptions
