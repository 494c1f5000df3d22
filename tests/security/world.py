"""What both generic suites need: every URL pattern of the project, enumerated from the URLconf,
and a small world of accounts whose objects fill those URLs' parameters.

A new view is found here by itself. What its parameters stand for is read from the URL: the
path segment before a parameter names the kind of object (`invoices/<number>` is an invoice).
A parameter after a segment this file does not know fails the suites with a message saying so.
"""

import re
from dataclasses import dataclass, field
from datetime import date

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from moneyed import Money

from cart.models import Cart
from catalog.models import BillingCycle
from corporate_portal import services as corporate
from subscriptions.models import Portal, Role
from tests.factories import (
    AccountFactory,
    CartItemFactory,
    InvoiceFactory,
    MembershipFactory,
    OrderLineFactory,
    PaymentAttemptFactory,
    PaymentMethodFactory,
    SeatAssignmentFactory,
    SubscriptionFactory,
    UserFactory,
    plan_with_prices,
)

# The day both suites run on (time-machine): inside every subscription's period.
TODAY = date(2026, 11, 22)

PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", as reverse() takes it
    namespace: str
    route: str  # "billing/invoices/<str:number>/"
    parameters: tuple[tuple[str, str], ...]  # (segment before it, parameter name)

    @property
    def is_billing(self) -> bool:
        """A page of one of the two billing portals: every one is for billing contacts only."""
        return self.route.startswith(("billing/", "corporate/"))

    @property
    def portal(self) -> str:
        """Where the page lives decides whose it is: /corporate/ is the Corporate Billing
        Portal's, every other billing page the Billing Center's."""
        return Portal.CORPORATE if self.route.startswith("corporate/") else Portal.BILLING_CENTER

    @property
    def names_an_object(self) -> bool:
        return any(segment in OWNED_OBJECTS for segment, _name in self.parameters)


def routes() -> list[Route]:
    found = []

    def walk(patterns, prefix, namespaces):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = [*namespaces, pattern.namespace] if pattern.namespace else namespaces
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                route = prefix + str(pattern.pattern)
                segments = route.split("/")
                parameters = tuple(
                    (segments[i - 1] if i else "", match["name"])
                    for i, segment in enumerate(segments)
                    for match in PARAMETER.finditer(segment)
                )
                found.append(
                    Route(
                        name=":".join([*namespaces, pattern.name]),
                        namespace=":".join(namespaces),
                        route=route,
                        parameters=parameters,
                    )
                )

    walk(get_resolver().url_patterns, "", [])
    return found


# The segment before a parameter → the attribute of a Side (one account's objects) it names.
OWNED_OBJECTS = {
    "subscriptions": "subscription",
    "items": "cart_item",
    "payment-methods": "card",
    "orders": "order",
    "invoices": "invoice",
    "quotes": "quote",
    "service-orders": "service_order",
    "payments": "payment_attempt",
}


@dataclass
class Side:
    """One account with one of everything, and words only its own pages may show."""

    account: object
    contact: object
    member: object
    subscription: object
    card: object
    cart_item: object
    order: object
    invoice: object
    quote: object  # open
    service_order: object  # draft, on an accepted quote
    payment_attempt: object  # a checkout payment still waiting for the gateway's answer
    extra_product: object
    markers: list[str] = field(default_factory=list)

    def kwargs(self, route: Route) -> dict:
        values = {}
        for segment, name in route.parameters:
            if segment in OWNED_OBJECTS:
                obj = getattr(self, OWNED_OBJECTS[segment])
                values[name] = getattr(obj, name) if name in {"number", "public_id"} else obj.pk
            elif name == "slug":
                values[name] = self.extra_product.slug
            elif name == "mode":
                values[name] = "buy"
            elif name in {"uidb64", "token"}:
                values[name] = "MQ" if name == "uidb64" else "set-password"
            else:
                raise LookupError(
                    f"{route.name}: tell tests/security/world.py what <{name}> after "
                    f"'{segment}/' stands for"
                )
        return values

    def url(self, route: Route) -> str:
        url = reverse(route.name, kwargs=self.kwargs(route))
        # The Buy and Try steps after the first are reached with the plan and seats chosen.
        if route.name in {"cart:cycle", "cart:start_trial"}:
            plan = self.extra_product.plans.first()
            url += f"?plan={plan.pk}&seats=2"
        return url


