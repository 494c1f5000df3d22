"""Background jobs of checkout (Django Tasks API): the reconciliation and the daily billing run.
Enqueue `run_billing` once a day from cron or any scheduler (`db_worker` runs it), or run
`manage.py run_billing`; both do the same."""

from datetime import date

from django_tasks import task

from checkout.billing_run import renewals
from checkout.billing_run import run as billing_run
from checkout.payments import reconciliation


@task()
def reconcile_payments() -> str:
    """The reconciliation as a task (manage.py reconcile_payments does the same)."""
    return str(reconciliation.reconcile_payments())


@task()
def run_billing(today: str | None = None) -> str:
    """The daily billing run; `today` (YYYY-MM-DD) for operators, else the clock."""
    return str(billing_run.run_billing(today=date.fromisoformat(today) if today else None))


@task()
def renew_reactivated(account_id: int, today: str) -> str:
    """A suspended subscription paid back after its period ended starts a new period on the day
    of payment, charged then (subscriptions.lifecycle.reactivate): Pay now enqueues this rather
    than waiting for the next billing run."""
    due = renewals.due_for_renewal(today=date.fromisoformat(today)).filter(account=account_id)
    outcomes = []
    for subscription_id in due.values_list("pk", flat=True):
        outcomes += renewals.renew(
            subscription_id=subscription_id, account_id=account_id, today=date.fromisoformat(today)
        )
    return ", ".join(outcomes) or "nothing due"
