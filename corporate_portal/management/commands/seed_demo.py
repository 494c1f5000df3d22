"""Loads the demo of SPEC "Demo data". Idempotent: a second run changes nothing.

It lives in the top layer (corporate_portal) because it seeds every app, down to the catalog.

The catalog is brought to the values below on every run; accounts, logins, subscriptions and
cards are created only when missing, so a demo someone has been clicking through is not reset.
"""

from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from moneyed import Money

from billing_center.models import User
from catalog.models import BillingCycle, Plan, Price, Product, SeatNoun
from checkout.models import CardBrand, PaymentMethod
from checkout.payments.gateway import get_gateway
from corporate_portal.models import Quote
from corporate_portal.services import SeatRequest, create_quote
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

DEMO_PASSWORD = "demo-pass-2026"

# name, slug, seat noun, trial days (None: no trial), supports additional seats, plans.
# A plan: name, min seats, max seats, {currency: (monthly per seat, annual per seat)}.
CATALOG = [
    (
        "GoTo Meeting",
        "goto-meeting",
        SeatNoun.ORGANIZER,
        14,
        True,
        [
            (
                "Professional",
                1,
                250,
                {"EUR": ("14", "144"), "USD": ("16", "168"), "GBP": ("12", "120")},
            ),
            (
                "Business",
                1,
                250,
                {"EUR": ("19", "192"), "USD": ("22", "228"), "GBP": ("16", "168")},
            ),
        ],
    ),
    (
        "GoTo Webinar",
        "goto-webinar",
        SeatNoun.ORGANIZER,
        7,
        True,
        [
            ("Lite", 1, 50, {"EUR": ("59", "588"), "USD": ("65", "648"), "GBP": ("50", "492")}),
            (
                "Standard",
                1,
                50,
                {"EUR": ("129", "1188"), "USD": ("145", "1344"), "GBP": ("110", "1020")},
            ),
            (
                "Pro",
                1,
                50,
                {"EUR": ("249", "2388"), "USD": ("279", "2688"), "GBP": ("215", "2052")},
            ),
        ],
    ),
    (
        "GoTo Training",
        "goto-training",
        SeatNoun.ORGANIZER,
        7,
        True,
        [
            (
                "Standard",
                1,
                50,
                {"EUR": ("119", "1140"), "USD": ("135", "1284"), "GBP": ("102", "972")},
            ),
        ],
    ),
    (
        "GoToAssist v4",
        "gotoassist-v4",
        SeatNoun.EXPERT,
        None,
        True,
        [
            (
                "Standard",
                1,
                100,
                {"EUR": ("49", "468"), "USD": ("55", "528"), "GBP": ("42", "396")},
            ),
        ],
    ),
    (
        "GoToAssist Remote Support v5",
        "gotoassist-remote-support-v5",
        SeatNoun.AGENT,
        14,
        True,
        [
            ("Basic", 1, 500, {"EUR": ("44", "420"), "USD": ("49", "468"), "GBP": ("38", "360")}),
            (
                "Standard",
                1,
                500,
                {"EUR": ("62", "600"), "USD": ("69", "672"), "GBP": ("53", "516")},
            ),
            ("Premium", 1, 500, {"EUR": ("89", "852"), "USD": ("99", "948"), "GBP": ("76", "732")}),
        ],
    ),
    (
        "RescueAssist",
        "rescueassist",
        SeatNoun.AGENT,
        14,
        False,
        [
            (
                "Standard",
                1,
                100,
                {"EUR": ("99", "948"), "USD": ("109", "1068"), "GBP": ("85", "816")},
            ),
            (
                "Premium",
                1,
                100,
                {"EUR": ("139", "1332"), "USD": ("155", "1488"), "GBP": ("119", "1140")},
            ),
        ],
    ),
]

ACCOUNTS = [
    {
        "name": "Acme SARL",
        "currency": "EUR",
        "country": "FR",
        "language": "fr",
        "address_line1": "12 rue de la Paix",
        "postal_code": "75002",
        "city": "Paris",
        "portal": Portal.BILLING_CENTER,
        "self_service_enabled": True,
        "contact": ("billing@acme.test", "Camille Laurent"),
        "members": [
            ("julien.moreau@acme.test", "Julien Moreau"),
            ("lea.bernard@acme.test", "Léa Bernard"),
            ("hugo.petit@acme.test", "Hugo Petit"),
            ("chloe.durand@acme.test", "Chloé Durand"),
        ],
        # product slug, plan, cycle, seats, days since the period began, members assigned
        "subscriptions": [("goto-meeting", "Business", BillingCycle.ANNUAL, 10, 90, 4)],
        "card": ("Camille Laurent", "acme"),
    },
    {
        "name": "Globex Corp",
        "currency": "USD",
        "country": "US",
        "language": "en",
        "address_line1": "1 Globex Plaza",
        "postal_code": "97477",
        "city": "Springfield",
        "region": "OR",
        "portal": Portal.CORPORATE,
        "self_service_enabled": True,
        "contact": ("billing@globex.test", "Dana Whitfield"),
        "members": [],
        "subscriptions": [
            ("gotoassist-remote-support-v5", "Standard", BillingCycle.MONTHLY, 25, 10, 0),
            ("goto-webinar", "Standard", BillingCycle.ANNUAL, 5, 120, 0),
            ("rescueassist", "Standard", BillingCycle.ANNUAL, 3, 200, 0),
        ],
        "card": ("Dana Whitfield", "globex"),
    },
]

