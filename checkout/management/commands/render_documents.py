from django.core.management.base import BaseCommand

from checkout.invoices.documents import restate_document_pdf
from checkout.models import Invoice


class Command(BaseCommand):
    help = (
        "Render the stored PDF of issued invoices and credit notes again, as they are rendered "
        "now: Factur-X (PDF/A-3 with their EN 16931 XML) and their state. Run once after "
        "upgrading from a version whose PDFs carried no XML. What each document states does "
        "not change."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="Only the documents of this year.")

    def handle(self, *args, year=None, **options):
        documents = Invoice.objects.order_by("pk").values_list("pk", flat=True)
        if year:
            documents = documents.filter(year=year)
        count = 0
        for pk in documents.iterator():
            restate_document_pdf.call(pk)
            count += 1
        self.stdout.write(f"{count} documents rendered again.")
