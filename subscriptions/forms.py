from django import forms
from django.utils.translation import gettext_lazy as _

from subscriptions.models import CancelReason


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)


class SeatUserForm(forms.Form):
    user = forms.IntegerField(min_value=1, error_messages={"invalid": _("Choose a user.")})


class CancelForm(forms.Form):
    """Why cancel? Optional: the cancellation goes through without an answer."""

    reason = forms.ChoiceField(
        label=_("Why are you canceling? (optional)"),
        choices=CancelReason.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