def make_side(name: str, *, portal: str, currency: str, country: str) -> Side:
    account = AccountFactory(
        name=f"{name} Matrix Account", portal=portal, currency=currency, country=country
    )
    contact = MembershipFactory(
        account=account, role=Role.BILLING_CONTACT, user__email=f"contact@{name.lower()}.test"
    ).user
    member = MembershipFactory(
        account=account, role=Role.MEMBER, user__email=f"member@{name.lower()}.test"
    ).user
    plan = plan_with_prices(currency=currency, product__name=f"{name} Suite")
    subscription = SubscriptionFactory(
        account=account,
        plan=plan,
        seat_count=10,
        unit_price=Money("120.00", currency),
        current_period_start=date(2026, 11, 1),
        cycle=BillingCycle.ANNUAL,
    )
    SeatAssignmentFactory(subscription=subscription, user=member)
    card = PaymentMethodFactory(
        account=account,
        is_default=True,
        cardholder_name=f"{name} Cardholder",
        gateway_token=f"tok_sandbox_ok_{name.lower()}",
    )
    extra = plan_with_prices(currency=currency, product__slug=f"{name.lower()}-extra").product
    cart_item = CartItemFactory(
        cart=Cart.objects.create(owner=contact, account=account),
        plan=extra.plans.first(),
        product=extra,
    )
    invoice = InvoiceFactory(
        year=2025,  # last year's: this year's numbers are the real sequence's to give
        order__account=account,
        order__number=f"ORD-{name.upper()}-1",
        buyer_name=f"{name} Matrix Account",
    )
    OrderLineFactory(order=invoice.order)

    def quote():
        return corporate.create_quote(
            account=account,
            requests=[corporate.SeatRequest(subscription.pk, 1)],
            actor=contact,
            replace_open=False,
        )

    accepted = quote()
    service_order = corporate.save_service_order(
        quote=accepted,
        details=corporate.PaymentDetails(
            admin_contact_name=f"{name} Admin",
            admin_contact_email=f"admin@{name.lower()}.test",
            payment_method=card,
            billing=corporate.BillingDetails.of_account(account),
        ),
        actor=contact,
    )
    side = Side(
        account=account,
        contact=contact,
        member=member,
        subscription=subscription,
        card=card,
        cart_item=cart_item,
        order=invoice.order,
        invoice=invoice,
        quote=quote(),
        service_order=service_order,
        extra_product=extra,
        payment_attempt=PaymentAttemptFactory(
            account=account, cart=cart_item.cart, amount=Money("10.00", currency)
        ),
    )
    side.markers = [
        account.name,
        contact.email,
        member.email,
        card.cardholder_name,
        invoice.number,
        invoice.order.number,
        accepted.number,
        side.quote.number,
        f"admin@{name.lower()}.test",
    ]
    return side


@dataclass
class World:
    acme: Side  # Billing Center: owns the objects of the Billing Center's pages
    umbrella: Side  # Billing Center too: "another account"
    globex: Side  # corporate: owns the objects of the corporate portal's pages
    initech: Side  # corporate too: "another account"
    staff: object


def make_world() -> World:
    return World(
        acme=make_side("Acme", portal=Portal.BILLING_CENTER, currency="EUR", country="FR"),
        umbrella=make_side("Umbrella", portal=Portal.BILLING_CENTER, currency="EUR", country="DE"),
        globex=make_side("Globex", portal=Portal.CORPORATE, currency="USD", country="US"),
        initech=make_side("Initech", portal=Portal.CORPORATE, currency="USD", country="US"),
        staff=UserFactory(email="ops@vendor.test", is_staff=True, is_superuser=True),
    )
