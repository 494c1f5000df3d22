"""The background worker's part of the corporate portal (Django Tasks API; `db_worker`)."""

from django_tasks import task

from corporate_portal import processing


@task()
def process_service_order(service_order_id: int) -> str:
    """Charge and apply a placed service order (corporate_portal.processing)."""
    return processing.process_service_order(service_order_id)
