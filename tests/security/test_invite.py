"""The invite form says the same thing whatever the reason it cannot invite an address: it does
not tell a billing contact that an email belongs to another account, or to vendor staff (issue
9, "The invite form reveals whether an email belongs to another account")."""

import re

import pytest
from django.urls import reverse

from billing_center.models import User
from subscriptions.models import Role, SeatAssignment
from tests.factories import MembershipFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription(account):
    return SubscriptionFactory(account=account, seat_count=5)


def refusal(contact_client, subscription, email):
    response = contact_client.post(
        reverse("subscriptions:invite", args=[subscription.pk]), {"email": email}
    )
    assert response.status_code == 400
    html = response.content.decode()
    (error,) = re.findall(r'<ul class="errorlist"[^>]*>\s*<li>(.*?)</li>', html, re.S)
    return error.replace(email, "EMAIL")


def test_another_accounts_email_and_a_staff_email_get_the_same_answer(
    contact_client, subscription, outsider
):
    staff = UserFactory(email="ops@vendor.test", is_staff=True)
    loner = UserFactory(email="nobody-account@example.test")
    answers = {
        refusal(contact_client, subscription, email)
        for email in (outsider.email, staff.email, loner.email)
    }
    assert len(answers) == 1
    (answer,) = answers
    assert "We could not invite EMAIL" in answer
    assert "another account" not in answer
    assert not SeatAssignment.objects.exists()
    assert User.objects.filter(membership__account=subscription.account).count() == 1


def test_an_unknown_email_is_still_invited(contact_client, subscription):
    contact_client.post(
        reverse("subscriptions:invite", args=[subscription.pk]), {"email": "new@example.test"}
    )
    assert User.objects.get(email="new@example.test").membership.role == Role.MEMBER


def test_a_person_of_the_account_gets_the_seat(contact_client, subscription, account):
    member = MembershipFactory(account=account, role=Role.MEMBER).user
    contact_client.post(
        reverse("subscriptions:invite", args=[subscription.pk]), {"email": member.email}
    )
    assert SeatAssignment.objects.filter(user=member).exists()