LOGINS = [
    ("billing@acme.test", "billing contact of Acme SARL (Billing Center, French, EUR)"),
    ("billing@globex.test", "billing contact of Globex Corp (Corporate Billing Portal, USD)"),
    ("admin@vendor.test", "vendor staff, Django admin at /admin/"),
    ("julien.moreau@acme.test", "a member of Acme holding a seat: no billing access"),
]

# What the sandbox processor's test cards do (SPEC "Payments"), printed with the logins.
TEST_CARDS = [
    ("4242 4242 4242 4242", "succeeds"),
    ("4000 0000 0000 0002", "declined"),
    ("4000 0000 0000 0341", "saved fine, every charge declined (dunning)"),
    ("4000 0025 0000 3155", "bank confirms on-session; renews off-session once saved so"),
    ("4000 0027 6000 3184", "bank confirms every charge (renewals leave an open invoice)"),
    ("4000 0000 0000 3220", "bank confirms on-session only"),
]


class Command(BaseCommand):
    help = "Load the demo catalog, accounts and logins (safe to run again: changes nothing)."

    @transaction.atomic
    def handle(self, *args, **options):
        self.seed_catalog()
        self.seed_staff()
        for spec in ACCOUNTS:
            self.seed_account(spec)
        self.seed_globex_quote()
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready. Logins (password {DEMO_PASSWORD}):")
        )
        for email, who in LOGINS:
            self.stdout.write(f"  {email:<28} {who}")
        self.stdout.write("Test cards (any future expiry, any CVC; README has the full list):")
        for number, what in TEST_CARDS:
            self.stdout.write(f"  {number:<22} {what}")

    def seed_catalog(self):
        for position, (name, slug, noun, trial_days, more_seats, plans) in enumerate(CATALOG):
            product, _ = Product.objects.update_or_create(
                slug=slug,
                defaults={
                    "name": name,
                    "seat_noun": noun,
                    "trial_offered": trial_days is not None,
                    "trial_days": trial_days,
                    "supports_additional_seats": more_seats,
                    "is_active": True,
                    "position": position,
                },
            )
            for plan_position, (plan_name, min_seats, max_seats, prices) in enumerate(plans):
                plan, _ = Plan.objects.update_or_create(
                    product=product,
                    name=plan_name,
                    defaults={
                        "min_seats": min_seats,
                        "max_seats": max_seats,
                        "is_active": True,
                        "position": plan_position,
                    },
                )
                for currency, (monthly, annual) in prices.items():
                    for cycle, amount in (
                        (BillingCycle.MONTHLY, monthly),
                        (BillingCycle.ANNUAL, annual),
                    ):
                        Price.objects.update_or_create(
                            plan=plan,
                            cycle=cycle,
                            amount_currency=currency,
                            defaults={"amount": Money(Decimal(amount), currency)},
                        )

    def seed_globex_quote(self):
        """Globex's open quote for 2 more GoTo Webinar organizers (SPEC "Demo data")."""
        globex = Account.objects.get(name="Globex Corp")
        if Quote.objects.filter(account=globex).exists():
            return
        webinar = Subscription.objects.get(account=globex, product__slug="goto-webinar")
        contact = User.objects.get(email="billing@globex.test")
        create_quote(
            account=globex,
            requests=[SeatRequest(subscription_id=webinar.pk, added_seats=2)],
            actor=contact,
            replace_open=False,
        )

    def seed_staff(self):
        if not User.objects.filter(email__iexact="admin@vendor.test").exists():
            User.objects.create_superuser(
                "admin@vendor.test", DEMO_PASSWORD, full_name="Vendor Admin", language="en"
            )

    def seed_user(self, email, full_name, account, role):
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, full_name=full_name)
        Membership.objects.get_or_create(user=user, defaults={"account": account, "role": role})
        return user

    def seed_account(self, spec):
        account, _ = Account.objects.get_or_create(
            name=spec["name"],
            defaults={
                key: spec.get(key, "")
                for key in (
                    "currency",
                    "country",
                    "language",
                    "address_line1",
                    "postal_code",
                    "city",
                    "region",
                    "portal",
                    "self_service_enabled",
                )
            },
        )
        contact_email, contact_name = spec["contact"]
        self.seed_user(contact_email, contact_name, account, Role.BILLING_CONTACT)
        members = [
            self.seed_user(email, name, account, Role.MEMBER) for email, name in spec["members"]
        ]

        today = timezone.localdate()
        for slug, plan_name, cycle, seats, days_ago, assigned in spec["subscriptions"]:
            product = Product.objects.get(slug=slug)
            if Subscription.objects.filter(account=account, product=product).exists():
                continue
            plan = Plan.objects.get(product=product, name=plan_name)
            price = Price.objects.get(plan=plan, cycle=cycle, amount_currency=account.currency)
            start = today - timedelta(days=days_ago)
            subscription = Subscription.objects.create(
                account=account,
                product=product,
                plan=plan,
                cycle=cycle,
                seat_count=seats,
                unit_price=price.amount,
                status=SubscriptionStatus.ACTIVE,
                current_period_start=start,
                current_period_end=period_end(start, cycle),
            )
            SeatAssignment.objects.bulk_create(
                SeatAssignment(subscription=subscription, user=user) for user in members[:assigned]
            )

        holder, label = spec["card"]
        if not account.payment_methods.exists():
            # A saved Visa made by the configured processor (the sandbox, or localstripe).
            PaymentMethod.objects.create(
                gateway_token=get_gateway().demo_card_token(label),
                account=account,
                brand=CardBrand.VISA,
                last4="4242",
                exp_month=12,
                exp_year=today.year + 4,
                cardholder_name=holder,
                is_default=True,
            )
