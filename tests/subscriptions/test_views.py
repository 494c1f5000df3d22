"""The STYLE checklist for the subscription pages: works, member 403, outsider 404, anonymous to
login, wrong method 405, and the dashboard's query count pinned."""

from datetime import date

import pytest
from django.urls import reverse
from moneyed import Money

from catalog.models import BillingCycle, SeatNoun
from subscriptions.models import SubscriptionStatus
from tests.factories import (
    PlanFactory,
    ProductFactory,
    SeatAssignmentFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("subscriptions:dashboard")


@pytest.fixture
def subscription(account):
    product = ProductFactory(name="GoTo Meeting", seat_noun=SeatNoun.ORGANIZER)
    subscription = SubscriptionFactory(
        account=account,
        plan=PlanFactory(product=product, name="Business"),
        cycle=BillingCycle.ANNUAL,
        seat_count=10,
        unit_price=Money("123.45", "EUR"),
        current_period_start=date(2026, 8, 24),
    )
    for _ in range(4):
        SeatAssignmentFactory(subscription=subscription)
    return subscription


def detail_url(subscription):
    return reverse("subscriptions:subscription_detail", args=[subscription.pk])


class TestDashboard:
    def test_lists_the_accounts_subscriptions(self, contact_client, subscription):
        response = contact_client.get(DASHBOARD)
        assert response.status_code == 200
        html = response.content.decode()
        assert "GoTo Meeting" in html
        assert "Business" in html
        assert "Annual" in html
        assert "4 / 10" in html
        assert "Active" in html
        assert "24 August 2027" in html  # next billing date
        assert "€1,234.50 excl. VAT per year" in html  # 10 × €123.45

    def test_shows_only_live_subscriptions_of_the_own_account(
        self, contact_client, subscription, outsider
    ):
        SubscriptionFactory(account=outsider.membership.account, plan__product__name="Not Mine")
        SubscriptionFactory(
            account=subscription.account,
            plan__product__name="Old Product",
            status=SubscriptionStatus.CANCELED,
        )
        html = contact_client.get(DASHBOARD).content.decode()
        assert "Not Mine" not in html
        live, ended = html.split("data-ended")
        assert "Old Product" not in live  # not among the live ones…
        assert "Old Product" in ended  # …but in the Ended section, with Buy again

    def test_in_french_money_and_dates_are_french(
        self, contact_client, billing_contact, subscription
    ):
        billing_contact.language = "fr"
        billing_contact.save()
        html = contact_client.get(DASHBOARD).content.decode()
        assert "1\u202f234,50\xa0€" in html
        assert "24 août 2027" in html
        assert "Abonnements" in html
        assert "Annuel" in html
        assert "Centre de facturation" in html

    def test_empty_account(self, contact_client):
        response = contact_client.get(DASHBOARD)
        assert "Your account has no subscription yet." in response.content.decode()

    def test_anonymous_goes_to_login(self, client):
        response = client.get(DASHBOARD)
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={DASHBOARD}"

    def test_member_gets_403(self, client, member):
        client.force_login(member)
        response = client.get(DASHBOARD)
        assert response.status_code == 403
        assert "No billing access" in response.content.decode()

    def test_staff_without_membership_gets_403(self, client, admin_user):
        client.force_login(admin_user)
        assert client.get(DASHBOARD).status_code == 403

    def test_post_is_405(self, contact_client):
        assert contact_client.post(DASHBOARD).status_code == 405

    def test_corporate_account_header_names_its_portal(self, contact_client, account):
        account.portal = "corporate"
        account.save()
        # The dashboard is the Billing Center's: a corporate account is sent to its own portal.
        html = contact_client.get(DASHBOARD, follow=True).content.decode()
        assert "Corporate Billing Portal" in html

    def test_query_count_does_not_grow_with_subscriptions(self, client, billing_contact, account):
        client.force_login(billing_contact)

        def queries_for_dashboard():
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as captured:
                assert client.get(DASHBOARD).status_code == 200
            return len(captured)

        SubscriptionFactory(account=account)
        with_one = queries_for_dashboard()
        for _ in range(49):
            subscription = SubscriptionFactory(account=account)
            SeatAssignmentFactory(subscription=subscription)
        # 1 session, 2 user with membership and account, 3 the open invoices (past-due banner),
        # 4 subscriptions with product, plan and assigned count, 5 the ended ones, 6 the cart's
        # item count, 7 whether it has quotes (navigation) and 8 the VAT rate of the next charges.
        assert queries_for_dashboard() == with_one == 8


class TestSubscriptionDetail:
    def test_shows_the_subscription_and_who_holds_its_seats(self, contact_client, subscription):
        holder = subscription.seat_assignments.first().user
        response = contact_client.get(detail_url(subscription))
        assert response.status_code == 200
        html = response.content.decode()
        assert "GoTo Meeting" in html
        assert "10 organizers" in html
        assert "6 of 10 seats are free." in html
        assert holder.email in html

    def test_outsider_gets_404(self, client, outsider, subscription):
        client.force_login(outsider)
        response = client.get(detail_url(subscription))
        assert response.status_code == 404

    def test_unknown_id_is_404(self, contact_client):
        assert contact_client.get("/billing/subscriptions/999999/").status_code == 404

    def test_member_gets_403(self, client, member, subscription):
        client.force_login(member)
        assert client.get(detail_url(subscription)).status_code == 403

    def test_anonymous_goes_to_login(self, client, subscription):
        response = client.get(detail_url(subscription))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))

    def test_post_is_405(self, contact_client, subscription):
        assert contact_client.post(detail_url(subscription)).status_code == 405

    def test_query_count(self, contact_client, subscription, django_assert_num_queries):
        # session, user with membership + account, subscription + product + plan, assignments +
        # users, cart item count and whether the account has quotes (navigation), the VAT rate
        # of the next charge
        with django_assert_num_queries(7):
            contact_client.get(detail_url(subscription))


