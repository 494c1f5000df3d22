from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CorporatePortalConfig(AppConfig):
    name = "corporate_portal"
    verbose_name = _("Corporate Billing Portal")

    def ready(self):
        from checkout.models import PaymentPurpose
        from checkout.payments.money_path import register_flow
        from corporate_portal import activity, processing  # noqa: F401 (activity registers)

        # How the money path rebuilds a service order's payment from its attempt (the
        # reconciliation ends service orders whose worker run is gone).
        register_flow(PaymentPurpose.SERVICE_ORDER, processing.ServiceOrderPayment.of_attempt)
        from billing_center.integrations.events import register_payload
        from corporate_portal.representations import service_order_payload

        register_payload("corporate_portal.serviceorder", service_order_payload)
