from django import forms
from django.utils.translation import gettext_lazy as _


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)


class SeatUserForm(forms.Form):
    user = forms.IntegerField(min_value=1, error_messages={"invalid": _("Choose a user.")})
