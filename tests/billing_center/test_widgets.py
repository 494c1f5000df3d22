"""The cached country list renders exactly what Django's Select renders."""

import re

import pytest
from django import forms
from django.utils import translation
from django_countries.fields import CountryField

from billing_center.widgets import CountrySelect

OPTION = re.compile(r"<option[^>]*>[^<]*</option>")


class Plain(forms.Form):
    country = CountryField(blank=False).formfield()


class Cached(forms.Form):
    country = CountryField(blank=False).formfield(widget=CountrySelect)


@pytest.mark.parametrize("language", ["en", "fr", "it", "es"])
@pytest.mark.parametrize("value", ["FR", "CI", "", None])
def test_the_same_options_labels_order_and_selection(language, value):
    with translation.override(language):
        plain = str(Plain(initial={"country": value})["country"])
        cached = str(Cached(initial={"country": value})["country"])
        again = str(Cached(initial={"country": value})["country"])  # from the cache
    assert OPTION.findall(cached) == OPTION.findall(plain) == OPTION.findall(again)
    assert cached.count(" selected") == 1
    assert 'name="country"' in cached
    assert 'id="id_country"' in cached


def test_each_language_has_its_own_names():
    with translation.override("fr"):
        french = str(Cached()["country"])
    with translation.override("en"):
        english = str(Cached()["country"])
    assert "Allemagne" in french
    assert "Germany" in english
    assert "Allemagne" not in english
