"""The activity list and the credit history in the reader's language (issue 11): events and credit
entries store codes and values; billing_center.activity words them when the page is read."""

import html as html_lib
import re
from datetime import date

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from moneyed import Money

from billing_center.activity import describe_events
from billing_center.audit import record_audit_event
from billing_center.models import AuditAction, AuditEvent
from catalog.models import BillingCycle, SeatNoun
from checkout.billing import BillingDetails, save_billing_details
from subscriptions import lifecycle, services
from subscriptions.models import CreditEntry, CreditKind, Role
from tests.factories import (
    CreditEntryFactory,
    MembershipFactory,
    OrderFactory,
    PaymentMethodFactory,
    SeatAssignmentFactory,
    SubscriptionFactory,
    UserFactory,
    plan_with_prices,
)

pytestmark = pytest.mark.django_db

SPEC_DAY = "2026-07-02 10:00:00+00:00"


@pytest.fixture(autouse=True)
def _language_back_to_the_default():
    """The pages below are read as a French or an Italian user, whose language the middleware
    activates for the thread: the tests after these start in the default language again."""
    yield
    translation.deactivate()


@pytest.fixture
def meeting(account):
    """GoTo Meeting Business, annual, 10 organizers, 4 assigned (the SPEC's example)."""
    account.country = "US"
    account.save()
    plan = plan_with_prices(
        monthly="12.00",
        annual="120.00",
        product__name="GoTo Meeting",
        product__seat_noun=SeatNoun.ORGANIZER,
        name="Business",
        max_seats=250,
    )
    subscription = SubscriptionFactory(
        account=account,
        plan=plan,
        product=plan.product,
        cycle=BillingCycle.ANNUAL,
        seat_count=10,
        unit_price=Money("120.00", "EUR"),
        current_period_start=date(2026, 1, 1),
    )
    for _ in range(4):
        SeatAssignmentFactory(subscription=subscription)
    PaymentMethodFactory(account=account, gateway_token="tok_sandbox_ok_visa", is_default=True)
    return subscription


def told(event, language):
    with translation.override(language):
        (text,) = describe_events([event])
    return text


def seat_change(meeting, actor):
    return record_audit_event(
        actor=actor,
        account=meeting.account,
        action=AuditAction.CHANGED,
        target=meeting,
        before={
            "seat_count": 10,
            "cycle": "monthly",
            "unit_price": Money("12.00", "EUR"),
            "current_period_start": date(2026, 1, 1),
        },
        after={
            "seat_count": 12,
            "cycle": "annual",
            "unit_price": Money("120.00", "EUR"),
            "current_period_start": date(2026, 7, 2),
            "order": "ORD-2026-000042",
        },
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "Organizers: 10 → 12",
                "Billing cycle: Monthly → Annual",
                "Price per seat: €12.00 → €120.00",
                "Current period start: 1 January 2026 → 2 July 2026",
                "Order: ORD-2026-000042",
            ],
        ),
        (
            "fr",
            [
                "Organisateurs\u202f: 10 → 12",
                "Cycle de facturation\u202f: Mensuel → Annuel",
                "Prix par poste\u202f: 12,00\u00a0€ → 120,00\u00a0€",
                "Début de la période en cours\u202f: 1 janvier 2026 → 2 juillet 2026",
                "Commande\u202f: ORD-2026-000042",
            ],
        ),
        (
            "it",
            [
                "Organizzatori: 10 → 12",
                "Ciclo di fatturazione: Mensile → Annuale",
                "Prezzo per postazione: 12,00\u00a0€ → 120,00\u00a0€",
                "Inizio del periodo corrente: 1 gennaio 2026 → 2 luglio 2026",
                "Ordine: ORD-2026-000042",
            ],
        ),
        (
            "es",
            [
                "Organizadores: 10 → 12",
                "Ciclo de facturación: Mensual → Anual",
                "Precio por puesto: 12,00\u00a0€ → 120,00\u00a0€",
                "Inicio del período actual: 1 de enero de 2026 → 2 de julio de 2026",
                "Pedido: ORD-2026-000042",
            ],
        ),
    ],
)
def test_a_seat_change_reads_in_the_readers_language(meeting, language, expected):
    french = UserFactory(language="fr")
    with translation.override("fr"):  # whoever wrote it, in whatever language
        event = seat_change(meeting, french)
    text = told(event, language)
    assert text.lines == expected


def test_the_event_stores_codes_not_words(meeting):
    with translation.override("fr"):
        event = seat_change(meeting, UserFactory(language="fr"))
    event.refresh_from_db()
    assert event.after["cycle"] == "annual"
    assert event.after["unit_price"] == "120.00 EUR"
    assert event.after["current_period_start"] == "2026-07-02"


