"""Errors to Sentry when SENTRY_DSN is set: with the request id, and nothing a customer typed
(no request bodies, cookies, headers' values or user details: ids only)."""

from django.conf import settings

# Keys of event data that may hold what a person typed or who they are.
DROPPED = ("data", "cookies", "headers", "env", "query_string")


def _scrub(event, hint):
    request = event.get("request") or {}
    for key in DROPPED:
        request.pop(key, None)
    user = event.get("user") or {}
    event["user"] = {"id": user["id"]} if "id" in user else {}
    return event


def init_sentry() -> bool:
    if not settings.SENTRY_DSN:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    from billing_center.request_ids import current

    sentry_sdk.init(
        dsn=settings.SENTRY_DSN,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        max_request_body_size="never",
        before_send=_scrub,
        environment="development" if settings.DEBUG else "production",
    )
    sentry_sdk.get_global_scope().add_event_processor(
        lambda event, hint: {**event, "tags": {**event.get("tags", {}), "request_id": current()}}
    )
    return True
