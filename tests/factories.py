"""One factory per model (STYLE habit 8). Defaults make a consistent EUR account in France."""

from datetime import date
from decimal import Decimal

import factory
from moneyed import Money

from billing_center.models import AuditAction, AuditEvent, User
from catalog.models import BillingCycle, Plan, Price, Product, SeatNoun
from checkout.models import CardBrand, PaymentMethod
from subscriptions.models import (
    Account,
    Membership,
    Portal,
    Role,
    SeatAssignment,
    Subscription,
    SubscriptionStatus,
)
from subscriptions.periods import period_end


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n} SARL")
    currency = "EUR"
    country = "FR"
    language = "en"
    address_line1 = "1 rue de Rivoli"
    postal_code = "75001"
    city = "Paris"
    portal = Portal.BILLING_CENTER
    self_service_enabled = True


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    account = factory.SubFactory(AccountFactory)
    role = Role.MEMBER


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    seat_noun = SeatNoun.ORGANIZER
    trial_offered = True
    trial_days = 14
    supports_additional_seats = True


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Tier {n}")
    min_seats = 1
    max_seats = 100


class PriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Price

    plan = factory.SubFactory(PlanFactory)
    cycle = BillingCycle.ANNUAL
    amount = Money(Decimal("120.00"), "EUR")


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    account = factory.SubFactory(AccountFactory)
    plan = factory.SubFactory(PlanFactory)
    product = factory.LazyAttribute(lambda o: o.plan.product)
    cycle = BillingCycle.ANNUAL
    seat_count = 10
    unit_price = factory.LazyAttribute(lambda o: Money(Decimal("120.00"), o.account.currency))
    status = SubscriptionStatus.ACTIVE
    current_period_start = date(2026, 1, 1)
    current_period_end = factory.LazyAttribute(
        lambda o: period_end(o.current_period_start, o.cycle)
    )


class SeatAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SeatAssignment

    subscription = factory.SubFactory(SubscriptionFactory)
    user = factory.LazyAttribute(
        lambda o: MembershipFactory(account=o.subscription.account, role=Role.MEMBER).user
    )


class PaymentMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentMethod

    account = factory.SubFactory(AccountFactory)
    brand = CardBrand.VISA
    last4 = "4242"
    exp_month = 12
    exp_year = 2030
    cardholder_name = factory.Faker("name")
    gateway_token = factory.Sequence(lambda n: f"tok_test_{n}")
    is_default = False


class AuditEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEvent

    account = factory.SubFactory(AccountFactory)
    actor = None
    action = AuditAction.CHANGED
    object_type = "subscriptions.subscription"
    object_id = "1"
    object_repr = "Account · Product Tier"
    before = factory.LazyFunction(lambda: {"seat_count": 10})
    after = factory.LazyFunction(lambda: {"seat_count": 12})
