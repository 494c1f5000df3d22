from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"
    verbose_name = _("Accounts and subscriptions")

    def ready(self):
        # The activity list's words for subscriptions, people and memberships.
        from billing_center.integrations.events import register_payload
        from subscriptions import activity  # noqa: F401
        from subscriptions.representations import account_payload, subscription_payload

        # How webhook events show subscriptions and accounts (as the API does).
        register_payload("subscriptions.subscription", subscription_payload)
        register_payload("subscriptions.account", account_payload)
