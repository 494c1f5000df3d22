"""Small things several test modules need."""

from dataclasses import replace

from catalog.models import BillingCycle
from checkout.billing import BillingDetails
from checkout.placement import place_order, preview_order


def checkout_fingerprint(cart, **billing) -> str:
    """The priced-order fingerprint the checkout page of `cart` carries (its account's billing
    details, with `billing` changed), as a browser would post it back."""
    details = replace(BillingDetails.of_account(cart.account), **billing)
    return preview_order(cart=cart, billing=details).fingerprint


def place_cart(account, contact, *, card=None):
    """Place the contact's cart as its checkout page shows it, through place_order."""
    from cart.services import get_cart

    cart = get_cart(owner=contact, account=account)
    cart.refresh_from_db()
    billing = BillingDetails.of_account(account)
    return place_order(
        cart=cart,
        cart_version=cart.version,
        billing=billing,
        expected_pricing=preview_order(cart=cart, billing=billing).fingerprint,
        actor=contact,
        payment_method=card,
    )


def buy(account, contact, plan, seats, card, cycle=BillingCycle.ANNUAL):
    """Add New Subscription → Checkout → Place Order, through the services."""
    from cart.services import add_to_cart, get_cart

    cart = get_cart(owner=contact, account=account)
    add_to_cart(cart=cart, product=plan.product, plan=plan, cycle=cycle, seat_count=seats)
    return place_cart(account, contact, card=card)


def change_seats(account, contact, subscription, seats, *, cycle=None, card=None):
    """Add Organizers… (seats, or the cycle) → Add to Cart → Place Order, through the services."""
    from cart.services import add_change_to_cart, get_cart

    subscription.refresh_from_db()
    cart = get_cart(owner=contact, account=account)
    add_change_to_cart(
        cart=cart,
        subscription=subscription,
        plan=subscription.plan,
        cycle=cycle or subscription.cycle,
        seat_count=seats,
    )
    return place_cart(account, contact, card=card)


def pdf_facts(data: bytes) -> dict:
    """What a reader of a PDF learns before its text: tagging (structure tree, MarkInfo), the
    language, the title shown as the window's, the PDF/UA claim in its XMP metadata, the
    structure element types used, and the text of every page."""
    from io import BytesIO

    from pypdf import PdfReader

    reader = PdfReader(BytesIO(data))
    root = reader.trailer["/Root"]
    types = set()
    pending = [root["/StructTreeRoot"]] if "/StructTreeRoot" in root else []
    while pending:
        node = pending.pop().get_object()
        if isinstance(node, dict):
            if "/S" in node:
                types.add(str(node["/S"]))
            kids = node.get("/K")
            if kids is not None:
                kids = kids.get_object()
                pending.extend(kids if isinstance(kids, list) else [kids])
        elif isinstance(node, list):
            pending.extend(node)
    xmp = reader.xmp_metadata
    return {
        "tagged": "/StructTreeRoot" in root and bool(root["/MarkInfo"]["/Marked"]),
        "lang": str(root.get("/Lang", "")),
        "title": reader.metadata.title if reader.metadata else None,
        "display_title": bool(root.get("/ViewerPreferences", {}).get("/DisplayDocTitle")),
        "pdf_ua": xmp is not None and b"pdfuaid:part" in xmp.stream.get_data(),
        "structure": types,
        "text": "\n".join(page.extract_text() for page in reader.pages),
    }


def sandbox_token(number: str = "4242424242424242") -> str:
    """What the sandbox processor's card fields give the page for a typed test card: a token
    (the card's expiry is a few years ahead of the clock)."""
    from django.utils import timezone

    from checkout.sandbox_gateway import processor

    today = timezone.localdate()
    return processor.tokenize(number=number, exp_month=12, exp_year=today.year + 4).token


def sandbox_new_card(number: str = "4242424242424242", cardholder_name: str = "Camille"):
    """A new card as a form hands it to the services: the processor's token, described by it."""
    from checkout.payments.cards import NewCard
    from checkout.sandbox_gateway.client import SandboxGateway

    card = SandboxGateway().describe_card(token=sandbox_token(number))
    return NewCard(card=card, cardholder_name=cardholder_name)
