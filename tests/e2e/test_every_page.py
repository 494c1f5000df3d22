"""Every page of the four flows as a billing contact walks them, on a phone (390 px) and a laptop
(1280 px), in French and in Spanish or Italian (and English on a phone): no page scrolls
sideways, axe-core finds nothing serious or critical (pages with a flash message and with form
errors included), every form with errors leads with a focused error summary linked to its fields,
the live seat preview prices what the field shows, a trial reads as a trial, dates follow the
language, and the checkout's total and Place Order stay on screen on a phone.

Screenshots: test-artifacts/walk-<lang>-<width>-<page>.png.
"""

import datetime
import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from billing_center.models import User
from subscriptions.models import Subscription
from tests.e2e.audit import PageAudit
from tests.e2e.cards import type_card

pytestmark = pytest.mark.django_db(transaction=True)

MONTHS = {
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre "
    "dicembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
}


# France and Ireland as a reader of each language writes them.
COUNTRIES = {
    "en": ("France", "Ireland"),
    "fr": ("France", "Irlande"),
    "it": ("Francia", "Irlanda"),
    "es": ("Francia", "Irlanda"),
}


def long_date(day: datetime.date, lang: str) -> str:
    """The date as a reader of `lang` writes it, independently of Django's formats (English:
    "27 August 2027", not the AP style "Aug. 27, 2027")."""
    if lang == "en":
        return f"{day.day} {day:%B} {day.year}"
    month = MONTHS[lang].split()[day.month - 1]
    return {
        "fr": f"{day.day} {month} {day.year}",
        "it": f"{day.day} {month} {day.year}",
        "es": f"{day.day} de {month} de {day.year}",
    }[lang]


WORDS = {
    "en": {
        "date_label": "Date:",
        "expiry_placeholder": "MM/YY",
        "enter_card_number": "Enter the card number.",
        "problem": "There is a problem",
        "trial_ends": "Trial ends on {date}",
        "nothing_charged": "Nothing is charged during the trial",
        "seats": "Number of seats",
        "one_more": "One seat more",
        "place_order": "Place Order",
        "new_card": "A new card",
        "vat_invalid": "This is not a valid VAT number",
        "menu": "Menu",
        "payment_methods": "Payment methods",
    },
    "fr": {
        "date_label": "Date\u202f:",
        "expiry_placeholder": "MM/AA",
        "enter_card_number": "Saisissez le numéro de carte.",
        "problem": "Il y a un problème",
        "trial_ends": "Fin de l'essai le {date}",
        "nothing_charged": "Rien n'est facturé pendant l'essai",
        "seats": "Nombre de postes",
        "one_more": "Un poste de plus",
        "place_order": "Passer la commande",
        "new_card": "Une nouvelle carte",
        "vat_invalid": "Ce numéro de TVA n'est pas valide",
        "menu": "Menu",
        "payment_methods": "Méthodes de paiement",
    },
    "es": {
        "date_label": "Fecha:",
        "expiry_placeholder": "MM/AA",
        "enter_card_number": "Introduzca el número de tarjeta.",
        "problem": "Hay un problema",
        "trial_ends": "La prueba termina el {date}",
        "nothing_charged": "No se cobra nada durante la prueba",
        "seats": "Número de puestos",
        "one_more": "Un puesto más",
        "place_order": "Realizar pedido",
        "new_card": "Una tarjeta nueva",
        "vat_invalid": "Este número de IVA no es válido",
        "menu": "Menú",
        "payment_methods": "Métodos de pago",
    },
    "it": {
        "date_label": "Data:",
        "expiry_placeholder": "MM/AA",
        "enter_card_number": "Inserisci il numero della carta.",
        "problem": "C'è un problema",
        "trial_ends": "La prova termina il {date}",
        "nothing_charged": "Non viene addebitato nulla durante la prova",
        "seats": "Numero di postazioni",
        "one_more": "Una postazione in più",
        "place_order": "Effettua ordine",
        "new_card": "Una nuova carta",
        "vat_invalid": "Questa partita IVA non è valida",
        "menu": "Menu",
        "payment_methods": "Metodi di pagamento",
    },
}

