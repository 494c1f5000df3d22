"""What an operator watches: liveness and readiness (a stopped database → not ready; a task
backlog too old → not ready), the metrics (an order moves its counter; for the monitoring system
only), the request id on every log line and in the task a request enqueued, Sentry's scrubbing."""

import json
import logging
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from prometheus_client import REGISTRY

from billing_center import request_ids
from billing_center.observability import _scrub
from subscriptions.models import Role
from tests.factories import (
    MembershipFactory,
    PaymentMethodFactory,
    plan_with_prices,
)
from tests.helpers import buy

pytestmark = pytest.mark.django_db


def probe(client, url, **extra):
    """GET a health page from a thread of its own: the probes are async views, which Django
    runs with async_to_sync, impossible in a thread where a browser test left an event loop
    running (Playwright's sync API). A load balancer's request never meets one."""
    import threading

    from django.db import connections

    answer = {}

    def get():
        try:
            answer["response"] = client.get(url, **extra)
        finally:
            connections.close_all()

    thread = threading.Thread(target=get)
    thread.start()
    thread.join()
    return answer["response"]


class TestHealth:
    def test_live(self, client):
        answer = probe(client, "/health/", HTTP_ACCEPT="application/json")
        assert answer.status_code == 200
        assert "no-cache" in answer["Cache-Control"] or "max-age=0" in answer["Cache-Control"]

    def test_ready(self, client):
        answer = probe(client, "/health/ready/?format=json")
        assert answer.status_code == 200, answer.content
        checks = json.loads(answer.content)
        assert {"Database", "Storage", "TaskBacklog"} <= {name.split("(")[0] for name in checks}

    def test_a_stopped_database_is_not_ready_but_still_live(self, client, monkeypatch):
        def refused(self):
            raise OperationalError("connection refused (the database is stopped)")

        monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refused)
        answer = probe(client, "/health/ready/?format=json")
        assert answer.status_code == 500
        assert "Database" in answer.content.decode()
        monkeypatch.undo()
        assert probe(client, "/health/", HTTP_ACCEPT="application/json").status_code == 200

    @pytest.mark.django_db(transaction=True)  # the checks run in threads of their own
    def test_an_old_task_backlog_is_not_ready(self, client, settings):
        from django_tasks_db.models import DBTaskResult

        settings.TASKS = {"default": {"BACKEND": "billing_center.task_backends.DatabaseBackend"}}
        settings.TASK_BACKLOG_MAX_AGE_SECONDS = 60
        # A task the worker has not taken for five minutes (as the database backend writes it).
        task = DBTaskResult.objects.create(
            task_path="checkout.tasks.renew_reactivated", args_kwargs={"args": [1], "kwargs": {}}
        )
        DBTaskResult.objects.filter(pk=task.pk).update(
            enqueued_at=timezone.now() - timedelta(minutes=5)
        )
        assert probe(client, "/health/ready/?format=json").status_code == 500
        settings.TASK_BACKLOG_MAX_AGE_SECONDS = 3600
        answer = probe(client, "/health/ready/?format=json")
        assert answer.status_code == 200  # within an hour


class TestMetrics:
    def test_only_for_the_monitoring_system(self, client, settings):
        settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
        settings.METRICS_TOKEN = "s3cret-token"
        assert client.get("/metrics").status_code == 403  # the test client is 127.0.0.1
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
        answer = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
        assert answer.status_code == 200
        assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200

    def test_an_order_moves_its_counter(self, client, django_capture_on_commit_callbacks):
        from tests.factories import AccountFactory

        def placed():
            return (
                REGISTRY.get_sample_value("billing_orders_placed_total", {"kind": "invoice"}) or 0.0
            )

        def captured():
            return (
                REGISTRY.get_sample_value("billing_payment_attempts_total", {"outcome": "captured"})
                or 0.0
            )

        before, captured_before = placed(), captured()
        account = AccountFactory()
        contact = MembershipFactory(account=account, role=Role.BILLING_CONTACT).user
        card = PaymentMethodFactory(
            account=account, gateway_token="tok_sandbox_ok_m", is_default=True
        )
        with django_capture_on_commit_callbacks(execute=True):
            buy(account, contact, plan_with_prices(), 2, card)
        assert placed() == before + 1
        assert captured() == captured_before + 1
        page = client.get("/metrics").content.decode()
        assert "billing_orders_placed_total" in page
        assert "billing_oldest_pending_task_seconds" in page
        assert "django_http_requests_total_by_method_total" in page


