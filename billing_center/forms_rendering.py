"""The form renderer (settings.FORM_RENDERER): Django's, with its plainest widget templates
written out in Python.

Each widget Django renders goes through the template engine: an input is three templates
(text.html includes input.html, which includes attrs.html), a select one per option. A page of
forms (the checkout has 15 fields) spent a fifth of its time there (issue 22). The templates
below are rendered here to the very same characters — tests/billing_center/test_forms_rendering.py
compares every one with Django's own — and every other template (radio buttons, checkboxes,
the forms' own layouts) still goes through the engine. A project template overriding one of
these would not be used: override the widget's template_name instead.
"""

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe

_WIDGETS = "django/forms/widgets/"
_INPUTS = frozenset(
    f"{_WIDGETS}{name}.html"
    for name in (
        "input",
        "text",
        "hidden",
        "email",
        "number",
        "password",
        "url",
        "search",
        "tel",
        "date",
        "datetime",
        "time",
        "color",
        "checkbox",  # the admin's action checkbox on every row of a list
    )
)
_SELECT = f"{_WIDGETS}select.html"
_SELECT_OPTION = f"{_WIDGETS}select_option.html"
_TEXTAREA = f"{_WIDGETS}textarea.html"


def _formatted(value) -> str:
    """`{{ value|stringformat:'s' }}`: the value as text, escaped unless it is safe already."""
    return str(value) if isinstance(value, SafeData) else conditional_escape(f"{value}")


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(f" {conditional_escape(name)}")
        if value is not True:
            parts.append(f'="{_formatted(value)}"')
    return "".join(parts)


def _input(widget: dict) -> str:
    value = widget["value"]
    shown = "" if value is None else f' value="{_formatted(value)}"'
    return (
        f'<input type="{conditional_escape(widget["type"])}" '
        f'name="{conditional_escape(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'
    )


def _option(option: dict) -> str:
    return (
        f'<option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
        f"{conditional_escape(option['label'])}</option>"
    )


def _select(widget: dict) -> str:
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in group_choices:
            if option["template_name"] != _SELECT_OPTION:
                raise _Unhandled
            # An included template keeps its last newline (only the outermost is stripped).
            parts.append(f"\n  {_option(option)}\n")
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _textarea(widget: dict) -> str:
    value = widget["value"]
    return (
        f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n'
        f"{conditional_escape(value) if value else ''}</textarea>"
    )


class _Unhandled(Exception):
    pass


_WRITERS = {_SELECT: _select, _SELECT_OPTION: _option, _TEXTAREA: _textarea} | dict.fromkeys(
    _INPUTS, _input
)


class Renderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        writer = _WRITERS.get(template_name)
        if writer is not None:
            try:
                return mark_safe(writer(context["widget"]))
            except _Unhandled:
                pass
        return super().render(template_name, context, request=request)
