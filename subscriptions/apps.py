from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"
    verbose_name = _("Accounts and subscriptions")

    def ready(self):
        # The activity list's words for subscriptions, people and memberships.
        from subscriptions import activity  # noqa: F401
