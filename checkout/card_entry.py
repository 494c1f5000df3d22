"""A new card on our pages without its number reaching our server: the payment processor's card
fields (its script) turn it into a token before the form is sent; without JavaScript the page
sends the customer to the processor's hosted card page and takes them back with a token. What
they had typed on our page (billing details, the name on the card) waits in their session
meanwhile — nothing of the card is in it."""

import re
from urllib.parse import urlencode

from django.shortcuts import redirect

from checkout.payments.gateway import InvalidCardToken, TokenizedCard, get_gateway

# Card data never arrives; the rest of the form is kept for the way back. The CSRF token and
# the buttons are not form data.
NOT_KEPT = {"csrfmiddlewaretoken", "card_token", "enter_card"}
TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


def _session_key(path: str) -> str:
    return f"card-entry:{path}"


def to_hosted_card_page(request):
    """Send the customer to the processor's hosted card page; they come back to this page."""
    request.session[_session_key(request.path)] = {
        name: request.POST.getlist(name) for name in request.POST if name not in NOT_KEPT
    }
    hosted = get_gateway().card_entry().hosted_page_url
    return redirect(f"{hosted}?{urlencode({'return': request.path})}")


def wants_card_entry(request, form) -> bool:
    """Go to the hosted card page? When "Enter the card" was pressed (whatever card was
    chosen: it never pays with another one), or a new card is to pay and none was entered."""
    if not get_gateway().card_entry().hosted_page_url:
        return False  # the processor has no hosted card page: the form says what is missing
    if "enter_card" in request.POST:
        return True
    return getattr(form, "payment_required", True) and form.needs_card_entry


def returned_from_card_page(request) -> dict | None:
    """Back from the hosted card page: what the customer had typed, with the new card chosen
    and its token; None when this is not such a return."""
    token = request.GET.get("card_token", "")
    if not token:
        return None
    kept = request.session.pop(_session_key(request.path), {})
    data = {name: values[-1] if len(values) == 1 else values for name, values in kept.items()}
    return {**data, "payment": "new", "card_token": token}


def entered_card(token: str) -> TokenizedCard | None:
    """What the processor says a token is (shown as "Card entered: Visa •••• 4242")."""
    if not token or not TOKEN.fullmatch(token):
        return None
    try:
        return get_gateway().describe_card(token=token)
    except InvalidCardToken:
        return None


def card_entry_context(form) -> dict:
    """What the new-card partial needs: the processor's card fields, and the card entered."""
    token = form["card_token"].value() if "card_token" in form.fields else ""
    return {"card_entry": get_gateway().card_entry(), "entered_card": entered_card(token or "")}
