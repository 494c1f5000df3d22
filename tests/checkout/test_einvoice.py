"""Every invoice and credit note is an EN 16931 e-invoice (issue 19): its CII XML passes
Factur-X's XSD and the official EN 16931 business rules (../shared/einvoicing/, run with
Saxon-HE: 0 fatal failed asserts), says the document's own figures, and rides in its PDF as
factur-x.xml. Documents of every kind are made through the real services."""

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from facturx import get_facturx_xml_from_pdf, xml_check_xsd
from lxml import etree
from moneyed import Money

from catalog.models import BillingCycle
from checkout.billing_run.run import run_billing
from checkout.cancellation import cancel_suspended_now
from checkout.invoices.documents import pdf_of
from checkout.invoices.einvoice import cii_xml
from checkout.invoices.payments import void_invoice
from checkout.models import Invoice, InvoiceKind, InvoiceStatus
from corporate_portal import services as corporate
from subscriptions.ledger import move_credit
from subscriptions.models import CreditKind, Portal, Role
from tests.einvoicing import EINVOICING, en16931_failures
from tests.factories import (
    AccountFactory,
    MembershipFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    plan_with_prices,
)
from tests.helpers import buy, change_seats, pdf_facts

pytestmark = pytest.mark.django_db

DUBLIN = ZoneInfo("Europe/Dublin")
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}


def contact_of(account):
    return MembershipFactory(account=account, role=Role.BILLING_CONTACT).user


def card_of(account, token=None):
    token = token or f"tok_sandbox_ok_einvoice_{account.pk}"
    return PaymentMethodFactory(account=account, gateway_token=token, is_default=True)


def plan(currency="EUR"):
    return plan_with_prices(monthly="10.00", annual="120.00", currency=currency)


def text(xml: bytes, path: str) -> list[str]:
    return [node.text for node in etree.fromstring(xml).iterfind(path, NS)]


def amount(xml: bytes, name: str) -> Decimal:
    (value,) = text(xml, f".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:{name}")
    return Decimal(value)


def check(invoice: Invoice) -> bytes:
    """The document's XML: valid against the XSD and the EN 16931 rules, with its figures."""
    invoice = Invoice.objects.select_related("order", "corrects").get(pk=invoice.pk)
    xml = cii_xml(invoice)
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert en16931_failures(xml) == [], invoice.number
    order = invoice.order
    sign = -1 if invoice.is_credit_note else 1
    assert amount(xml, "GrandTotalAmount") == sign * order.total.amount
    assert amount(xml, "TaxTotalAmount") == sign * order.tax.amount
    assert amount(xml, "LineTotalAmount") == sign * order.subtotal.amount
    lines = [
        Decimal(value)
        for value in text(
            xml,
            ".//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
        )
    ]
    assert lines == [sign * line.amount.amount for line in order.lines.order_by("pk")]
    (type_code,) = text(xml, ".//rsm:ExchangedDocument/ram:TypeCode")
    assert type_code == ("381" if invoice.is_credit_note else "380")
    return xml


def test_the_validator_passes_the_official_example_and_bites_on_a_broken_document(
    account, billing_contact
):
    assert en16931_failures((EINVOICING / "CII_example1.xml").read_bytes()) == []
    order = buy(account, billing_contact, plan(), 3, card_of(account))
    xml = check(order.invoice)
    # The grand total no longer the tax-exclusive total plus the VAT (BR-CO-15).
    broken = xml.replace(b"<ram:GrandTotalAmount>", b"<ram:GrandTotalAmount>1", 1)
    assert any(failure.startswith("BR-CO-15") for failure in en16931_failures(broken))


