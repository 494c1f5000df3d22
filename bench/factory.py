"""The bench's own data: the demo catalog (`seed_demo`) and as many accounts as a run needs.

Runs in the driver with `bench.settings` (the bench's own database). Plain rows are written
with the ORM in bulk; whatever has rules (orders, invoices, quotes, service orders) is made by
the application's own services, so the pages show what they would show a real customer.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from moneyed import Money

from billing_center.models import User
from cart.services import add_change_to_cart, add_to_cart, get_cart
from catalog.models import BillingCycle, Plan, Price, Product
from checkout.billing import BillingDetails
from checkout.models import CardBrand, Invoice, PaymentMethod
from checkout.placement import place_order, preview_order
from corporate_portal.models import Quote, QuoteStatus, ServiceOrder
from corporate_portal.services import (
    PaymentDetails,
    SeatRequest,
    create_quote,
    place_service_order,
    save_service_order,
)
from corporate_portal.tasks import process_service_order
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

PASSWORD = "bench-pass-2026"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@vendor.test", "demo-pass-2026"  # from seed_demo
# Every seat-change account holds this plan: the shared catalog rows of the deadlock.
SEAT_CHANGE_PRODUCT, SEAT_CHANGE_PLAN = "goto-meeting", "Business"


@dataclass
class Accounts:
    """What the load generator needs to know: logins and the objects each one works on."""

    password: str = PASSWORD
    purchase: list[dict] = field(default_factory=list)
    seat_change: list[dict] = field(default_factory=list)
    pages: dict = field(default_factory=dict)


class Seeder:
    def __init__(self):
        self.today = timezone.localdate()
        self.password_hash = make_password(PASSWORD)  # hashed once: PBKDF2 costs ~0.5 s a call

    # -- rows ----------------------------------------------------------------------------------

    def account(self, *, label: str, currency="EUR", country="FR", portal=Portal.BILLING_CENTER):
        # Unique in the database, not only in this process: the billing-run batches are seeded
        # by later calls, and a second process seeding the same database must not collide on
        # the users' emails or the cards' gateway references.
        serial = (Account.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        account = Account.objects.create(
            name=f"Bench {label} {serial:05d}",
            currency=currency,
            country=country,
            language="en",
            address_line1=f"{serial} rue du Banc",
            postal_code="75011",
            city="Paris" if country == "FR" else "Springfield",
            region="" if country == "FR" else "OR",
            portal=portal,
            self_service_enabled=True,
        )
        contact = self.user(f"{label}-{serial:05d}@bench.test", f"Contact {serial}")
        Membership.objects.create(user=contact, account=account, role=Role.BILLING_CONTACT)
        PaymentMethod.objects.create(
            account=account,
            brand=CardBrand.VISA,
            last4="4242",
            exp_month=12,
            exp_year=self.today.year + 4,
            cardholder_name=contact.full_name,
            gateway_token=f"tok_sandbox_ok_bench_{serial:05d}",
            is_default=True,
        )
        return account, contact

    def user(self, email: str, full_name: str) -> User:
        return User.objects.create(email=email, full_name=full_name, password=self.password_hash)

    def subscription(self, account, slug, plan_name, cycle, seats, days_ago=90, members=()):
        plan = Plan.objects.select_related("product").get(product__slug=slug, name=plan_name)
        price = Price.objects.get(plan=plan, cycle=cycle, amount_currency=account.currency)
        start = self.today - timedelta(days=days_ago)
        subscription = Subscription.objects.create(
            account=account,
            product=plan.product,
            plan=plan,
            cycle=cycle,
            seat_count=seats,
            unit_price=price.amount,
            status=SubscriptionStatus.ACTIVE,
            current_period_start=start,
            current_period_end=period_end(start, cycle),
        )
        SeatAssignment.objects.bulk_create(
            SeatAssignment(subscription=subscription, user=member) for member in members
        )
        return subscription

    # -- what the load generator drives ---------------------------------------------------------

    def purchase_accounts(self, count: int) -> list[dict]:
        """Self-service EUR accounts with a saved Visa 4242 and nothing bought yet: each can buy
        every product of the catalog once (flow A)."""
        slugs = list(Product.objects.filter(is_active=True).values_list("slug", flat=True))
        rows = []
        for _ in range(count):
            _account, contact = self.account(label="buyer")
            rows.append({"email": contact.email, "products": slugs})
        return rows

    def seat_change_accounts(self, count: int) -> list[dict]:
        """Self-service EUR accounts, each with 10 GoTo Meeting Business organizers (annual):
        all of them on one plan of one product (flow B)."""
        rows = []
        for _ in range(count):
            account, contact = self.account(label="seats")
            subscription = self.subscription(
                account, SEAT_CHANGE_PRODUCT, SEAT_CHANGE_PLAN, BillingCycle.ANNUAL, 10
            )
            rows.append(
                {
                    "email": contact.email,
                    "subscription": subscription.pk,
                    "plan": subscription.plan_id,
                    "cycle": subscription.cycle,
                    "seat_count": subscription.seat_count,
                    "max_seats": subscription.plan.max_seats,
                }
            )
        return rows

    def _order(self, *, account, contact, cart):
        cart.refresh_from_db()
        billing = BillingDetails.of_account(account)
        return place_order(
            cart=cart,
            cart_version=cart.version,
            billing=billing,
            expected_pricing=preview_order(cart=cart, billing=billing).fingerprint,
            actor=contact,
            payment_method=account.payment_methods.get(is_default=True),
        )

    def pages_account(self) -> dict:
        """A self-service account with history: members holding seats, three products bought
        and a seat change placed through checkout (so invoices), and one more product waiting
        in the cart (so the cart and checkout pages have something to price)."""
        account, contact = self.account(label="pages")
        members = []
        for number in range(4):
            member = self.user(f"member-{number}-{account.pk}@bench.test", f"Member {number}")
            Membership.objects.create(user=member, account=account, role=Role.MEMBER)
            members.append(member)
        meeting = self.subscription(
            account, "goto-meeting", "Business", BillingCycle.ANNUAL, 10, members=members
        )
        cart = get_cart(owner=contact, account=account)
        for slug, plan_name in (("goto-webinar", "Standard"), ("goto-training", "Standard")):
            plan = Plan.objects.select_related("product").get(product__slug=slug, name=plan_name)
            add_to_cart(
                cart=cart, product=plan.product, plan=plan, cycle=BillingCycle.ANNUAL, seat_count=5
            )
            self._order(account=account, contact=contact, cart=cart)
        add_change_to_cart(
            cart=cart, subscription=meeting, plan=meeting.plan, cycle=meeting.cycle, seat_count=12
        )
        self._order(account=account, contact=contact, cart=cart)
        waiting = Plan.objects.select_related("product").get(product__slug="gotoassist-v4")
        add_to_cart(
            cart=cart,
            product=waiting.product,
            plan=waiting,
            cycle=BillingCycle.MONTHLY,
            seat_count=3,
        )
        meeting.refresh_from_db()
        invoice = Invoice.objects.filter(account=account).latest("pk")
        return {
            "email": contact.email,
            "pages": {
                "dashboard": reverse("subscriptions:dashboard"),
                "subscription": reverse("subscriptions:subscription_detail", args=[meeting.pk]),
                "seats": reverse("subscriptions:seats", args=[meeting.pk]),
                "invoices": reverse("checkout:invoices"),
                "invoice": reverse("checkout:invoice_detail", args=[invoice.number]),
                "invoice PDF": reverse("checkout:invoice_pdf", args=[invoice.number]),
                "change seats + preview": (
                    reverse("checkout:change_subscription", args=[meeting.pk])
                    + f"?plan={meeting.plan_id}&cycle={meeting.cycle}"
                    + f"&seat_count={meeting.seat_count + 3}"
                ),
                "balance": reverse("subscriptions:balance"),
                "activity": reverse("activity"),
                "payment methods": reverse("checkout:payment_methods"),
            },
        }

    def cart_account(self, items: int) -> dict:
        """A self-service account whose cart holds `items` new products (annual, 5 seats each),
        for the cart and checkout pages' cost per item. The demo catalog sells 6 products: the
        others are bench products with one plan each (made by extra_products)."""
        account, contact = self.account(label=f"cart{items}")
        plans = list(
            Plan.objects.filter(
                is_active=True, product__is_active=True, prices__amount_currency="EUR"
            )
            .select_related("product")
            .order_by("product__position", "product__pk", "position", "pk")
            .distinct()
        )
        first_plan = {}
        for plan in plans:
            first_plan.setdefault(plan.product_id, plan)
        cart = get_cart(owner=contact, account=account)
        chosen = list(first_plan.values())[:items]
        if len(chosen) < items:
            raise RuntimeError(f"the catalog sells {len(chosen)} products, not {items}")
        for plan in chosen:
            add_to_cart(
                cart=cart, product=plan.product, plan=plan, cycle=BillingCycle.ANNUAL, seat_count=5
            )
        label = "1 item" if items == 1 else f"{items} items"
        return {
            "email": contact.email,
            "pages": {
                f"cart ({label})": reverse("cart:detail"),
                f"checkout ({label})": reverse("checkout:checkout"),
            },
        }

    def extra_products(self, count: int) -> None:
        """Products sold in EUR beyond the demo's, so a cart can hold 11 items."""
        start = Product.objects.count()
        for number in range(count):
            product = Product.objects.create(
                name=f"Bench Product {number + 1}",
                slug=f"bench-product-{number + 1}",
                position=start + number,
            )
            plan = Plan.objects.create(
                product=product, name="Standard", min_seats=1, max_seats=250, position=0
            )
            Price.objects.bulk_create(
                [
                    Price(plan=plan, cycle=BillingCycle.MONTHLY, amount=Money("10.00", "EUR")),
                    Price(plan=plan, cycle=BillingCycle.ANNUAL, amount=Money("100.00", "EUR")),
                ]
            )

    def corporate_account(self, *, label: str, quote: bool = True):
        """A corporate USD account with three subscriptions (two open to more seats) and, if
        asked, an open quote for 2 more GoTo Webinar organizers made by the portal's service."""
        account, contact = self.account(
            label=label, currency="USD", country="US", portal=Portal.CORPORATE
        )
        webinar = self.subscription(account, "goto-webinar", "Standard", BillingCycle.ANNUAL, 5)
        self.subscription(
            account, "gotoassist-remote-support-v5", "Standard", BillingCycle.MONTHLY, 25, 10
        )
        self.subscription(account, "rescueassist", "Standard", BillingCycle.ANNUAL, 3, 200)
        if quote:
            create_quote(
                account=account,
                requests=[SeatRequest(subscription_id=webinar.pk, added_seats=2)],
                actor=contact,
                replace_open=False,
            )
        return account, contact, webinar

    def corporate_pages_account(self) -> dict:
        """A corporate account with one completed service order and one open quote."""
        account, contact, webinar = self.corporate_account(label="corporate-pages")
        service_order = self.place_service_order(account.quotes.get(status=QuoteStatus.OPEN))
        process_service_order.call(service_order.pk)  # in this process, not through the queue
        quote = create_quote(
            account=account,
            requests=[SeatRequest(subscription_id=webinar.pk, added_seats=1)],
            actor=contact,
            replace_open=False,
        )
        return {
            "email": contact.email,
            "pages": {
                "corporate subscriptions": reverse("corporate:subscriptions"),
                "corporate add seats": reverse("corporate:add_seats"),
                "quotes": reverse("corporate:quotes"),
                "quote": reverse("corporate:quote_detail", args=[quote.number]),
                "corporate payment": reverse("corporate:payment", args=[quote.number]),
                "service orders": reverse("corporate:service_orders"),
            },
        }

    def place_service_order(self, quote: Quote) -> ServiceOrder:
        """Proceed to Payment → Save and Proceed → Place Service Order, through the services:
        the processing task is enqueued on commit (with the database backend: a row)."""
        account = quote.account
        contact = Membership.objects.get(account=account, role=Role.BILLING_CONTACT).user
        details = PaymentDetails(
            admin_contact_name="Admin Contact",
            admin_contact_email=f"admin-{quote.number.lower()}-{account.pk}@bench.test",
            payment_method=account.payment_methods.get(is_default=True),
            billing=BillingDetails.of_account(account),
        )
        service_order = save_service_order(quote=quote, details=details, actor=contact)
        return place_service_order(service_order=service_order, actor=contact)

    def due_subscriptions(self, count: int) -> list[int]:
        """Accounts whose monthly subscription renews today (for a billing run)."""
        ids = []
        for _ in range(count):
            account, _contact = self.account(label="renewal")
            subscription = self.subscription(
                account, "goto-meeting", "Professional", BillingCycle.MONTHLY, 3, days_ago=30
            )
            subscription.current_period_end = self.today  # due today
            subscription.save(update_fields=["current_period_end"])
            ids.append(subscription.pk)
        return ids


