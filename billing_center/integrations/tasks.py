from django_tasks import task

from billing_center.integrations import delivery


@task()
def deliver_webhooks(account_id: int | None = None) -> int:
    """Deliver what is due of an account's events (all accounts' when None)."""
    return delivery.deliver_due(account_id=account_id)
