from django.core.management.base import BaseCommand

from checkout.invoices.documents import render_document_pdf, restate_document_pdf
from checkout.models import Invoice


class Command(BaseCommand):
    help = (
        "Render the stored PDF of issued invoices and credit notes again, as they are rendered "
        "now: Factur-X (PDF/A-3 with their EN 16931 XML) and their state. Run once after "
        "upgrading from a version whose PDFs carried no XML. What each document states does "
        "not change. With --missing: only the documents whose PDF was never rendered (PDFs "
        "are rendered when first downloaded; this renders the backlog off-peak)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="Only the documents of this year.")
        parser.add_argument(
            "--missing", action="store_true", help="Only the documents with no stored PDF."
        )

    def handle(self, *args, year=None, missing=False, **options):
        documents = Invoice.objects.order_by("pk").values_list("pk", flat=True)
        if year:
            documents = documents.filter(year=year)
        if missing:
            documents = documents.filter(pdf="")
        render = render_document_pdf if missing else restate_document_pdf
        count = 0
        for pk in documents.iterator():
            count += bool(render.call(pk))  # restating skips a PDF never rendered
        if missing:
            self.stdout.write(f"{count} documents rendered.")
        else:
            self.stdout.write(f"{count} documents rendered again.")
