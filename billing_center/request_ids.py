"""A request id on every log line: taken from the `X-Request-ID` header a proxy sets (when it
looks like one) or made here, sent back in the response's `X-Request-ID`, and carried into the
tasks the request enqueued, so a worker's lines carry the same id.

Tasks carry it as a keyword argument the task backends add at enqueue and take off before the
task's function runs (billing_center.task_backends)."""

import logging
import re
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="")
TASK_KWARG = "_request_id"
VALID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def new_id() -> str:
    return uuid.uuid4().hex


def current() -> str:
    return REQUEST_ID.get()


@contextmanager
def using(request_id: str):
    token = REQUEST_ID.set(request_id)
    try:
        yield request_id
    finally:
        REQUEST_ID.reset(token)


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if VALID.fullmatch(incoming) else new_id()
        with using(request.request_id):
            response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (`-` outside a request or a task)."""

    def filter(self, record):
        record.request_id = REQUEST_ID.get() or "-"
        return True
