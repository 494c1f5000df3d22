"""Language and typography: dates as each language writes them, on pages, in emails and in the
invoice PDF; French punctuation with its narrow no-break space; addresses by country."""

import gettext
import re
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string
from django.utils import formats, translation

from billing_center.addresses import format_address
from billing_center.emails import send_templated_email
from tests.factories import SubscriptionFactory

NNBSP = "\u202f"
DAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "2 décembre 2026"),
        ("it", "2 dicembre 2026"),
        ("es", "2 de diciembre de 2026"),
    ],
)
def test_dates_read_as_the_language_writes_them(language, expected):
    with translation.override(language):
        assert formats.date_format(DAY, "DATE_FORMAT") == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [("it", "1 gennaio 2027"), ("fr", "1 janvier 2027"), ("es", "1 de enero de 2027")],
)
def test_no_leading_zero_and_a_lower_case_month(language, expected):
    with translation.override(language):
        assert formats.date_format(date(2027, 1, 1), "DATE_FORMAT") == expected


def compiled_french_catalog() -> dict:
    mo = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.mo"
    if not mo.exists():
        pytest.fail(f"{mo} is missing: compile the catalogs first (make messages)")
    with mo.open("rb") as handle:
        return gettext.GNUTranslations(handle)._catalog


# A colon, semicolon, question or exclamation mark that ends a phrase (followed by a space, the
# end, a tag or a bracket; not a URL's "://" or a time's "14:05").
PUNCTUATION = re.compile(r"(.?)([:;?!])(?=\s|$|<|\))", re.DOTALL)


def test_the_french_catalog_puts_a_narrow_no_break_space_before_double_punctuation():
    bad = []
    for key, value in compiled_french_catalog().items():
        msgid = key[0] if isinstance(key, tuple) else key
        if not msgid:
            continue  # the catalog's header
        for match in PUNCTUATION.finditer(value):
            if match.group(1) != NNBSP:
                bad.append(f"{msgid!r} → {value!r}")
                break
    assert not bad, "French needs U+202F before : ; ? ! in:\n" + "\n".join(bad)


def test_the_scan_catches_a_plain_space_and_a_missing_space():
    """The rule above, on the mistakes it is there to catch."""
    assert PUNCTUATION.search("Facture : INV").group(1) == " "
    assert PUNCTUATION.search("Facture: INV").group(1) == "e"
    assert PUNCTUATION.search(f"Facture{NNBSP}: INV").group(1) == NNBSP
    assert PUNCTUATION.search("https://billing.example.com 14:05") is None


def test_a_label_colon_follows_the_language():
    template = "{% load i18n billing %}{% translate 'Invoice' %}{% colon %} INV-2026-000001"
    from django.template import engines

    render = engines["django"].from_string(template).render
    with translation.override("fr"):
        assert render({}) == f"Facture{NNBSP}: INV-2026-000001"
    with translation.override("en"):
        assert render({}) == "Invoice: INV-2026-000001"


@pytest.mark.django_db
def test_the_expiry_placeholder_is_translated(contact_client, account, billing_contact):
    """The processor's card fields take their words from the page (the script mounts them)."""
    from cart.models import Cart
    from tests.factories import CartItemFactory

    account.language = "fr"
    account.save(update_fields=["language"])
    CartItemFactory(cart=Cart.objects.create(owner=billing_contact, account=account))
    html = contact_client.get("/billing/checkout/").content
    assert 'data-placeholder-expiry="MM/AA"' in html.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "date_text", "seats_label"),
    [
        ("it", "2 dicembre 2026", "Postazioni:"),
        ("fr", "2 décembre 2026", f"Postes{NNBSP}:"),
        ("es", "2 de diciembre de 2026", "Puestos:"),
    ],
)
def test_the_trial_welcome_email_follows_the_language(language, date_text, seats_label):
    trial = SubscriptionFactory(status="trialing", trial_end=DAY, seat_count=3)
    send_templated_email(
        to=["billing@example.test"],
        template="trial_welcome",
        context={"subscription": trial},
        language=language,
    )
    (email,) = mail.outbox
    assert date_text in email.body
    assert seats_label in email.body
    assert date_text in email.alternatives[0][0]


