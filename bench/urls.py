"""The project's URLs plus the bare view every page is compared with."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path

from billing_center.urls import urlpatterns as project_urlpatterns


@login_required
def bare(request):
    """The cheapest authenticated page the server can serve: the same middleware (session,
    user, membership, language, CSRF, CSP, axes) as every page, no query of its own, no
    template."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare, name="bench_bare"), *project_urlpatterns]
