"""The sandbox processor's pages and its one API call, under /sandbox-gateway/ (never our
billing pages): the token endpoint its card fields post to, its hosted card page for browsers
without JavaScript, and its 3-D Secure authentication page. Nothing here knows our users: like
a processor, it knows cards, charges and the URLs it was told to send the customer back to."""

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from checkout.sandbox_gateway import processor
from checkout.sandbox_gateway.forms import CardForm
from checkout.sandbox_gateway.models import SandboxCharge

PUBLISHABLE_KEY = "pk_sandbox"


def _safe_return(url: str) -> str | None:
    """Only a path of this site: the hosted page is never an open redirect."""
    if url and url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return url
    return None


def _tokenize(form: CardForm):
    month, year = form.cleaned_data["expiry"]
    return processor.tokenize(number=form.cleaned_data["number"], exp_month=month, exp_year=year)


@csrf_exempt  # a processor's API: called by its script with the publishable key, no cookies
@sensitive_post_parameters("number", "cvc", "expiry")
@never_cache
@require_POST
def tokens(request):
    """The card fields' call: the card in, a token out (or what to correct, per field)."""
    if request.POST.get("key") != PUBLISHABLE_KEY:
        return JsonResponse({"errors": {"__all__": ["Unknown publishable key."]}}, status=401)
    # In the language of the page the card fields are on, as the processors' fields are.
    language = request.POST.get("lang", "")
    if language not in dict(settings.LANGUAGES):
        language = translation.get_language()
    with translation.override(language):
        form = CardForm(request.POST)
        if not form.is_valid():
            errors = {name: [str(text) for text in texts] for name, texts in form.errors.items()}
            return JsonResponse({"errors": errors}, status=400)
    card = _tokenize(form)
    return JsonResponse(
        {
            "token": card.token,
            "brand": card.brand,
            "last4": card.last4,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
        }
    )


@sensitive_post_parameters("number", "cvc", "expiry")
@never_cache
@require_http_methods(["GET", "POST"])
def card_page(request):
    """The hosted card page (no JavaScript needed): the card is typed here, on the processor's
    page, and the customer goes back to the page that sent them with a token."""
    back = _safe_return(request.GET.get("return", ""))
    if back is None:
        return HttpResponseBadRequest("A return path on this site is required.")
    form = CardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        card = _tokenize(form)
        separator = "&" if "?" in back else "?"
        return redirect(f"{back}{separator}card_token={card.token}")
    return render(request, "sandbox_gateway/card_page.html", {"form": form, "back": back})


@never_cache
@require_http_methods(["GET", "POST"])
def authenticate(request, reference: str):
    """The bank's 3-D Secure test page: Authorize, or Fail authentication; then back to the
    merchant's return URL, which asks the processor what happened (it never trusts the visit)."""
    row = processor.pending_authentication(reference)
    if row is None:
        return render(request, "sandbox_gateway/authenticate.html", {"row": None}, status=404)
    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision not in {"authorize", "fail"}:
            return HttpResponseBadRequest("Choose Authorize or Fail authentication.")
        row = processor.authenticate(reference, authorized=decision == "authorize")
    if row.status != SandboxCharge.Status.REQUIRES_ACTION and row.return_url:
        return redirect(row.return_url)
    return render(request, "sandbox_gateway/authenticate.html", {"row": row})
