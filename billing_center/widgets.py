"""Form widgets the pages share."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

# The options of the country list, by language: ~250 translated, sorted names rendered once per
# process and language instead of through a template for every option of every page view.
_COUNTRY_OPTIONS: dict[tuple[str, tuple], str] = {}


class CountrySelect(forms.Select):
    """The same <select> as Django's (same options, labels, order and selection, so the same
    accessible control), rendered from a cache: the country list was most of the checkout's and
    the corporate payment page's rendering time."""

    def render(self, name, value, attrs=None, renderer=None):
        final_attrs = self.build_attrs(self.attrs, attrs)
        final_attrs["name"] = name
        choices = tuple((str(code), str(label)) for code, label in self.choices)
        key = (get_language() or "", choices[:1] + choices[-1:] + (len(choices),))
        options = _COUNTRY_OPTIONS.get(key)
        if options is None:
            options = "".join(
                f'<option value="{escape(code)}">{escape(label)}</option>'
                for code, label in choices
            )
            _COUNTRY_OPTIONS[key] = options
        # Like Django's Select: the chosen option, or the empty one when nothing is chosen.
        selected = f'<option value="{escape("" if value is None else str(value))}">'
        options = options.replace(selected, selected[:-1] + " selected>", 1)
        return format_html("<select{}>{}</select>", flatatt(final_attrs), mark_safe(options))
