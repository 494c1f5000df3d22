from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseServerError
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from django.views.i18n import set_language as django_set_language

from billing_center.services import set_user_language


@require_safe
def home(request):
    """Where "/" leads: the Billing Center for billing contacts, the admin for vendor staff."""
    if not request.user.is_authenticated:
        return redirect("login")
    if request.membership is None and request.user.is_staff:
        return redirect("admin:index")
    if request.membership is not None and request.membership.account.is_corporate:
        return redirect("corporate:subscriptions")
    return redirect("subscriptions:dashboard")


@require_POST
def set_language(request):
    """Django's set_language (cookie, safe redirect back), and the choice kept on the user."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        messages.error(request, _("That language is not available."))
        return redirect("home")
    response = django_set_language(request)
    if request.user.is_authenticated:
        set_user_language(user=request.user, language=language)
    return response


# The last resort when even the translated page cannot be rendered: plain text, no gettext.
SERVER_ERROR_FALLBACK = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Server error</title></head><body>
<p lang="en">Something went wrong. Please try again in a moment.</p>
<p lang="fr">Une erreur s’est produite. Veuillez réessayer dans un instant.</p>
<p lang="it">Si è verificato un errore. Riprova tra un momento.</p>
<p lang="es">Se ha producido un error. Vuelva a intentarlo en un momento.</p>
</body></html>"""


def server_error(request):
    """handler500: the error page in the visitor's language, or in all four when it is not
    known. It renders without the request's context (the database may be what failed) and,
    should that fail too, answers with a fixed page: it never raises."""
    try:
        language = _visitor_language(request)
        languages = [language] if language else [code for code, _name in settings.LANGUAGES]
        pages = []
        for code in languages:
            with translation.override(code):
                pages.append(
                    {
                        "language": code,
                        "title": _("Server error"),
                        "heading": _("Something went wrong"),
                        "text": _(
                            "We could not complete this request. Please try again in a moment."
                        ),
                    }
                )
        html = render_to_string("500.html", {"pages": pages, "language": languages[0]})
    except Exception:
        html = SERVER_ERROR_FALLBACK
    return HttpResponseServerError(html)


def _visitor_language(request) -> str | None:
    """The signed-in person's language, else the language cookie's, else the browser's first
    one we speak; None when none of them is known."""
    supported = dict(settings.LANGUAGES)
    try:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            membership = getattr(request, "membership", None)
            language = user.language or (membership.account.language if membership else "")
            if language in supported:
                return language
    except Exception:  # the user's row may be what could not be read
        pass
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if cookie in supported:
        return cookie
    for accepted in request.META.get("HTTP_ACCEPT_LANGUAGE", "").split(","):
        code = accepted.split(";")[0].strip().lower().split("-")[0]
        if code in supported:
            return code
    return None
