"""The corporate admin contact: a staff email (or anyone outside the account) is refused when
the billing contact saves the service order, and the worker never charges for an admin contact
it could not create (issue 9: "A staff email is accepted … then the worker fails after
charging")."""

import pytest
from django.urls import reverse

from checkout.sandbox_gateway.models import SandboxCharge
from corporate_portal import services
from corporate_portal.models import ServiceOrder, ServiceOrderStatus
from corporate_portal.tasks import process_service_order
from subscriptions.models import Portal, Role
from tests.corporate_portal.test_portal import place, quote_for
from tests.factories import (
    MembershipFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    UserFactory,
    plan_with_prices,
)

pytestmark = pytest.mark.django_db

REFUSED = "cannot be the admin contact of your account"


@pytest.fixture
def corporate(account):
    account.portal, account.country, account.currency = Portal.CORPORATE, "US", "USD"
    account.save()
    return account


@pytest.fixture
def card(corporate):
    return PaymentMethodFactory(
        account=corporate, gateway_token="tok_sandbox_ok_corp", is_default=True
    )


@pytest.fixture
def webinar(corporate):
    plan = plan_with_prices(monthly="145.00", annual="1344.00", currency="USD")
    return SubscriptionFactory(account=corporate, plan=plan, seat_count=5)


@pytest.fixture
def staff(db):
    return UserFactory(email="ops@vendor.test", is_staff=True)


def test_a_staff_email_is_refused_as_admin_contact(corporate, card, webinar, staff):
    with pytest.raises(services.CorporateError, match=REFUSED):
        place(corporate, webinar, card, email="OPS@vendor.test")
    assert not ServiceOrder.objects.exists()


def test_an_email_of_someone_in_no_account_is_refused(corporate, card, webinar):
    UserFactory(email="loner@example.test")
    with pytest.raises(services.CorporateError, match=REFUSED):
        place(corporate, webinar, card, email="loner@example.test")


def test_the_payment_page_shows_the_refusal_on_the_email_field(
    client, corporate, card, webinar, billing_contact, staff
):
    client.force_login(billing_contact)
    quote = quote_for(corporate, webinar)
    data = {
        "admin_contact_name": "Ops",
        "admin_contact_email": staff.email,
        "payment_method": str(card.pk),
        "name": "Globex Corp",
        "address_line1": "1 Globex Plaza",
        "postal_code": "97477",
        "city": "Springfield",
        "country": "US",
    }
    response = client.post(reverse("corporate:payment", args=[quote.number]), data)
    assert response.status_code == 200
    assert REFUSED in response.content.decode()
    assert not ServiceOrder.objects.exists()


def test_the_worker_checks_the_admin_contact_before_it_charges(corporate, card, webinar):
    """Between saving and processing the address became staff's: fail, but charge nothing."""
    service_order = place(corporate, webinar, card, email="late@example.test")
    services.place_service_order(service_order=service_order, actor=None)
    UserFactory(email="late@example.test", is_staff=True)
    process_service_order.call(service_order.pk)
    service_order.refresh_from_db()
    assert service_order.status == ServiceOrderStatus.FAILED
    assert REFUSED in service_order.failure_reason
    assert not SandboxCharge.objects.exists()
    webinar.refresh_from_db()
    assert webinar.seat_count == 5


def test_a_member_of_the_account_can_still_be_made_admin_contact(corporate, card, webinar):
    member = MembershipFactory(account=corporate, role=Role.MEMBER).user
    service_order = place(corporate, webinar, card, email=member.email)
    services.place_service_order(service_order=service_order, actor=None)
    process_service_order.call(service_order.pk)
    service_order.refresh_from_db()
    assert service_order.status == ServiceOrderStatus.COMPLETED
    member.membership.refresh_from_db()
    assert member.membership.role == Role.ADMIN_CONTACT
    assert corporate.portal == Portal.CORPORATE
