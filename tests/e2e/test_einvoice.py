"""E-invoices in Chromium (issue 19): the Billing information page takes the buyer identifiers
of the account's country (a SIREN in French at 390 px; a codice fiscale and a Codice
Destinatario in Italian at 1280 px) and a purchase order number; an order placed at checkout
carries it; its invoice page offers the PDF and the XML, and the downloaded PDF carries
factur-x.xml with the identifiers, the purchase order and its state."""

from io import BytesIO

import pytest
from django.core.management import call_command
from facturx import get_facturx_xml_from_pdf, xml_check_xsd
from playwright.sync_api import Page, expect

from billing_center.models import User
from checkout.models import Order
from subscriptions.models import Account
from tests.e2e.audit import PageAudit
from tests.e2e.cards import type_card
from tests.einvoicing import en16931_failures
from tests.helpers import pdf_facts

pytestmark = pytest.mark.django_db(transaction=True)

CASES = {
    "fr": {
        "width": 390,
        "fields": {"#id_legal_identifier": "732 829 320"},
        "identifier": "732829320",
        "save": "Enregistrer les informations de facturation",
        "buy": "Acheter GoTo Training",
        "next": "Suivant",
        "checkout": "Passer à la caisse",
        "place": "Passer la commande",
        "xml": "Télécharger la facture électronique (XML)",
        "po_label": "Bon de commande\u202f:",
        "id_label": "SIREN ou SIRET\u202f:",
        "paid": "Payée le",
    },
    "it": {
        "width": 1280,
        "fields": {
            "#id_country": "IT",
            "#id_postal_code": "20121",
            "#id_city": "Milano",
            "#id_legal_identifier": "RCCMNL83S18D969H",
            "#id_sdi_code": "abc1234",
        },
        "identifier": "RCCMNL83S18D969H",
        "save": "Salva le informazioni di fatturazione",
        "buy": "Acquista GoTo Training",
        "next": "Avanti",
        "checkout": "Completa transazione",
        "place": "Effettua ordine",
        "xml": "Scarica la fattura elettronica (XML)",
        "po_label": "Ordine d'acquisto:",
        "id_label": "Codice fiscale:",
        "paid": "Pagata il",
    },
}


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.mark.parametrize("language", ["fr", "it"])
def test_identifiers_and_a_purchase_order_reach_the_factur_x_invoice(
    page: Page, live_server, demo, screenshot_dir, language
):
    case = CASES[language]
    page.set_viewport_size({"width": case["width"], "height": 900})
    audit = PageAudit(
        page=page, screenshot_dir=screenshot_dir, prefix=f"einvoice-{language}-{case['width']}"
    )
    Account.objects.filter(name="Acme SARL").update(language=language)
    User.objects.filter(email="billing@acme.test").update(language=language)
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill("billing@acme.test")
    page.locator("#id_password").fill("demo-pass-2026")
    page.locator("main button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", language)

    # Nonsense first: refused with a message, nothing kept.
    page.goto(f"{live_server.url}/billing/billing-information/")
    page.locator("#id_legal_identifier").fill("123")
    page.get_by_role("button", name=case["save"]).click()
    expect(page.locator("#id_legal_identifier")).to_have_attribute("aria-invalid", "true")
    audit.check("identifier-refused")
    assert Account.objects.get(name="Acme SARL").legal_identifier == ""

    for selector, value in case["fields"].items():
        if selector == "#id_country":
            page.locator(selector).select_option(value)
        else:
            page.locator(selector).fill(value)
    page.locator("#id_purchase_order").fill("PO-2026-17")
    page.get_by_role("button", name=case["save"]).click()
    expect(page.locator(".message--success")).to_be_visible()
    audit.check("identifiers-saved")
    acme = Account.objects.get(name="Acme SARL")
    assert (acme.legal_identifier, acme.purchase_order) == (case["identifier"], "PO-2026-17")

    # An order at checkout, its own purchase order number in place of the default.
    page.goto(f"{live_server.url}/billing/add/")
    page.get_by_role("link", name=case["buy"]).click()
    page.get_by_role("button", name=case["next"]).click()
    page.locator("main form button[type=submit].button--primary").click()
    expect(page.locator("#id_purchase_order")).to_have_value("PO-2026-17")
    page.locator("#id_purchase_order").fill("PO-2026-18")
    page.locator("input[name=payment][value=new]").check()
    type_card(page, "4242 4242 4242 4242", "Camille Laurent")
    audit.check("checkout")
    page.get_by_role("button", name=case["place"]).click()
    expect(page.locator(".confirmation")).to_be_visible()
    order = Order.objects.get(account=acme)
    assert order.purchase_order == "PO-2026-18"
    assert Account.objects.get(pk=acme.pk).purchase_order == "PO-2026-17"  # the default stays

    number = order.invoice.number
    page.goto(f"{live_server.url}/billing/invoices/{number}/")
    expect(page.locator("[data-purchase-order]")).to_contain_text("PO-2026-18")
    expect(page.locator("[data-legal-identifier]")).to_contain_text(case["identifier"])
    expect(page.get_by_role("link", name=case["xml"])).to_be_visible()
    audit.check("invoice")
    with page.expect_download() as download:
        page.get_by_role("link", name=case["xml"]).click()
    xml = open(download.value.path(), "rb").read()  # noqa: SIM115
    assert en16931_failures(xml) == []

    pdf = page.request.get(f"{live_server.url}/billing/invoices/{number}/pdf/").body()
    name, embedded = get_facturx_xml_from_pdf(BytesIO(pdf))
    assert name == "factur-x.xml"
    assert xml_check_xsd(embedded, flavor="factur-x", level="en16931")
    assert b"PO-2026-18" in embedded
    assert case["identifier"].encode() in embedded
    # The PDF's text, spaces as one (its narrow no-break spaces read as spaces there).
    text = " ".join(pdf_facts(pdf)["text"].replace("\u202f", " ").split())
    po_label, id_label = (case[key].replace("\u202f", " ") for key in ("po_label", "id_label"))
    assert f"{po_label} PO-2026-18" in text
    assert f"{id_label} {case['identifier']}" in text
    assert case["paid"] in text
    audit.assert_clean()
