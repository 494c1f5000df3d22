"""A seat decrease in French, in Chromium, on a phone and a laptop: the order is documented by a
credit note ("Avoir"), which the confirmation page, the credit note page and its PDF say in
French words; every page passes the audit (no sideways scroll, axe-core), and the PDF is tagged.

Acme first buys 3 more organizers (through the services, as the flow B test does in the
browser), so that its subscription has an invoice for the credit note to correct; then, the same
day, it goes down to 4 in the browser: the whole new year is credited, less 4 organizers.

Screenshots: test-artifacts/credit-note-fr-<width>-<page>.png, and the PDF beside them
(credit-note-fr-<width>.pdf, with a PNG of its first page when pdftoppm is installed).
"""

import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import call_command
from moneyed import Money
from playwright.sync_api import Browser, expect

from billing_center.models import User
from billing_center.money import format_money
from checkout.models import Invoice, InvoiceKind
from subscriptions.models import Subscription
from tests.e2e.audit import PageAudit
from tests.e2e.test_every_page import log_in, open_page
from tests.helpers import change_seats, pdf_facts

pytestmark = pytest.mark.django_db(transaction=True)

CENT = Decimal("0.01")
NNBSP = "\u202f"


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def euros(amount: Decimal) -> str:
    return format_money(Money(amount, "EUR"), "fr")


@pytest.mark.parametrize("width", [390, 1280])
def test_a_seat_decrease_reads_as_a_credit_note(
    browser: Browser, live_server, demo, screenshot_dir, width
):
    contact = User.objects.get(email="billing@acme.test")
    meeting = Subscription.objects.get(account__name="Acme SARL", product__slug="goto-meeting")
    account = meeting.account
    card = account.payment_methods.get(is_default=True)
    bought = change_seats(account, contact, meeting, 13, card=card)
    invoice = bought.invoice
    assert invoice.kind == InvoiceKind.INVOICE
    # The same day, 13 → 4: 13 seats' new year credited, 4 seats' charged, French VAT at 20 %.
    subtotal = 9 * meeting.unit_price.amount
    credited = subtotal + (subtotal * Decimal("0.20")).quantize(CENT, ROUND_HALF_UP)

    page = open_page(browser, "fr", width)
    audit = PageAudit(page, screenshot_dir, f"credit-note-fr-{width}")
    log_in(page, live_server, "billing@acme.test")
    page.goto(f"{live_server.url}/billing/subscriptions/{meeting.pk}/change/")
    page.get_by_label("Nombre de postes").fill("4")
    page.get_by_role("button", name="Ajouter au panier").click()
    expect(
        page.get_by_text("Rien n'est dû : aucun paiement n'est nécessaire pour cette commande.")
    ).to_be_visible()
    page.get_by_role("button", name="Passer la commande").click()

    confirmation = page.locator(".confirmation")
    expect(confirmation).to_contain_text(
        f"Vos postes sont modifiés{NNBSP}; un avoir de {euros(credited)} est ajouté à votre solde"
    )
    expect(confirmation).not_to_contain_text("nouveaux abonnements sont actifs")
    expect(confirmation).not_to_contain_text("Attribuer")  # fewer seats: nothing to assign
    audit.check("order-confirmation")

    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert note.corrects == invoice
    confirmation.get_by_role("link", name=note.number).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Avoir {note.number}")
    document = page.locator(".invoice")
    expect(document).to_contain_text(f"Facture d'origine{NNBSP}: {invoice.number}")
    expect(document).to_contain_text("Crédité à")
    expect(document).to_contain_text("Montant crédité")
    expect(document.get_by_role("row", name=f"Total crédité {euros(credited)}")).to_be_visible()
    expect(document).to_contain_text(
        f"Cet avoir ajoute {euros(credited)} au solde de votre compte."
    )
    expect(page.get_by_text("Crédité", exact=True)).to_be_visible()  # its status
    audit.check("credit-note")

    page.goto(f"{live_server.url}/billing/invoices/")
    row = page.locator("tbody tr").filter(has_text=note.number)
    expect(row.locator(".badge--credit-note")).to_have_text("Avoir")
    audit.check("invoices")

    # The PDF, rendered and stored by this first download, served as it was stored.
    response = page.request.get(f"{live_server.url}/billing/invoices/{note.number}/pdf/")
    assert response.status == 200
    pdf = response.body()
    note.refresh_from_db()
    assert note.pdf.name == f"invoices/{note.year}/{note.number}.pdf"
    with note.pdf.open("rb") as stored:
        assert stored.read() == pdf
    facts = pdf_facts(pdf)
    assert facts["tagged"]
    assert facts["pdf_ua"]
    assert facts["lang"] == "fr"
    assert facts["title"] == f"Avoir {note.number}"
    text = facts["text"]
    assert f"Avoir {note.number}" in text
    assert f"Facture d'origine{NNBSP}: {invoice.number}" in text
    assert f"Total crédité {euros(credited)}" in text
    assert "Facture CN" not in text
    saved = screenshot_dir / f"credit-note-fr-{width}.pdf"
    saved.write_bytes(pdf)
    if shutil.which("pdftoppm"):  # a picture of the PDF to look at, where poppler is installed
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-singlefile", str(saved), str(saved.with_suffix(""))],
            check=True,
        )
    page.context.close()
    audit.assert_clean()
