"""Who may see a billing page, and the one helper that scopes every lookup to the account."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404


def billing_contact_required(view):
    """Anonymous → the login page; signed in without a billing-contact membership → 403.

    On success `request.account` is the billing contact's account.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = request.membership
        if membership is None or not membership.is_billing_contact:
            raise PermissionDenied
        request.account = membership.account
        return view(request, *args, **kwargs)

    return wrapper


def get_for_account(
    queryset: QuerySet, *, account, account_field: str = "account", **lookup
) -> Model:
    """The object matching `lookup` inside `account`; anything else — another account's object
    included — is a 404, so an outsider cannot even learn that the object exists."""
    return get_object_or_404(queryset, **{account_field: account}, **lookup)


def login_attempt_username(request, credentials) -> str | None:
    """The email a login attempt is for, lower-cased, as django-axes counts failures by it."""
    username = (credentials or {}).get("username") or request.POST.get("username")
    return username.strip().lower() if username else None
