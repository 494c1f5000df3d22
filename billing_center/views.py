from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST, require_safe
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
