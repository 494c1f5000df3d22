from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckoutConfig(AppConfig):
    name = "checkout"
    verbose_name = _("Payments and orders")

    def ready(self):
        from checkout import activity, placement  # noqa: F401 (activity registers)
        from checkout.billing_run import renewals
        from checkout.invoices import payments as invoice_payments
        from checkout.models import PaymentPurpose
        from checkout.payments.money_path import register_flow

        # How the money path rebuilds each flow from an attempt's foreign keys, to finish what a
        # gone request or run paid for, or what a customer authenticated.
        register_flow(PaymentPurpose.CHECKOUT, placement.CheckoutPayment.of_attempt)
        register_flow(PaymentPurpose.RENEWAL, renewals.RenewalPayment.of_attempt)
        register_flow(PaymentPurpose.INVOICE, invoice_payments.InvoicePayment.of_attempt)
        from billing_center.integrations.events import register_payload
        from checkout.representations import invoice_payload

        register_payload("checkout.invoice", invoice_payload)
