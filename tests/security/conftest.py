import pytest
import time_machine
from django.db import transaction

from tests.security.world import TODAY, make_world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The accounts of the generic suites, made once per module inside a transaction that is
    rolled back at its end; each test runs in a savepoint of it (pytest-django's `db`), so what
    one test changes is gone for the next."""
    with (
        django_db_blocker.unblock(),
        time_machine.travel(TODAY, tick=False),
        transaction.atomic(),
    ):
        yield make_world()
        transaction.set_rollback(True)


@pytest.fixture
def on_today():
    with time_machine.travel(TODAY, tick=False):
        yield
