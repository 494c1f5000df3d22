from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """What other systems learn from the billing center: API keys for the read API
    (checkout.api) and signed webhooks, written to an outbox in the same transaction as the
    change they tell of (billing_center.integrations.events) and delivered by a task."""

    name = "billing_center.integrations"
    label = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        from billing_center.integrations import signals  # noqa: F401 - connects the receivers
