"""HTML to PDF for every document the product prints (invoices, credit notes, quotes).

Tagged PDF/UA-1, as far as WeasyPrint takes it: a structure tree built from the HTML's headings,
paragraphs and tables (`<th scope>` included), the document's language from `<html lang>`, its
title from `<title>` shown as the window title. The template gives those; this function adds
nothing a document could forget.
"""

from django.conf import settings

PDF_VARIANT = "pdf/ua-1"


def html_to_pdf(html: str) -> bytes:
    # Imported on first use: loading WeasyPrint costs a process a second or more, and only the
    # task worker and the PDF views need it.
    from weasyprint import HTML

    return HTML(string=html, base_url=settings.SITE_URL + "/").write_pdf(pdf_variant=PDF_VARIANT)
