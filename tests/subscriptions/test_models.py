from datetime import date
from decimal import Decimal

import pytest
from django.db import DataError, IntegrityError, transaction
from moneyed import Money

from checkout.models import PaymentMethod
from subscriptions.models import Account, Role, SubscriptionStatus
from tests.factories import (
    AccountFactory,
    MembershipFactory,
    PaymentMethodFactory,
    SeatAssignmentFactory,
    SubscriptionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_one_live_subscription_per_product_and_account():
    subscription = SubscriptionFactory()
    with pytest.raises(IntegrityError):
        SubscriptionFactory(account=subscription.account, plan=subscription.plan)


@pytest.mark.parametrize("status", [SubscriptionStatus.CANCELED, SubscriptionStatus.EXPIRED])
def test_an_ended_subscription_does_not_block_a_new_one(status):
    ended = SubscriptionFactory(status=status)
    SubscriptionFactory(account=ended.account, plan=ended.plan)  # no error


def test_a_trial_and_an_active_subscription_of_one_product_cannot_coexist():
    trial = SubscriptionFactory(status=SubscriptionStatus.TRIALING, trial_end=date(2026, 1, 15))
    with pytest.raises(IntegrityError):
        SubscriptionFactory(
            account=trial.account, plan=trial.plan, status=SubscriptionStatus.ACTIVE
        )


def test_seats_must_be_at_least_one():
    with pytest.raises(IntegrityError):
        SubscriptionFactory(seat_count=0)


def test_period_must_end_after_it_starts():
    with pytest.raises(IntegrityError):
        SubscriptionFactory(
            current_period_start=date(2026, 3, 1), current_period_end=date(2026, 3, 1)
        )


def test_a_trial_needs_its_end_date():
    with pytest.raises(IntegrityError):
        SubscriptionFactory(status=SubscriptionStatus.TRIALING, trial_end=None)


def test_unit_price_must_be_positive():
    with pytest.raises(IntegrityError):
        SubscriptionFactory(unit_price=Money(Decimal("0"), "EUR"))


def test_unknown_status_is_refused():
    with pytest.raises(IntegrityError):
        SubscriptionFactory(status="paused")


def test_a_user_holds_one_seat_per_subscription():
    assignment = SeatAssignmentFactory()
    with pytest.raises(IntegrityError):
        SeatAssignmentFactory(subscription=assignment.subscription, user=assignment.user)


def test_a_user_belongs_to_one_account_only():
    membership = MembershipFactory()
    with pytest.raises(IntegrityError):
        MembershipFactory(user=membership.user)


def test_unknown_role_is_refused():
    with pytest.raises(IntegrityError):
        MembershipFactory(role="owner")


def test_one_default_payment_method_per_account():
    card = PaymentMethodFactory(is_default=True)
    PaymentMethodFactory(account=card.account, is_default=False)
    PaymentMethodFactory(is_default=True)  # another account: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentMethodFactory(account=card.account, is_default=True)
    assert PaymentMethod.objects.filter(account=card.account, is_default=True).count() == 1


@pytest.mark.parametrize("last4", ["424", "42a2", "42424"])
def test_only_four_digits_are_kept_of_a_card(last4):
    # Five digits overflow the column itself on PostgreSQL (DataError) before the check runs.
    with pytest.raises((IntegrityError, DataError)):
        PaymentMethodFactory(last4=last4)


@pytest.mark.parametrize(("month", "year"), [(0, 2030), (13, 2030), (12, 1999)])
def test_card_expiry_must_be_a_real_month(month, year):
    with pytest.raises(IntegrityError):
        PaymentMethodFactory(exp_month=month, exp_year=year)


def test_credit_balance_cannot_go_negative():
    account = AccountFactory()
    with pytest.raises(IntegrityError):
        Account.objects.filter(pk=account.pk).update(credit_balance_amount=Decimal("-0.01"))


def test_credit_balance_is_money_in_the_account_currency():
    account = AccountFactory(currency="GBP", credit_balance_amount=Decimal("12.50"))
    assert account.credit_balance == Money("12.50", "GBP")


def test_unsupported_account_currency_is_refused():
    with pytest.raises(IntegrityError):
        AccountFactory(currency="CHF")


def test_emails_are_unique_whatever_their_case():
    UserFactory(email="Someone@Example.test")
    with pytest.raises(IntegrityError):
        UserFactory(email="someone@example.test")


def test_email_login_ignores_case():
    from billing_center.models import User

    user = User.objects.create_user("Claire@Example.TEST", "pw-12345678")
    assert user.email == "claire@example.test"
    assert User.objects.get_by_natural_key("CLAIRE@example.test") == user


def test_period_price_is_seats_times_price_per_seat():
    subscription = SubscriptionFactory(seat_count=12, unit_price=Money("120.00", "EUR"))
    assert subscription.period_price == Money("1440.00", "EUR")


def test_billing_contact_role():
    membership = MembershipFactory(role=Role.BILLING_CONTACT)
    assert membership.is_billing_contact
