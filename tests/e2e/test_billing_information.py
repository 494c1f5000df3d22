"""Billing information and removing a card, as Acme's billing contact does them in a browser
(issue 11): French on a phone (390 px), Italian on a laptop (1280 px). An invalid VAT number is
summarised at the top with the focus on it, a valid one is saved with the date it was checked;
a second card is added and removed, while the default card — GoTo Meeting renews on it —
cannot be. No page scrolls sideways, axe-core finds nothing serious.

Screenshots: test-artifacts/billinginfo-<lang>-<width>.png (the saved page) and
test-artifacts/billinginfo-<lang>-<width>-<step>.png.
"""

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from billing_center.models import AuditAction, AuditEvent, User
from checkout.models import PaymentMethod
from subscriptions.models import Account
from tests.e2e.audit import PageAudit
from tests.e2e.cards import type_card
from tests.e2e.test_every_page import (
    WORDS,
    expect_error_summary,
    expect_menu_usable,
    log_in,
    long_date,
    open_page,
)

pytestmark = pytest.mark.django_db(transaction=True)

WALKS = [("fr", 390), ("it", 1280)]

TEXT = {
    "fr": {
        "billing_information": "Informations de facturation",
        "saved": "Vos informations de facturation sont enregistrées.",
        "checked_on": "Numéro de TVA valide, vérifié le {date}.",
        "remove": "Retirer",
        "remove_card": "Retirer la carte",
        "removed": "est retirée.",
        "make_default_first": "définissez d'abord une autre carte par défaut",
        "save_card": "Enregistrer la carte",
    },
    "it": {
        "billing_information": "Informazioni di fatturazione",
        "saved": "Le tue informazioni di fatturazione sono salvate.",
        "checked_on": "Partita IVA valida, verificata il {date}.",
        "remove": "Rimuovi",
        "remove_card": "Rimuovi la carta",
        "removed": "è stata rimossa.",
        "make_default_first": "imposta prima un'altra carta come predefinita",
        "save_card": "Salva la carta",
    },
}


@pytest.fixture
def demo(transactional_db):
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.mark.parametrize(("lang", "width"), WALKS, ids=[f"{lang}-{w}" for lang, w in WALKS])
def test_billing_contact_edits_billing_information_and_removes_a_card(
    browser: Browser, live_server, demo, screenshot_dir, lang, width
):
    words, text = WORDS[lang], TEXT[lang]
    User.objects.filter(email="billing@acme.test").update(language=lang)
    page = open_page(browser, lang, width)
    audit = PageAudit(page, screenshot_dir, f"billinginfo-{lang}-{width}")
    log_in(page, live_server, "billing@acme.test")

    # The menu leads there (folded behind Menu on a phone).
    expect_menu_usable(page, words, width)
    nav = page.locator(".main-nav")
    if width < 600:
        nav.locator("summary").click()
    nav.get_by_role("link", name=text["billing_information"]).click()
    expect(page.locator("h1")).to_have_text(text["billing_information"])
    audit.check("page")

    # An invalid VAT number: summarised first, focused, linked to the field; nothing saved.
    page.locator("#id_vat_number").fill("FR00000000000")
    page.locator("#id_invoice_cc_emails").fill(f"compta.{lang}@acme.test")
    page.locator("main form .actions button[type=submit]").click()
    expect_error_summary(page, words, "id_vat_number")
    expect(page.locator(".error-summary")).to_contain_text(words["vat_invalid"])
    audit.check("error")
    assert Account.objects.get(name="Acme SARL").vat_number == ""

    # A valid one: saved, with the day it was checked.
    page.locator("#id_vat_number").fill("FR 40 303 265 045")
    page.locator("main form .actions button[type=submit]").click()
    expect(page.locator(".message--success")).to_contain_text(text["saved"])
    today = long_date(timezone.localdate(), lang)
    expect(page.locator("[data-vat-validated]")).to_have_text(text["checked_on"].format(date=today))
    expect(page.locator("#id_invoice_cc_emails")).to_have_value(f"compta.{lang}@acme.test")
    audit.check("saved")
    page.screenshot(path=screenshot_dir / f"billinginfo-{lang}-{width}.png", full_page=True)
    acme = Account.objects.get(name="Acme SARL")
    assert acme.vat_number == "FR40303265045"
    assert acme.invoice_cc_emails == [f"compta.{lang}@acme.test"]

    # A second card, then removed; the default card stays (GoTo Meeting renews on it).
    page.goto(f"{live_server.url}/billing/payment-methods/")
    type_card(page, "5555 5555 5555 4444", "Camille Laurent")
    page.get_by_role("button", name=text["save_card"]).click()
    expect(page.locator(".message--success")).to_be_visible()
    audit.check("payment-methods")
    mastercard = PaymentMethod.objects.get(account=acme, last4="4444")
    default = PaymentMethod.objects.get(account=acme, is_default=True)

    page.locator(f"a[href$='/payment-methods/{default.pk}/remove/']").click()
    expect(page.locator(".notice")).to_contain_text(text["make_default_first"])
    expect(page.get_by_role("button", name=text["remove_card"])).to_have_count(0)
    audit.check("remove-default")

    page.goto(f"{live_server.url}/billing/payment-methods/")
    page.locator(f"a[href$='/payment-methods/{mastercard.pk}/remove/']").click()
    audit.check("remove-confirm")
    page.get_by_role("button", name=text["remove_card"]).click()
    expect(page.locator(".message--success")).to_contain_text(text["removed"])
    expect(page.locator(f"a[href$='/payment-methods/{mastercard.pk}/remove/']")).to_have_count(0)
    audit.check("removed")
    mastercard.refresh_from_db()
    default.refresh_from_db()
    assert mastercard.removed_at is not None
    assert default.is_default
    assert default.removed_at is None
    assert AuditEvent.objects.filter(
        action=AuditAction.DELETED, object_id=str(mastercard.pk)
    ).exists()

    page.context.close()
    audit.assert_clean()