def seed(*, purchase: int, seat_change: int, out=None) -> Accounts:
    """The catalog, the admin login, and the accounts the web scenarios log into."""
    call_command("seed_demo", stdout=out)
    seeder = Seeder()
    with transaction.atomic():
        accounts = Accounts(
            purchase=seeder.purchase_accounts(purchase),
            seat_change=seeder.seat_change_accounts(seat_change),
        )
    # After the purchase accounts (which buy the demo's 6 products): 5 more for a cart of 11.
    seeder.extra_products(5)
    accounts.pages = {
        "billing": seeder.pages_account(),
        "cart1": seeder.cart_account(1),
        "cart11": seeder.cart_account(11),
        "corporate": seeder.corporate_pages_account(),
        "admin": {
            "email": ADMIN_EMAIL,
            "password": ADMIN_PASSWORD,
            "pages": {
                "admin subscriptions": reverse("admin:subscriptions_subscription_changelist"),
                "admin accounts": reverse("admin:subscriptions_account_changelist"),
            },
        },
    }
    return accounts


def seed_quotes(count: int) -> list[int]:
    """Corporate accounts with an open quote each, for the worker workload."""
    seeder = Seeder()
    quotes = []
    for _ in range(count):
        account, _contact, _webinar = seeder.corporate_account(label="corporate")
        quotes.append(account.quotes.get(status=QuoteStatus.OPEN).pk)
    return quotes


def place_service_orders(quote_ids: list[int]) -> list[int]:
    seeder = Seeder()
    return [
        seeder.place_service_order(Quote.objects.select_related("account").get(pk=pk)).pk
        for pk in quote_ids
    ]


def seed_due_subscriptions(count: int) -> list[int]:
    return Seeder().due_subscriptions(count)
