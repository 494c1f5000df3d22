"""Card numbers and security codes never arrive (issue 17): a new card is typed into the payment
processor's card fields — inputs its script adds without a name, so a form never sends them —
or on its hosted card page under /sandbox-gateway/. Every form of every page of both portals
(found from the URLconf, like the hostile-input sweep) is checked: none has a field a card
number could be typed into, and a card number posted to any of them anyway is neither stored
nor shown."""

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from subscriptions.models import Portal
from tests.security.test_hostile_input import collect_targets
from tests.security.world import routes

NUMBER, CVC = "4000002760003184", "987"
CARD_NAMES = {"card_number", "number", "cc_number", "cardnumber", "card_cvc", "cvc", "cvv"}
CARD_AUTOCOMPLETE = ("cc-number", "cc-csc", "cc-exp")


def test_no_form_of_any_page_has_a_card_field(db, world, on_today):
    targets = collect_targets(world)
    assert len(targets) > 20
    for target in targets:
        names = {name for name, _value in target.fields}
        assert not names & CARD_NAMES, (target.path, names & CARD_NAMES)
    for route in routes():
        if not route.is_billing:
            continue
        side = world.globex if route.portal == Portal.CORPORATE else world.acme
        client = Client()
        client.force_login(side.contact)
        response = client.get(side.url(route))
        html = response.content.decode(errors="replace")
        for autocomplete in CARD_AUTOCOMPLETE:
            assert f'autocomplete="{autocomplete}"' not in html, (route.name, autocomplete)


@pytest.mark.parametrize("field_name", ["card_number", "number"])
def test_a_card_number_posted_anyway_is_neither_stored_nor_shown(
    db, world, on_today, monkeypatch, field_name
):
    monkeypatch.setattr("django.test.client.store_rendered_templates", lambda *a, **k: None)
    posted = 0
    for target in collect_targets(world):
        client = Client()
        client.force_login(
            (world.globex if target.portal == Portal.CORPORATE else world.acme).contact
        )
        data = dict(target.fields) | {field_name: NUMBER, "card_cvc": CVC, "cvc": CVC}
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            response = client.post(target.path, data)
            posted += 1
            written = " ".join(
                f"{query['sql']}" for query in queries if "INSERT" in query["sql"].upper()
            )
            assert NUMBER not in written, target.path
            assert NUMBER not in response.content.decode(errors="replace"), target.path
            transaction.set_rollback(True)
    assert posted > 20
