"""Form widgets the pages share."""

from django import forms
from django.forms.utils import flatatt
from django.utils.choices import BlankChoiceIterator, CallableChoiceIterator
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

# The options of a country list, by language and list: ~250 translated, sorted names rendered
# once per process and language instead of through a template for every option of every page
# view. Each entry: (the list, the options' HTML, whether the first option is the empty one).
_COUNTRY_OPTIONS: dict[tuple[str, int, tuple], tuple[object, str, bool]] = {}


class CountrySelect(forms.Select):
    """The same <select> as Django's (same options, labels, order and selection, so the same
    accessible control), rendered from a cache: the country list was most of the checkout's and
    the corporate payment page's rendering time.

    A cached render does not walk the choices at all: walking them translates, sorts and
    normalizes the ~250 countries each time (Django's blank-choice check walks them once more).
    The cache is keyed by the language and by the list the choices come from (django-countries'
    `countries`, one object per process), which holds a reference to it.
    """

    def _options(self) -> tuple[str, bool]:
        choices = self.choices
        # The list the choices come from: Django wraps django-countries' callable in an
        # iterator (choice iterators compare by value, so they cannot be hashed: key by
        # identity, and keep the list itself in the entry so that identity cannot be reused).
        source, blank = choices, ()
        if isinstance(choices, BlankChoiceIterator):
            source, blank = choices.choices, tuple(choices.blank_choice)
        key = (get_language() or "", id(source), blank)
        # Only a field's callable list lives as long as the process; a list of choices is
        # copied with every form and would grow the cache.
        cacheable = isinstance(source, CallableChoiceIterator)
        cached = _COUNTRY_OPTIONS.get(key) if cacheable else None
        if cached is None or cached[0] is not source:
            pairs = [(str(code), str(label)) for code, label in choices]
            cached = (
                source,
                "".join(
                    f'<option value="{escape(code)}">{escape(label)}</option>'
                    for code, label in pairs
                ),
                bool(pairs) and self._choice_has_empty_value(pairs[0]),
            )
            if cacheable:
                _COUNTRY_OPTIONS[key] = cached
        return cached[1], cached[2]

    def use_required_attribute(self, initial):
        return forms.Widget.use_required_attribute(self, initial) and self._options()[1]

    def render(self, name, value, attrs=None, renderer=None):
        final_attrs = self.build_attrs(self.attrs, attrs)
        final_attrs["name"] = name
        options = self._options()[0]
        # Like Django's Select: the chosen option, or the empty one when nothing is chosen.
        selected = f'<option value="{escape("" if value is None else str(value))}">'
        options = options.replace(selected, selected[:-1] + " selected>", 1)
        return format_html("<select{}>{}</select>", flatatt(final_attrs), mark_safe(options))
