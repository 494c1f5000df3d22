"""The seat assignment page and its services: never more than the seats, clear errors."""

import pytest
from django.core import mail
from django.urls import reverse

from billing_center.models import User
from subscriptions.models import Role, SeatAssignment
from tests.factories import MembershipFactory, SeatAssignmentFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription(account):
    return SubscriptionFactory(account=account, seat_count=2, plan__product__name="GoTo Meeting")


def url(name, subscription):
    return reverse(f"subscriptions:{name}", args=[subscription.pk])


def test_page_lists_the_accounts_users(contact_client, subscription, member, outsider):
    html = contact_client.get(url("seats", subscription)).content.decode()
    assert member.email in html
    assert outsider.email not in html
    assert "2 of 2 seats are free." in html


def test_assign_and_unassign(contact_client, subscription, member):
    response = contact_client.post(url("assign_seat", subscription), {"user": member.pk})
    assert response.url == url("seats", subscription)
    assert SeatAssignment.objects.filter(subscription=subscription, user=member).exists()
    contact_client.post(url("unassign_seat", subscription), {"user": member.pk})
    assert not SeatAssignment.objects.exists()


def test_never_more_than_the_seats(contact_client, subscription, account):
    SeatAssignmentFactory(subscription=subscription)
    SeatAssignmentFactory(subscription=subscription)
    third = MembershipFactory(account=account, role=Role.MEMBER).user
    response = contact_client.post(
        url("assign_seat", subscription), {"user": third.pk}, follow=True
    )
    assert "All 2 seats are assigned: unassign one or add seats first." in response.content.decode()
    assert subscription.seat_assignments.count() == 2


@pytest.mark.parametrize("user", ["", "abc", "-1", "999999"])
def test_nonsense_user_is_refused(contact_client, subscription, user):
    response = contact_client.post(url("assign_seat", subscription), {"user": user}, follow=True)
    assert "Choose a user of your account." in response.content.decode()
    assert not SeatAssignment.objects.exists()


def test_a_user_of_another_account_cannot_get_a_seat(contact_client, subscription, outsider):
    response = contact_client.post(
        url("assign_seat", subscription), {"user": outsider.pk}, follow=True
    )
    assert "Choose a user of your account." in response.content.decode()
    assert not SeatAssignment.objects.exists()


def test_invite_creates_a_member_with_a_seat_and_sends_the_link(
    contact_client, subscription, account, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = contact_client.post(
            url("invite", subscription),
            {"email": "New.Person@Example.test", "full_name": "New Person"},
        )
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.test")
    assert user.membership.account == account
    assert user.membership.role == Role.MEMBER
    assert not user.has_usable_password()
    assert SeatAssignment.objects.filter(subscription=subscription, user=user).exists()
    (email,) = mail.outbox
    assert email.to == ["new.person@example.test"]
    assert "/password-reset/" in email.body


def test_invite_an_email_of_another_account_is_an_error(contact_client, subscription, outsider):
    response = contact_client.post(url("invite", subscription), {"email": outsider.email})
    assert response.status_code == 400
    assert "We could not invite" in response.content.decode()
    assert not SeatAssignment.objects.exists()


@pytest.mark.parametrize("email", ["", "not-an-email", "a@b", "x" * 300 + "@example.test"])
def test_invite_bad_email(contact_client, subscription, email):
    users = User.objects.count()
    response = contact_client.post(url("invite", subscription), {"email": email})
    assert response.status_code == 400
    assert User.objects.count() == users


def test_invite_when_no_seat_is_free_keeps_nobody(contact_client, subscription):
    SeatAssignmentFactory(subscription=subscription)
    SeatAssignmentFactory(subscription=subscription)
    users = User.objects.count()
    response = contact_client.post(url("invite", subscription), {"email": "late@example.test"})
    assert response.status_code == 400
    assert "All 2 seats are assigned" in response.content.decode()
    assert User.objects.count() == users  # the invitation rolled back with the refused seat


def test_outsider_gets_404(client, outsider, subscription, member):
    client.force_login(outsider)
    assert client.get(url("seats", subscription)).status_code == 404
    assert client.post(url("assign_seat", subscription), {"user": member.pk}).status_code == 404
    assert client.post(url("invite", subscription), {"email": "x@example.test"}).status_code == 404


def test_member_gets_403(client, member, subscription):
    client.force_login(member)
    assert client.get(url("seats", subscription)).status_code == 403


def test_wrong_methods(contact_client, subscription):
    assert contact_client.post(url("seats", subscription)).status_code == 405
    assert contact_client.get(url("assign_seat", subscription)).status_code == 405


def test_seats_page_query_count(contact_client, subscription, account, django_assert_num_queries):
    for _ in range(2):
        SeatAssignmentFactory(subscription=subscription)
    for _ in range(5):
        MembershipFactory(account=account)
    # session, user with membership, subscription, assignments + users, account users, cart
    # count, has quotes
    with django_assert_num_queries(7):
        contact_client.get(url("seats", subscription))
