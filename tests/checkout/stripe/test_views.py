"""Our pages for Stripe: who may start a card setup and see an authentication page, what a
forged or foreign link gets, and that nothing is there unless Stripe is the gateway. And the
process refusing to start with Stripe as the gateway and a key missing."""

import os
import subprocess
import sys

import pytest
from django.urls import reverse

from checkout.payments.gateway import gateway_customer
from checkout.stripe_gateway.client import authentication_url
from checkout.stripe_gateway.models import StripeCardSetup, StripeCustomer
from subscriptions.models import Role
from tests.factories import AccountFactory, MembershipFactory
from tests.stripe_server import payment_method, stripe_client

pytestmark = pytest.mark.django_db

SETUP = "/stripe/card-setups/"


def test_the_urls():
    assert reverse("stripe_gateway:card_setup") == SETUP


class TestCardSetup:
    def test_a_billing_contact_gets_a_setup_intent_of_their_accounts_customer(
        self, contact_client, account, stripe_gateway, localstripe
    ):
        answer = contact_client.post(SETUP)
        assert answer.status_code == 200
        assert answer["Cache-Control"].startswith("max-age=0")
        secret = answer.json()["client_secret"]
        setup = StripeCardSetup.objects.get()
        assert secret.startswith(f"{setup.setup_intent_id}_secret_")
        intent = stripe_client(localstripe).v1.setup_intents.retrieve(setup.setup_intent_id)
        customer = StripeCustomer.objects.get(reference=gateway_customer(account).reference)
        assert (intent.customer, intent.usage) == (customer.customer_id, "off_session")

    def test_refused_to_others(self, client, account, stripe_gateway):
        assert client.post(SETUP).status_code == 403  # anonymous
        member = MembershipFactory(account=account, role=Role.MEMBER).user
        client.force_login(member)
        assert client.post(SETUP).status_code == 403  # not a billing contact
        assert not StripeCardSetup.objects.exists()

    def test_post_only_with_csrf(self, billing_contact, stripe_gateway):
        from django.test import Client

        browser = Client(enforce_csrf_checks=True)
        browser.force_login(billing_contact)
        assert browser.get(SETUP).status_code == 405
        assert browser.post(SETUP).status_code == 403  # no CSRF token

    def test_not_there_without_stripe(self, contact_client):
        assert contact_client.post(SETUP).status_code == 404


class TestAuthenticationPage:
    @pytest.fixture
    def waiting_intent(self, account, stripe_gateway, localstripe):
        """A payment of the account waiting for the customer's authentication."""
        from moneyed import Money

        from checkout.payments.gateway import ActionRequired, get_gateway

        with pytest.raises(ActionRequired) as action:
            get_gateway().charge(
                token=payment_method(localstripe, "4000002760003184"),
                amount=Money("10.00", "EUR"),
                idempotency_key=f"page-{account.pk}",
                on_session=True,
                return_url="http://testserver/billing/",
                customer=gateway_customer(account),
            )
        return action.value

    def test_the_account_sees_the_page_with_stripe_js(self, contact_client, waiting_intent):
        answer = contact_client.get(waiting_intent.url.replace("http://testserver", ""))
        assert answer.status_code == 200
        page = answer.content.decode()
        assert 'data-kind="payment"' in page
        assert f'data-client-secret="{waiting_intent.reference}_secret_' in page
        assert "/js.stripe.com/v3/" in page
        assert "stripe_gateway/authenticate" in page

    def test_another_account_is_refused(self, client, waiting_intent):
        other = AccountFactory()
        contact = MembershipFactory(account=other, role=Role.BILLING_CONTACT).user
        client.force_login(contact)
        assert client.get(waiting_intent.url.replace("http://testserver", "")).status_code == 403

    def test_anonymous_is_sent_to_sign_in(self, client, waiting_intent):
        answer = client.get(waiting_intent.url.replace("http://testserver", ""))
        assert answer.status_code == 302
        assert "/login/" in answer["Location"]

    def test_a_forged_link_is_refused(self, contact_client, stripe_gateway):
        forged = authentication_url("pi_x", "http://testserver/billing/")[:-3] + "xx/"
        assert contact_client.get(forged.replace("http://testserver", "")).status_code == 400

    def test_a_link_sending_elsewhere_is_refused(self, contact_client, waiting_intent, settings):
        url = authentication_url(waiting_intent.reference, "https://evil.example/phish/")
        assert contact_client.get(url.replace("http://testserver", "")).status_code == 400

    def test_nothing_to_authenticate_goes_back(self, contact_client, waiting_intent, localstripe):
        from tests.stripe_server import authenticate

        authenticate(localstripe, waiting_intent.reference)
        answer = contact_client.get(waiting_intent.url.replace("http://testserver", ""))
        assert (answer.status_code, answer["Location"]) == (302, "http://testserver/billing/")


@pytest.mark.parametrize(
    "missing", ["STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"]
)
def test_the_process_refuses_to_start_with_stripe_and_a_key_missing(missing):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "billing_center.settings",
        "DEBUG": "1",
        "PAYMENT_GATEWAY": "checkout.stripe_gateway.client.StripeGateway",
        "STRIPE_SECRET_KEY": "sk_test_x",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x",
    }
    env[missing] = ""
    started = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True
    )
    assert started.returncode != 0
    assert f"PAYMENT_GATEWAY is Stripe: set {missing}" in started.stderr
    env[missing] = "x_set"
    assert (
        subprocess.run(
            [sys.executable, "manage.py", "check"], env=env, capture_output=True
        ).returncode
        == 0
    )