class TestRequestIds:
    def test_taken_from_the_header_or_made_and_sent_back(self, client):
        given = probe(client, "/health/", HTTP_X_REQUEST_ID="abc-123.proxy")
        assert given["X-Request-ID"] == "abc-123.proxy"
        made = probe(client, "/health/", HTTP_X_REQUEST_ID="<script>")
        assert made["X-Request-ID"] != "<script>"
        assert len(made["X-Request-ID"]) == 32

    @pytest.mark.django_db(transaction=True)  # the view's transaction really commits
    def test_on_every_log_line_and_in_the_task_a_request_enqueued(self, caplog):
        from django.db import transaction
        from django.http import HttpResponse
        from django.test import RequestFactory

        from billing_center.request_ids import RequestIdMiddleware
        from tests.operations import tasks

        def view(request):
            logging.getLogger("billing_center.tests").info("in the request")
            with transaction.atomic():  # the change, and its task enqueued once it commits
                transaction.on_commit(tasks.note_request_id.enqueue, robust=False)
            return HttpResponse("ok")

        tasks.SEEN.clear()
        request = RequestFactory().get("/", HTTP_X_REQUEST_ID="req-42")
        with caplog.at_level(logging.INFO):
            response = RequestIdMiddleware(view)(request)
        assert response["X-Request-ID"] == "req-42"
        assert tasks.SEEN == ["req-42"]
        lines = {r.getMessage(): r.request_id for r in caplog.records if r.name.endswith("tests")}
        assert lines == {"in the request": "req-42", "inside the task": "req-42"}

    def test_a_worker_runs_the_task_under_the_id_it_was_enqueued_with(self, monkeypatch):
        """The database backend stores the id with the task's arguments; its worker calls
        the task with them: the id is taken off and set around the function."""
        from tests.operations import tasks

        stored = {}

        def store(backend, task, args, kwargs):
            stored.update(args=args, kwargs=kwargs)

        monkeypatch.setattr(type(tasks.note_request_id.get_backend()), "enqueue", store)
        with request_ids.using("req-from-the-request"):
            tasks.note_request_id.enqueue()
        assert stored["kwargs"] == {request_ids.TASK_KWARG: "req-from-the-request"}

        tasks.SEEN.clear()
        tasks.note_request_id.call(*stored["args"], **stored["kwargs"])  # the worker's call
        assert tasks.SEEN == ["req-from-the-request"]
        assert request_ids.current() == ""  # and only around it

    def test_the_json_log_line(self):
        from pythonjsonlogger.json import JsonFormatter

        from billing_center.request_ids import RequestIdFilter

        formatter = JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
        record = logging.LogRecord(
            "billing", logging.INFO, __file__, 1, "paid %s", ("INV-1",), None
        )
        with request_ids.using("req-7"):
            RequestIdFilter().filter(record)
        line = json.loads(formatter.format(record))
        assert (line["level"], line["request_id"], line["message"]) == (
            "INFO",
            "req-7",
            "paid INV-1",
        )


def test_sentry_events_keep_ids_only():
    event = {
        "request": {
            "url": "https://billing.example/billing/checkout/",
            "data": {"card_token": "tok_x", "name": "Camille"},
            "cookies": {"sessionid": "x"},
            "headers": {"Authorization": "Bearer bc_secret"},
            "query_string": "email=julien@acme.test",
        },
        "user": {"id": 7, "email": "julien@acme.test", "ip_address": "1.2.3.4"},
    }
    scrubbed = _scrub(event, {})
    assert scrubbed["request"] == {"url": "https://billing.example/billing/checkout/"}
    assert scrubbed["user"] == {"id": 7}


def test_sentry_is_off_without_a_dsn(settings):
    from billing_center.observability import init_sentry

    settings.SENTRY_DSN = ""
    assert init_sentry() is False
