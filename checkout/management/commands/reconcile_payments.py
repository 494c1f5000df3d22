from django.core.management.base import BaseCommand

from checkout.payments.reconciliation import reconcile_payments


class Command(BaseCommand):
    help = (
        "Bring every payment attempt left pending, or captured without an order, to an end: "
        "ask the gateway, then complete what it paid for or refund it. Safe to run any time."
    )

    def handle(self, *args, **options):
        report = reconcile_payments()
        self.stdout.write(f"Payments reconciled: {report}.")
