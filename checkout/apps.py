from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckoutConfig(AppConfig):
    name = "checkout"
    verbose_name = _("Payments and orders")

    def ready(self):
        from checkout import invoice_payments, payments, placement, renewals
        from checkout.models import PaymentPurpose

        # The reconciliation finishes what a gone request or run paid for (checkout.payments).
        payments.register_resumer(PaymentPurpose.CHECKOUT, placement.resume_checkout)
        payments.register_resumer(PaymentPurpose.RENEWAL, renewals.resume_renewal)
        payments.register_resumer(PaymentPurpose.INVOICE, invoice_payments.resume_invoice_payment)
