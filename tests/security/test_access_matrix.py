"""Every view of the project × {anonymous, member, the account's billing contact, another
account's billing contact, the billing contact of an account of the other portal, staff}: the
expected answer, and never another account's data in the page (issue 9).

The views come from the URLconf (tests/security/world.py), so a new view is in the matrix
without editing this file. What each one should answer is derived from where it lives: every
page under /billing/ or /corporate/ is for the billing contacts of that portal's accounts; a
page naming an object (an invoice, a quote…) answers 404 to anyone whose account does not own it.
"""

import pytest
from django.test import Client
from django.urls import reverse

from subscriptions.models import Portal
from tests.security.world import routes

ROUTES = routes()

# Views outside the matrix, and why.
NOT_IN_THE_MATRIX = {
    # Django's admin: staff only, by Django; every model's pages are tested for staff and
    # non-staff in tests/billing_center/test_admin.py.
    "admin": "Django admin",
    # The sandbox payment processor's own pages (a processor's, not ours: they know cards and
    # charges, not our users): tests/checkout/test_sandbox_pages.py.
    "sandbox_gateway": "the sandbox processor",
    # Our pages for Stripe (404 unless Stripe is the gateway): the card setup of the signed-in
    # billing contact's account, the authentication page of its intents, Stripe's webhooks
    # (signed): tests/checkout/stripe/test_views.py and test_webhooks.py.
    "stripe_gateway": "the Stripe adapter",
    # The read API: by API key, not by session; its own URLconf-driven suite walks every API
    # route with no key, a revoked key, a key without scope and another account's key:
    # tests/security/test_api_access.py.
    "api": "the read API",
    # Health probes (no data) and the Prometheus metrics (for the monitoring system's
    # addresses or token only): tests/operations/test_operations.py.
    "operations": "health and metrics",
}
# Pages for everybody (signing in and out, the language, the front door): no role is refused.
PUBLIC = {
    "home",
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "set_language",
    # The link sent to an invoice copy address: the signed link is the proof, no login
    # (tests/checkout/test_billing_information.py::TestDoubleOptIn).
    "invoice_copy_consent",
    # The API's OpenAPI document: no data, for whoever integrates (the API itself needs a key).
    "api_openapi",
}
# Billing Center pages a corporate account uses too (billing_center.access.SHARED_VIEWS): its
# invoices, and paying one that a declined renewal left open.
SHARED_WITH_CORPORATE = {
    "checkout:invoice_detail",
    "checkout:invoice_pdf",
    "checkout:invoice_xml",
    "checkout:pay_invoice",
    "checkout:payment_status",
    "checkout:payment_return",
}
# Where the processor sends the customer back: never a page of its own, always on to the next.
RETURNS = {"checkout:payment_return", "checkout:card_setup_return"}
# Pages for one state of their object, which send elsewhere in any other: canceling a
# subscription at once is for a suspended one (the world's is active: its own cancel page).
FOR_ONE_STATE = {"checkout:cancel_suspended"}

MATRIX_ROUTES = [r for r in ROUTES if r.namespace.split(":")[0] not in NOT_IN_THE_MATRIX and r.name]


def test_the_matrix_covers_every_page_of_both_portals():
    billing = {r.name for r in MATRIX_ROUTES if r.is_billing}
    assert len(billing) >= 30
    assert {r.name for r in MATRIX_ROUTES if not r.is_billing} <= PUBLIC, (
        "a page outside /billing/ and /corporate/: say in PUBLIC or NOT_IN_THE_MATRIX who it is for"
    )


def methods_of(client, url):
    """GET and/or POST, as the view allows them (require_POST and friends answer 405 first)."""
    allowed = [m for m in ("GET", "POST") if request(client, m, url).status_code != 405]
    return allowed


def request(client, method, url):
    return client.get(url) if method == "GET" else client.post(url, {})


def signed_in(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("route", [r for r in MATRIX_ROUTES if r.is_billing], ids=lambda r: r.name)
def test_access(db, world, on_today, route):
    corporate = route.portal == Portal.CORPORATE
    owner = world.globex if corporate else world.acme
    other = world.initech if corporate else world.umbrella
    cross = world.acme if corporate else world.globex  # an account of the other portal
    url = owner.url(route)
    methods = methods_of(Client(), url)
    assert methods, f"{route.name} answers 405 to both GET and POST"
    home_of_cross = reverse("subscriptions:dashboard" if corporate else "corporate:subscriptions")
    sides = {"owner": owner, "other": other, "cross": cross}

    # Who asks → (what they must get, the side whose data they may see). Owner last: its POST
    # may change what the others would have been refused.
    expectations = [
        ("anonymous", None, "login", None),
        ("member", owner.member, 403, owner),
        ("staff", world.staff, 403, None),
        ("another account", other.contact, 404 if route.names_an_object else "ok", other),
        (
            "the other portal",
            cross.contact,
            404 if route.name in SHARED_WITH_CORPORATE else ("redirect", home_of_cross),
            cross,
        ),
        ("the account's billing contact", owner.contact, "ok", owner),
    ]
    problems = []
    for who, user, expected, own_side in expectations:
        client = signed_in(user)
        for method in methods:
            response = request(client, method, url)
            code = response.status_code
            if expected == "login":
                ok = code == 302 and response.url.startswith(reverse("login"))
            elif expected == "ok":
                # GET shows the page; an empty POST is answered with the form's errors or a
                # redirect with a message, never refused nor a server error.
                ok = code == 200 if method == "GET" else code in (200, 302, 400)
                if route.name in RETURNS:
                    ok = code == 302
                if route.name in FOR_ONE_STATE:
                    ok = code in (200, 302)
                if code == 302:
                    refused = response.url.startswith(reverse("login"))
                    ok = ok and not refused and response.url != home_of_cross
            elif isinstance(expected, tuple):
                ok = code == 302 and response.url == expected[1]
            else:
                ok = code == expected
            if not ok:
                problems.append(f"{who} {method}: {code} {getattr(response, 'url', '')}")
            if response.get("Content-Type", "").startswith("text/html"):
                # The address asked for comes back in the page (the language switcher's
                # "next"): that is the visitor's own words, not another account's data.
                body = response.content.decode().replace(url, "")
                for name, side in sides.items():
                    if side is own_side:
                        continue
                    leaked = [m for m in side.markers if m in body]
                    if leaked:
                        problems.append(f"{who} {method} sees {name}'s {leaked}")
    assert not problems, f"{route.name} ({url}):\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "route", [r for r in MATRIX_ROUTES if not r.is_billing], ids=lambda r: r.name
)
def test_public_pages_answer_everyone(db, world, on_today, route):
    url = world.acme.url(route)
    for user in (None, world.acme.member, world.acme.contact, world.globex.contact, world.staff):
        client = signed_in(user)
        for method in methods_of(client, url):
            assert request(client, method, url).status_code < 500, (route.name, method)
