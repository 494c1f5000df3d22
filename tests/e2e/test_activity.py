"""The activity page in Chromium (issue 11): Acme's billing contact adds 2 GoTo Meeting
organizers in French; the activity page then tells the change in the reader's language — French
on a phone, Italian on a laptop — with the product's seat noun, no raw field name, no sideways
scroll and nothing serious for axe-core.

Screenshots: test-artifacts/activity-<lang>-<width>.png.
"""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, expect

from billing_center.models import User
from tests.e2e.audit import PageAudit

pytestmark = pytest.mark.django_db(transaction=True)

CASES = [
    ("fr", 390, "Organisateurs\u202f: 10 → 12", "Début de la période en cours"),
    ("it", 1280, "Organizzatori: 10 → 12", "Inizio del periodo corrente"),
]


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.mark.parametrize(
    ("lang", "width", "seat_line", "period_label"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_a_seat_change_reads_in_the_readers_language(
    browser: Browser, live_server, demo, screenshot_dir, lang, width, seat_line, period_label
):
    User.objects.filter(email="billing@acme.test").update(language="fr")
    context = browser.new_context(
        viewport={"width": width, "height": 844 if width < 600 else 900}, locale=lang
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill("billing@acme.test")
    page.locator("#id_password").fill("demo-pass-2026")
    page.locator("main button[type=submit]").click()

    # The change is made in French, whoever reads it later.
    page.get_by_role("link", name="Ajouter des organisateurs").first.click()
    page.get_by_label("Nombre de postes").fill("12")
    page.get_by_role("button", name="Ajouter au panier").click()
    page.get_by_role("button", name="Passer la commande").click()
    expect(page.get_by_role("heading", name="Merci : votre commande est passée")).to_be_visible()

    User.objects.filter(email="billing@acme.test").update(language=lang)
    page.goto(f"{live_server.url}/billing/activity/")
    table = page.locator("main table")
    expect(table).to_contain_text(seat_line)
    expect(table).to_contain_text(period_label)
    text = table.locator("tbody").inner_text()
    for raw in ("seat_count", "current_period_start", "unit_price", "_", " EUR"):
        assert raw not in text, (raw, text)
    if lang == "it":
        assert not re.search(r"Organisateurs|Commande|Mensuel|Annuel", text), text

    audit = PageAudit(page, screenshot_dir, "activity")
    audit.check(f"{lang}-{width}")
    audit.assert_clean()
