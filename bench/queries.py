"""The SQL each page and each step of the flows sends, counted in the driver's own process.

Response times move with whatever else the machine runs; the number of queries does not, so
it is the figure to compare between two runs. One pass, through Django's test client against
the bench database (same views, same data as the load), before the load starts. Queries sent
more than once by one request are listed with how often (literals replaced by ?).
"""

import re
from collections import Counter

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.forms import post_form
from billing_center.integrations import events as webhook_events
from billing_center.integrations.events import forget_endpoints

LITERALS = [
    (re.compile(r"'(?:[^']|'')*'"), "?"),
    (re.compile(r"\b\d+(?:\.\d+)?\b"), "?"),
    (re.compile(r"\(\?(?:, \?)+\)"), "(?…)"),
]


def normalized(sql: str) -> str:
    for pattern, replacement in LITERALS:
        sql = pattern.sub(replacement, sql)
    return sql


class Probe:
    def __init__(self):
        self.steps: dict[str, dict] = {}

    def client(self, email: str, password: str) -> Client:
        client = Client(SERVER_NAME="127.0.0.1")
        response = client.post("/login/", {"username": email, "password": password})
        if response.status_code != 302:
            raise RuntimeError(f"the query probe could not log in as {email}")
        return client

    def request(self, client, method, url, name, data=None, expect=200):
        # The webhook endpoints are read once every few seconds per process, not per request:
        # read before counting, as they are in steady state (tests/test_query_counts.py too).
        forget_endpoints()
        webhook_events.wanted("any")
        with CaptureQueriesContext(connection) as captured:
            response = getattr(client, method)(url, data or {})
        if response.status_code != expect:
            raise RuntimeError(f"{name}: {method.upper()} {url} answered {response.status_code}")
        counts = Counter(normalized(query["sql"]) for query in captured.captured_queries)
        self.steps[name] = {
            "queries": len(captured.captured_queries),
            # The sandbox processor's own rows (a real processor is an HTTP call instead), and
            # the transactions' BEGIN and COMMIT: not the application's own statements.
            "sandbox": sum("sandbox_gateway_" in q["sql"] for q in captured.captured_queries),
            "control": sum(
                q["sql"].split(" ", 1)[0] in {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}
                for q in captured.captured_queries
            ),
            "repeated": [
                {"times": times, "sql": sql[:300]}
                for sql, times in counts.most_common()
                if times > 1
            ],
        }
        if expect == 302:
            return response["Location"]
        return response.content.decode() if response["Content-Type"].startswith("text/") else ""


def count_queries(accounts: dict, *, purchase: dict, seat_change: dict) -> dict:
    """Queries of every page (as the pages scenario reads them) and of one purchase flow and
    one seat-change flow (as the flow scenarios drive them)."""
    probe = Probe()
    password = accounts["password"]
    for kind, spec in accounts["pages"].items():
        client = probe.client(spec["email"], spec.get("password", password))
        if kind == "billing":
            probe.request(client, "get", "/bench/bare/", "bare")
        for name, url in spec["pages"].items():
            probe.request(client, "get", url, name)

    client = probe.client(purchase["email"], password)
    slug = purchase["products"][0]
    probe.request(client, "get", "/billing/add/", "A · add new subscription")
    configure = f"/billing/add/{slug}/buy/"
    page = probe.request(client, "get", configure, "A · plan and seats")
    form = post_form(page, containing="seat_count")
    cycle = probe.request(
        client, "post", configure, "A · plan and seats: Next", form.values(seat_count=5), 302
    )
    page = probe.request(client, "get", cycle, "A · monthly or annual")
    form = post_form(page, containing="cycle")
    probe.request(client, "post", cycle, "A · Checkout", form.values(cycle="annual"), 302)
    _place(probe, client, "A")

    client = probe.client(seat_change["email"], password)
    page = f"/billing/subscriptions/{seat_change['subscription']}/change/"
    form = post_form(
        probe.request(client, "get", page, "B · add organizers"), containing="seat_count"
    )
    seats = int(form.fields["seat_count"]) + 1
    preview = form.values(seat_count=seats)
    form = post_form(
        probe.request(client, "get", page, "B · preview", preview), containing="seat_count"
    )
    probe.request(client, "post", page, "B · Add to Cart", form.values(seat_count=seats), 302)
    _place(probe, client, "B")
    return probe.steps


def _place(probe, client, prefix):
    checkout = "/billing/checkout/"
    form = post_form(
        probe.request(client, "get", checkout, f"{prefix} · checkout"), containing="cart_version"
    )
    confirmation = probe.request(
        client, "post", checkout, f"{prefix} · Place Order", form.values(), 302
    )
    probe.request(client, "get", confirmation, f"{prefix} · confirmation")
