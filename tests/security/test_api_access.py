"""Every route of the read API, enumerated from the URLconf (a new endpoint is walked by
itself): no key and a revoked key → 401, a key with no scope → 403, a key of another account →
404 (or nothing, for a search), and its own account's key or a products' key → 200. Never a
session: a signed-in billing contact without a key gets 401 too."""

import pytest
from django.core.cache import cache
from django.utils import timezone

from billing_center.integrations.models import API_SCOPES, ApiKey
from subscriptions.models import Role
from tests.factories import (
    AccountFactory,
    InvoiceFactory,
    MembershipFactory,
    SeatAssignmentFactory,
    SubscriptionFactory,
)
from tests.security.world import routes

# Not endpoints of data: the document (public), Swagger UI (staff), ninja's root (404).
NOT_DATA = {"api:openapi-json", "api:openapi-view", "api:api-root"}
API_ROUTES = [r for r in routes() if r.namespace.split(":")[0] == "api" and r.name not in NOT_DATA]


@pytest.fixture
def world(db):
    cache.clear()
    acme, globex = AccountFactory(), AccountFactory()
    contact = MembershipFactory(account=acme, role=Role.BILLING_CONTACT).user
    subscription = SubscriptionFactory(account=acme, seat_count=2)
    SeatAssignmentFactory(subscription=subscription, user=contact)
    invoice = InvoiceFactory(account=acme)
    return {
        "acme": acme,
        "globex": globex,
        "contact": contact,
        "values": {
            "account_id": acme.pk,
            "subscription_id": subscription.pk,
            "number": invoice.number,
        },
    }


def url_of(route, values, email) -> str:
    url = "/" + route.route
    for _segment, name in route.parameters:
        assert name in values, f"{route.name}: say what <{name}> stands for in this suite"
        url = url.replace(f"<{name}>", str(values[name]))
    if route.name == "api:user_entitlements":
        url += f"?email={email}"
    return url


def test_the_suite_sees_the_api():
    assert len(API_ROUTES) >= 5


@pytest.mark.parametrize("route", API_ROUTES, ids=lambda r: r.name)
def test_access(client, world, route):
    url = url_of(route, world["values"], world["contact"].email)

    def get(value=None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {value}"} if value else {}
        return client.get(url, **headers)

    products = ApiKey.issue(name="products", scopes=API_SCOPES)[1]
    own = ApiKey.issue(name="acme", scopes=API_SCOPES, account=world["acme"])[1]
    other = ApiKey.issue(name="globex", scopes=API_SCOPES, account=world["globex"])[1]
    scopeless = ApiKey.issue(name="none", scopes=[])[1]
    revoked_key, revoked = ApiKey.issue(name="old", scopes=API_SCOPES)
    revoked_key.revoked_at = timezone.now()
    revoked_key.save()

    assert get().status_code == 401
    assert get(revoked).status_code == 401
    assert get("x" * 300).status_code == 401
    assert get(scopeless).status_code == 403
    assert get(products).status_code == 200
    assert get(own).status_code == 200
    answer = get(other)
    if route.parameters:
        assert answer.status_code == 404
    else:
        assert (answer.status_code, answer.json()) == (200, [])
    client.force_login(world["contact"])  # a session is not a key
    assert get().status_code == 401
