"""Hostile input posted to every form of every page (issue 9: 854 tries gave 12 server errors):
no answer is a server error, and input that is refused changes no row.

The forms are found, not listed: each page of both portals (tests/security/world.py enumerates
them from the URLconf) is fetched as its billing contact and every `<form method="post">` in it
is collected with the values the page filled in. Then each field in turn gets each hostile value
while the others keep the page's values. POST-only views nobody links to with a form still get
the hostile values under made-up field names.
"""

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.contrib.messages import constants, get_messages
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

from subscriptions.models import Portal
from tests.security.world import routes

# Each kind once, to keep hundreds of posts within seconds: empty, huge, a NUL byte, unicode
# with HTML and SQL in it, huge numbers both ways, a fraction where a whole number is due, and
# the field sent twice (a list where one value is due).
HOSTILE = [
    "",
    "x" * 5000,
    "1\x00",
    "😀 Ω ﷽ \u202e <script>alert(1)</script>\"'><img src=x> ' OR 1=1; DROP TABLE x; --",
    "-99999999999999999999",
    "99999999999999999999999999",
    "1.5",
    ["1", "2"],
]
# Tables a refused post may still write: the session (messages, login) and the lockout's.
BOOKKEEPING = ("django_session", "axes_")


class FormParser(HTMLParser):
    """Every POST form of a page: its action and the values the page put in its fields."""

    def __init__(self):
        super().__init__()
        self.forms, self.form, self.select, self.textarea = [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self.form = {"action": a.get("action") or "", "fields": {}}
            self.forms.append(self.form)
        elif self.form is None or ("name" not in a and tag != "option"):
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in {"radio", "checkbox"}:
                if "checked" in a or a["name"] not in self.form["fields"]:
                    self.form["fields"][a["name"]] = a.get("value") or "on"
            elif kind not in {"submit", "button", "image", "reset"} or a.get("value"):
                self.form["fields"].setdefault(a["name"], a.get("value") or "")
        elif tag == "select":
            self.select = a["name"]
            self.form["fields"].setdefault(self.select, None)
        elif tag == "option" and self.select:
            fields = self.form["fields"]
            if fields[self.select] is None or "selected" in a:
                fields[self.select] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = a["name"]
            self.form["fields"][self.textarea] = ""
        elif tag == "button" and a.get("value"):
            self.form["fields"].setdefault(a["name"], a["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea and self.form is not None:
            self.form["fields"][self.textarea] += data


@dataclass(frozen=True)
class Target:
    """A form to attack: where it posts, as whom, and the values the page gave its fields."""

    path: str
    portal: str
    fields: tuple


def writes(queries) -> list[str]:
    """The statements of a request that changed rows of the project's tables."""
    return [
        q["sql"][:120]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and not any(table in q["sql"] for table in BOOKKEEPING)
    ]


def collect_targets(world) -> list[Target]:
    targets = {}
    billing_routes = [r for r in routes() if r.is_billing]
    for route in billing_routes:
        side = world.globex if route.portal == Portal.CORPORATE else world.acme
        client = Client()
        client.force_login(side.contact)
        url = side.url(route)
        response = client.get(url)
        if response.status_code == 405:
            # POST only: posted to under made-up field names, whether or not a page links it.
            targets.setdefault(
                (url, ("unexpected",)), Target(url, route.portal, (("unexpected", "1"),))
            )
            continue
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        parser = FormParser()
        parser.feed(response.content.decode())
        for form in parser.forms:
            action = urlsplit(form["action"] or url)
            path = action.path + (f"?{action.query}" if action.query else "")
            fields = tuple(
                (k, v or "") for k, v in form["fields"].items() if k != "csrfmiddlewaretoken"
            )
            if not path.startswith(("/billing/", "/corporate/")):
                continue  # logout, the language switcher: tested on their own
            targets.setdefault(
                (path, tuple(k for k, _v in fields)), Target(path, route.portal, fields)
            )
    return list(targets.values())


def refused(response) -> bool:
    if response.status_code >= 400:
        return True
    html = response.content.decode(errors="replace")
    if 'class="errorlist' in html or "form-errors" in html:
        return True
    return any(m.level >= constants.ERROR for m in get_messages(response.wsgi_request))


def test_every_form_survives_hostile_input(db, world, on_today, monkeypatch):
    # The test client copies every template's context for response.context (250 times for a
    # country list): not needed here, and most of the time of hundreds of posts.
    monkeypatch.setattr("django.test.client.store_rendered_templates", lambda *a, **k: None)
    targets = collect_targets(world)
    paths = {resolve(urlsplit(t.path).path).view_name for t in targets}
    # Forms were found: checkout, cards, seats, invites, seat changes, quotes, the corporate ones.
    expected = {
        "checkout:checkout",
        "checkout:payment_methods",
        "subscriptions:invite",
        "checkout:change_subscription",
        "corporate:add_seats",
        "corporate:payment",
    }
    assert expected <= paths, expected - paths
    problems, posts = [], 0
    for target in targets:
        client = Client()
        client.force_login(
            (world.globex if target.portal == Portal.CORPORATE else world.acme).contact
        )
        for name, _value in target.fields:
            for hostile in HOSTILE:
                data = dict(target.fields) | {name: hostile}
                posts += 1
                with transaction.atomic(), CaptureQueriesContext(connection) as queries:
                    try:
                        response = client.post(target.path, data)
                    except Exception as error:  # the test client re-raises a view's exception
                        problems.append(f"{target.path} {name}={hostile!r:.40}: {error!r:.200}")
                        transaction.set_rollback(True)
                        continue
                    if response.status_code >= 500:
                        problems.append(
                            f"{target.path} {name}={hostile!r:.40}: {response.status_code}"
                        )
                    elif refused(response) and writes(queries):
                        problems.append(
                            f"{target.path} {name}={hostile!r:.40}: refused but wrote "
                            f"{writes(queries)}"
                        )
                    transaction.set_rollback(True)
                # Messages travel in a cookie, past the rollback: each answer is read alone.
                client.cookies.pop("messages", None)
    assert posts > 300
    assert not problems, f"{len(problems)} of {posts} posts:\n" + "\n".join(problems[:60])