def test_a_french_purchase_paid_by_card(account, billing_contact):
    order = buy(account, billing_contact, plan(), 3, card_of(account))
    xml = check(order.invoice)
    assert text(xml, ".//ram:ApplicableTradeTax/ram:CategoryCode")[-1] == "S"
    assert text(xml, ".//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["48"]
    assert amount(xml, "DuePayableAmount") == 0  # paid when issued
    # The billing period of each line (BT-134/135) and the payment terms' due date (BT-9).
    assert text(xml, ".//ram:BillingSpecifiedPeriod/ram:StartDateTime/*") == ["20261122"]
    assert text(xml, ".//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/*") == ["20261122"]


def test_a_seat_change_both_ways(account, billing_contact):
    card = card_of(account)
    order = buy(account, billing_contact, plan(), 10, card)
    subscription = order.lines.get().subscription
    more = change_seats(account, billing_contact, subscription, 12, card=card)
    assert more.total.amount > 0
    xml = check(more.invoice)  # the credit for the unused time: a line of negative seats
    assert "-10" in text(xml, ".//ram:BilledQuantity")
    fewer = change_seats(account, billing_contact, subscription, 4, card=card)
    assert fewer.invoice.is_credit_note
    xml = check(fewer.invoice)
    assert text(xml, ".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == [
        more.invoice.number
    ]


def test_renewals_paid_then_declined_then_a_suspended_cancellation_and_a_void(account):
    card = card_of(account, "tok_sandbox_card_declined_0341")
    SubscriptionFactory(
        account=account,
        plan=plan(),
        cycle=BillingCycle.MONTHLY,
        seat_count=2,
        unit_price=Money("10.00", "EUR"),
        current_period_start=date(2026, 11, 3),
    )
    for day in (date(2026, 12, 3), date(2026, 12, 6), date(2026, 12, 8), date(2026, 12, 10)):
        run_billing(today=day)
    invoice = Invoice.objects.get(status=InvoiceStatus.OPEN)
    xml = check(invoice)
    assert amount(xml, "DuePayableAmount") == invoice.amount_due.amount  # open: all of it due
    subscription = invoice.order.lines.get().subscription
    cancel_suspended_now(subscription=subscription, actor=None, today=date(2026, 12, 20))
    invoice.refresh_from_db()
    xml = check(invoice)
    assert amount(xml, "DuePayableAmount") == invoice.amount_due.amount  # after the credit note
    check(Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE))
    void_invoice(invoice=invoice, actor=None)
    assert amount(check(invoice), "DuePayableAmount") == 0
    assert card.pk


def test_reverse_charge_for_a_german_business(billing_contact):
    account = AccountFactory(country="DE", vat_number="DE136695976", city="Berlin")
    order = buy(account, contact_of(account), plan(), 2, card_of(account))
    xml = check(order.invoice)
    assert text(xml, ".//ram:ApplicableTradeTax/ram:CategoryCode")[-1] == "AE"
    assert text(xml, ".//ram:ApplicableTradeTax/ram:ExemptionReasonCode") == ["VATEX-EU-AE"]
    assert "DE136695976" in text(xml, ".//ram:BuyerTradeParty//ram:ID")


def test_irish_vat_for_an_irish_customer_and_nothing_for_an_american_one():
    irish = AccountFactory(country="IE", city="Cork", postal_code="T12")
    check(buy(irish, contact_of(irish), plan(), 2, card_of(irish)).invoice)
    american = AccountFactory(country="US", currency="USD", city="Springfield", region="OR")
    xml = check(buy(american, contact_of(american), plan("USD"), 2, card_of(american)).invoice)
    assert text(xml, ".//ram:ApplicableTradeTax/ram:CategoryCode")[-1] == "O"
    assert text(xml, ".//ram:InvoiceCurrencyCode") == ["USD"]


def test_a_zero_total_paid_by_the_credit_balance(account, billing_contact):
    move_credit(account=account, amount=Money("1000.00", "EUR"), kind=CreditKind.OTHER)
    order = buy(account, billing_contact, plan(), 2, card_of(account))
    assert order.amount_charged.amount == 0
    xml = check(order.invoice)
    assert amount(xml, "TotalPrepaidAmount") == order.total.amount
    assert amount(xml, "DuePayableAmount") == 0


def test_a_corporate_service_order(django_capture_on_commit_callbacks):
    account = AccountFactory(portal=Portal.CORPORATE, country="US", currency="USD")
    card = card_of(account)
    webinar = SubscriptionFactory(
        account=account,
        plan=plan_with_prices(monthly="145.00", annual="1344.00", currency="USD"),
        seat_count=5,
        unit_price=Money("1344.00", "USD"),
        current_period_start=date(2026, 7, 25),
    )
    quote = corporate.create_quote(
        account=account,
        requests=[corporate.SeatRequest(webinar.pk, 2)],
        actor=None,
        replace_open=False,
        today=date(2026, 11, 22),
    )
    service_order = corporate.save_service_order(
        quote=quote,
        details=corporate.PaymentDetails(
            admin_contact_name="Ada Admin",
            admin_contact_email="ada@globex.test",
            payment_method=card,
            billing=corporate.BillingDetails.of_account(account),
        ),
        actor=None,
    )
    with django_capture_on_commit_callbacks(execute=True):
        corporate.place_service_order(service_order=service_order, actor=None)
    check(Invoice.objects.get(account=account))


