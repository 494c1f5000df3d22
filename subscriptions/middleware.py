from django.utils import translation

from subscriptions.selectors import membership_for_user


class AccountMiddleware:
    """Finds the signed-in user's membership once per request and speaks their language.

    `request.membership` is the user's Membership (with its account) or None. The language is
    the one the user chose with the switcher, else the account's; anonymous visitors keep what
    LocaleMiddleware negotiated from the cookie or the browser.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            request.membership = membership_for_user(user=user)
            language = user.language or (
                request.membership.account.language if request.membership else ""
            )
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
