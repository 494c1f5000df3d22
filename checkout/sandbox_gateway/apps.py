from django.apps import AppConfig


class SandboxGatewayConfig(AppConfig):
    """The sandbox payment processor: a processor of its own under /sandbox-gateway/, with its
    card fields, its hosted card page and its authentication page. The billing apps never
    import it: they reach it through the gateway interface (checkout.payments.gateway) chosen
    by settings.PAYMENT_GATEWAY, as they would reach a remote processor."""

    name = "checkout.sandbox_gateway"
    label = "sandbox_gateway"
    verbose_name = "Sandbox payment processor"
