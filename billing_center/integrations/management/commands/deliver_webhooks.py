from django.core.management.base import BaseCommand

from billing_center.integrations.delivery import deliver_due


class Command(BaseCommand):
    help = (
        "Deliver the webhook events that are due (first tries the task missed, and retries). "
        "Run every minute; safe to run on several hosts at once."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"Webhook deliveries made: {deliver_due()}.")