class TestCancellationReason:
    """Cancel subscription asks why (optional); staff read the answer in the admin."""

    @pytest.fixture
    def subscription(self, account):
        from tests.factories import SubscriptionFactory

        return SubscriptionFactory(account=account)

    def test_the_reason_and_comment_are_kept(self, contact_client, subscription):
        url = reverse("subscriptions:cancel", args=[subscription.pk])
        page = contact_client.get(url).content.decode()
        assert "Too expensive" in page
        assert "Switching to another product" in page
        response = contact_client.post(
            url, {"reason": "too_expensive", "comment": "  Our budget was cut.  "}
        )
        assert response.status_code == 302
        subscription.refresh_from_db()
        assert subscription.cancel_at_period_end
        assert (subscription.cancel_reason, subscription.cancel_reason_text) == (
            "too_expensive",
            "Our budget was cut.",
        )

    def test_no_reason_is_fine(self, contact_client, subscription):
        contact_client.post(reverse("subscriptions:cancel", args=[subscription.pk]), {})
        subscription.refresh_from_db()
        assert subscription.cancel_at_period_end
        assert subscription.cancel_reason == ""

    def test_a_made_up_reason_is_refused_and_changes_nothing(self, contact_client, subscription):
        response = contact_client.post(
            reverse("subscriptions:cancel", args=[subscription.pk]), {"reason": "hacked"}
        )
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
        subscription.refresh_from_db()
        assert not subscription.cancel_at_period_end

    def test_staff_see_it_and_can_filter_by_it(self, admin_client, subscription):
        subscription.cancel_reason = "not_used"
        subscription.cancel_reason_text = "Nobody logged in"
        subscription.save()
        page = admin_client.get(
            reverse("admin:subscriptions_subscription_change", args=[subscription.pk])
        ).content.decode()
        assert "Not used enough" in page
        assert "Nobody logged in" in page
        listing = admin_client.get(
            reverse("admin:subscriptions_subscription_changelist"), {"cancel_reason": "not_used"}
        )
        assert listing.status_code == 200


class TestEndedSection:
    """Ended subscriptions and expired trials stay on the dashboard with Buy again (issue 18),
    unless the account has the product again."""

    def test_an_expired_trial_and_a_canceled_subscription_are_listed_with_buy_again(
        self, contact_client, account
    ):
        from tests.factories import SubscriptionFactory

        trial = SubscriptionFactory(
            account=account,
            status=SubscriptionStatus.EXPIRED,
            trial_end=date(2026, 10, 1),
        )
        canceled = SubscriptionFactory(account=account, status=SubscriptionStatus.CANCELED)
        page = contact_client.get(reverse("subscriptions:dashboard")).content.decode()
        ended = page[page.index("data-ended") :]
        assert trial.product.name in ended
        assert canceled.product.name in ended
        assert reverse("cart:configure", args=[trial.product.slug, "buy"]) in ended
        assert "Trial ended on" in ended

    def test_a_product_bought_again_is_not_listed_as_ended(self, contact_client, account):
        from tests.factories import SubscriptionFactory

        old = SubscriptionFactory(account=account, status=SubscriptionStatus.CANCELED)
        SubscriptionFactory(account=account, product=old.product, plan=old.plan)
        page = contact_client.get(reverse("subscriptions:dashboard")).content.decode()
        assert "data-ended" not in page
