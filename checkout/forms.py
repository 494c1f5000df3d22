from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_countries.fields import CountryField

from billing_center.widgets import CountrySelect
from checkout.billing import BILLING_FIELDS, BillingDetails
from checkout.card_entry import TOKEN
from checkout.payments.cards import NewCard
from checkout.payments.gateway import InvalidCardToken, TokenizedCard, get_gateway
from subscriptions.identifiers import compact_identifier, identifiers_problems
from subscriptions.invoice_recipients import (
    MAX_INVOICE_CC_EMAILS,
    invoice_cc_problem,
    split_invoice_cc_emails,
)
from subscriptions.vat import compact_vat_number, vat_number_problem

NEW_CARD = "new"


class BillingDetailsForm(forms.Form):
    """Company name, billing address and VAT number: the details that decide the VAT and are
    printed on invoices (checkout, the corporate portal's Proceed to Payment)."""

    name = forms.CharField(label=_("Company name"), max_length=200)
    address_line1 = forms.CharField(label=_("Address"), max_length=200)
    address_line2 = forms.CharField(label=_("Address (line 2)"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20)
    city = forms.CharField(label=_("City"), max_length=100)
    region = forms.CharField(label=_("Region or state"), max_length=100, required=False)
    country = CountryField(blank=False).formfield(label=_("Country"), widget=CountrySelect)
    vat_number = forms.CharField(
        label=_("VAT number"),
        max_length=20,
        required=False,
        help_text=_("For EU businesses: VAT is reverse charged in another member state."),
    )

    legal_identifier = forms.CharField(
        label=_("Company identifier"),
        max_length=40,
        required=False,
        help_text=_("SIREN or SIRET in France, codice fiscale in Italy, NIF in Spain."),
    )
    sdi_code = forms.CharField(
        label=_("Codice Destinatario (Italy)"),
        max_length=10,
        required=False,
        help_text=_("Where the SdI delivers your invoices; or give a PEC address."),
    )
    pec = forms.CharField(label=_("PEC address (Italy)"), max_length=254, required=False)
    purchase_order = forms.CharField(
        label=_("Purchase order number (optional)"),
        max_length=35,
        required=False,
        help_text=_("Printed on the invoice, for your accounts payable."),
    )

    def clean_vat_number(self):
        return compact_vat_number(self.cleaned_data["vat_number"])

    def clean_legal_identifier(self):
        return compact_identifier(self.cleaned_data["legal_identifier"])

    def clean_sdi_code(self):
        return compact_identifier(self.cleaned_data["sdi_code"])

    def clean_pec(self):
        return self.cleaned_data["pec"].strip()

    def clean_purchase_order(self):
        return " ".join(self.cleaned_data["purchase_order"].split())

    def clean(self):
        cleaned = super().clean()
        problem = vat_number_problem(cleaned.get("vat_number"), cleaned.get("country"))
        if problem:
            self.add_error("vat_number", problem)
        problems = identifiers_problems(
            country=cleaned.get("country") or "",
            legal_identifier=cleaned.get("legal_identifier") or "",
            sdi_code=cleaned.get("sdi_code") or "",
            pec=cleaned.get("pec") or "",
        )
        for field, problem in problems.items():
            if field not in self.errors:
                self.add_error(field, problem)
        return cleaned

    def billing_details(self) -> BillingDetails:
        data = self.cleaned_data
        return BillingDetails(
            **{field: data[field] for field in BILLING_FIELDS},
            purchase_order=data["purchase_order"],
        )


class BillingInformationForm(BillingDetailsForm):
    """The Billing information page: the billing details, and who else gets the invoice
    emails."""

    invoice_cc_emails = forms.CharField(
        label=_("Invoice email recipients (cc)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "email"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice_cc_emails"].help_text = ngettext(
            "Up to %(count)d address. It gets a copy of every invoice and credit note email, "
            "in addition to the billing contact.",
            "Up to %(count)d addresses, one per line. They get a copy of every invoice and "
            "credit note email, in addition to the billing contact.",
            MAX_INVOICE_CC_EMAILS,
        ) % {"count": MAX_INVOICE_CC_EMAILS}

    def clean_invoice_cc_emails(self) -> list[str]:
        addresses = split_invoice_cc_emails(self.cleaned_data["invoice_cc_emails"])
        problem = invoice_cc_problem(addresses)
        if problem:
            raise forms.ValidationError(problem)
        return addresses


class CardPaymentForm(forms.Form):
    """How to pay: one of the account's saved cards, or a new card. A new card is typed into
    the payment processor's card fields (its script on this page, or its hosted card page
    without JavaScript), never into this form: what arrives here is the processor's token,
    which the processor is asked to describe (brand, last 4, expiry)."""

    payment = forms.ChoiceField(label=_("Payment method"), widget=forms.RadioSelect, required=False)
    # A processor's token is letters, digits and underscores; anything else is not one.
    card_token = forms.CharField(
        widget=forms.HiddenInput,
        required=False,
        max_length=200,
        validators=[RegexValidator(TOKEN, _("The card could not be read."))],
    )
    cardholder_name = forms.CharField(label=_("Name on card"), required=False, max_length=100)

    def __init__(self, *args, saved_cards, payment_required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.payment_required = payment_required
        self.saved_cards = {str(card.pk): card for card in saved_cards}
        self.fields["payment"].choices = [
            (pk, str(card)) for pk, card in self.saved_cards.items()
        ] + [(NEW_CARD, _("A new card"))]
        self.fields["cardholder_name"].widget.attrs["autocomplete"] = "cc-name"
        self.entered_card: TokenizedCard | None = None

    def clean(self):
        cleaned = super().clean()
        if not self.payment_required:
            return cleaned  # nothing to pay: no payment step
        payment = cleaned.get("payment")
        if payment in self.saved_cards:
            card = self.saved_cards[payment]
            if card.is_expired(timezone.localdate()):
                self.add_error("payment", _("This card has expired. Choose another one."))
        elif payment == NEW_CARD:
            self._clean_new_card(cleaned)
        else:
            self.add_error("payment", _("Choose a saved card or enter a new one."))
        return cleaned

    def _clean_new_card(self, cleaned):
        token = cleaned.get("card_token", "")
        if not token:
            self.add_error(None, _("Enter the card's number, expiry and security code."))
        else:
            try:
                self.entered_card = get_gateway().describe_card(token=token)
            except InvalidCardToken:
                self.add_error(None, _("The card could not be read. Enter it again."))
            else:
                if self.entered_card.exp_year < 2000 or (
                    (self.entered_card.exp_year, self.entered_card.exp_month)
                    < (timezone.localdate().year, timezone.localdate().month)
                ):
                    self.add_error(None, _("This card has expired."))
        if not cleaned.get("cardholder_name", "").strip():
            self.add_error("cardholder_name", _("Enter the name on the card."))

    @property
    def uses_new_card(self) -> bool:
        return self.cleaned_data.get("payment") == NEW_CARD

    @property
    def needs_card_entry(self) -> bool:
        """A new card was chosen but not entered (no JavaScript): the processor's hosted card
        page takes it."""
        return self.data.get("payment") == NEW_CARD and not self.data.get("card_token")

    @property
    def saved_card(self):
        return self.saved_cards.get(self.cleaned_data.get("payment"))

    def new_card(self) -> NewCard | None:
        """The new card as the processor described its token, or None when a saved card
        pays."""
        if not self.uses_new_card or self.entered_card is None:
            return None
        return NewCard(
            card=self.entered_card, cardholder_name=self.cleaned_data["cardholder_name"].strip()
        )


class CheckoutForm(CardPaymentForm, BillingDetailsForm):
    """Payment (a saved card or a new one), VAT number and billing address of SPEC A.8."""

    cart_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    # The priced order the page showed (OrderPricing.fingerprint): placed only if unchanged.
    pricing_fingerprint = forms.CharField(widget=forms.HiddenInput, max_length=64)


class PayInvoiceForm(CardPaymentForm):
    """Pay now: an open invoice paid with a saved card or a new one."""


class NewCardForm(forms.Form):
    """A card added on the payment methods page: entered in the processor's card fields, like
    the checkout's new card."""

    card_token = CardPaymentForm.base_fields["card_token"]
    cardholder_name = CardPaymentForm.base_fields["cardholder_name"]
    make_default = forms.BooleanField(label=_("Make it the default card"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cardholder_name"].widget.attrs["autocomplete"] = "cc-name"
        self.entered_card: TokenizedCard | None = None

    def clean(self):
        cleaned = super().clean()
        CardPaymentForm._clean_new_card(self, cleaned)
        return cleaned

    @property
    def needs_card_entry(self) -> bool:
        return not self.data.get("card_token")

    def new_card(self) -> NewCard:
        return NewCard(
            card=self.entered_card, cardholder_name=self.cleaned_data["cardholder_name"].strip()
        )
