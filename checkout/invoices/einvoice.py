"""The machine-readable invoice (SPEC "Prices and documents"): every invoice and credit note as
an EN 16931 invoice in UN/CEFACT CII syntax, built with drafthorse from what the document stores
(its seller and buyer as issued, its order's lines, tax and totals — never today's prices), and
carried as `factur-x.xml` inside its PDF (checkout.invoices.documents), profile EN 16931.

The XML says what the page says: the document's figures, and its state now (what is paid and
what is still due: checkout.invoices.state). A credit note (type 381) shows its amounts as
credited, positive, and references the invoice it corrects.
"""

from datetime import date
from decimal import Decimal

from django.utils import timezone, translation
from django.utils.translation import gettext
from drafthorse.models.accounting import ApplicableTradeTax
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.party import TaxRegistration
from drafthorse.models.payment import PaymentMeans, PaymentTerms
from drafthorse.models.tradelines import LineItem

from billing_center.pdf import EmbeddedFile
from checkout.invoices.mentions import mention_lines
from checkout.invoices.state import document_state
from checkout.models import Invoice, OrderLineKind, TaxTreatment
from subscriptions.identifiers import legal_identifier_scheme

FACTUR_X_FILENAME = "factur-x.xml"
FACTUR_X_PROFILE = "EN 16931"  # the XMP's fx:ConformanceLevel
GUIDELINE = "urn:cen.eu:en16931:2017"
SCHEMA = "FACTUR-X_EN16931"  # drafthorse validates the XML against Factur-X's XSD

INVOICE, CREDIT_NOTE = "380", "381"
UNIT = "C62"  # one (a seat)
CARD = "48"  # payment means: bank card

# VAT category and, for a 0 % one, the exemption reason (code list VATEX) of each treatment.
CATEGORIES = {
    TaxTreatment.STANDARD: ("S", None),
    TaxTreatment.REVERSE_CHARGE: ("AE", "VATEX-EU-AE"),
    TaxTreatment.OUTSIDE_SCOPE: ("O", "VATEX-EU-O"),
}


FACTUR_X_URN = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
# The fx: properties the PDF/A extension schema declares (Factur-X 1.0, section 6.2.2).
FACTUR_X_PROPERTIES = (
    ("DocumentFileName", "The name of the embedded XML document"),
    ("DocumentType", "The type of the hybrid document in capital letters, e.g. INVOICE or ORDER"),
    ("Version", "The actual version of the standard applying to the embedded XML document"),
    ("ConformanceLevel", "The conformance level of the embedded XML document"),
)
RDF = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'


def _factur_x_xmp() -> str:
    """The Factur-X XMP: the extension schema that declares the fx: properties, then their
    values."""
    properties = "".join(
        '<rdf:li rdf:parseType="Resource">'
        f"<pdfaProperty:name>{name}</pdfaProperty:name>"
        "<pdfaProperty:valueType>Text</pdfaProperty:valueType>"
        "<pdfaProperty:category>external</pdfaProperty:category>"
        f"<pdfaProperty:description>{description}</pdfaProperty:description>"
        "</rdf:li>"
        for name, description in FACTUR_X_PROPERTIES
    )
    return (
        f'<rdf:Description {RDF} xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" '
        'xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" '
        'xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#" rdf:about="">'
        '<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">'
        "<pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>"
        f"<pdfaSchema:namespaceURI>{FACTUR_X_URN}</pdfaSchema:namespaceURI>"
        "<pdfaSchema:prefix>fx</pdfaSchema:prefix>"
        f"<pdfaSchema:property><rdf:Seq>{properties}</rdf:Seq></pdfaSchema:property>"
        "</rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>"
        f'<rdf:Description {RDF} xmlns:fx="{FACTUR_X_URN}" rdf:about="">'
        "<fx:DocumentType>INVOICE</fx:DocumentType>"
        f"<fx:DocumentFileName>{FACTUR_X_FILENAME}</fx:DocumentFileName>"
        "<fx:Version>1.0</fx:Version>"
        f"<fx:ConformanceLevel>{FACTUR_X_PROFILE}</fx:ConformanceLevel>"
        "</rdf:Description>"
    )


