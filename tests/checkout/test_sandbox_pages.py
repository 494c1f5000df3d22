"""The sandbox processor's own pages (/sandbox-gateway/) and how our pages use them: the token
endpoint its card fields post to, its hosted card page for browsers without JavaScript, its
3-D Secure test page — and our checkout, Pay now and payment methods around them: a new card
without a token goes to the hosted page and comes back with one, a payment the bank wants
confirmed goes to the bank's page and comes back to a page that asks the processor."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from cart.models import Cart
from catalog.models import BillingCycle
from checkout.models import AttemptStatus, Order, PaymentAttempt
from checkout.sandbox_gateway.models import SandboxCard, SandboxCharge
from tests.factories import CartItemFactory, PaymentMethodFactory, plan_with_prices
from tests.helpers import checkout_fingerprint, sandbox_token

pytestmark = pytest.mark.django_db

TOKENS = "/sandbox-gateway/v1/tokens/"
CARD_PAGE = "/sandbox-gateway/cards/new/"
CHECKOUT = reverse("checkout:checkout")


def card(number="4242 4242 4242 4242", expiry="12/39", cvc="123", **extra):
    return {"key": "pk_sandbox", "number": number, "expiry": expiry, "cvc": cvc, **extra}


class TestTokens:
    def test_a_card_becomes_a_token_and_only_its_last_4_are_kept(self, client):
        response = client.post(TOKENS, card())
        assert response.status_code == 200
        answer = response.json()
        assert answer["token"].startswith("tok_sandbox_ok_")
        assert (answer["brand"], answer["last4"], answer["exp_month"]) == ("visa", "4242", 12)
        # What the processor kept as text (not ids nor timestamps, whose digits may read 123).
        kept = [
            value
            for row in SandboxCard.objects.values()
            for value in row.values()
            if isinstance(value, str) and value != answer["token"]
        ]
        assert kept
        assert not [value for value in kept if "4242424242424242" in value or "123" in value]

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("number", "4242 4242 4242 4241", "This card number is not valid."),
            ("number", "abcd", "This card number is not valid."),
            ("number", "", "Enter the card number."),
            ("expiry", "01/20", "This card has expired."),
            ("expiry", "13/30", "Enter the expiry as MM/YY"),
            ("expiry", "soon", "Enter the expiry as MM/YY"),
            ("cvc", "12", "Enter the 3 or 4 digits"),
            ("cvc", "abc", "Enter the 3 or 4 digits"),
        ],
    )
    def test_each_mistake_is_said_by_field_and_nothing_is_kept(self, client, field, value, message):
        response = client.post(TOKENS, card(**{field: value}))
        assert response.status_code == 400
        assert message in " ".join(response.json()["errors"][field])
        assert not SandboxCard.objects.exists()

    def test_mistakes_in_the_language_of_the_page(self, client):
        response = client.post(TOKENS, card(number="", lang="fr"))
        assert response.json()["errors"]["number"] == ["Saisissez le numéro de carte."]

    def test_an_unknown_key_is_refused(self, client):
        assert client.post(TOKENS, card(key="pk_live_nope")).status_code == 401

    def test_get_is_not_allowed(self, client):
        assert client.get(TOKENS).status_code == 405


class TestHostedCardPage:
    def test_the_card_is_typed_there_and_the_customer_goes_back_with_a_token(self, client):
        url = f"{CARD_PAGE}?return=/billing/checkout/"
        assert client.get(url).status_code == 200
        response = client.post(url, card())
        assert response.status_code == 302
        assert re.fullmatch(r"/billing/checkout/\?card_token=tok_sandbox_ok_\w+", response.url)

    def test_mistakes_are_shown_there(self, client):
        response = client.post(f"{CARD_PAGE}?return=/billing/checkout/", card(cvc="1"))
        assert "Enter the 3 or 4 digits" in response.content.decode()
        assert 'value="4242' not in response.content.decode()

    @pytest.mark.parametrize(
        "back", ["", "https://evil.example/", "//evil.example/", "javascript:alert(1)"]
    )
    def test_it_sends_back_to_this_site_only(self, client, back):
        assert client.get(CARD_PAGE, {"return": back}).status_code == 400


class TestAuthenticationPage:
    def test_an_unknown_request_is_404(self, client):
        assert client.get("/sandbox-gateway/authenticate/ch_sandbox_nope/").status_code == 404

    def test_a_decision_must_be_one_of_the_two_buttons(self, client, contact_client, checkout):
        url = checkout(number="4000002760003184").url
        assert client.post(url, {"decision": "maybe"}).status_code == 400
        page = client.get(url).content.decode()
        assert "Authorize" in page
        assert "Fail authentication" in page


@pytest.fixture
def item(billing_contact, account):
    cart = Cart.objects.create(owner=billing_contact, account=account)
    plan = plan_with_prices(monthly="119.00", annual="1140.00")
    return CartItemFactory(
        cart=cart, plan=plan, product=plan.product, seat_count=5, cycle=BillingCycle.ANNUAL
    )


def checkout_data(item, **overrides):
    return {
        "payment": "new",
        "card_token": "",
        "cardholder_name": "Camille Laurent",
        "name": "Acme SARL",
        "address_line1": "12 rue de la Paix",
        "postal_code": "75002",
        "city": "Paris",
        "country": "FR",
        "vat_number": "",
        "cart_version": item.cart.version,
        "pricing_fingerprint": checkout_fingerprint(item.cart),
        **overrides,
    }


@pytest.fixture
def checkout(contact_client, item):
    """Place Order with a new test card (its token), as the card fields would have it."""

    def post(number="4242424242424242", **overrides):
        return contact_client.post(
            CHECKOUT, checkout_data(item, card_token=sandbox_token(number), **overrides)
        )

    return post


class TestWithoutJavaScript:
    def test_checkout_sends_to_the_hosted_page_and_back_with_what_was_typed(
        self, contact_client, item
    ):
        response = contact_client.post(CHECKOUT, checkout_data(item, city="Lyon"))
        assert response.status_code == 302
        assert response.url == f"{CARD_PAGE}?return=%2Fbilling%2Fcheckout%2F"
        back = contact_client.post(response.url, card()).url
        page = contact_client.get(back).content.decode()
        assert "Card entered: Visa •••• 4242" in page
        assert 'value="Lyon"' in page  # what was typed before waits in the session
        token = re.search(r'name="card_token" value="(tok_\w+)"', page).group(1)
        response = contact_client.post(CHECKOUT, checkout_data(item, city="Lyon", card_token=token))
        order = Order.objects.get()
        assert response.url == reverse("checkout:order_confirmation", args=[order.number])
        assert order.payment_method.last4 == "4242"

    def test_enter_the_card_never_pays_with_the_card_chosen(self, contact_client, item, account):
        visa = PaymentMethodFactory(account=account, gateway_token="tok_sandbox_ok_v")
        response = contact_client.post(
            CHECKOUT, checkout_data(item, payment=str(visa.pk), enter_card="1")
        )
        assert response.url.startswith(CARD_PAGE)
        assert not Order.objects.exists()
        assert not PaymentAttempt.objects.exists()

    def test_payment_methods_too(self, contact_client, account):
        url = reverse("checkout:payment_methods")
        response = contact_client.post(url, {"cardholder_name": "Camille", "make_default": "on"})
        assert response.url.startswith(CARD_PAGE)
        back = contact_client.post(response.url, card("5555 5555 5555 4444")).url
        page = contact_client.get(back).content.decode()
        token = re.search(r'name="card_token" value="(tok_\w+)"', page).group(1)
        contact_client.post(url, {"card_token": token, "cardholder_name": "Camille"})
        assert account.payment_methods.get().last4 == "4444"


class TestAuthenticationOnOurPages:
    def test_checkout_goes_to_the_bank_and_back_to_the_confirmation(
        self, client, contact_client, checkout, django_capture_on_commit_callbacks
    ):
        response = checkout(number="4000002760003184")
        assert response.url.startswith("/sandbox-gateway/authenticate/")
        assert not Order.objects.exists()
        back = client.post(response.url, {"decision": "authorize"})
        attempt = PaymentAttempt.objects.get()
        assert back.url.endswith(reverse("checkout:payment_return", args=[attempt.public_id]))
        with django_capture_on_commit_callbacks(execute=True):
            returned = contact_client.get(back.url)
        order = Order.objects.get()
        assert returned.url == reverse("checkout:order_confirmation", args=[order.number])
        # Twice: the same order, nothing more.
        assert contact_client.get(back.url).url == returned.url
        assert SandboxCharge.objects.filter(succeeded=True).count() == 1
        assert len([m for m in mail.outbox if order.number in m.body]) == 1

    def test_a_failed_authentication_is_back_on_the_checkout_with_a_message(
        self, client, contact_client, checkout, item
    ):
        response = checkout(number="4000000000003220")
        back = client.post(response.url, {"decision": "fail"}).url
        returned = contact_client.get(back)
        assert returned.url == CHECKOUT
        page = contact_client.get(CHECKOUT).content.decode()
        assert "Your bank could not confirm that it is you: nothing was charged." in page
        assert not Order.objects.exists()
        assert item.cart.items.exists()

    def test_coming_back_before_authenticating_shows_where_to_confirm(
        self, contact_client, checkout
    ):
        response = checkout(number="4000002500003155")
        attempt = PaymentAttempt.objects.get()
        returned = contact_client.get(reverse("checkout:payment_return", args=[attempt.public_id]))
        assert returned.url == reverse("checkout:payment_status", args=[attempt.public_id])
        page = contact_client.get(returned.url).content.decode()
        assert "Your bank is waiting for your confirmation" in page
        assert response.url in page
        assert attempt.status == AttemptStatus.PENDING
        assert not Order.objects.exists()

    def test_another_accounts_return_is_404(self, outsider, client, checkout):
        checkout(number="4000002760003184")
        attempt = PaymentAttempt.objects.get()
        client.force_login(outsider)
        url = reverse("checkout:payment_return", args=[attempt.public_id])
        assert client.get(url).status_code == 404

    def test_saving_a_card_the_bank_confirms(self, client, contact_client, account):
        response = contact_client.post(
            reverse("checkout:payment_methods"),
            {"card_token": sandbox_token("4000002760003184"), "cardholder_name": "Camille"},
        )
        assert response.url.startswith("/sandbox-gateway/authenticate/seti_")
        assert not account.payment_methods.filter(saved=True).exists()
        back = client.post(response.url, {"decision": "authorize"}).url
        assert contact_client.get(back).url == reverse("checkout:payment_methods")
        saved = account.payment_methods.get(saved=True)
        assert (saved.last4, saved.is_default, bool(saved.mandate)) == ("3184", True, True)

    def test_pay_now_with_a_saved_card_the_bank_wants_confirmed(
        self, client, contact_client, account
    ):
        from tests.factories import InvoiceFactory

        card = PaymentMethodFactory(
            account=account, gateway_token=sandbox_token("4000002760003184"), is_default=True
        )
        invoice = InvoiceFactory(order__account=account, status="open", amount_due="24.00")
        response = contact_client.post(
            reverse("checkout:pay_invoice", args=[invoice.number]), {"payment": str(card.pk)}
        )
        assert response.url.startswith("/sandbox-gateway/authenticate/")
        back = client.post(response.url, {"decision": "authorize"}).url
        returned = contact_client.get(back)
        assert returned.url == reverse("checkout:invoice_detail", args=[invoice.number])
        invoice.refresh_from_db()
        assert invoice.status == "paid"
