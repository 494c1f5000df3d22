"""Add New Subscription and the cart, by the STYLE checklist, with hostile input."""

import pytest
from django.core import mail
from django.urls import reverse

from cart.models import Cart, CartItem
from catalog.models import BillingCycle
from subscriptions.models import Subscription, SubscriptionStatus, Trial
from tests.factories import (
    CartItemFactory,
    SubscriptionFactory,
    TrialFactory,
    plan_with_prices,
)

pytestmark = pytest.mark.django_db

ADD = reverse("cart:add")
CART = reverse("cart:detail")


@pytest.fixture
def training():
    return plan_with_prices(
        monthly="119.00",
        annual="1140.00",
        product__name="GoTo Training",
        product__slug="goto-training",
        product__trial_days=7,
        name="Standard",
        max_seats=50,
    )


def configure_url(plan, mode="buy"):
    return reverse("cart:configure", args=[plan.product.slug, mode])


def cycle_url(plan, seats):
    return f"{reverse('cart:cycle', args=[plan.product.slug])}?plan={plan.pk}&seats={seats}"


def nothing_changed():
    return not CartItem.objects.exists() and not Subscription.objects.exists()


class TestProductList:
    def test_lists_products_the_account_can_add_with_prices_in_its_currency(
        self, contact_client, account, training
    ):
        owned = plan_with_prices(product__name="Already Mine")
        SubscriptionFactory(account=account, plan=owned)
        plan_with_prices(product__name="Only Dollars", currency="USD")
        plan_with_prices(product__name="Retired", product__is_active=False)
        html = contact_client.get(ADD).content.decode()
        assert "GoTo Training" in html
        assert "€119.00" in html
        assert "€1,140.00" in html
        assert "7-day free trial" in html
        for hidden in ("Already Mine", "Only Dollars", "Retired"):
            assert hidden not in html

    def test_a_product_in_trial_can_be_bought_but_not_tried_again(
        self, contact_client, account, training
    ):
        TrialFactory(account=account, product=training.product)
        SubscriptionFactory(
            account=account,
            plan=training,
            status=SubscriptionStatus.TRIALING,
            trial_end="2026-12-01",
        )
        html = contact_client.get(ADD).content.decode()
        assert "Buy GoTo Training" in html
        assert "Try GoTo Training" not in html

    def test_anonymous_goes_to_login_and_member_gets_403(self, client, member):
        assert client.get(ADD).url.startswith(reverse("login"))
        client.force_login(member)
        assert client.get(ADD).status_code == 403

    def test_post_is_405(self, contact_client):
        assert contact_client.post(ADD).status_code == 405


class TestConfigure:
    def test_next_goes_to_the_cycle_step(self, contact_client, training):
        response = contact_client.post(
            configure_url(training), {"plan": training.pk, "seat_count": "5"}
        )
        assert response.status_code == 302
        assert response.url == cycle_url(training, 5)

    def test_plus_and_minus_work_without_javascript(self, contact_client, training):
        response = contact_client.post(
            configure_url(training), {"plan": training.pk, "seat_count": "5", "adjust": "+1"}
        )
        assert response.status_code == 200
        assert 'value="6"' in response.content.decode()
        response = contact_client.post(
            configure_url(training), {"plan": training.pk, "seat_count": "1", "adjust": "-1"}
        )
        assert 'value="1"' in response.content.decode()

    @pytest.mark.parametrize(
        ("seats", "message"),
        [
            ("0", "Ensure this value is greater than or equal to 1."),
            ("-3", "Ensure this value is greater than or equal to 1."),
            ("51", "Choose between 1 and 50 seats for Standard."),
            ("abc", "Enter a whole number of seats."),
            ("1.5", "Enter a whole number of seats."),
            ("100000000000000000000", "Ensure this value is less than or equal to 100000."),
            ("", "Enter a number of seats."),
        ],
    )
    def test_bad_seat_counts_get_a_clear_message(self, contact_client, training, seats, message):
        response = contact_client.post(
            configure_url(training), {"plan": training.pk, "seat_count": seats}
        )
        assert response.status_code == 200
        assert message in response.content.decode()
        assert nothing_changed()

    def test_a_plan_of_another_product_is_refused(self, contact_client, training):
        other = plan_with_prices(product__name="Other")
        response = contact_client.post(
            configure_url(training), {"plan": other.pk, "seat_count": "2"}
        )
        assert "Choose one of the plans shown." in response.content.decode()

    def test_an_inactive_product_is_404(self, contact_client):
        plan = plan_with_prices(product__is_active=False)
        assert contact_client.get(configure_url(plan)).status_code == 404

    def test_an_unknown_mode_is_404(self, contact_client, training):
        assert contact_client.get(configure_url(training, "steal")).status_code == 404

    def test_member_gets_403(self, client, member, training):
        client.force_login(member)
        assert client.get(configure_url(training)).status_code == 403

    def test_put_is_405(self, contact_client, training):
        assert contact_client.put(configure_url(training)).status_code == 405


