"""A first check of a payment processor account: the smallest charge its test mode takes, found
again by its idempotency key, then refunded — through the same gateway calls the money path
makes. For an operator setting up an account (outside CI); never with live keys."""

import time
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from moneyed import Money

from checkout.payments.gateway import (
    ActionRequired,
    GatewayCustomer,
    GatewayError,
    PaymentDeclined,
    get_gateway,
)

# The smallest amount Stripe charges in each of our currencies.
SMALLEST = {"EUR": Decimal("0.50"), "USD": Decimal("0.50"), "GBP": Decimal("0.30")}


class Command(BaseCommand):
    help = (
        "Charge the smallest amount with the processor's test card and refund it, printing "
        "each step: a first check of the configured PAYMENT_GATEWAY (test mode only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--currency", default="EUR", choices=sorted(SMALLEST))

    def handle(self, *args, currency, **options):
        gateway = get_gateway()
        amount = Money(SMALLEST[currency], currency)
        key = f"check-gateway-{int(time.time())}"
        customer = GatewayCustomer(reference="check-gateway", name="Billing Center check")
        self.stdout.write(f"Gateway: {gateway.describe()}")
        try:
            token = gateway.test_card_token()
            card = gateway.describe_card(token=token)
            self.stdout.write(
                f"Test card: {card.brand} •••• {card.last4} ({card.exp_month:02d}/{card.exp_year})"
            )
            charge = gateway.charge(
                token=token,
                amount=amount,
                idempotency_key=key,
                on_session=True,
                customer=customer,
            )
            self.stdout.write(f"Charged {amount}: {charge.reference} ({charge.status})")
            found = gateway.find_charge(idempotency_key=key)
            if found is None or found.reference != charge.reference:
                raise CommandError(f"The charge was not found by its idempotency key {key}.")
            self.stdout.write(f"Found by its idempotency key {key}: {found.reference}")
            gateway.refund(reference=charge.reference)
            refunded = gateway.find_charge(idempotency_key=key)
            if refunded is None or not refunded.refunded:
                raise CommandError(f"The refund of {charge.reference} is not confirmed.")
            self.stdout.write(f"Refunded {amount}: {charge.reference} (refunded)")
        except PaymentDeclined as declined:
            raise CommandError(f"Declined: {declined.code}") from declined
        except ActionRequired as action:
            raise CommandError(f"The test card asked for authentication: {action.url}") from action
        except (GatewayError, NotImplementedError) as error:
            raise CommandError(f"{type(error).__name__}: {error}") from error
        self.stdout.write(self.style.SUCCESS("The gateway charges, finds and refunds."))
