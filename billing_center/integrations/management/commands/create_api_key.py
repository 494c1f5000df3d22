from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from billing_center.integrations.models import API_SCOPES, ApiKey


class Command(BaseCommand):
    help = "Make an API key (printed once: only its hash is kept)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--scope",
            action="append",
            choices=API_SCOPES,
            help="repeat for several; all read scopes when left out",
        )
        parser.add_argument("--account", type=int, help="limit the key to one account (its id)")

    def handle(self, *args, name, scope, account, **options):
        Account = apps.get_model("subscriptions", "Account")
        bound = None
        if account is not None:
            bound = Account.objects.filter(pk=account).first()
            if bound is None:
                raise CommandError(f"No account {account}.")
        key, value = ApiKey.issue(name=name, scopes=scope or API_SCOPES, account=bound)
        self.stdout.write(f"API key {key.name} ({', '.join(key.scopes)}):")
        self.stdout.write(value)
        self.stdout.write("Shown once: only its hash is kept. Send it as: Authorization: Bearer …")
