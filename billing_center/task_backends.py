"""django-tasks' backends, with tasks that carry the request id of the request (or task) that
enqueued them (billing_center.request_ids). TASKS_BACKEND names the library's backend; the
settings use these subclasses of it."""

from dataclasses import dataclass

from django_tasks.backends.immediate import ImmediateBackend as LibraryImmediateBackend
from django_tasks.base import Task
from django_tasks_db.backend import DatabaseBackend as LibraryDatabaseBackend

from billing_center import request_ids


@dataclass(frozen=True, slots=True, kw_only=True)
class TracedTask(Task):
    def enqueue(self, *args, **kwargs):
        kwargs.setdefault(request_ids.TASK_KWARG, request_ids.current() or request_ids.new_id())
        return Task.enqueue(self, *args, **kwargs)  # (a slots dataclass: no bare super())

    def call(self, *args, **kwargs):
        carried = kwargs.pop(request_ids.TASK_KWARG, "") or request_ids.new_id()
        with request_ids.using(carried):
            return Task.call(self, *args, **kwargs)


class ImmediateBackend(LibraryImmediateBackend):
    task_class = TracedTask


class DatabaseBackend(LibraryDatabaseBackend):
    task_class = TracedTask
