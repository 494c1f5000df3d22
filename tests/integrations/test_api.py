"""The read API (/api/v1/): keys and scopes, one account's key, entitlements following trials,
suspension, cancellation and seat changes, the OpenAPI document, rate limits, caching."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from billing_center.integrations.models import API_SCOPES, ApiKey
from subscriptions import services as subscription_services
from subscriptions.models import Role, SubscriptionStatus
from tests.factories import (
    AccountFactory,
    InvoiceFactory,
    MembershipFactory,
    SeatAssignmentFactory,
    SubscriptionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 22)


@pytest.fixture(autouse=True)
def _fresh_rate_counts():
    cache.clear()


def key(scopes=API_SCOPES, account=None, name="products"):
    return ApiKey.issue(name=name, scopes=list(scopes), account=account)[1]


def get(client, url, value=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {value}"} if value else {}
    return client.get(url, **headers)


@pytest.fixture
def world():
    acme = AccountFactory(name="Acme")
    globex = AccountFactory(name="Globex")
    julien = UserFactory(email="julien.moreau@acme.test")
    MembershipFactory(account=acme, user=julien, role=Role.MEMBER)
    meeting = SubscriptionFactory(account=acme, seat_count=3)
    meeting.product.name = "GoTo Meeting"
    meeting.product.save()
    SeatAssignmentFactory(subscription=meeting, user=julien)
    other = SubscriptionFactory(account=globex, seat_count=2)
    dana = UserFactory(email="dana@globex.test")
    MembershipFactory(account=globex, user=dana, role=Role.MEMBER)
    SeatAssignmentFactory(subscription=other, user=dana)
    invoice = InvoiceFactory(account=acme)
    return {
        "acme": acme,
        "globex": globex,
        "julien": julien,
        "meeting": meeting,
        "other": other,
        "invoice": invoice,
    }


def urls(world):
    return {
        "entitlements:read": [
            "/api/v1/entitlements/?email=julien.moreau@acme.test",
            f"/api/v1/accounts/{world['acme'].pk}/entitlements/",
        ],
        "subscriptions:read": [
            f"/api/v1/subscriptions/{world['meeting'].pk}/",
            f"/api/v1/accounts/{world['acme'].pk}/subscriptions/",
        ],
        "invoices:read": [f"/api/v1/invoices/{world['invoice'].number}/"],
    }


def test_every_endpoint_with_a_valid_key(client, world):
    value = key()
    for scope_urls in urls(world).values():
        for url in scope_urls:
            answer = get(client, url, value)
            assert answer.status_code == 200, url
            assert answer["Cache-Control"] == "no-store"
            assert answer["Content-Type"].startswith("application/json")
    assert ApiKey.objects.get().last_used_at is not None


def test_no_key_an_unknown_key_a_revoked_key(client, world):
    value = key()
    ApiKey.objects.update(revoked_at=timezone.now())
    for scope_urls in urls(world).values():
        for url in scope_urls:
            assert get(client, url).status_code == 401
            assert get(client, url, "bc_not_a_key").status_code == 401
            assert get(client, url, value).status_code == 401
            assert get(client, url)["Cache-Control"] == "no-store"


def test_a_key_without_the_scope(client, world):
    for scope, scope_urls in urls(world).items():
        value = key(scopes=[other for other in API_SCOPES if other != scope], name=scope)
        for url in scope_urls:
            answer = get(client, url, value)
            assert answer.status_code == 403, url
            assert scope in answer.json()["detail"]


def test_a_key_of_one_account_never_sees_another(client, world):
    value = key(account=world["globex"])
    for scope_urls in urls(world).values():
        for url in scope_urls:
            if "entitlements/?email" in url:
                assert get(client, url, value).json() == []  # Acme's user: nothing of Globex's
            else:
                assert get(client, url, value).status_code == 404, url
    own = get(client, f"/api/v1/accounts/{world['globex'].pk}/subscriptions/", value)
    assert [s["id"] for s in own.json()] == [world["other"].pk]


def test_unknown_ids_are_404(client, world):
    value = key()
    for url in [
        "/api/v1/subscriptions/99999999/",
        "/api/v1/accounts/99999999/entitlements/",
        "/api/v1/accounts/99999999/subscriptions/",
        "/api/v1/invoices/INV-1999-000001/",
    ]:
        assert get(client, url, value).status_code == 404, url


def test_entitlements_by_email_and_by_user_id(client, world):
    value = key(scopes=["entitlements:read"])
    by_email = get(client, "/api/v1/entitlements/?email=JULIEN.MOREAU@acme.test", value).json()
    [entitlement] = by_email
    assert entitlement["product"]["name"] == "GoTo Meeting"
    assert entitlement["account"] == {"id": world["acme"].pk, "name": "Acme"}
    assert (entitlement["subscription"], entitlement["status"]) == (world["meeting"].pk, "active")
    by_id = get(client, f"/api/v1/entitlements/?user_id={world['julien'].pk}", value).json()
    assert by_id == by_email
    assert get(client, "/api/v1/entitlements/?email=nobody@x.test", value).json() == []
    assert get(client, "/api/v1/entitlements/", value).status_code == 400


class TestEntitlementsFollowTheSubscription:
    def entitlements(self, client, value):
        answer = get(client, "/api/v1/entitlements/?email=julien.moreau@acme.test", value)
        return [e["product"]["name"] for e in answer.json()]

    @pytest.mark.parametrize(
        ("status", "grants"),
        [
            (SubscriptionStatus.ACTIVE, True),
            (SubscriptionStatus.PAST_DUE, True),  # being retried: still usable
            (SubscriptionStatus.UNPAID, False),  # suspended
            (SubscriptionStatus.CANCELED, False),
            (SubscriptionStatus.EXPIRED, False),
        ],
    )
    def test_status(self, client, world, status, grants):
        world["meeting"].status = status
        world["meeting"].save()
        assert self.entitlements(client, key()) == (["GoTo Meeting"] if grants else [])

    def test_canceled_at_period_end_grants_until_it_ends(self, client, world):
        world["meeting"].cancel_at_period_end = True
        world["meeting"].save()
        assert self.entitlements(client, key()) == ["GoTo Meeting"]

    def test_a_trial_until_its_end(self, client, world):
        world["meeting"].status = SubscriptionStatus.TRIALING
        world["meeting"].trial_end = timezone.localdate() + timedelta(days=3)
        world["meeting"].save()
        value = key()
        assert self.entitlements(client, value) == ["GoTo Meeting"]
        answer = get(client, "/api/v1/entitlements/?email=julien.moreau@acme.test", value).json()
        assert answer[0]["until"] == world["meeting"].trial_end.isoformat()
        with time_machine.travel(timezone.now() + timedelta(days=4), tick=False):
            cache.clear()
            assert self.entitlements(client, value) == []

    def test_seat_changes(self, client, world):
        value = key()
        subscription_services.unassign_seat(
            subscription=world["meeting"], user=world["julien"], actor=None
        )
        assert self.entitlements(client, value) == []
        subscription_services.assign_seat(
            subscription=world["meeting"], user=world["julien"], actor=None
        )
        assert self.entitlements(client, value) == ["GoTo Meeting"]


def test_a_subscription_and_an_invoice_as_shown(client, world):
    value = key()
    shown = get(client, f"/api/v1/subscriptions/{world['meeting'].pk}/", value).json()
    assert shown["seats"] == 3
    assert shown["seats_assigned"] == ["julien.moreau@acme.test"]
    assert shown["grants_access"] is True
    assert set(shown["unit_price"]) == {"amount", "currency"}
    invoice = get(client, f"/api/v1/invoices/{world['invoice'].number}/", value).json()
    assert invoice["number"] == world["invoice"].number
    assert invoice["account"]["id"] == world["acme"].pk


def test_the_rate_limit_per_key(client, world, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    value, other = key(name="a"), key(name="b")
    url = f"/api/v1/subscriptions/{world['meeting'].pk}/"
    assert [get(client, url, value).status_code for _ in range(3)] == [200, 200, 200]
    limited = get(client, url, value)
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert get(client, url, other).status_code == 200  # per key


def test_the_openapi_document_validates(client):
    from openapi_spec_validator import validate

    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    document = answer.json()
    validate(document)
    assert document["openapi"].startswith("3.")
    assert {
        "/api/v1/entitlements/",
        "/api/v1/accounts/{account_id}/entitlements/",
        "/api/v1/subscriptions/{subscription_id}/",
        "/api/v1/accounts/{account_id}/subscriptions/",
        "/api/v1/invoices/{number}/",
    } <= set(document["paths"])
    assert document["components"]["securitySchemes"]


def test_the_docs_are_for_staff(client, admin_client):
    assert client.get("/api/v1/docs").status_code == 302
    page = admin_client.get("/api/v1/docs")
    assert page.status_code == 200
    assert b"swagger-ui-bundle.js" in page.content
    assert b"cdn.jsdelivr" not in page.content  # served by us, within the CSP


def test_the_api_is_json_only_and_read_only(client, world):
    value = key()
    url = f"/api/v1/subscriptions/{world['meeting'].pk}/"
    answer = client.post(url, {}, HTTP_AUTHORIZATION=f"Bearer {value}")
    assert answer.status_code == 405


@pytest.mark.parametrize(
    "email",
    ["\x00", "a" * 5000, "' OR 1=1 --", "<script>alert(1)</script>@x.test", "ü@ß.test", "%00"],
)
def test_hostile_queries_are_answered_not_crashed(client, world, email):
    value = key()
    answer = client.get(
        "/api/v1/entitlements/", {"email": email}, HTTP_AUTHORIZATION=f"Bearer {value}"
    )
    assert answer.status_code in (200, 400, 422)
    if answer.status_code == 200:
        assert answer.json() == []


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/subscriptions/99999999999999999999999/",
        "/api/v1/subscriptions/-1/",
        "/api/v1/subscriptions/1e3/",
        "/api/v1/accounts/0x10/subscriptions/",
        "/api/v1/invoices/%00/",
        "/api/v1/invoices/" + "9" * 500 + "/",
        "/api/v1/entitlements/?user_id=abc",
        "/api/v1/entitlements/?user_id=99999999999999999999999",
    ],
)
def test_hostile_ids_are_answered_not_crashed(client, world, path):
    answer = get(client, path, key())
    assert answer.status_code in (400, 404, 422) or (
        answer.status_code == 200 and answer.json() == []  # nobody has such an id
    ), answer.content[:200]


def test_reverse_names(db):
    assert reverse("api_openapi") == "/api/v1/openapi.json"


def test_the_demo_tells_which_products_julien_may_use(client):
    """README: create_api_key demo, then the entitlements of julien.moreau@acme.test."""
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("create_api_key", "demo", stdout=out)
    value = out.getvalue().splitlines()[1]
    answer = get(client, "/api/v1/entitlements/?email=julien.moreau@acme.test", value)
    assert answer.status_code == 200
    assert [e["product"]["name"] for e in answer.json()] == ["GoTo Meeting"]
    assert answer.json()[0]["account"]["name"] == "Acme SARL"
