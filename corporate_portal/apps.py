from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CorporatePortalConfig(AppConfig):
    name = "corporate_portal"
    verbose_name = _("Corporate Billing Portal")

    def ready(self):
        from checkout import payments
        from checkout.models import PaymentPurpose
        from corporate_portal import activity, processing  # noqa: F401 (activity registers)

        # The reconciliation ends service orders whose worker run is gone (checkout.payments).
        payments.register_resumer(PaymentPurpose.SERVICE_ORDER, processing.resume_service_order)
