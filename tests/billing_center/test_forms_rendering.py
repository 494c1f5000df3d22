"""billing_center.forms_rendering writes the plain widgets exactly as Django's templates do."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from billing_center.forms_rendering import Renderer

CHOICES = [("", "---"), ("a", "Apple & <pie>"), (2, _("Monthly")), ("q\"'", "Quote")]
GROUPED = [("Fruit", [("a", "Apple"), ("b", "Banana")]), ("v", "Vegetable")]

WIDGETS = [
    forms.TextInput(),
    forms.TextInput(attrs={"class": "wide", "required": True, "disabled": False, "x": '"<&>'}),
    forms.NumberInput(attrs={"min": 1, "max": 100000, "inputmode": "numeric", "data-seats": ""}),
    forms.EmailInput(attrs={"autocomplete": "email"}),
    forms.HiddenInput(),
    forms.PasswordInput(render_value=True),
    forms.URLInput(),
    forms.DateInput(),
    forms.Textarea(attrs={"rows": 3}),
    forms.Select(choices=CHOICES),
    forms.Select(choices=GROUPED, attrs={"aria-describedby": "help"}),
    forms.SelectMultiple(choices=CHOICES),
    forms.NullBooleanSelect(),
    forms.RadioSelect(choices=CHOICES),  # not written here: Django's templates, the same way
    forms.CheckboxInput(),
    forms.CheckboxInput(attrs={"class": "action-select", "aria-label": "Select this object"}),
    forms.TimeInput(),
    forms.DateTimeInput(),
]
VALUES = [None, "", "a", 2, "x\"<y>'&", mark_safe("<b>safe</b>"), ["a", 2], True, 0]


@pytest.mark.parametrize("widget", WIDGETS, ids=lambda w: type(w).__name__)
@pytest.mark.parametrize("value", VALUES, ids=repr)
@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_same_characters_as_djangos_templates(widget, value, language):
    if isinstance(widget, forms.NullBooleanSelect) and isinstance(value, list):
        pytest.skip("Django's own NullBooleanSelect cannot render a list")
    attrs = {"id": "id_field"}
    with translation.override(language):
        theirs = widget.render("field", value, attrs=attrs, renderer=DjangoTemplates())
        ours = widget.render("field", value, attrs=attrs, renderer=Renderer())
    assert ours == theirs


def test_the_project_uses_it(settings):
    from django.forms.renderers import get_default_renderer

    assert settings.FORM_RENDERER == "billing_center.forms_rendering.Renderer"
    assert isinstance(get_default_renderer(), Renderer)


def test_a_whole_form_renders_the_same():
    from checkout.forms import BillingInformationForm

    form = BillingInformationForm(data={"name": "Ada <Lovelace>", "country": "FR", "city": ""})
    form.is_valid()
    form.renderer = DjangoTemplates()
    theirs = str(form)
    form.renderer = Renderer()
    for field in form:  # bound fields cache their widgets' renders
        field.__dict__.pop("subwidgets", None)
    assert str(form) == theirs
