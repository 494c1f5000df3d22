from django.core.management.base import BaseCommand, CommandError

from billing_center.integrations.forms import WebhookEndpointForm
from billing_center.integrations.models import EVENT_TYPES, WebhookEndpoint


class Command(BaseCommand):
    help = "Register a webhook endpoint (its signing secret is printed once)."

    def add_arguments(self, parser):
        parser.add_argument("url")
        parser.add_argument(
            "--events", nargs="+", required=True, help=f"any of: {', '.join(EVENT_TYPES)}"
        )
        parser.add_argument("--description", default="")

    def handle(self, *args, url, events, description, **options):
        form = WebhookEndpointForm(
            data={"url": url, "events": events, "description": description, "active": True}
        )
        if not form.is_valid():
            problems = "; ".join(
                f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()
            )
            raise CommandError(problems)
        endpoint = form.save(commit=False)
        endpoint.secret = WebhookEndpoint.new_secret()
        endpoint.save()
        self.stdout.write(f"Webhook endpoint {endpoint.url} ({', '.join(endpoint.events)})")
        self.stdout.write(f"Signing secret (shown once): {endpoint.secret}")
