"""A task for the tests: it notes the request id it runs under."""

import logging

from django_tasks import task

from billing_center import request_ids

SEEN: list[str] = []


@task()
def note_request_id() -> None:
    SEEN.append(request_ids.current())
    logging.getLogger("billing_center.tests").info("inside the task")
