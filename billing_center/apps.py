from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingCenterConfig(AppConfig):
    name = "billing_center"
    verbose_name = _("Billing Center")

    def ready(self):
        # Errors to Sentry when SENTRY_DSN is set.
        from billing_center.observability import init_sentry

        init_sentry()