class TestChooseCycle:
    def test_shows_both_prices_and_the_annual_saving(self, contact_client, training):
        html = contact_client.get(cycle_url(training, 5)).content.decode()
        assert "€595.00 excl. VAT per month" in html
        assert "€5,700.00 excl. VAT per year" in html
        assert "You save €1,440.00 a year" in html  # (12 × 119 − 1140) × 5
        assert ">Checkout<" in html

    def test_checkout_with_an_empty_cart(self, contact_client, training):
        response = contact_client.post(cycle_url(training, 5), {"cycle": "annual"})
        assert response.url == reverse("checkout:checkout")
        item = CartItem.objects.get()
        assert (item.plan, item.cycle, item.seat_count) == (training, BillingCycle.ANNUAL, 5)

    def test_add_to_cart_when_the_cart_holds_items(
        self, contact_client, billing_contact, account, training
    ):
        CartItemFactory(cart=Cart.objects.create(owner=billing_contact, account=account))
        assert ">Add to Cart<" in contact_client.get(cycle_url(training, 5)).content.decode()
        response = contact_client.post(cycle_url(training, 5), {"cycle": "monthly"})
        assert response.url == CART
        assert CartItem.objects.count() == 2

    def test_a_tampered_address_is_sent_back_to_the_start(self, contact_client, training):
        for query in (
            "?plan=999999&seats=5",
            f"?plan={training.pk}&seats=0",
            f"?plan={training.pk}&seats=x",
        ):
            url = reverse("cart:cycle", args=[training.product.slug]) + query
            response = contact_client.post(url, {"cycle": "annual"})
            assert response.status_code == 302
            assert "/buy/" in response.url
        assert nothing_changed()

    def test_an_unknown_cycle_is_refused(self, contact_client, training):
        response = contact_client.post(cycle_url(training, 5), {"cycle": "weekly"})
        assert "Choose Monthly or Annual." in response.content.decode()
        assert nothing_changed()

    def test_a_posted_price_or_currency_is_ignored(self, contact_client, training):
        contact_client.post(
            cycle_url(training, 5),
            {"cycle": "annual", "unit_price": "0.01", "currency": "USD", "amount": "1"},
        )
        from checkout.billing import BillingDetails
        from checkout.placement import preview_order

        cart = Cart.objects.get()
        pricing = preview_order(cart=cart, billing=BillingDetails.of_account(cart.account))
        assert (
            str(pricing.subtotal) in {"€5,700.00", "5700.00 EUR"} or pricing.subtotal.amount == 5700
        )

    def test_a_product_already_owned_is_refused(self, contact_client, account, training):
        SubscriptionFactory(account=account, plan=training)
        response = contact_client.post(cycle_url(training, 5), {"cycle": "annual"}, follow=True)
        assert "Your account already has GoTo Training." in response.content.decode()
        assert not CartItem.objects.exists()


