from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckoutConfig(AppConfig):
    name = "checkout"
    verbose_name = _("Payments and orders")

    def ready(self):
        from checkout import payments, placement
        from checkout.models import PaymentPurpose

        # The reconciliation finishes checkouts whose request is gone (checkout.payments).
        payments.register_resumer(PaymentPurpose.CHECKOUT, placement.resume_checkout)