FACTUR_X_XMP = _factur_x_xmp()


def has_einvoice(invoice: Invoice) -> bool:
    """An EN 16931 invoice has at least one line (BR-16): a document without any (set up by
    hand, never by an order) is printed without its XML."""
    return any(True for _ in invoice.order.lines.all())


def factur_x_file(invoice: Invoice) -> EmbeddedFile | None:
    """What the document's PDF embeds: its XML as `factur-x.xml` (the EN 16931 profile's
    relationship to the PDF is "Alternative": the same invoice, for machines)."""
    if not has_einvoice(invoice):
        return None
    return EmbeddedFile(
        name=FACTUR_X_FILENAME,
        content=cii_xml(invoice),
        mime_type="text/xml",
        relationship="Alternative",
        xmp=FACTUR_X_XMP,
    )


def _shown(amount: Decimal, invoice: Invoice) -> Decimal:
    """An amount of the order as the document shows it (a credit note: as credited)."""
    return -amount if invoice.is_credit_note else amount


def cii_xml(invoice: Invoice) -> bytes:
    """The document as EN 16931 CII XML (Factur-X profile EN 16931), checked against the XSD."""
    order = invoice.order
    state = document_state(invoice)
    currency = order.total.currency.code
    category, exemption_code = CATEGORIES[order.tax_treatment]
    with translation.override(invoice.language):
        exemption_reason = str(TaxTreatment(order.tax_treatment).label) if exemption_code else None
        terms_text = gettext(
            "Payment terms: payable on receipt; the card on file is charged on the invoice date."
        )
        mentions = mention_lines(invoice)

    doc = Document()
    doc.context.guideline_parameter.id = GUIDELINE
    doc.header.id = invoice.number
    doc.header.type_code = CREDIT_NOTE if invoice.is_credit_note else INVOICE
    doc.header.issue_date_time = state.due_on  # issued that day (the local date)
    # The notes (BT-21/22, subjects of UNTDID 4451): the VAT exemption, the nature of the
    # operation, the late-payment terms of the seller's country.
    subjects = ["AAI", "PMD"]
    for subject, content in (
        *([("REG", exemption_reason)] if exemption_reason else []),
        *zip(subjects, mentions, strict=False),
    ):
        note = IncludedNote()
        note.content = content
        note.subject_code = subject
        doc.header.notes.add(note)

    seller = doc.trade.agreement.seller
    seller.name = invoice.seller_name
    seller.address.line_one = invoice.seller_address
    seller.address.country_id = str(invoice.seller_country)
    # Outside the scope of VAT, EN 16931 forbids the VAT identifiers (BR-O-02).
    if category == "O":
        # The number still identifies the seller (BR-CO-26): as its identifier (BT-29) and its
        # tax registration (BT-32).
        seller.id = invoice.seller_vat_number
        seller.tax_registrations.add(TaxRegistration(id=("FC", invoice.seller_vat_number)))
    else:
        seller.tax_registrations.add(TaxRegistration(id=("VA", invoice.seller_vat_number)))

    buyer = doc.trade.agreement.buyer
    buyer.name = invoice.buyer_name
    lines = invoice.buyer_address.splitlines()[:-1] or [invoice.buyer_name]  # the last: country
    buyer.address.line_one = lines[0]
    if len(lines) > 1:
        buyer.address.line_two = lines[1]
    if len(lines) > 2:
        buyer.address.line_three = ", ".join(lines[2:])
    buyer.address.country_id = str(invoice.buyer_country)
    if invoice.buyer_vat_number and category != "O":
        buyer.tax_registrations.add(TaxRegistration(id=("VA", invoice.buyer_vat_number)))
    if invoice.buyer_legal_identifier:  # BT-47: SIREN/SIRET, codice fiscale, NIF
        scheme = legal_identifier_scheme(invoice.buyer_legal_identifier, str(invoice.buyer_country))
        buyer.legal_organization.id = (
            (scheme, invoice.buyer_legal_identifier) if scheme else invoice.buyer_legal_identifier
        )
    # BT-49, where the buyer receives e-invoices: the SdI's Codice Destinatario, or the PEC.
    if invoice.buyer_sdi_code:
        buyer.electronic_address.uri_ID = ("0205", invoice.buyer_sdi_code)
    elif invoice.buyer_pec:
        buyer.electronic_address.uri_ID = ("EM", invoice.buyer_pec)
    if order.purchase_order:  # BT-13, and BT-10 (the buyer's reference) for the platforms
        doc.trade.agreement.buyer_reference = order.purchase_order
        doc.trade.agreement.buyer_order.issuer_assigned_id = order.purchase_order

    for number, line in enumerate(order.lines.all(), start=1):
        doc.trade.items.add(_line_item(invoice, line, number, category, order.tax_rate))

    settlement = doc.trade.settlement
    settlement.currency_code = currency
    if invoice.corrects_id:
        settlement.invoice_referenced_document.issuer_assigned_id = invoice.corrects.number
        settlement.invoice_referenced_document.issue_date_time = _day(invoice.corrects.issued_at)
    if not invoice.is_credit_note and (state.card is not None or state.amount_due.amount):
        means = PaymentMeans()
        means.type_code = CARD
        if state.card is not None:
            means.financial_card.id = state.card.last4  # never more than the last digits
            means.financial_card.cardholder_name = state.card.cardholder_name or invoice.buyer_name
        settlement.payment_means.add(means)

    tax = ApplicableTradeTax()
    tax.calculated_amount = _shown(order.tax.amount, invoice)
    tax.basis_amount = _shown(order.subtotal.amount, invoice)
    tax.type_code = "VAT"
    tax.category_code = category
    if category != "O":  # not subject to VAT: no rate at all (BR-O-05, BR-O-09)
        tax.rate_applicable_percent = order.tax_rate
    if exemption_code:
        tax.exemption_reason = exemption_reason
        tax.exemption_reason_code = exemption_code
    settlement.trade_tax.add(tax)

    if not invoice.is_credit_note:
        terms = PaymentTerms()
        terms.description = terms_text
        terms.due = state.due_on
        settlement.terms.add(terms)

    total = _shown(order.total.amount, invoice)
    due = state.amount_due.amount
    summation = settlement.monetary_summation
    summation.line_total = _shown(order.subtotal.amount, invoice)
    summation.tax_basis_total = _shown(order.subtotal.amount, invoice)
    summation.tax_total = (_shown(order.tax.amount, invoice), currency)
    summation.grand_total = total
    summation.prepaid_total = total - due
    summation.due_amount = due
    return doc.serialize(schema=SCHEMA)


def _line_item(invoice: Invoice, line, number: int, category: str, rate: Decimal) -> LineItem:
    amount = _shown(line.amount.amount, invoice)
    # A price per seat is never negative (BR-27): a line the other way round (the credit for
    # the unused time on an invoice, a new period on a credit note) has negative seats.
    seats = Decimal(line.seat_count) * (-1 if amount < 0 else 1)
    item = LineItem()
    item.document.line_id = str(number)
    with translation.override(invoice.language):
        item.product.name = f"{line.product_name} {line.plan_name} · {line.get_cycle_display()}"
        if line.kind != OrderLineKind.NEW_SUBSCRIPTION:
            item.product.description = str(OrderLineKind(line.kind).label)
    item.agreement.net.amount = line.unit_price.amount
    item.delivery.billed_quantity = (seats, UNIT)
    item.settlement.trade_tax.type_code = "VAT"
    item.settlement.trade_tax.category_code = category
    if category != "O":
        item.settlement.trade_tax.rate_applicable_percent = rate
    item.settlement.period.start = line.period_start
    item.settlement.period.end = line.period_end
    item.settlement.monetary_summation.total_amount = amount
    return item


def _day(moment) -> date:
    return timezone.localdate(moment)
