"""A refused page logs one line (not a traceback, not twice); HEAD / answers like GET /."""

import io
import json
import logging

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def console():
    """What the root console handler (settings.LOGGING) writes, as text."""
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_a_member_refused_a_billing_page_is_one_log_line(client, member, console):
    client.force_login(member)
    response = client.get(reverse("subscriptions:dashboard"))
    assert response.status_code == 403
    lines = console.getvalue().splitlines()
    assert len(lines) == 1  # one JSON object, no traceback
    line = json.loads(lines[0])
    assert (line["level"], line["message"]) == (
        "WARNING",
        "Forbidden (Permission denied): /billing/",
    )
    assert line["request_id"] == response["X-Request-ID"]  # the request's own id


def test_a_server_error_keeps_its_traceback(console):
    logger = logging.getLogger("django.request")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.error("Internal Server Error: /", exc_info=True, extra={"status_code": 500})
    text = console.getvalue()
    assert "Traceback" in text
    assert text.count("Internal Server Error: /") == 1


@pytest.mark.parametrize("method", ["get", "head"])
def test_head_of_home_answers_like_get(client, method):
    response = getattr(client, method)("/")
    assert response.status_code == 302
    assert response.url == reverse("login")
