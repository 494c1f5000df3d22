"""Hostile sign-in names and object numbers: a clear answer, never a server error (issue 9: a
username over 255 characters overflowed django-axes' column; a NUL byte in a number in the URL
broke PostgreSQL)."""

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from subscriptions.models import Portal

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")


@pytest.mark.parametrize(
    "username",
    ["a" * 300 + "@example.test", "x" * 5000, "billing\x00@example.test", "\x00", "é" * 300],
)
def test_a_hostile_username_is_a_form_error(client, billing_contact, username):
    response = client.post(LOGIN, {"username": username, "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert all(len(a.username or "") <= 255 for a in AccessAttempt.objects.all())


def test_the_admin_login_never_stores_more_than_axes_column(client, admin_user):
    """The admin's own sign-in form: its failures are counted under a name cut to 255."""
    for _attempt in range(2):
        response = client.post(
            reverse("admin:login"), {"username": "a" * 300 + "@example.test", "password": "x"}
        )
        assert response.status_code == 200
    (attempt,) = AccessAttempt.objects.all()
    assert attempt.failures_since_start == 2
    assert len(attempt.username) == 255


def test_a_username_of_normal_length_still_signs_in(client, billing_contact):
    response = client.post(
        LOGIN, {"username": billing_contact.email, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    "name",
    [
        "checkout:order_confirmation",
        "checkout:invoice_detail",
        "checkout:invoice_pdf",
        "billing_quotes:quote_detail",
        "billing_quotes:reject_quote",
    ],
)
def test_a_nul_byte_in_a_number_is_not_found(contact_client, name):
    url = reverse(name, args=["INV-2026-000001"]).replace("000001", "00%001")
    method = contact_client.post if name.endswith("reject_quote") else contact_client.get
    assert method(url).status_code == 404


def test_a_nul_byte_in_a_corporate_quote_number_is_not_found(contact_client, account):
    account.portal = Portal.CORPORATE
    account.save()
    url = reverse("corporate:quote_detail", args=["Q-2026-000001"]).replace("000001", "00%001")
    assert contact_client.get(url).status_code == 404