def test_the_pdf_carries_it_and_the_page_offers_it(
    account, billing_contact, contact_client, django_capture_on_commit_callbacks
):
    order = buy(account, billing_contact, plan(), 3, card_of(account))
    pdf = pdf_of(order.invoice)
    name, xml = get_facturx_xml_from_pdf(BytesIO(pdf))
    assert name == "factur-x.xml"
    assert xml == cii_xml(Invoice.objects.get(pk=order.invoice.pk))
    facts = pdf_facts(pdf)
    assert facts["tagged"]
    assert facts["pdf_ua"]  # still claimed, beside PDF/A-3a
    assert facts["lang"] == "en"

    with time_machine.travel(datetime(2026, 11, 22, 10, tzinfo=DUBLIN)):
        page = contact_client.get(reverse("checkout:invoice_detail", args=[order.invoice.number]))
        url = reverse("checkout:invoice_xml", args=[order.invoice.number])
        assert url in page.content.decode()
        response = contact_client.get(url)
    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"] == f'attachment; filename="{order.invoice.number}.xml"'
    assert en16931_failures(response.content) == []


def test_another_account_cannot_download_it(account, billing_contact, client):
    order = buy(account, billing_contact, plan(), 3, card_of(account))
    stranger = AccountFactory()
    client.force_login(contact_of(stranger))
    response = client.get(reverse("checkout:invoice_xml", args=[order.invoice.number]))
    assert response.status_code == 404


def test_a_document_without_lines_is_printed_without_its_xml(account, billing_contact, client):
    from tests.factories import InvoiceFactory

    invoice = InvoiceFactory(order__account=account)  # set up by hand: no order line
    pdf = pdf_of(invoice)
    assert pdf_facts(pdf)["tagged"]
    assert get_facturx_xml_from_pdf(BytesIO(pdf)) == (False, False)  # no factur-x.xml
    client.force_login(billing_contact)
    with time_machine.travel(datetime(2026, 11, 22, 10, tzinfo=DUBLIN)):
        response = client.get(reverse("checkout:invoice_xml", args=[invoice.number]))
    assert response.status_code == 404


class TestBuyerIdentifiersAndPurchaseOrders:
    """Issue 19: what a French, Italian or Spanish buyer's accounts payable route on, validated
    offline, printed on the invoice and carried in its XML."""

    URL = reverse("checkout:billing_information")

    def form(self, **overrides):
        return {
            "name": "Acme SARL",
            "address_line1": "1 rue de Rivoli",
            "address_line2": "",
            "postal_code": "75001",
            "city": "Paris",
            "region": "",
            "country": "FR",
            "vat_number": "",
            "legal_identifier": "",
            "sdi_code": "",
            "pec": "",
            "purchase_order": "",
            "invoice_cc_emails": "",
            **overrides,
        }

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            ({"legal_identifier": "732 829 321"}, "legal_identifier", "valid SIREN"),
            ({"legal_identifier": "12345"}, "legal_identifier", "valid SIREN"),
            (
                {"country": "IT", "postal_code": "20121", "legal_identifier": "RCCMNL83S18D969X"},
                "legal_identifier",
                "valid codice fiscale",
            ),
            ({"country": "IT", "postal_code": "20121", "sdi_code": "ABC"}, "sdi_code", "7"),
            ({"country": "IT", "postal_code": "20121", "pec": "not an address"}, "pec", "PEC"),
            ({"sdi_code": "ABC1234"}, "sdi_code", "Only for a buyer in Italy"),
            (
                {"country": "ES", "postal_code": "28001", "legal_identifier": "B5837843X"},
                "legal_identifier",
                "NIF",
            ),
            ({"purchase_order": "P" * 36}, "purchase_order", "at most 35"),
        ],
    )
    def test_nonsense_is_refused_and_nothing_changes(
        self, contact_client, account, overrides, field, message
    ):
        before = (account.legal_identifier, account.sdi_code, account.purchase_order)
        with time_machine.travel(datetime(2026, 11, 22, 10, tzinfo=DUBLIN)):
            response = contact_client.post(self.URL, self.form(**overrides))
        assert response.status_code == 200
        assert message in str(response.context["form"].errors[field])
        account.refresh_from_db()
        assert (account.legal_identifier, account.sdi_code, account.purchase_order) == before

    def test_a_french_siren_and_a_default_purchase_order_reach_the_invoice(
        self, contact_client, account, billing_contact
    ):
        with time_machine.travel(datetime(2026, 11, 22, 10, tzinfo=DUBLIN)):
            response = contact_client.post(
                self.URL, self.form(legal_identifier="732 829 320", purchase_order=" PO-2026 / 17 ")
            )
        assert response.status_code == 302
        account.refresh_from_db()
        assert (account.legal_identifier, account.purchase_order) == ("732829320", "PO-2026 / 17")
        order = buy(account, billing_contact, plan(), 3, card_of(account))
        assert order.purchase_order == "PO-2026 / 17"
        invoice = Invoice.objects.get(pk=order.invoice.pk)
        assert invoice.buyer_legal_identifier == "732829320"
        xml = check(invoice)
        assert text(xml, ".//ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID") == [
            "PO-2026 / 17"
        ]
        assert text(xml, ".//ram:BuyerReference") == ["PO-2026 / 17"]
        (legal,) = etree.fromstring(xml).iterfind(
            ".//ram:BuyerTradeParty/ram:SpecifiedLegalOrganization/ram:ID", NS
        )
        assert (legal.get("schemeID"), legal.text) == ("0002", "732829320")
        page = " ".join(pdf_facts(pdf_of(invoice))["text"].split())
        assert "Purchase order: PO-2026 / 17" in page
        assert "SIREN or SIRET: 732829320" in page

    def test_an_italian_buyer_with_its_codice_destinatario(self, billing_contact):
        account = AccountFactory(country="IT", city="Milano", postal_code="20121")
        account.legal_identifier = "RCCMNL83S18D969H"
        account.sdi_code = "ABC1234"
        account.save()
        order = buy(account, contact_of(account), plan(), 2, card_of(account))
        xml = check(order.invoice)
        (address,) = etree.fromstring(xml).iterfind(
            ".//ram:BuyerTradeParty/ram:URIUniversalCommunication/ram:URIID", NS
        )
        assert (address.get("schemeID"), address.text) == ("0205", "ABC1234")