def test_unchanged_fields_of_a_snapshot_are_not_told(meeting):
    event = record_audit_event(
        actor=None,
        account=meeting.account,
        action=AuditAction.CHANGED,
        target=meeting,
        before={"cycle": "annual", "seat_count": 10},
        after={"cycle": "annual", "seat_count": 12},
    )
    assert told(event, "en").lines == ["Organizers: 10 → 12"]


def test_the_seats_are_called_what_the_product_calls_them(account):
    plan = plan_with_prices(product__seat_noun=SeatNoun.AGENT)
    support = SubscriptionFactory(account=account, plan=plan, product=plan.product)
    event = record_audit_event(
        actor=None,
        account=account,
        action=AuditAction.CHANGED,
        target=support,
        before={"seat_count": 25},
        after={"seat_count": 30},
    )
    assert told(event, "it").lines == ["Agenti: 25 → 30"]
    assert told(event, "es").lines == ["Agentes: 25 → 30"]


@pytest.mark.parametrize(
    ("language", "given", "taken"),
    [
        ("en", "Seat given to ana@example.test.", "Seat taken back from ana@example.test."),
        ("fr", "Poste attribué à ana@example.test.", "Poste retiré à ana@example.test."),
        ("it", "Postazione assegnata a ana@example.test.", "Postazione tolta a ana@example.test."),
        ("es", "Puesto asignado a ana@example.test.", "Puesto retirado a ana@example.test."),
    ],
)
def test_seat_assignments_read_as_sentences(meeting, billing_contact, language, given, taken):
    ana = MembershipFactory(account=meeting.account, user__email="ana@example.test").user
    services.assign_seat(subscription=meeting, user=ana, actor=billing_contact)
    services.unassign_seat(subscription=meeting, user=ana, actor=billing_contact)
    unassigned, assigned = AuditEvent.objects.all()[:2]
    assert told(assigned, language).summary == given
    assert told(unassigned, language).summary == taken
    assert told(assigned, "en").lines == ["Seats assigned: 4 → 5"]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "new@example.test invited as Member."),
        ("fr", "new@example.test invité(e) en tant que Membre."),
        ("it", "new@example.test invitato come Membro."),
        ("es", "new@example.test invitado como Miembro."),
    ],
)
def test_an_invitation_reads_with_the_role_in_the_readers_language(
    account, billing_contact, language, expected
):
    with translation.override("fr"):
        services.invite_member(
            account=account, email="new@example.test", full_name="New", actor=billing_contact
        )
    event = AuditEvent.objects.get(action=AuditAction.MEMBER_INVITED)
    assert event.after["role"] == Role.MEMBER
    text = told(event, language)
    assert text.summary == expected
    assert text.lines == []


