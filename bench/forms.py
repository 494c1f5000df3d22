"""What a browser would post: the fields of a page's forms with the values the page filled in.

The load generator reads every form from the page it was served, as a person's browser does
(CSRF token, hidden cart version, the saved card already chosen…), and changes only what the
person would change. Standard library only; buttons are not fields (a person clicks one).
"""

from html.parser import HTMLParser


class Form:
    def __init__(self, attrs: dict):
        self.action = attrs.get("action") or ""
        self.method = (attrs.get("method") or "get").lower()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._option_value: str | None = None
        self._option_text = ""
        self._textarea: str | None = None

    def values(self, **changes) -> dict[str, str]:
        return {**self.fields, **{name: str(value) for name, value in changes.items()}}


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.form: Form | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {name: value if value is not None else "" for name, value in attrs}
        if tag == "form":
            self.form = Form(attrs)
            self.forms.append(self.form)
            return
        form = self.form
        if form is None:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"radio", "checkbox"}:
                if "checked" in attrs:
                    form.fields[name] = attrs.get("value", "on")
                return
            form.fields[name] = attrs.get("value", "")
        elif tag == "select" and name:
            form._select, form._select_first, form._select_chosen = name, None, False
        elif tag == "option" and form._select:
            form._option_value = attrs.get("value")
            form._option_text = ""
            if form._select_first is None:
                form._select_first = form._option_value
            if "selected" in attrs and not form._select_chosen:
                form._select_chosen = True
                form.fields[form._select] = form._option_value or ""
        elif tag == "textarea" and name:
            form._textarea = name
            form.fields[name] = ""

    def handle_data(self, data):
        form = self.form
        if form is not None and form._textarea:
            form.fields[form._textarea] += data

    def handle_endtag(self, tag):
        form = self.form
        if form is None:
            return
        if tag == "form":
            self.form = None
        elif tag == "select" and form._select:
            if not form._select_chosen and form._select_first is not None:
                form.fields[form._select] = form._select_first
            form._select = None
        elif tag == "textarea":
            form._textarea = None


def forms_of(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def post_form(html: str, *, containing: str) -> Form:
    """The page's POST form that has a field named `containing`."""
    for form in forms_of(html):
        if form.method == "post" and containing in form.fields:
            return form
    raise LookupError(f"no POST form with a {containing!r} field on the page")
