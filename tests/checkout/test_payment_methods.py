"""The payment methods page (issue 11): add a card, make it the default, remove one — the
default card stays while a subscription renews on it."""

from datetime import date

import pytest
from django.urls import reverse

from billing_center.models import AuditAction, AuditEvent
from checkout.models import PaymentMethod
from checkout.payments.cards import PaymentMethodError, remove_payment_method
from checkout.selectors import saved_cards
from subscriptions.models import SubscriptionStatus
from tests.factories import OrderFactory, PaymentMethodFactory, SubscriptionFactory
from tests.helpers import sandbox_token

pytestmark = pytest.mark.django_db

PAGE = reverse("checkout:payment_methods")


def remove_url(card):
    return reverse("checkout:remove_payment_method", args=[card.pk])


@pytest.fixture
def default_card(account):
    return PaymentMethodFactory(account=account, is_default=True, last4="4242")


@pytest.fixture
def other_card(account):
    return PaymentMethodFactory(account=account, last4="4444", brand="mastercard")


def messages_of(response):
    return [str(m) for m in response.wsgi_request._messages]


class TestAddAndDefault:
    def test_adding_a_card_saves_it_as_the_default_when_asked(
        self, contact_client, account, default_card
    ):
        response = contact_client.post(
            PAGE,
            {
                "card_token": sandbox_token("5555555555554444"),
                "cardholder_name": "Camille Laurent",
                "make_default": "on",
            },
        )
        assert response.status_code == 302
        new = account.payment_methods.get(last4="4444")
        assert new.is_default
        default_card.refresh_from_db()
        assert not default_card.is_default

    def test_make_default(self, contact_client, default_card, other_card):
        url = reverse("checkout:make_default_payment_method", args=[other_card.pk])
        assert contact_client.post(url).status_code == 302
        other_card.refresh_from_db()
        default_card.refresh_from_db()
        assert other_card.is_default
        assert not default_card.is_default
        assert AuditEvent.objects.filter(object_id=str(other_card.pk)).exists()


class TestRemove:
    def test_the_page_links_to_removing_each_card(self, contact_client, default_card, other_card):
        html = contact_client.get(PAGE).content.decode()
        assert remove_url(default_card) in html
        assert remove_url(other_card) in html

    def test_confirm_then_remove_a_non_default_card(
        self, contact_client, account, billing_contact, default_card, other_card
    ):
        SubscriptionFactory(account=account)  # renewing: only the default card is held back
        confirm = contact_client.get(remove_url(other_card))
        assert confirm.status_code == 200
        assert str(other_card) in confirm.content.decode()
        response = contact_client.post(remove_url(other_card))
        assert response.status_code == 302
        other_card.refresh_from_db()
        assert other_card.removed_at is not None
        assert not other_card.is_default
        assert list(saved_cards(account=account)) == [default_card]
        event = AuditEvent.objects.get(action=AuditAction.DELETED)
        assert (event.actor, event.object_id) == (billing_contact, str(other_card.pk))
        assert event.before == {"card": str(other_card), "is_default": False}
        page = contact_client.get(PAGE).content.decode()
        assert remove_url(other_card) not in page  # no longer offered
        # …and gone from every card list: a removed card is a 404 like another account's.
        assert contact_client.post(remove_url(other_card)).status_code == 404
        url = reverse("checkout:make_default_payment_method", args=[other_card.pk])
        assert contact_client.post(url).status_code == 404

    @pytest.mark.parametrize(
        ("status", "cancels"),
        [
            (SubscriptionStatus.ACTIVE, False),
            (SubscriptionStatus.PAST_DUE, False),
            (SubscriptionStatus.PAST_DUE, True),
        ],
    )
    def test_the_default_card_stays_while_a_subscription_renews_on_it(
        self, contact_client, account, default_card, other_card, status, cancels
    ):
        SubscriptionFactory(account=account, status=status, cancel_at_period_end=cancels)
        confirm = contact_client.get(remove_url(default_card)).content.decode()
        assert "make another card the default first" in confirm
        assert 'class="button button--danger"' not in confirm
        response = contact_client.post(remove_url(default_card))
        assert response.status_code == 302
        assert any("make another card the default first" in m for m in messages_of(response))
        default_card.refresh_from_db()
        assert default_card.is_default
        assert default_card.removed_at is None
        assert not AuditEvent.objects.exists()

    @pytest.mark.parametrize(
        ("status", "cancels"),
        [
            (SubscriptionStatus.ACTIVE, True),  # canceled at period end: no renewal
            (SubscriptionStatus.TRIALING, False),
            (SubscriptionStatus.CANCELED, False),
        ],
    )
    def test_the_default_card_goes_when_nothing_renews_and_the_newest_becomes_default(
        self, account, billing_contact, default_card, other_card, status, cancels
    ):
        trial_end = date(2026, 12, 1) if status == SubscriptionStatus.TRIALING else None
        SubscriptionFactory(
            account=account, status=status, cancel_at_period_end=cancels, trial_end=trial_end
        )
        remove_payment_method(payment_method=default_card, actor=billing_contact)
        default_card.refresh_from_db()
        other_card.refresh_from_db()
        assert default_card.removed_at is not None
        assert not default_card.is_default
        assert other_card.is_default
        assert list(
            AuditEvent.objects.order_by("pk").values_list("action", "object_id", "after")
        ) == [
            (AuditAction.DELETED, str(default_card.pk), {}),
            (AuditAction.CHANGED, str(other_card.pk), {"is_default": True}),
        ]

    def test_the_last_card_goes_when_nothing_renews(self, account, billing_contact, default_card):
        remove_payment_method(payment_method=default_card, actor=billing_contact)
        assert not saved_cards(account=account).exists()

    def test_a_removed_card_keeps_naming_what_it_paid(self, account, billing_contact, other_card):
        order = OrderFactory(account=account, payment_method=other_card)
        remove_payment_method(payment_method=other_card, actor=billing_contact)
        order.refresh_from_db()
        assert order.payment_method == other_card
        assert PaymentMethod.objects.filter(pk=other_card.pk).exists()

    def test_removing_twice_is_refused(self, account, billing_contact, other_card):
        remove_payment_method(payment_method=other_card, actor=billing_contact)
        with pytest.raises(PaymentMethodError):
            remove_payment_method(payment_method=other_card, actor=billing_contact)
        assert AuditEvent.objects.filter(action=AuditAction.DELETED).count() == 1

    def test_another_accounts_card_is_a_404_and_stays(self, contact_client, outsider):
        theirs = PaymentMethodFactory(account=outsider.membership.account, is_default=True)
        assert contact_client.get(remove_url(theirs)).status_code == 404
        assert contact_client.post(remove_url(theirs)).status_code == 404
        theirs.refresh_from_db()
        assert theirs.removed_at is None
        assert theirs.is_default

    def test_member_403_anonymous_login_put_405(self, client, member, billing_contact, other_card):
        assert client.post(remove_url(other_card)).status_code == 302
        client.force_login(member)
        assert client.post(remove_url(other_card)).status_code == 403
        other_card.refresh_from_db()
        assert other_card.removed_at is None
        client.force_login(billing_contact)
        assert client.put(remove_url(other_card)).status_code == 405