@pytest.mark.django_db
def test_the_invoice_pdf_is_written_the_french_way(contact_client, account, billing_contact):
    from cart.models import Cart
    from checkout.models import Invoice
    from tests.checkout.test_views import CHECKOUT, form_data
    from tests.factories import CartItemFactory, plan_with_prices

    account.language = "fr"
    account.save()
    cart = Cart.objects.create(owner=billing_contact, account=account)
    plan = plan_with_prices(monthly="119.00", annual="1140.00", product__name="GoTo Training")
    item = CartItemFactory(cart=cart, plan=plan, product=plan.product, seat_count=5)
    contact_client.post(CHECKOUT, form_data(item))
    invoice = Invoice.objects.get()
    with translation.override(invoice.language):
        html = render_to_string(
            "checkout/invoice_pdf.html", {"invoice": invoice, "order": invoice.order}
        )
        issued = formats.date_format(invoice.issued_at, "DATE_FORMAT")
    assert f"Facture {invoice.number}" in html
    assert f"Date{NNBSP}: {issued}" in html
    assert re.fullmatch(r"\d{1,2} [a-zéû]+ \d{4}", issued)
    assert "Irlande" in html  # the seller's country, in the invoice's language


@pytest.mark.parametrize(
    ("country", "expected"),
    [
        ("US", ["1 Main St", "Springfield, OR 97477", "United States of America"]),
        ("CA", ["1 Bay St", "Toronto, ON M5V 2T6", "Canada"]),
        ("GB", ["10 Downing St", "London", "SW1A 2AA", "United Kingdom"]),
        ("FR", ["12 rue de la Paix", "75002 Paris", "France"]),
        ("DE", ["Unter den Linden 1", "10117 Berlin", "Germany"]),
        ("IT", ["Via Roma 1", "00144 Roma RM", "Italy"]),
    ],
)
def test_addresses_follow_the_country(country, expected):
    parts = {
        "US": ("1 Main St", "97477", "Springfield", "OR"),
        "CA": ("1 Bay St", "M5V 2T6", "Toronto", "ON"),
        "GB": ("10 Downing St", "SW1A 2AA", "London", ""),
        "FR": ("12 rue de la Paix", "75002", "Paris", ""),
        "DE": ("Unter den Linden 1", "10117", "Berlin", ""),
        "IT": ("Via Roma 1", "00144", "Roma", "RM"),
    }[country]
    line1, postal_code, city, region = parts
    with translation.override("en"):
        lines = format_address(
            line1=line1, postal_code=postal_code, city=city, region=region, country=country
        )
    assert lines == expected


def test_the_country_name_is_in_the_given_language():
    lines = format_address(
        line1="1 Main St",
        postal_code="97477",
        city="Springfield",
        region="OR",
        country="US",
        language="fr",
    )
    assert lines == ["1 Main St", "Springfield, OR 97477", "États-Unis d'Amérique"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "object_type", "expected"),
    [
        ("es", "subscriptions.subscription", "Suscripción · creada"),
        ("es", "checkout.order", "Pedido · creado"),
        ("fr", "checkout.invoice", "Facture · créée"),
        ("fr", "subscriptions.subscription", "Abonnement · créé"),
        ("it", "checkout.invoice", "Fattura · creata"),
        ("it", "subscriptions.subscription", "Abbonamento · creato"),
        ("en", "subscriptions.subscription", "Subscription · created"),
    ],
)
def test_the_activity_agrees_with_the_objects_gender(
    contact_client, account, billing_contact, language, object_type, expected
):
    from billing_center.models import AuditAction
    from tests.factories import AuditEventFactory

    billing_contact.language = language
    billing_contact.save()
    AuditEventFactory(account=account, action=AuditAction.CREATED, object_type=object_type)
    assert expected in contact_client.get("/billing/activity/").content.decode()
