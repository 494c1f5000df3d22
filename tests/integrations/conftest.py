import pytest

from billing_center.integrations.events import forget_endpoints
from billing_center.integrations.models import EVENT_TYPES, WebhookEndpoint
from tests.integrations.receiver import start_receiver


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_HTTP = True  # loopback, in tests
    server, receiver = start_receiver()
    yield receiver
    server.shutdown()


@pytest.fixture
def endpoint(db, receiver):
    forget_endpoints()
    endpoint = WebhookEndpoint.objects.create(
        url=receiver.url, events=list(EVENT_TYPES), secret=WebhookEndpoint.new_secret()
    )
    yield endpoint
    forget_endpoints()
