"""Year two of a billing contact in Chromium (issue 18): prices that say they are without VAT
and the next charge with VAT; a renewal declined until suspension, told by emails in the
reader's language only; the suspended subscription canceled at once, its invoice corrected by a
credit note and the rest still payable; the Ended section and the invoices list's descriptions.
Then, at 1280 px in Italian and English, a Jan 31 monthly subscription renewing on the anchor
day, and a suspended one paid back after its period ended, charged once."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from billing_center.models import User
from catalog.models import BillingCycle
from checkout.models import Invoice, InvoiceKind, InvoiceStatus, Order, PaymentMethod
from subscriptions.models import Account, Subscription, SubscriptionStatus
from tests.e2e.audit import PageAudit
from tests.e2e.cards import type_card

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {
    "fr": {
        "excl": "HT par an",
        "next": "Prochain prélèvement\u202f:",
        "incl": "TTC",
        "cancel": "Résilier l'abonnement",
        "cancel_now": "Résilier maintenant",
        "credit_note": "Avoir",
        "ended": "Terminés",
        "buy_again": "Racheter GoTo Meeting",
        "due": "Échéance le",
    },
    "es": {
        "excl": "sin IVA al año",
        "next": "Próximo cargo:",
        "incl": "IVA incluido",
        "cancel": "Cancelar suscripción",
        "cancel_now": "Cancelar ahora",
        "credit_note": "Nota de crédito",
        "ended": "Finalizadas",
        "buy_again": "Volver a comprar GoTo Meeting",
        "due": "Vence el",
    },
    "it": {"excl": "IVA esclusa al mese", "paid": "Pagata"},
    "en": {"excl": "excl. VAT per month", "paid": "Paid"},
}

# English words a French, Spanish or Italian email must not carry (the gateway's sentences).
ENGLISH = re.compile(r"\b(declined|Your card|contact your bank|Use another card)\b")


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def run_billing(day):
    call_command("run_billing", "--today", day.isoformat(), stdout=open("/dev/null", "w"))  # noqa: SIM115


def log_in(page, live_server, language):
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill("billing@acme.test")
    page.locator("#id_password").fill("demo-pass-2026")
    page.locator("main button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def speak(language):
    Account.objects.filter(name="Acme SARL").update(language=language)
    User.objects.filter(email="billing@acme.test").update(language=language)


def decline_from_now_on():
    PaymentMethod.objects.filter(account__name="Acme SARL", is_default=True).update(
        gateway_token="tok_sandbox_card_declined_0341", last4="0341"
    )


def words_of(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("language", ["fr", "es"])
def test_a_suspended_subscription_is_canceled_and_its_invoice_corrected(
    page: Page, live_server, demo, screenshot_dir, language
):
    page.set_viewport_size({"width": 390, "height": 900})
    audit = PageAudit(page=page, screenshot_dir=screenshot_dir, prefix=f"year-two-{language}-390")
    words = WORDS[language]
    speak(language)
    meeting = Subscription.objects.get(account__name="Acme SARL", product__slug="goto-meeting")
    period_price = meeting.unit_price.amount * meeting.seat_count
    with_vat = (period_price * Decimal("1.20")).quantize(Decimal("0.01"))

    log_in(page, live_server, language)
    row = page.get_by_role("row", name=re.compile("GoTo Meeting"))
    expect(row).to_contain_text(words["excl"])
    expect(row).to_contain_text(words["next"])
    expect(row).to_contain_text(words["incl"])
    # 1 920,00 € HT a year → 2 304,00 € TTC: the amount with VAT, in the reader's format.
    expect(row).to_contain_text(f"{with_vat:,.2f}".replace(",", "X").replace(".", ",")[-6:])
    audit.check("dashboard")

    # Its period ended ten days ago (the demo's clock is today's): declined at the renewal and
    # at every retry (3, 5, 7 days later), then suspended.
    end = timezone.localdate() - timedelta(days=10)
    Subscription.objects.filter(pk=meeting.pk).update(
        current_period_start=end - timedelta(days=365), current_period_end=end
    )
    decline_from_now_on()
    mail.outbox.clear()
    for day in (end, end + timedelta(days=3), end + timedelta(days=5), end + timedelta(days=7)):
        run_billing(day)
    meeting.refresh_from_db()
    assert meeting.status == SubscriptionStatus.UNPAID
    assert mail.outbox, "the dunning emails"
    for message in mail.outbox:
        body = message.body + "".join(str(alt[0]) for alt in message.alternatives)
        assert not ENGLISH.search(body), (message.subject, ENGLISH.search(body).group(0))
        assert not ENGLISH.search(message.subject)
    invoice = Invoice.objects.get(account=meeting.account, status=InvoiceStatus.OPEN)

    page.goto(f"{live_server.url}/billing/subscriptions/{meeting.pk}/")
    audit.check("suspended")
    page.get_by_role("link", name=words["cancel"]).click()
    expect(page.locator("[data-correction]")).to_contain_text(invoice.number)
    audit.check("cancel-suspended")
    page.get_by_role("button", name=words["cancel_now"]).click()

    # The invoice, corrected: its credit note, what stays due, still payable.
    expect(page).to_have_url(f"{live_server.url}/billing/invoices/{invoice.number}/")
    credit_note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE, corrects=invoice)
    expect(page.locator("[data-correction]")).to_contain_text(
        f"{words['credit_note']} {credit_note.number}"
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    assert Decimal(0) < invoice.amount_due.amount < invoice.order.total.amount
    expect(page.locator("[data-state]")).to_contain_text(words["due"])
    audit.check("corrected-invoice")
    meeting.refresh_from_db()
    assert meeting.status == SubscriptionStatus.CANCELED

    # The dashboard keeps it in the Ended section, with Buy again.
    page.goto(f"{live_server.url}/billing/")
    ended = page.locator("[data-ended]")
    expect(ended.get_by_role("heading", name=words["ended"])).to_be_visible()
    expect(ended.get_by_role("link", name=words["buy_again"])).to_be_visible()
    audit.check("ended")

    # The invoices list says what each document is for.
    page.goto(f"{live_server.url}/billing/invoices/")
    for number in (invoice.number, credit_note.number):
        expect(page.get_by_role("row", name=re.compile(number))).to_contain_text("GoTo Meeting")
    audit.check("invoices")
    audit.assert_clean()


@pytest.mark.parametrize("language", ["it", "en"])
def test_a_jan_31_subscription_keeps_its_day_and_a_paid_back_one_is_charged_once(
    page: Page, live_server, demo, screenshot_dir, language
):
    page.set_viewport_size({"width": 1280, "height": 900})
    audit = PageAudit(page=page, screenshot_dir=screenshot_dir, prefix=f"year-two-{language}-1280")
    speak(language)
    # Bought monthly on Jan 31 of last year (the processors keep the anchor day).
    year = timezone.localdate().year - 1
    meeting = Subscription.objects.get(account__name="Acme SARL", product__slug="goto-meeting")
    meeting.cycle = BillingCycle.MONTHLY
    meeting.unit_price = meeting.plan.prices.get(
        cycle=BillingCycle.MONTHLY, amount_currency="EUR"
    ).amount
    meeting.current_period_start = date(year, 1, 31)
    meeting.current_period_end = date(year, 2, 28) if year % 4 else date(year, 2, 29)
    meeting.billing_anchor_day = 31
    meeting.save()

    for day in (meeting.current_period_end, date(year, 3, 31)):
        run_billing(day)
    run_billing(date(year, 4, 30))
    periods = list(
        Order.objects.filter(lines__subscription=meeting)
        .order_by("pk")
        .values_list("lines__period_start", "lines__period_end")
    )
    assert [start for start, _ in periods] == [
        meeting.current_period_start.replace(month=2, day=periods[0][0].day),
        date(year, 3, 31),
        date(year, 4, 30),
    ]
    assert periods[-1][1] == date(year, 5, 31)

    log_in(page, live_server, language)
    row = page.get_by_role("row", name=re.compile("GoTo Meeting"))
    expect(row).to_contain_text(WORDS[language]["excl"])
    audit.check("anchor-day-dashboard")

    # Declined from May 31 on: suspended on Jun 7; its period (to Jun 30) ended long ago.
    decline_from_now_on()
    for day in (date(year, 5, 31), date(year, 6, 3), date(year, 6, 5), date(year, 6, 7)):
        run_billing(day)
    run_billing(date(year, 9, 30))  # suspended: never renewed
    meeting.refresh_from_db()
    assert meeting.status == SubscriptionStatus.UNPAID
    charges_before = Order.objects.filter(lines__subscription=meeting).count()
    invoice = Invoice.objects.get(account=meeting.account, status=InvoiceStatus.OPEN)

    # The contact fixes their default card, then pays back today with a new one: the open
    # invoice, then one period from today on the default card.
    PaymentMethod.objects.filter(account__name="Acme SARL", is_default=True).update(
        gateway_token="tok_sandbox_ok_acme_visa_again", last4="4242"
    )
    page.goto(f"{live_server.url}/billing/invoices/{invoice.number}/pay/")
    page.locator("input[name=payment][value=new]").check()
    type_card(page, "4242 4242 4242 4242", "Camille Laurent")
    audit.check("pay-now")
    page.locator("main form button[type=submit].button--primary").click()
    expect(page.locator(".message")).to_contain_text(invoice.number)
    page.goto(f"{live_server.url}/billing/invoices/{invoice.number}/")
    expect(page.locator("[data-state]")).to_contain_text("4242")
    expect(page.locator(".badge")).to_contain_text(WORDS[language]["paid"])
    audit.check("paid-back")

    today = timezone.localdate()
    run_billing(today)
    meeting.refresh_from_db()
    assert meeting.status == SubscriptionStatus.ACTIVE
    assert meeting.current_period_start == today
    new_periods = Order.objects.filter(lines__subscription=meeting).count() - charges_before
    assert new_periods == 1  # the period from today, not one per month suspended
    audit.assert_clean()
