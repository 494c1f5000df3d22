from django.apps import AppConfig


class StripeGatewayConfig(AppConfig):
    """Stripe as the payment processor (settings.PAYMENT_GATEWAY =
    "checkout.stripe_gateway.client.StripeGateway"): the adapter to the gateway interface, the
    Stripe customer of each account, the card setups our card fields start, the page where
    Stripe.js asks for the customer's authentication, and Stripe's webhooks. The billing apps
    reach it only through checkout.payments.gateway."""

    name = "checkout.stripe_gateway"
    label = "stripe_gateway"
    verbose_name = "Stripe"
