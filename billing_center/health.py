"""Health for load balancers and orchestrators (django-health-check): `/health/` says the
process answers (liveness: no dependency checked, so a slow database never gets a healthy web
process killed); `/health/ready/` says it can serve: the database, the storage of the invoice
PDFs, and a task backlog no older than TASK_BACKLOG_MAX_AGE_SECONDS."""

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import connections
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


def oldest_pending_task_age() -> timedelta | None:
    """How long the oldest task waiting for a worker has waited (None: nothing waits, or tasks
    run in the request with the immediate backend)."""
    if not settings.TASKS["default"]["BACKEND"].endswith("DatabaseBackend"):
        return None
    from django_tasks_db.models import DBTaskResult

    oldest = (
        DBTaskResult.objects.ready()
        .order_by("enqueued_at")
        .values_list("enqueued_at", flat=True)
        .first()
    )
    return timezone.now() - oldest if oldest is not None else None


@dataclasses.dataclass
class TaskBacklog(HealthCheck):
    """The task worker keeps up: nothing has waited longer than the allowed age."""

    def run(self):
        age = oldest_pending_task_age()
        limit = settings.TASK_BACKLOG_MAX_AGE_SECONDS
        if age is not None and age.total_seconds() > limit:
            raise ServiceUnavailable(
                f"the oldest pending task has waited {int(age.total_seconds())} s (> {limit} s)"
            )


class _ClosingExecutor(ThreadPoolExecutor):
    """The checks' threads, which close their database connections when done: a probe every
    few seconds never piles up idle connections."""

    def submit(self, fn, /, *args, **kwargs):
        def run():
            try:
                return fn(*args, **kwargs)
            finally:
                connections.close_all()

        return super().submit(run)


class ProbeView(HealthCheckView):
    def get_executor(self):
        return _ClosingExecutor(max_workers=3)


live = ProbeView.as_view(checks=())
ready = ProbeView.as_view(
    checks=(
        "health_check.checks.Database",
        "health_check.checks.Storage",
        TaskBacklog,
    )
)
