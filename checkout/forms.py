from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_countries.fields import CountryField
from stdnum import luhn

from billing_center.widgets import CountrySelect
from checkout.billing import BILLING_FIELDS, BillingDetails
from checkout.payment_methods import NewCard
from subscriptions.invoice_recipients import (
    MAX_INVOICE_CC_EMAILS,
    invoice_cc_problem,
    split_invoice_cc_emails,
)
from subscriptions.vat import compact_vat_number, vat_number_problem

NEW_CARD = "new"


class CardDataInput(forms.TextInput):
    """A card number, security code or expiry is typed, never sent back: after a decline or any
    other error the field comes back empty (PCI DSS; and the page may be cached or shared)."""

    def format_value(self, value):
        return None


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

    def clean_vat_number(self):
        return compact_vat_number(self.cleaned_data["vat_number"])

    def clean(self):
        cleaned = super().clean()
        problem = vat_number_problem(cleaned.get("vat_number"), cleaned.get("country"))
        if problem:
            self.add_error("vat_number", problem)
        return cleaned

    def billing_details(self) -> BillingDetails:
        data = self.cleaned_data
        return BillingDetails(**{field: data[field] for field in BILLING_FIELDS})


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
    """How to pay: one of the account's saved cards, or a new card (checked here, tokenized by
    the gateway; never stored nor sent back)."""

    payment = forms.ChoiceField(label=_("Payment method"), widget=forms.RadioSelect, required=False)
    card_number = forms.CharField(
        label=_("Card number"), required=False, max_length=30, widget=CardDataInput
    )
    card_expiry = forms.CharField(
        label=_("Expiry (MM/YY)"),
        required=False,
        max_length=7,
        widget=CardDataInput(attrs={"placeholder": _("MM/YY")}),
    )
    card_cvc = forms.CharField(
        label=_("Security code (CVC)"), required=False, max_length=4, widget=CardDataInput
    )
    cardholder_name = forms.CharField(label=_("Name on card"), required=False, max_length=100)

    def __init__(self, *args, saved_cards, payment_required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.payment_required = payment_required
        self.saved_cards = {str(card.pk): card for card in saved_cards}
        self.fields["payment"].choices = [
            (pk, str(card)) for pk, card in self.saved_cards.items()
        ] + [(NEW_CARD, _("A new card"))]
        for name in ("card_number", "card_cvc"):
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})
        self.fields["card_number"].widget.attrs["autocomplete"] = "cc-number"
        self.fields["card_expiry"].widget.attrs["autocomplete"] = "cc-exp"
        self.fields["card_cvc"].widget.attrs["autocomplete"] = "cc-csc"
        self.fields["cardholder_name"].widget.attrs["autocomplete"] = "cc-name"

    def clean_card_number(self):
        return "".join(ch for ch in self.cleaned_data["card_number"] if ch not in " -")

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
        number = cleaned.get("card_number", "")
        if not number:
            self.add_error("card_number", _("Enter the card number."))
        elif not number.isdigit() or not 12 <= len(number) <= 19 or not luhn.is_valid(number):
            self.add_error(
                "card_number", _("This card number is not valid. Check it and try again.")
            )
        expiry = (cleaned.get("card_expiry") or "").replace(" ", "")
        month = year = None
        if "/" in expiry:
            month_text, _sep, year_text = expiry.partition("/")
            if month_text.isdigit() and year_text.isdigit() and len(year_text) in (2, 4):
                month = int(month_text)
                year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        if month is None or not 1 <= month <= 12:
            self.add_error("card_expiry", _("Enter the expiry as MM/YY, for example 08/29."))
        else:
            today = timezone.localdate()
            if (year, month) < (today.year, today.month):
                self.add_error("card_expiry", _("This card has expired."))
            elif year > today.year + 20:
                self.add_error("card_expiry", _("Enter the expiry as MM/YY, for example 08/29."))
            else:
                cleaned["exp_month"], cleaned["exp_year"] = month, year
        cvc = cleaned.get("card_cvc", "")
        if not (cvc.isdigit() and len(cvc) in (3, 4)):
            self.add_error("card_cvc", _("Enter the 3 or 4 digits on the back of the card."))
        if not cleaned.get("cardholder_name", "").strip():
            self.add_error("cardholder_name", _("Enter the name on the card."))

    @property
    def uses_new_card(self) -> bool:
        return self.cleaned_data.get("payment") == NEW_CARD

    @property
    def saved_card(self):
        return self.saved_cards.get(self.cleaned_data.get("payment"))

    def new_card(self, gateway) -> NewCard | None:
        """The new card, tokenized by `gateway` (its number and CVC go there and nowhere else),
        or None when a saved card pays."""
        if not self.uses_new_card:
            return None
        data = self.cleaned_data
        return NewCard(
            card=gateway.tokenize_card(
                number=data["card_number"],
                exp_month=data["exp_month"],
                exp_year=data["exp_year"],
                cvc=data["card_cvc"],
                cardholder_name=data["cardholder_name"],
            ),
            cardholder_name=data["cardholder_name"],
        )


class CheckoutForm(CardPaymentForm, BillingDetailsForm):
    """Payment (a saved card or a new one), VAT number and billing address of SPEC A.8."""

    cart_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    # The priced order the page showed (OrderPricing.fingerprint): placed only if unchanged.
    pricing_fingerprint = forms.CharField(widget=forms.HiddenInput, max_length=64)


class PayInvoiceForm(CardPaymentForm):
    """Pay now: an open invoice paid with a saved card or a new one."""


class NewCardForm(forms.Form):
    """A card added on the payment methods page; checked like the checkout's new card."""

    card_number = CardPaymentForm.base_fields["card_number"]
    card_expiry = CardPaymentForm.base_fields["card_expiry"]
    card_cvc = CardPaymentForm.base_fields["card_cvc"]
    cardholder_name = CardPaymentForm.base_fields["cardholder_name"]
    make_default = forms.BooleanField(label=_("Make it the default card"), required=False)

    clean_card_number = CardPaymentForm.clean_card_number

    def clean(self):
        cleaned = super().clean()
        CardPaymentForm._clean_new_card(self, cleaned)
        return cleaned