class TestTrial:
    def start_url(self, plan, seats=3):
        return (
            f"{reverse('cart:start_trial', args=[plan.product.slug])}?plan={plan.pk}&seats={seats}"
        )

    def test_start_a_trial(
        self, contact_client, account, billing_contact, training, django_capture_on_commit_callbacks
    ):
        assert "Start Trial" in contact_client.get(self.start_url(training)).content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            response = contact_client.post(self.start_url(training))
        subscription = Subscription.objects.get()
        assert response.url == reverse("subscriptions:trial_started", args=[subscription.pk])
        assert subscription.status == SubscriptionStatus.TRIALING
        assert subscription.seat_count == 3
        assert (subscription.trial_end - subscription.current_period_start).days == 7
        (email,) = mail.outbox
        assert email.to == [billing_contact.email]
        assert "GoTo Training" in email.body
        assert "3 organizers" in email.body
        page = contact_client.get(response.url).content.decode()
        assert "Your free trial of GoTo Training Standard has started." in page

    def test_a_second_trial_is_refused(self, contact_client, account, training):
        TrialFactory(account=account, product=training.product)
        response = contact_client.post(self.start_url(training), follow=True)
        assert "already had a free trial of GoTo Training" in response.content.decode()
        assert not Subscription.objects.exists()
        response = contact_client.get(configure_url(training, "try"), follow=True)
        assert "already had a free trial" in response.content.decode()

    def test_a_product_without_trial_cannot_be_tried(self, contact_client):
        plan = plan_with_prices(product__trial_offered=False, product__trial_days=None)
        response = contact_client.post(self.start_url(plan), follow=True)
        assert not Subscription.objects.exists()
        assert response.status_code == 200

    def test_trial_record_is_kept(self, contact_client, training):
        contact_client.post(self.start_url(training))
        assert Trial.objects.filter(product=training.product).count() == 1


class TestCart:
    @pytest.fixture
    def item(self, billing_contact, account, training):
        cart = Cart.objects.create(owner=billing_contact, account=account)
        return CartItemFactory(cart=cart, plan=training, product=training.product, seat_count=5)

    def test_lists_items_with_period_seats_and_price(self, contact_client, item):
        html = contact_client.get(CART).content.decode()
        assert "GoTo Training" in html
        assert "5 organizers" in html
        assert "€1,140.00" in html  # a seat a year
        assert "€5,700.00" in html
        # A year from today (the frozen clock).
        assert "22 November 2026 to 22 November 2027" in html

    def test_change_seats_and_cycle(self, contact_client, item, training):
        prefix = f"item-{item.pk}"
        response = contact_client.post(
            reverse("cart:update_item", args=[item.pk]),
            {
                f"{prefix}-plan": training.pk,
                f"{prefix}-cycle": "monthly",
                f"{prefix}-seat_count": "7",
            },
        )
        assert response.url == CART
        item.refresh_from_db()
        assert (item.cycle, item.seat_count) == ("monthly", 7)

    @pytest.mark.parametrize("seats", ["0", "-1", "51", "x", "100000000000000000000"])
    def test_bad_changes_change_nothing(self, contact_client, item, training, seats):
        prefix = f"item-{item.pk}"
        version = item.cart.version
        response = contact_client.post(
            reverse("cart:update_item", args=[item.pk]),
            {
                f"{prefix}-plan": training.pk,
                f"{prefix}-cycle": "annual",
                f"{prefix}-seat_count": seats,
            },
            follow=True,
        )
        assert response.status_code == 200
        assert 'class="message message--error"' in response.content.decode()
        item.refresh_from_db()
        item.cart.refresh_from_db()
        assert item.seat_count == 5
        assert item.cart.version == version

    def test_remove(self, contact_client, item):
        response = contact_client.post(reverse("cart:remove_item", args=[item.pk]))
        assert response.url == CART
        assert not CartItem.objects.exists()

    def test_an_outsider_cannot_touch_the_item(self, client, outsider, item):
        client.force_login(outsider)
        assert client.post(reverse("cart:remove_item", args=[item.pk])).status_code == 404
        assert client.post(reverse("cart:update_item", args=[item.pk])).status_code == 404
        assert CartItem.objects.filter(pk=item.pk).exists()

    def test_remove_is_post_only(self, contact_client, item):
        assert contact_client.get(reverse("cart:remove_item", args=[item.pk])).status_code == 405

    def test_member_gets_403(self, client, member):
        client.force_login(member)
        assert client.get(CART).status_code == 403

    def test_empty_cart(self, contact_client):
        assert "Your cart is empty." in contact_client.get(CART).content.decode()
