"""The gateway the billing apps are given when settings.PAYMENT_GATEWAY names the sandbox: the
client of the sandbox processor, as `stripe` is Stripe's. It runs in our process, so its
"requests" are calls into the processor's module; what crosses is only what would cross a
network: tokens, amounts, idempotency keys, references, URLs."""

from django.templatetags.static import static
from django.urls import reverse

from checkout.payments.gateway import CardEntry, PaymentGateway
from checkout.sandbox_gateway import processor


class SandboxGateway(PaymentGateway):
    def card_entry(self):
        return CardEntry(
            script_url=static("sandbox_gateway/card-fields.js"),
            hosted_page_url=reverse("sandbox_gateway:card_page"),
            publishable_key="pk_sandbox",
        )

    def describe_card(self, *, token):
        return processor.describe_card(token)

    def charge(
        self,
        *,
        token,
        amount,
        idempotency_key,
        on_session,
        return_url="",
        mandate="",
        customer=None,
    ):
        return processor.charge(
            token=token,
            amount=amount,
            idempotency_key=idempotency_key,
            on_session=on_session,
            return_url=return_url,
            mandate=mandate,
        )

    def find_charge(self, *, idempotency_key):
        return processor.find_charge(idempotency_key=idempotency_key)

    def refund(self, *, reference):
        processor.refund(reference=reference)

    def set_up_card(self, *, token, idempotency_key, return_url, customer=None):
        return processor.set_up_card(
            token=token, idempotency_key=idempotency_key, return_url=return_url
        )

    def find_card_setup(self, *, idempotency_key):
        return processor.find_card_setup(idempotency_key=idempotency_key)

    def test_card_token(self):
        return processor.tokenize(number="4242424242424242", exp_month=12, exp_year=2030).token

    def demo_card_token(self, label):
        return f"tok_sandbox_ok_{label}_visa_4242"  # the behaviour is in the token's name

    def describe(self):
        return "the sandbox (in this process)"
