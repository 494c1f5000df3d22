"""Our pages for Stripe, under /stripe/ (there only while Stripe is the gateway): the card
setup our card fields start, the page where Stripe.js asks the customer to authenticate, and
Stripe's webhooks."""

import logging

import stripe
from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from checkout.payments.gateway import ChargeFailed, gateway_customer, get_gateway
from checkout.stripe_gateway.client import StripeGateway, read_authentication_token
from checkout.stripe_gateway.models import StripeCustomer
from checkout.stripe_gateway.webhooks import EventError, handle_event

logger = logging.getLogger(__name__)


def _paying_account(request):
    """The account of the signed-in billing contact (who may enter cards and pay), or 403."""
    membership = getattr(request, "membership", None)
    if not request.user.is_authenticated or membership is None:
        raise PermissionDenied
    if not membership.is_billing_contact:
        raise PermissionDenied
    return membership.account


def _stripe() -> StripeGateway:
    """These pages exist only while Stripe is the gateway."""
    if not settings.PAYMENT_GATEWAY.startswith("checkout.stripe_gateway."):
        raise Http404
    gateway = get_gateway()
    if not isinstance(gateway, StripeGateway):
        raise Http404
    return gateway


@require_POST
@never_cache
def card_setup(request):
    """Our card fields' first call: a SetupIntent for the signed-in account, whose client
    secret Stripe.js confirms with the card typed into Stripe's card element."""
    gateway = _stripe()
    account = _paying_account(request)
    try:
        secret = gateway.start_card_setup(customer=gateway_customer(account))
    except ChargeFailed:
        logger.warning("Stripe did not start a card setup", exc_info=True)
        return JsonResponse(
            {"error": _("The payment service did not answer. Please try again in a moment.")},
            status=503,
        )
    return JsonResponse({"client_secret": secret})


@require_GET
@never_cache
def authenticate(request, token: str):
    """Stripe.js asks the customer to authenticate a payment (or a card setup) with their
    bank, then sends them to the money path's return URL, which asks Stripe how it ended. The
    link is signed, and shown only to the account whose Stripe customer the intent is of."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    gateway = _stripe()
    account = _paying_account(request)
    try:
        named = read_authentication_token(token)
    except signing.BadSignature:
        return HttpResponseBadRequest(_("This authentication link is not valid."))
    return_url = named["return"]
    if not url_has_allowed_host_and_scheme(
        return_url, allowed_hosts={request.get_host(), *settings.ALLOWED_HOSTS}
    ) and not return_url.startswith(settings.SITE_URL):
        return HttpResponseBadRequest(_("This authentication link is not valid."))
    intent_id = named["intent"]
    kind = "setup" if intent_id.startswith("seti_") else "payment"
    service = (
        gateway.stripe.v1.setup_intents if kind == "setup" else gateway.stripe.v1.payment_intents
    )
    try:
        intent = service.retrieve(intent_id)
    except stripe.StripeError:
        return redirect(return_url)
    customer = StripeCustomer.objects.filter(reference=gateway_customer(account).reference).first()
    if customer is None or intent.customer != customer.customer_id:
        raise PermissionDenied
    if intent.status != "requires_action":
        return redirect(return_url)  # nothing to authenticate: the return page tells
    return render(
        request,
        "stripe_gateway/authenticate.html",
        {
            "kind": kind,
            "client_secret": intent.client_secret,
            "return_url": return_url,
            "card_entry": gateway.card_entry(),
        },
    )


@csrf_exempt  # Stripe's call, authenticated by its signature
@require_POST
def webhook(request):
    """Stripe's events: the signature is checked with the endpoint's secret (a forged or
    replayed event → 400, nothing changes), then the matching payment or card setup is
    settled through the money path. Unknown events are acknowledged and ignored."""
    _stripe()
    try:
        event = stripe.Webhook.construct_event(
            request.body,
            request.headers.get("Stripe-Signature", ""),
            settings.STRIPE_WEBHOOK_SECRET,
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
        )
    except (ValueError, stripe.SignatureVerificationError) as error:
        logger.warning("Stripe webhook refused: %s", error)
        return HttpResponseBadRequest("Invalid signature or payload.")
    try:
        outcome = handle_event(event)
    except EventError as error:
        # Stripe delivers it again later (with backoff) until we answer 2xx.
        logger.warning("Stripe event %s not handled yet: %s", event.id, error)
        return HttpResponse(status=503)
    return JsonResponse({"received": True, "outcome": outcome})
