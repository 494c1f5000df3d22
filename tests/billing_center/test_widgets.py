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


def test_a_cached_render_does_not_walk_the_countries(monkeypatch):
    """Walking the ~250 countries (translating, sorting, normalizing) was most of the render."""
    from django_countries import Countries

    with translation.override("it"):
        str(Cached()["country"])  # fills the cache
        walks = []
        original = Countries.__iter__
        monkeypatch.setattr(Countries, "__iter__", lambda self: walks.append(1) or original(self))
        rendered = str(Cached(initial={"country": "IT"})["country"])
    assert walks == []
    assert '<option value="IT" selected>Italia</option>' in rendered


def test_a_plain_list_of_choices_is_rendered_without_the_cache():
    from billing_center import widgets

    class Listed(forms.Form):
        country = forms.ChoiceField(choices=[("", "---"), ("FR", "France")], widget=CountrySelect)

    before = len(widgets._COUNTRY_OPTIONS)
    first, second = str(Listed()["country"]), str(Listed(initial={"country": "FR"})["country"])
    assert len(widgets._COUNTRY_OPTIONS) == before
    assert "required" in first
    assert '<option value="FR" selected>France</option>' in second
