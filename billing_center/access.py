"""Who may see a billing page, and the one helper that scopes every lookup to the account.

The one rule of which portal a page belongs to lives here too: a page in the `corporate` URL
namespace is the Corporate Billing Portal's, every other billing page is the Billing Center's.
`billing_contact_required` applies it to every view it guards, so a new view is guarded by where
its URL is mounted, without remembering to.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _

CORPORATE_NAMESPACE = "corporate"

# Billing Center pages a corporate account uses too: its invoices (linked from its Invoices
# page, its service orders and the receipt email) and paying one left open by a declined
# renewal on its automatic card ("Pay now", and the page that waits for an unknown outcome).
SHARED_VIEWS = frozenset(
    {
        "checkout:invoice_detail",
        "checkout:invoice_pdf",
        "checkout:invoice_xml",
        "checkout:pay_invoice",
        "checkout:payment_status",
        # Back from the bank's authentication of a Pay now.
        "checkout:payment_return",
    }
)


def view_is_corporate(resolver_match) -> bool:
    """Does the view this request resolved to belong to the Corporate Billing Portal?"""
    return resolver_match is not None and resolver_match.namespace == CORPORATE_NAMESPACE


def portal_redirect(request, account):
    """None when `account` may use the page `request` is for; else where to send it instead.

    A corporate account uses the Corporate Billing Portal only; an account of the Billing
    Center (including one that moved there for good, SPEC C.7) uses the Billing Center only.
    """
    match = request.resolver_match
    if view_is_corporate(match):
        if account.is_corporate:
            return None
        messages.info(
            request,
            _(
                "Your account is managed in the Billing Center: the Corporate Billing "
                "Portal is no longer available."
            ),
        )
        return redirect("subscriptions:dashboard")
    if not account.is_corporate or (match is not None and match.view_name in SHARED_VIEWS):
        return None
    messages.info(
        request,
        _("Your account uses the Corporate Billing Portal: add seats, and accept quotes, here."),
    )
    return redirect("corporate:subscriptions")


def billing_contact_required(view):
    """Anonymous → the login page; signed in without a billing-contact membership → 403; the
    billing contact of an account of the other portal → that portal, with a message.

    On success `request.account` is the billing contact's account.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = request.membership
        if membership is None or not membership.is_billing_contact:
            raise PermissionDenied
        elsewhere = portal_redirect(request, membership.account)
        if elsewhere is not None:
            return elsewhere
        request.account = membership.account
        return view(request, *args, **kwargs)

    return wrapper


def get_for_account(
    queryset: QuerySet, *, account, account_field: str = "account", **lookup
) -> Model:
    """The object matching `lookup` inside `account`; anything else — another account's object
    included — is a 404, so an outsider cannot even learn that the object exists. A value no
    row can hold (a NUL byte, which PostgreSQL refuses in any query) is a 404 too."""
    if any(isinstance(value, str) and "\x00" in value for value in lookup.values()):
        raise Http404
    return get_object_or_404(queryset, **{account_field: account}, **lookup)


def login_attempt_username(request, credentials) -> str | None:
    """The email a login attempt is for, lower-cased, as django-axes counts failures by it; cut
    to the 255 characters of axes' column (an email has at most 254), whatever form sent it."""
    username = (credentials or {}).get("username") or request.POST.get("username")
    return username.strip().lower()[:255] if username else None
