"""What leaves with every response: signed-in pages are not stored by browsers or proxies, the
language cookie is as guarded as the session's, and the 500 page speaks the visitor's language
(issue 9, "Smaller")."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.views import LoginView
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from django.urls import reverse

from billing_center.caching import PrivatePagesMiddleware
from cart.models import Cart
from tests.factories import CartItemFactory, InvoiceFactory, PaymentMethodFactory

ROOT = Path(__file__).resolve().parents[2]
ALL_FOUR = (
    "Something went wrong",
    "Une erreur s’est produite",
    "Si è verificato un errore",
    "Se ha producido un error",
)


@pytest.mark.django_db
class TestNoStore:
    def test_invoice_pdf_payment_methods_and_checkout_are_not_stored(
        self, contact_client, account, billing_contact
    ):
        invoice = InvoiceFactory(order__account=account)
        PaymentMethodFactory(account=account, is_default=True)
        CartItemFactory(cart=Cart.objects.create(owner=billing_contact, account=account))
        for url in (
            reverse("checkout:invoice_detail", args=[invoice.number]),
            reverse("checkout:invoice_pdf", args=[invoice.number]),
            reverse("checkout:payment_methods"),
            reverse("checkout:checkout"),
        ):
            response = contact_client.get(url)
            assert response.status_code == 200, url
            directives = {d.strip() for d in response["Cache-Control"].split(",")}
            assert {"no-store", "private"} <= directives, url

    def test_anonymous_pages_are_left_alone(self, client):
        assert not client.get(reverse("password_reset")).has_header("Cache-Control")

    def test_a_view_that_set_its_own_keeps_it(self, billing_contact):
        request = RequestFactory().get("/")
        request.user = billing_contact

        def view(request):
            response = HttpResponse()
            response["Cache-Control"] = "public, max-age=60"
            return response

        assert PrivatePagesMiddleware(view)(request)["Cache-Control"] == "public, max-age=60"


@pytest.mark.django_db
def test_the_language_cookie_is_lax_and_http_only(client):
    with override_settings(LANGUAGE_COOKIE_SECURE=True):
        response = client.post(reverse("set_language"), {"language": "fr", "next": "/login/"})
    cookie = response.cookies["django_language"]
    assert cookie["samesite"] == "Lax"
    assert cookie["httponly"]
    assert cookie["secure"]


def test_production_sends_the_language_cookie_over_https_only():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env |= {
        "DJANGO_SETTINGS_MODULE": "billing_center.settings",
        "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789-abcdefghijkl",
        "DATABASE_URL": "sqlite:////tmp/billing-center-cookie-check.sqlite3",
    }
    code = (
        "from django.conf import settings as s; print(s.LANGUAGE_COOKIE_SECURE, "
        "s.LANGUAGE_COOKIE_SAMESITE, s.LANGUAGE_COOKIE_HTTPONLY)"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.split() == ["True", "Lax", "True"], result.stderr


@pytest.mark.django_db
class TestServerErrorPage:
    @pytest.fixture
    def broken(self, monkeypatch, client):
        def fail(**kwargs):
            raise RuntimeError("database on fire")

        monkeypatch.setattr("subscriptions.views.selectors.dashboard_subscriptions", fail)
        client.raise_request_exception = False
        return client

    def test_in_the_users_language(self, broken, billing_contact):
        billing_contact.language = "fr"
        billing_contact.save()
        broken.force_login(billing_contact)
        response = broken.get(reverse("subscriptions:dashboard"))
        assert response.status_code == 500
        html = response.content.decode()
        assert '<html lang="fr">' in html
        assert "Une erreur s’est produite" in html
        assert "Something went wrong" not in html

    @pytest.fixture
    def broken_login(self, monkeypatch, client):
        def fail(*args, **kwargs):
            raise RuntimeError("sessions on fire")

        monkeypatch.setattr(LoginView, "get", fail)
        client.raise_request_exception = False
        return client

    def test_in_the_cookies_language_for_a_visitor(self, broken_login):
        broken_login.cookies["django_language"] = "es"
        response = broken_login.get(reverse("login"))
        assert response.status_code == 500
        assert "Se ha producido un error" in response.content.decode()

    def test_in_the_browsers_language(self, broken_login):
        response = broken_login.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="it-IT,it;q=0.9")
        assert "Si è verificato un errore" in response.content.decode()

    def test_all_four_languages_when_none_is_known(self, broken_login):
        response = broken_login.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="de")
        html = response.content.decode()
        for words in ALL_FOUR:
            assert words in html

    def test_the_page_never_fails_itself(self, broken, billing_contact, monkeypatch):
        def no_templates(*args, **kwargs):
            raise RuntimeError("templates gone")

        monkeypatch.setattr("billing_center.views.render_to_string", no_templates)
        broken.force_login(billing_contact)
        response = broken.get(reverse("subscriptions:dashboard"))
        assert response.status_code == 500
        for words in ALL_FOUR:
            assert words in response.content.decode()
