"""Run daily (cron, or a scheduler of your choice): expires open quotes past their validity and
lists the service orders still unprocessed 24 hours after they were placed."""

from django.core.management.base import BaseCommand

from corporate_portal.services import expire_quotes, overdue_service_orders


class Command(BaseCommand):
    help = "Expire quotes past their validity; report service orders unprocessed after 24 hours."

    def handle(self, *args, **options):
        expired = expire_quotes()
        self.stdout.write(f"{expired} quote(s) expired.")
        overdue = list(overdue_service_orders().select_related("quote", "account"))
        for service_order in overdue:
            self.stdout.write(
                self.style.WARNING(
                    f"Service order {service_order.quote.number} of {service_order.account} "
                    f"placed {service_order.placed_at:%Y-%m-%d %H:%M} "
                    f"is still {service_order.status}."
                )
            )
        self.stdout.write(f"{len(overdue)} service order(s) unprocessed after 24 hours.")
