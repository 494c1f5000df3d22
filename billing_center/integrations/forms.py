from django import forms
from django.utils.translation import gettext_lazy as _

from billing_center.integrations.models import (
    API_SCOPES,
    EVENT_TYPES,
    ApiKey,
    WebhookEndpoint,
    allowed_scheme,
)


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=[(scope, scope) for scope in API_SCOPES],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "account"]


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=[(event, event) for event in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "events", "description", "active"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        if not allowed_scheme(url):
            raise forms.ValidationError(
                _("Webhooks are sent to https:// addresses only."), code="scheme"
            )
        return url
