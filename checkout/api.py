"""The read API under /api/v1/ (django-ninja: typed, OpenAPI 3 at /api/v1/openapi.json, docs
for staff at /api/v1/docs): who may use which product now, subscriptions and invoices, for the
products and for support tools.

Access by API key (`Authorization: Bearer <key>`, billing_center.integrations.ApiKey): a missing,
unknown or revoked key → 401; a key without the endpoint's scope → 403; a key limited to one
account sees only that account (another's ids → 404, as if they did not exist). Each key may
make API_RATE_LIMIT_PER_MINUTE requests a minute (429 with Retry-After). Every answer is
`Cache-Control: no-store`.
"""

import time

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.http import Http404, JsonResponse
from django.utils import timezone
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer

from billing_center.integrations.models import ApiKey, hash_secret
from checkout.models import Invoice
from checkout.representations import InvoiceOut
from subscriptions.models import Account, SeatAssignment, Subscription
from subscriptions.representations import EntitlementOut, SubscriptionOut, entitlements


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after


class KeyAuth(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request, token):
        key = ApiKey.objects.filter(key_hash=hash_secret(token), revoked_at__isnull=True).first()
        if key is None:
            return None
        _count_request(key)
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)  # at most once a minute
        request.api_key = key
        return key


def _count_request(key: ApiKey) -> None:
    """A fixed one-minute window per key, in the cache (shared by the processes when the cache
    is: a shared CACHES backend in production)."""
    window = int(time.time() // 60)
    name = f"api-rate:{key.pk}:{window}"
    cache.add(name, 0, timeout=120)
    count = cache.incr(name)
    if count > settings.API_RATE_LIMIT_PER_MINUTE:
        raise RateLimited(retry_after=60 - int(time.time()) % 60)


api = NinjaAPI(
    title="Billing Center API",
    version="1",
    description=__doc__,
    urls_namespace="api",
    auth=KeyAuth(),
    docs_decorator=staff_member_required,
)


def openapi_document(request):
    """The OpenAPI 3 document, for everybody (it holds no data); the docs page is for staff."""
    return JsonResponse(api.get_openapi_schema(path_prefix="/api/v1/"))


@api.exception_handler(RateLimited)
def rate_limited(request, error: RateLimited):
    response = api.create_response(
        request, {"detail": "Too many requests for this key."}, status=429
    )
    response["Retry-After"] = str(max(1, error.retry_after))
    return response


def _require(request, scope: str) -> ApiKey:
    key: ApiKey = request.auth
    if scope not in key.scopes:
        raise HttpError(403, f"This key does not have the {scope} scope.")
    return key


def _visible(queryset, key: ApiKey, account_field: str):
    if key.account_id is not None:
        return queryset.filter(**{account_field: key.account_id})
    return queryset


def _text(value: str, *, max_length: int, name: str) -> str:
    """A text parameter as the database can compare it: no NUL byte, not longer than the field
    it is compared with (400 otherwise, never a server error)."""
    if "\x00" in value or len(value) > max_length:
        raise HttpError(400, f"Not a valid {name}.")
    return value


def _account(key: ApiKey, account_id: int) -> Account:
    account = _visible(Account.objects.filter(pk=account_id), key, "pk").first()
    if account is None:
        raise Http404
    return account


class Error(Schema):
    detail: str


ERRORS = {401: Error, 403: Error, 404: Error, 429: Error}


@api.get(
    "/entitlements/",
    response={200: list[EntitlementOut], 400: Error, **ERRORS},
    summary="What a user may use now",
)
def user_entitlements(request, email: str = "", user_id: int | None = None):
    """The products the user (by email or id) may use now: one entry per seat of a
    subscription that grants access (active or being retried, or a trial until its end). A
    suspended, canceled or expired subscription grants nothing. An unknown user has none."""
    key = _require(request, "entitlements:read")
    if not email and user_id is None:
        raise HttpError(400, "Give email or user_id.")
    seats = SeatAssignment.objects.all()
    if email:
        email = _text(email.strip(), max_length=254, name="email")
        seats = seats.filter(user__email__iexact=email)
    if user_id is not None:
        seats = seats.filter(user_id=user_id)
    return entitlements(_visible(seats, key, "subscription__account_id"))


@api.get(
    "/accounts/{account_id}/entitlements/",
    response={200: list[EntitlementOut], **ERRORS},
    summary="An account's seats that grant access now",
)
def account_entitlements(request, account_id: int):
    key = _require(request, "entitlements:read")
    account = _account(key, account_id)
    return entitlements(SeatAssignment.objects.filter(subscription__account=account))


def _subscriptions():
    return Subscription.objects.select_related("account", "product", "plan")


@api.get(
    "/subscriptions/{subscription_id}/",
    response={200: SubscriptionOut, **ERRORS},
    summary="A subscription",
)
def subscription_detail(request, subscription_id: int):
    key = _require(request, "subscriptions:read")
    subscription = _visible(_subscriptions().filter(pk=subscription_id), key, "account_id").first()
    if subscription is None:
        raise Http404
    return SubscriptionOut.of(subscription)


@api.get(
    "/accounts/{account_id}/subscriptions/",
    response={200: list[SubscriptionOut], **ERRORS},
    summary="An account's subscriptions",
)
def account_subscriptions(request, account_id: int):
    key = _require(request, "subscriptions:read")
    account = _account(key, account_id)
    return [
        SubscriptionOut.of(subscription)
        for subscription in _subscriptions()
        .filter(account=account)
        .prefetch_related("seat_assignments__user")
    ]


@api.get("/invoices/{number}/", response={200: InvoiceOut, **ERRORS}, summary="An invoice")
def invoice_detail(request, number: str):
    key = _require(request, "invoices:read")
    number = _text(number, max_length=30, name="invoice number")
    invoice = (
        _visible(Invoice.objects.filter(number=number), key, "account_id")
        .select_related("account", "order", "corrects")
        .first()
    )
    if invoice is None:
        raise Http404
    return InvoiceOut.of(invoice)