class TestLegalMentions:
    """Issue 19: the mentions of the seller's country, as data (checkout.invoices.mentions)."""

    def test_every_invoice_says_what_it_sells(self, account, billing_contact):
        order = buy(account, billing_contact, plan(), 2, card_of(account))
        xml = check(order.invoice)
        assert "Nature of the operation: Supply of services." in text(
            xml, ".//ram:IncludedNote/ram:Content"
        )
        assert not any("Late payment" in note for note in text(xml, ".//ram:Content"))

    def test_a_french_seller_adds_the_late_payment_terms_in_the_documents_language(
        self, settings, billing_contact
    ):
        settings.SELLER_COUNTRY = "FR"
        settings.SELLER_VAT_NUMBER = "FR40303265045"
        account = AccountFactory(language="fr", country="FR")
        account.legal_identifier = "732829320"
        account.save()
        order = buy(account, contact_of(account), plan(), 2, card_of(account))
        invoice = Invoice.objects.get(pk=order.invoice.pk)
        xml = check(invoice)
        notes = text(xml, ".//ram:IncludedNote/ram:Content")
        assert "Nature de l'opération\u202f: prestation de services." in notes
        (late,) = [note for note in notes if "40,00" in note]
        assert "articles L441-10 et D441-5 du Code de commerce" in late
        page = " ".join(pdf_facts(pdf_of(invoice))["text"].replace("\u202f", " ").split())
        assert "indemnité forfaitaire de 40,00 € pour frais de recouvrement" in page
        assert "SIREN ou SIRET : 732829320" in page


def test_documents_issued_before_are_rendered_again_as_factur_x(account, billing_contact):
    from io import StringIO

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.management import call_command

    order = buy(account, billing_contact, plan(), 3, card_of(account))
    invoice = order.invoice
    old = default_storage.save("invoices/2026/old.pdf", ContentFile(b"%PDF-1.7 old"))
    Invoice.objects.filter(pk=invoice.pk).update(pdf=old)
    out = StringIO()
    call_command("render_documents", "--year", "2026", stdout=out)
    assert "1 documents rendered again." in out.getvalue()
    invoice.refresh_from_db()
    with default_storage.open(invoice.pdf.name) as stored:
        name, _xml = get_facturx_xml_from_pdf(BytesIO(stored.read()))
    assert name == "factur-x.xml"
    assert not default_storage.exists(old)


def test_renewals_written_in_one_batch_each_pass_for_their_own_country(settings, caplog):
    """The billing run writes a batch of renewals together (issue 22), VAT rates read once a
    country: a French, a German reverse-charge and an American customer's invoices each carry
    their own VAT and pass the rules."""
    settings.BILLING_RUN_CONCURRENCY = 1  # the three in one batch
    caplog.set_level("INFO", logger="checkout.payments.money_path")
    accounts = [
        AccountFactory(country="FR"),
        AccountFactory(country="DE", vat_number="DE136695976", city="Berlin"),
        AccountFactory(country="US", currency="USD", city="Springfield", region="OR"),
    ]
    for account in accounts:
        card_of(account)
        SubscriptionFactory(
            account=account,
            plan=plan(account.currency),
            cycle=BillingCycle.MONTHLY,
            seat_count=2,
            unit_price=Money("10.00", account.currency),
            current_period_start=date(2026, 11, 3),
        )
    assert run_billing(today=date(2026, 12, 3)).renewals.counts == {"paid": 3}
    assert "one at a time" not in caplog.text
    codes = []
    for account in accounts:
        xml = check(Invoice.objects.get(account=account))
        codes.append(text(xml, ".//ram:ApplicableTradeTax/ram:CategoryCode")[-1])
    assert codes == ["S", "AE", "O"]
