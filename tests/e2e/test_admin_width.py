"""The vendor's staff work in the Django admin on a laptop (issue 18): every list and change page
of the demo's objects fits 1280 px — no sideways scroll (the account page was 1 976 px wide)."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Page

from tests.e2e.audit import horizontal_overflow

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def admin_pages() -> list[str]:
    """Each registered model's list page and the change page of its first object."""
    pages = []
    for model, _model_admin in admin.site._registry.items():
        meta = model._meta
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        first = apps.get_model(meta.label).objects.order_by("pk").first()
        if first is not None:
            pages.append(
                reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            )
    return pages


def test_every_admin_page_fits_1280_px(page: Page, live_server, demo):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/login/")
    page.locator("#id_username").fill("admin@vendor.test")
    page.locator("#id_password").fill("demo-pass-2026")
    page.locator("input[type=submit]").click()
    too_wide = {}
    for path in admin_pages():
        page.goto(f"{live_server.url}{path}")
        overflow = horizontal_overflow(page)
        if overflow:
            too_wide[path] = overflow
    assert not too_wide, too_wide
