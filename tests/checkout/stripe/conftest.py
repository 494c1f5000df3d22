import pytest

from tests.factories import CartFactory, CartItemFactory, plan_with_prices


@pytest.fixture
def cart(db):
    """Five seats of GoTo Training, annual: 864.00 with French VAT."""
    cart = CartFactory()
    plan = plan_with_prices(monthly="14.00", annual="144.00", product__name="GoTo Training")
    CartItemFactory(cart=cart, plan=plan, product=plan.product, seat_count=5)
    cart.refresh_from_db()
    return cart
