"""In Chromium: the Acme billing contact signs in, reads the dashboard in French, switches to
English."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_acme_contact_reads_the_dashboard_in_french_then_english(
    page: Page, live_server, demo, screenshot_dir
):
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Email address").fill("billing@acme.test")
    page.get_by_label("Password").fill("demo-pass-2026")
    page.get_by_role("button", name="Log in").click()

    # Acme's language is French: the dashboard speaks it without being asked.
    expect(page.get_by_role("heading", name="Abonnements")).to_be_visible()
    expect(page.locator(".brand__name")).to_have_text("Centre de facturation")
    row = page.get_by_role("row", name=re.compile("GoTo Meeting"))
    expect(row).to_contain_text("Business")
    expect(row).to_contain_text("Annuel")
    expect(row).to_contain_text("4 / 10")
    expect(row).to_contain_text("Actif")
    # 10 organizers × €192 a year, in French format: narrow no-break space, comma, € after.
    expect(row).to_contain_text("1\u202f920,00\xa0€ HT par an")
    page.screenshot(path=screenshot_dir / "dashboard-fr.png", full_page=True)

    # Picking English in the switcher submits at once (JavaScript) and sticks.
    page.get_by_label("Langue").select_option("en")
    expect(page.get_by_role("heading", name="Subscriptions")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("GoTo Meeting"))
    expect(row).to_contain_text("€1,920.00 excl. VAT per year")
    expect(row).to_contain_text("Annual")
    expect(page.locator(".brand__name")).to_have_text("Billing Center")
    page.screenshot(path=screenshot_dir / "dashboard-en.png", full_page=True)

    page.reload()
    expect(page.get_by_role("heading", name="Subscriptions")).to_be_visible()

    page.get_by_role("link", name="GoTo Meeting").click()
    expect(page.get_by_text("6 of 10 seats are free.")).to_be_visible()
    page.screenshot(path=screenshot_dir / "subscription-en.png", full_page=True)


def test_a_member_is_refused_billing_pages(page: Page, live_server, demo):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email address").fill("julien.moreau@acme.test")
    page.get_by_label("Password").fill("demo-pass-2026")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Pas d'accès à la facturation")).to_be_visible()
