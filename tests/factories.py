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


def plan_with_prices(*, monthly="14.00", annual="144.00", currency="EUR", **plan_fields):
    """A plan sold monthly and yearly in one currency (prices per seat)."""
    plan = PlanFactory(**plan_fields)
    PriceFactory(plan=plan, cycle=BillingCycle.MONTHLY, amount=Money(Decimal(monthly), currency))
    PriceFactory(plan=plan, cycle=BillingCycle.ANNUAL, amount=Money(Decimal(annual), currency))
    return plan


class CartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cart.Cart"

    account = factory.SubFactory(AccountFactory)
    owner = factory.LazyAttribute(
        lambda o: MembershipFactory(account=o.account, role=Role.BILLING_CONTACT).user
    )


class CartItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cart.CartItem"

    cart = factory.SubFactory(CartFactory)
    plan = factory.LazyFunction(plan_with_prices)
    product = factory.LazyAttribute(lambda o: o.plan.product)
    cycle = BillingCycle.ANNUAL
    seat_count = 5


class TrialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "subscriptions.Trial"

    account = factory.SubFactory(AccountFactory)
    product = factory.SubFactory(ProductFactory)
    started_on = date(2026, 1, 1)
    ends_on = date(2026, 1, 15)


class CreditEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "subscriptions.CreditEntry"

    account = factory.SubFactory(AccountFactory)
    amount = Money(Decimal("10.00"), "EUR")
    kind = "other"
    description = "Credit"


class VatRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "checkout.VatRate"
        django_get_or_create = ("country",)

    country = "FR"
    rate = Decimal("20.00")


class SandboxChargeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sandbox_gateway.SandboxCharge"

    idempotency_key = factory.Sequence(lambda n: f"key-{n}")
    token = "tok_sandbox_ok_test"
    amount = Money(Decimal("10.00"), "EUR")
    status = "succeeded"
    succeeded = True
    reference = factory.Sequence(lambda n: f"ch_test_{n}")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "checkout.Order"

    number = factory.Sequence(lambda n: f"ORD-TEST-{n:06d}")
    idempotency_key = factory.Sequence(lambda n: f"order-key-{n}")
    account = factory.SubFactory(AccountFactory)
    subtotal = Money(Decimal("100.00"), "EUR")
    tax_rate = Decimal("20.00")
    tax_treatment = "standard"
    tax_country = "FR"
    tax = Money(Decimal("20.00"), "EUR")
    total = Money(Decimal("120.00"), "EUR")
    credit_applied = Money(Decimal("0.00"), "EUR")
    amount_charged = Money(Decimal("120.00"), "EUR")


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "checkout.OrderLine"

    order = factory.SubFactory(OrderFactory)
    subscription = factory.LazyAttribute(lambda o: SubscriptionFactory(account=o.order.account))
    kind = "new_subscription"
    product = factory.LazyAttribute(lambda o: o.subscription.product)
    product_name = factory.LazyAttribute(lambda o: o.subscription.product.name)
    plan_name = factory.LazyAttribute(lambda o: o.subscription.plan.name)
    cycle = BillingCycle.ANNUAL
    seat_count = 10
    unit_price = Money(Decimal("10.00"), "EUR")
    period_start = date(2026, 1, 1)
    period_end = date(2027, 1, 1)
    amount = Money(Decimal("100.00"), "EUR")


class NumberSequenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "billing_center.NumberSequence"
        django_get_or_create = ("series", "year")

    series = "INV"
    year = 2026
    last_number = 0


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "checkout.Invoice"

    order = factory.SubFactory(OrderFactory)
    account = factory.LazyAttribute(lambda o: o.order.account)
    year = 2026
    sequence = factory.Sequence(lambda n: n + 1)
    number = factory.LazyAttribute(lambda o: f"INV-{o.year}-{o.sequence:06d}")
    language = "en"
    seller_name = "GoTo Software Ireland Ltd"
    seller_address = "Dublin"
    seller_country = "IE"
    seller_vat_number = "IE6388047V"
    buyer_name = factory.LazyAttribute(lambda o: o.account.name)
    buyer_address = "1 rue de Rivoli\n75001 Paris\nFrance"
    buyer_country = "FR"


class QuoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "corporate_portal.Quote"

    number = factory.Sequence(lambda n: f"Q-2026-{n + 1:06d}")
    account = factory.SubFactory(AccountFactory)
    valid_until = date(2026, 12, 22)
    subtotal = Money(Decimal("100.00"), "EUR")
    tax_rate = Decimal("20.00")
    tax_treatment = "standard"
    tax = Money(Decimal("20.00"), "EUR")
    total = Money(Decimal("120.00"), "EUR")


class QuoteLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "corporate_portal.QuoteLine"

    quote = factory.SubFactory(QuoteFactory)
    subscription = factory.LazyAttribute(lambda o: SubscriptionFactory(account=o.quote.account))
    product = factory.LazyAttribute(lambda o: o.subscription.product)
    added_seats = 2
    unit_price = Money(Decimal("120.00"), "EUR")
    period_start = date(2026, 11, 22)
    period_end = date(2027, 1, 1)
    amount = Money(Decimal("100.00"), "EUR")


class ServiceOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "corporate_portal.ServiceOrder"

    quote = factory.SubFactory(QuoteFactory)
    account = factory.LazyAttribute(lambda o: o.quote.account)
    admin_contact_name = "Ada Admin"
    admin_contact_email = factory.Sequence(lambda n: f"admin{n}@example.test")
    payment_method = factory.LazyAttribute(lambda o: PaymentMethodFactory(account=o.account))
    billing_name = factory.LazyAttribute(lambda o: o.account.name)
    address_line1 = "1 rue de Rivoli"
    postal_code = "75001"
    city = "Paris"
    country = "FR"
    subtotal = factory.LazyAttribute(lambda o: o.quote.subtotal)
    tax_country = "FR"
    tax_rate = factory.LazyAttribute(lambda o: o.quote.tax_rate)
    tax_treatment = factory.LazyAttribute(lambda o: o.quote.tax_treatment)
    tax = factory.LazyAttribute(lambda o: o.quote.tax)
    total = factory.LazyAttribute(lambda o: o.quote.total)


class PaymentAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "checkout.PaymentAttempt"

    account = factory.SubFactory(AccountFactory)
    purpose = "checkout"
    cart = factory.SubFactory(
        "tests.factories.CartFactory", account=factory.SelfAttribute("..account")
    )
    cart_version = 1
    reference = factory.LazyAttribute(lambda o: f"cart-{o.cart.pk}-v{o.cart_version}")
    idempotency_key = factory.LazyAttribute(lambda o: o.reference)
    amount = Money(Decimal("120.00"), "EUR")
    card_token = "tok_sandbox_ok_test"
