from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from billing_center import health, metrics, views
from billing_center.forms import LoginForm
from cart import urls as cart_urls
from checkout import api as api_views
from checkout.api import api
from checkout.urls import cart_patterns
from corporate_portal.urls import corporate_patterns, quote_patterns
from subscriptions import views as subscription_views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("language/", views.set_language, name="set_language"),
    path(
        "invoice-copies/<str:token>/",
        subscription_views.invoice_copy_consent,
        name="invoice_copy_consent",
    ),
    path("billing/", include("subscriptions.urls")),
    # The cart's namespace: its edits (cart) and its page, priced by checkout (checkout.urls).
    path("billing/", include(([*cart_urls.urlpatterns, *cart_patterns], "cart"))),
    path("billing/", include("checkout.urls")),
    path("billing/activity/", subscription_views.activity, name="activity"),
    path("billing/", include((quote_patterns, "billing_quotes"))),
    path("corporate/", include((corporate_patterns, "corporate"))),
    path("admin/", admin.site.urls),
]

if settings.PAYMENT_GATEWAY.startswith("checkout.sandbox_gateway."):
    # The sandbox payment processor's own pages (a processor of its own, not our billing
    # pages), there only while it is the configured gateway.
    urlpatterns.append(path("sandbox-gateway/", include("checkout.sandbox_gateway.urls")))

# The read API for other systems (checkout.api): /api/v1/, OpenAPI at /api/v1/openapi.json.
urlpatterns += [
    path("api/v1/openapi.json", api_views.openapi_document, name="api_openapi"),
    path("api/v1/", api.urls),
]

# Operations: liveness and readiness (billing_center.health), Prometheus metrics.
operations_patterns = [
    path("health/", health.live, name="health"),
    path("health/ready/", health.ready, name="health_ready"),
    path("metrics", metrics.metrics, name="metrics"),
]
urlpatterns.append(path("", include((operations_patterns, "operations"))))

# Our pages for Stripe: card setups for Stripe's card element, the authentication page, and the
# webhook endpoint (/stripe/webhooks/); each answers 404 unless Stripe is the gateway.
urlpatterns.append(path("stripe/", include("checkout.stripe_gateway.urls")))

# The 500 page in the visitor's language (all four when it is not known); it never fails itself.
handler500 = "billing_center.views.server_error"
