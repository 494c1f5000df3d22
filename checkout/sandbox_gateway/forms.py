from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum import luhn


class CardInput(forms.TextInput):
    """Typed, never sent back: after a mistake the field comes back empty."""

    def format_value(self, value):
        return None


class CardForm(forms.Form):
    """The card as typed into the sandbox's card fields or hosted card page: checked here, on
    the processor's side, then dropped (only a token leaves)."""

    number = forms.CharField(label=_("Card number"), max_length=30, widget=CardInput)
    expiry = forms.CharField(label=_("Expiry (MM/YY)"), max_length=7, widget=CardInput)
    cvc = forms.CharField(label=_("Security code (CVC)"), max_length=4, widget=CardInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["number"].error_messages["required"] = _("Enter the card number.")
        self.fields["expiry"].error_messages["required"] = _(
            "Enter the expiry as MM/YY, for example 08/29."
        )
        self.fields["cvc"].error_messages["required"] = _(
            "Enter the 3 or 4 digits on the back of the card."
        )
        attrs = {
            "number": {"autocomplete": "cc-number", "inputmode": "numeric"},
            "expiry": {"autocomplete": "cc-exp", "placeholder": _("MM/YY")},
            "cvc": {"autocomplete": "cc-csc", "inputmode": "numeric"},
        }
        for name, extra in attrs.items():
            self.fields[name].widget.attrs.update(extra)

    def clean_number(self):
        number = "".join(ch for ch in self.cleaned_data["number"] if ch not in " -")
        if not number.isdigit() or not 12 <= len(number) <= 19 or not luhn.is_valid(number):
            raise forms.ValidationError(_("This card number is not valid. Check it and try again."))
        return number

    def clean_expiry(self):
        expiry = self.cleaned_data["expiry"].replace(" ", "")
        month_text, _sep, year_text = expiry.partition("/")
        invalid = forms.ValidationError(_("Enter the expiry as MM/YY, for example 08/29."))
        if not (month_text.isdigit() and year_text.isdigit() and len(year_text) in (2, 4)):
            raise invalid
        month = int(month_text)
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        today = timezone.localdate()
        if not 1 <= month <= 12 or year > today.year + 20:
            raise invalid
        if (year, month) < (today.year, today.month):
            raise forms.ValidationError(_("This card has expired."))
        return month, year

    def clean_cvc(self):
        cvc = self.cleaned_data["cvc"].strip()
        if not (cvc.isdigit() and len(cvc) in (3, 4)):
            raise forms.ValidationError(_("Enter the 3 or 4 digits on the back of the card."))
        return cvc
