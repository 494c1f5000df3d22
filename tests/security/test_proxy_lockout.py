"""Behind reverse proxies the lockout counts the client's address, not the proxy's (issue 9:
AXES_PROXY_COUNT had no effect without django-ipware, so anyone could lock a user out)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.test import override_settings
from django.urls import reverse

from billing_center.settings import client_address_settings

ROOT = Path(__file__).resolve().parents[2]
LOGIN = reverse("login")
PROXY = "10.0.0.2"  # every request reaches gunicorn from the proxy
ATTACKER, VICTIM = "198.51.100.7", "203.0.113.9"


def login(client, email, password, forwarded_for):
    return client.post(
        LOGIN,
        {"username": email, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


@pytest.mark.django_db
@override_settings(**client_address_settings(1))
def test_an_attacker_behind_the_proxy_cannot_lock_the_user_out(client, billing_contact):
    email = billing_contact.email
    for _attempt in range(6):
        login(client, email, "wrong", ATTACKER)
    assert login(client, email, "correct-horse-battery", ATTACKER).status_code == 429
    assert login(client, email, "correct-horse-battery", VICTIM).status_code == 302


@pytest.mark.django_db
@override_settings(**client_address_settings(1))
def test_an_address_forged_in_front_of_the_proxys_is_ignored(client, billing_contact):
    """The proxy appends the address it saw: the attacker's own header comes first."""
    for _attempt in range(5):
        login(client, billing_contact.email, "wrong", f"{VICTIM}, {ATTACKER}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


@pytest.mark.django_db
@override_settings(**client_address_settings(2))
def test_two_proxies(client, billing_contact):
    login(client, billing_contact.email, "wrong", f"{VICTIM}, {ATTACKER}, 10.0.0.9")
    assert AccessAttempt.objects.get().ip_address == ATTACKER


@pytest.mark.django_db
@override_settings(**client_address_settings(0))
def test_without_a_proxy_the_header_is_not_believed(client, billing_contact):
    client.post(
        LOGIN,
        {"username": billing_contact.email, "password": "wrong"},
        REMOTE_ADDR=ATTACKER,
        HTTP_X_FORWARDED_FOR=VICTIM,
    )
    assert AccessAttempt.objects.get().ip_address == ATTACKER


def test_the_environment_sets_the_proxy_count():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env |= {"DJANGO_SETTINGS_MODULE": "billing_center.settings_test", "AXES_PROXY_COUNT": "1"}
    code = (
        "from django.conf import settings as s; "
        "print(s.AXES_IPWARE_PROXY_COUNT, s.AXES_IPWARE_META_PRECEDENCE_ORDER, s.IPWARE_STRICT)"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.split() == ["0", "('HTTP_X_FORWARDED_FOR',)", "False"], result.stderr
