from django import forms
from django.utils.translation import gettext_lazy as _

from cart.forms import SEAT_COUNT_CEILING
from checkout.forms import BillingDetailsForm


class AddSeatsForm(forms.Form):
    """Number of New Seats for each subscription that can take more."""

    confirm_replace = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, subscriptions, **kwargs):
        super().__init__(*args, **kwargs)
        self.subscriptions = subscriptions
        for subscription in subscriptions:
            self.fields[f"seats-{subscription.pk}"] = forms.IntegerField(
                label=_("Number of New Seats"),
                min_value=0,
                max_value=SEAT_COUNT_CEILING,
                initial=0,
                required=False,
                error_messages={"invalid": _("Enter a whole number of seats.")},
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
            )

    def seat_field(self, subscription):
        return self[f"seats-{subscription.pk}"]

    def requests(self):
        return [
            (subscription, self.cleaned_data.get(f"seats-{subscription.pk}") or 0)
            for subscription in self.subscriptions
        ]


class PaymentForm(BillingDetailsForm):
    """Proceed to Payment: Admin Contact, Payment Method, Billing Address (and VAT number)."""

    admin_contact_name = forms.CharField(label=_("Full name"), max_length=150)
    admin_contact_email = forms.EmailField(label=_("Email address"), max_length=254)
    payment_method = forms.ChoiceField(label=_("Payment Method"), widget=forms.RadioSelect)

    def __init__(self, *args, cards, **kwargs):
        super().__init__(*args, **kwargs)
        self.cards = {str(card.pk): card for card in cards}
        self.fields["payment_method"].choices = [(pk, str(card)) for pk, card in self.cards.items()]

    @property
    def card(self):
        return self.cards[self.cleaned_data["payment_method"]]