# English at 360 px: the narrowest phone the pages are made for.
WALKS = [("fr", 390), ("fr", 1280), ("es", 390), ("it", 1280), ("en", 360)]


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def open_page(browser: Browser, lang: str, width: int) -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": 844 if width < 600 else 900}, locale=lang
    )
    return context.new_page()


def log_in(page: Page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill("demo-pass-2026")
    page.locator("main button[type=submit]").click()


def expect_error_summary(page: Page, words: dict, field_id: str) -> None:
    """The summary leads the page, has the focus, and its link takes the reader to the field."""
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text(words["problem"])
    expect(summary).to_be_focused()
    box = summary.bounding_box()
    assert box is not None
    assert box["y"] < page.viewport_size["height"], "the error summary is below the fold"
    link = summary.locator(f'a[href="#{field_id}"]')
    expect(link.first).to_be_visible()
    link.first.click()
    expect(page.locator(f"#{field_id}")).to_be_focused()


def expect_menu_usable(page: Page, words: dict, width: int) -> None:
    """On a phone the menu folds behind a Menu button; opened, every entry fits the screen."""
    nav = page.locator(".main-nav")
    if width < 600:
        toggle = nav.locator("summary")
        expect(toggle).to_be_visible()
        expect(toggle).to_contain_text(words["menu"])
        expect(nav.get_by_role("link", name=words["payment_methods"])).to_be_hidden()
        toggle.click()
    link = nav.get_by_role("link", name=words["payment_methods"])
    expect(link).to_be_visible()
    box = link.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= width
    if width < 600:
        nav.locator("summary").click()


@pytest.mark.parametrize(("lang", "width"), WALKS, ids=[f"{lang}-{w}" for lang, w in WALKS])
def test_billing_contact_walks_every_billing_center_page(
    browser: Browser, live_server, demo, screenshot_dir, lang, width
):
    words = WORDS[lang]
    User.objects.filter(email="billing@acme.test").update(language=lang)
    page = open_page(browser, lang, width)
    audit = PageAudit(page, screenshot_dir, f"walk-{lang}-{width}")
    today = timezone.localdate()

    page.goto(f"{live_server.url}/login/")
    audit.check("login")
    page.locator("#id_username").fill("billing@acme.test")
    page.locator("#id_password").fill("wrong password")
    page.locator("main button[type=submit]").click()
    expect_error_summary(page, words, "id_username")
    audit.check("login-error")
    log_in(page, live_server, "billing@acme.test")

    expect(page.locator("h1")).to_be_visible()
    expect_menu_usable(page, words, width)
    audit.check("dashboard")

    meeting = Subscription.objects.get(account__name="Acme SARL", product__slug="goto-meeting")
    page.goto(f"{live_server.url}/billing/subscriptions/{meeting.pk}/")
    expect(page.get_by_text(long_date(meeting.current_period_end, lang)).first).to_be_visible()
    audit.check("subscription")

    # Seats: a bad email is summarised at the top; a good one gives a flash message.
    page.goto(f"{live_server.url}/billing/subscriptions/{meeting.pk}/seats/")
    audit.check("seats")
    page.locator("#id_email").fill("not an email")
    page.locator("#id_email").press("Enter")
    expect_error_summary(page, words, "id_email")
    audit.check("seats-error")
    page.locator("#id_email").fill(f"new.{lang}.{width}@acme.test")
    page.locator("#id_email").press("Enter")
    expect(page.locator(".message--success")).to_be_visible()
    audit.check("seats-flash")

    # Add Organizers: after + the preview prices exactly the number in the field.
    page.goto(f"{live_server.url}/billing/subscriptions/{meeting.pk}/change/")
    seats = page.get_by_label(words["seats"])
    expect(seats).to_have_value(str(meeting.seat_count + 0))
    page.get_by_role("button", name=words["one_more"]).click()
    shown = meeting.seat_count + 1
    expect(seats).to_have_value(str(shown))
    preview = page.locator("#change-preview")
    priced = preview.locator("[data-preview-seats]")
    expect(priced).to_have_attribute("data-preview-seats", str(shown))
    expect(priced).to_contain_text(f"{shown} ")
    page.get_by_role("button", name=words["one_more"]).click()
    expect(seats).to_have_value(str(shown + 1))
    expect(priced).to_have_attribute("data-preview-seats", str(shown + 1))
    audit.check("change")

    page.goto(f"{live_server.url}/billing/balance/")
    audit.check("balance")
    page.goto(f"{live_server.url}/billing/activity/")
    audit.check("activity")
    page.goto(f"{live_server.url}/billing/payment-methods/")
    audit.check("payment-methods")
    page.locator("main form[novalidate] button[type=submit].button--primary").click()
    # The processor's card fields answer an empty card themselves, in the page's language.
    expect(page.locator("#sandbox-card-number")).to_be_focused()
    expect(page.locator("#sandbox-card-number-error")).to_have_text(words["enter_card_number"])
    audit.check("payment-methods-error")
    page.locator("main a[href$='/remove/']").first.click()
    audit.check("remove-card")
    page.goto(f"{live_server.url}/billing/billing-information/")
    audit.check("billing-information")

    # Flow A: buy GoTo Training; a bad VAT number is shown at the top, with the focus on it.
    page.goto(f"{live_server.url}/billing/add/")
    audit.check("add")
    page.goto(f"{live_server.url}/billing/add/goto-training/buy/")
    audit.check("configure")
    page.get_by_label(words["seats"]).fill("0")
    page.locator("main form .actions button[type=submit]").click()
    expect_error_summary(page, words, "id_seat_count")
    audit.check("configure-error")
    page.get_by_label(words["seats"]).fill("5")
    page.locator("main form .actions button[type=submit]").click()
    audit.check("cycle")
    page.locator("input[name=cycle][value=annual]").check()
    page.locator("main form .actions button[type=submit]").click()

    expect(page.locator("[data-total-due]").first).to_be_visible()
    place_order = page.get_by_role("button", name=words["place_order"])
    expect(place_order).to_be_in_viewport()  # on a phone too: the bar stays on screen
    audit.check("checkout")
    page.get_by_text(words["new_card"]).click()
    expect(page.locator("#sandbox-card-expiry")).to_have_attribute(
        "placeholder", words["expiry_placeholder"]
    )
    type_card(page, "4242 4242 4242 4242", "Camille Laurent")
    page.locator("#id_vat_number").fill("FR00000000000")
    place_order.click()
    expect_error_summary(page, words, "id_vat_number")
    expect(page.locator(".error-summary")).to_contain_text(words["vat_invalid"])
    audit.check("checkout-error")
    page.locator("#id_vat_number").fill("")
    # The card is not typed again: the page kept the processor's token, never the card.
    expect(page.locator("[data-entered-card]")).to_contain_text("•••• 4242")
    page.get_by_role("button", name=words["place_order"]).click()
    expect(page.locator(".confirmation")).to_be_visible()
    audit.check("order-confirmation")
    page.locator(".confirmation a[href*='/invoices/']").first.click()
    expect(page.get_by_text(long_date(today, lang)).first).to_be_visible()
    invoice = page.locator(".invoice")
    # "Date : 25 novembre 2026" with U+202F in French; the address as France writes it; on the
    # page the countries in the reader's language (the PDF keeps the invoice's: French).
    expect(invoice).to_contain_text(f"{words['date_label']} {long_date(today, lang)}")
    expect(invoice).to_contain_text("75002 Paris")
    france, ireland = COUNTRIES[lang]
    expect(invoice).to_contain_text(france)
    expect(invoice).to_contain_text(ireland)
    audit.check("invoice")
    page.goto(f"{live_server.url}/billing/invoices/")
    audit.check("invoices")

    # A free trial: the dashboard tells when it ends and that nothing is charged.
    page.goto(f"{live_server.url}/billing/add/goto-webinar/try/")
    page.locator("main form .actions button[type=submit]").click()
    audit.check("start-trial")
    page.locator("main form .actions button[type=submit]").click()
    expect(page.locator(".confirmation")).to_be_visible()
    audit.check("trial-started")
    trial = Subscription.objects.get(account__name="Acme SARL", product__slug="goto-webinar")
    page.goto(f"{live_server.url}/billing/")
    row = page.locator("tr", has_text="GoTo Webinar")
    expect(row).to_contain_text(words["trial_ends"].format(date=long_date(trial.trial_end, lang)))
    expect(row).to_contain_text(words["nothing_charged"])
    audit.check("dashboard-trial")
    page.goto(f"{live_server.url}/billing/subscriptions/{trial.pk}/")
    expect(page.locator("main")).to_contain_text(
        words["trial_ends"].format(date=long_date(trial.trial_end, lang))
    )
    audit.check("subscription-trial")

    # The cart with a seat change and a new product in it.
    page.goto(f"{live_server.url}/billing/subscriptions/{meeting.pk}/change/")
    page.get_by_label(words["seats"]).fill(str(meeting.seat_count + 3))
    page.locator("main form .actions button.button--primary").click()
    page.goto(f"{live_server.url}/billing/add/rescueassist/buy/")
    page.locator("main form .actions button[type=submit]").click()
    page.locator("main form .actions button[type=submit]").click()
    page.goto(f"{live_server.url}/billing/cart/")
    audit.check("cart")

    page.goto(f"{live_server.url}/billing/invoices/NO-SUCH-INVOICE/")
    audit.check("not-found")
    page.context.close()
    audit.assert_clean()


@pytest.mark.parametrize(("lang", "width"), WALKS, ids=[f"{lang}-{w}" for lang, w in WALKS])
def test_corporate_contact_walks_every_portal_page(
    browser: Browser, live_server, demo, screenshot_dir, lang, width
):
    words = WORDS[lang]
    User.objects.filter(email="billing@globex.test").update(language=lang)
    page = open_page(browser, lang, width)
    audit = PageAudit(page, screenshot_dir, f"corporate-{lang}-{width}")
    log_in(page, live_server, "billing@globex.test")
    page.goto(f"{live_server.url}/corporate/")
    audit.check("subscriptions")
    page.goto(f"{live_server.url}/corporate/add-seats/")
    audit.check("add-seats")
    first_input = page.locator("main input[type=number]").first
    first_input.fill("-4")
    page.locator("main form button.button--primary").first.click()
    field_id = first_input.get_attribute("id")
    expect_error_summary(page, words, field_id)
    audit.check("add-seats-error")

    page.goto(f"{live_server.url}/corporate/quotes/")
    audit.check("quotes")
    page.locator("main a[href*='/corporate/quotes/Q']").first.click()
    audit.check("quote")
    page.locator("main a[href$='/payment/']").first.click()
    audit.check("payment")
    page.locator("main form button.button--primary").last.click()
    expect(page.locator(".error-summary")).to_be_focused()
    audit.check("payment-error")
    page.locator("#id_admin_contact_name").fill("Ada Admin")
    page.locator("#id_admin_contact_email").fill(f"ada.{lang}.{width}@globex.test")
    page.locator("main form button.button--primary").last.click()
    audit.check("service-order")
    page.locator("main form button.button--primary").last.click()
    audit.check("service-order-placed")
    page.goto(f"{live_server.url}/corporate/service-orders/")
    audit.check("service-orders")
    # The service order's invoice (the worker ran in the request: ImmediateBackend), in the
    # portal's list and on the invoice page the two portals share.
    page.goto(f"{live_server.url}/corporate/invoices/")
    audit.check("invoices")
    page.locator("main a[href*='/billing/invoices/INV-']").first.click()
    expect(page.locator(".invoice")).to_be_visible()
    audit.check("invoice")
    page.goto(f"{live_server.url}/corporate/payment-method/")
    audit.check("payment-method")
    page.context.close()
    audit.assert_clean()


@pytest.mark.parametrize("width", [390, 1280])
def test_a_member_reads_the_403_page(browser: Browser, live_server, demo, screenshot_dir, width):
    page = open_page(browser, "fr", width)
    audit = PageAudit(page, screenshot_dir, f"member-fr-{width}")
    log_in(page, live_server, "julien.moreau@acme.test")
    expect(page.locator("h1")).to_have_text(re.compile("Pas d.accès"))
    audit.check("403")
    page.context.close()
    audit.assert_clean()