def test_old_invitations_with_a_role_label_are_converted(account):
    """The data migration turns the role's label, in any language, into its code."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("subscriptions.migrations.0005_activity_as_codes")
    event = AuditEvent.objects.create(
        account=account,
        action=AuditAction.MEMBER_INVITED,
        object_type="billing_center.user",
        after={"email": "old@example.test", "role": "Membre"},
    )
    migration.forwards(apps, None)
    event.refresh_from_db()
    assert event.after["role"] == "member"
    assert told(event, "it").summary == "old@example.test invitato come Membro."


def test_old_credit_entries_of_an_order_are_converted(account):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("subscriptions.migrations.0005_activity_as_codes")
    order = OrderFactory(account=account)
    used = CreditEntryFactory(
        account=account,
        amount=Money("-5.00", "EUR"),
        order=order,
        description=f"Crédit utilisé pour la commande {order.number}",
    )
    by_hand = CreditEntryFactory(account=account, description="Goodwill")
    migration.forwards(apps, None)
    used.refresh_from_db()
    by_hand.refresh_from_db()
    assert (used.kind, used.description) == (CreditKind.USED_FOR_ORDER, "")
    assert (by_hand.kind, by_hand.description) == (CreditKind.OTHER, "Goodwill")


def test_cancellation_and_status_read_as_labels_and_dates(meeting, billing_contact):
    lifecycle.cancel_at_period_end(subscription=meeting, actor=billing_contact)
    event = AuditEvent.objects.latest("pk")
    assert told(event, "fr").lines == [
        "Résilié en fin de période\u202f: Non → Oui",
        "Prend fin le\u202f: 1 janvier 2027",
    ]


def test_money_of_an_order_reads_in_the_readers_format(account):
    order = OrderFactory(account=account)
    event = record_audit_event(
        actor=None,
        account=account,
        action=AuditAction.ORDER_PLACED,
        target=order,
        after={"total": Money("192.00", "EUR"), "charged": Money("192.00", "EUR")},
    )
    assert told(event, "en").lines == ["Total: €192.00", "Amount charged: €192.00"]
    assert told(event, "it").lines == ["Totale: 192,00\u00a0€", "Importo addebitato: 192,00\u00a0€"]


def test_an_unknown_key_never_shows_its_raw_name(account):
    event = AuditEvent.objects.create(
        account=account,
        action=AuditAction.CHANGED,
        object_type="subscriptions.subscription",
        object_id="999999",
        after={"some_old_key": 3},
    )
    assert told(event, "en").lines == ["Some old key: 3"]


def test_internal_keys_a_staff_edit_recorded_are_never_told_to_the_customer(account):
    """The audit log keeps the gateway's card reference and the billing run's lease for staff;
    the customer's activity tells the card's expiry, never those."""
    event = AuditEvent.objects.create(
        account=account,
        action=AuditAction.CHANGED,
        object_type="checkout.paymentmethod",
        object_id="999999",
        before={"gateway_token": "tok_a", "exp_year": 2030},
        after={"gateway_token": "tok_b", "exp_year": 2031},
    )
    lines = told(event, "en").lines
    assert len(lines) == 1
    assert "2030" in lines[0]
    assert "2031" in lines[0]
    assert not any("tok_" in line or "oken" in line for line in lines)


def cells_text(html: str) -> str:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", body))


@time_machine.travel(SPEC_DAY, tick=False)
def test_the_pages_after_flows_a_b_c_show_no_raw_field_and_read_italian(
    client, account, billing_contact, meeting
):
    """A French billing contact buys, changes seats and gets seats added (flows A, B, C-like);
    an Italian reader sees every change in Italian, with no raw field name."""
    billing_contact.language = "fr"
    billing_contact.save()
    client.force_login(billing_contact)
    # Flow B: the seat change through the real checkout; then back down to 4 monthly for credit.
    for data in (
        {"plan": meeting.plan_id, "cycle": "annual", "seat_count": 12},
        {"plan": meeting.plan_id, "cycle": "monthly", "seat_count": 4},
    ):
        meeting.refresh_from_db()
        client.post(reverse("checkout:change_subscription", args=[meeting.pk]), data)
        page = client.get(reverse("checkout:checkout"))
        form = page.context["form"]
        post = {
            name: "" if form[name].value() is None else form[name].value() for name in form.fields
        }
        post["payment"] = str(account.payment_methods.get().pk)
        if data["seat_count"] == 4:
            post["payment"] = ""
        assert client.post(reverse("checkout:checkout"), post).status_code == 302
    # Flow A-like: a trial of another product; flow C-like: seats added to the period.
    webinar = plan_with_prices(
        product__name="GoTo Webinar", product__trial_offered=True, product__trial_days=14
    )
    with translation.override("fr"):
        trial = services.start_trial(
            account=account,
            product=webinar.product,
            plan=webinar,
            seat_count=3,
            actor=billing_contact,
        )
        services.add_seats(
            subscription=trial, added_seats=2, actor=billing_contact, reference="Q-2026-000007"
        )
        services.invite_member(
            account=account, email="new@example.test", full_name="New", actor=billing_contact
        )
        save_billing_details(
            account=account,
            billing=BillingDetails(
                name="Acme SARL",
                address_line1="1 rue de la Paix",
                address_line2="",
                postal_code="75002",
                city="Paris",
                region="",
                country="FR",
                vat_number="",
            ),
            actor=billing_contact,
        )
    assert CreditEntry.objects.filter(account=account).exists()

    billing_contact.language = "it"
    billing_contact.save()
    html = client.get(reverse("activity")).content.decode()
    text = cells_text(html)
    for raw in ("seat_count", "current_period_start", "unit_price", "_", "annual", "EUR"):
        assert raw not in text, (raw, text)
    assert "Organizzatori: 10 → 12" in text
    assert "Ciclo di fatturazione: Annuale → Mensile" in text
    assert "Prezzo per postazione: 120,00\u00a0€ → 12,00\u00a0€" in text
    assert "Inizio del periodo corrente: 1 gennaio 2026 → 2 luglio 2026" in text
    assert "Paese di fatturazione: Stati Uniti d'America → Francia" in text
    assert "Organizzatori: 3 → 5" in text  # the seats added to the webinar's period
    assert "new@example.test invitato come Membro." in text
    for french in ("Organisateurs", "Crédit", "Mensuel", "Membre"):
        assert french not in text

    balance = cells_text(client.get(reverse("subscriptions:balance")).content.decode())
    assert "Credito dall'ordine ORD-" in balance
    assert "Crédit" not in balance
