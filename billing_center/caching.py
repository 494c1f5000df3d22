from django.utils.cache import patch_cache_control


class PrivatePagesMiddleware:
    """A page for a signed-in person (invoices, their PDFs, cards, checkout) is theirs alone:
    `Cache-Control: private, no-store`, so neither a shared proxy nor the browser's cache keeps
    it after they log out. A view that chose its own caching keeps it. Everything under /api/
    is `no-store`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/"):
            # The API's answers (by key, not by session): never kept by anyone.
            response["Cache-Control"] = "no-store"
            return response
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
