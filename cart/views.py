"""Add New Subscription (SPEC flow A steps 1–5) and the cart's edits. The cart page itself is
checkout.views.cart_detail: it is priced by checkout's pricing, which this layer cannot import."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing_center.access import billing_contact_required, get_for_account
from cart import selectors, services
from cart.forms import CartItemForm, CycleForm, SeatsForm
from cart.models import CartItem
from catalog.models import BillingCycle, Product
from catalog.prices import annual_saving, unit_price
from subscriptions import services as subscription_services
from subscriptions.periods import period_end

MODES = {"buy", "try"}


def _product(slug: str) -> Product:
    return get_object_or_404(Product, slug=slug, is_active=True)


def _step_url(name: str, product: Product, plan_id, seat_count) -> str:
    query = urlencode({"plan": plan_id, "seats": seat_count})
    return f"{reverse(name, args=[product.slug])}?{query}"


@require_GET
@billing_contact_required
def add_subscription(request):
    """Step 1: the products the account can add, with their tiers and prices per seat."""
    account = request.account
    products = selectors.products_to_add(account=account)
    to_try = subscription_services.products_to_try(account=account, products=products)
    offers = [
        {
            "product": product,
            "can_try": product.pk in to_try,
            "plans": [
                {
                    "plan": plan,
                    "monthly": next(
                        (p.amount for p in plan.prices.all() if p.cycle == "monthly"), None
                    ),
                    "annual": next(
                        (p.amount for p in plan.prices.all() if p.cycle == "annual"), None
                    ),
                }
                for plan in product.plans.all()
                if plan.prices.all()
            ],
        }
        for product in products
    ]
    return render(request, "cart/add_subscription.html", {"offers": offers})


@require_http_methods(["GET", "POST"])
@billing_contact_required
def configure(request, slug: str, mode: str):
    """Steps 2–3: Buy or Try chosen; the tier and the number of seats, then Next."""
    if mode not in MODES:
        raise Http404
    account = request.account
    product = _product(slug)
    plans = selectors.plans_sold_in(product=product, currency=account.currency)
    if not plans:
        raise Http404
    if mode == "try" and not subscription_services.can_try(account=account, product=product):
        if selectors.has_paid_subscription(account=account, product=product):
            message = _("Your account already has %(product)s.")
        else:
            message = _("Your account has already had a free trial of %(product)s.")
        messages.error(request, message % {"product": product})
        return redirect("cart:add")

    if request.method == "POST":
        form = SeatsForm(request.POST, plans=plans)
        adjust = request.POST.get("adjust")
        if adjust in {"-1", "+1"}:
            # The +/- buttons without JavaScript: the same page again, one seat more or less.
            data = request.POST.copy()
            try:
                data["seat_count"] = str(max(1, int(data.get("seat_count", "1")) + int(adjust)))
            except ValueError:
                data["seat_count"] = "1"
            form = SeatsForm(initial=data.dict(), plans=plans)
        elif form.is_valid():
            target = "cart:cycle" if mode == "buy" else "cart:start_trial"
            return redirect(
                _step_url(
                    target, product, form.cleaned_data["plan"].pk, form.cleaned_data["seat_count"]
                )
            )
    else:
        first = plans[0]
        form = SeatsForm(
            initial={
                "plan": request.GET.get("plan") or first.pk,
                "seat_count": request.GET.get("seats") or first.min_seats,
            },
            plans=plans,
        )
    return render(
        request,
        "cart/configure.html",
        {"product": product, "plans": plans, "form": form, "mode": mode},
    )


def _valid_step(request, product):
    """The plan and seats a later step was given in its address, checked again."""
    plans = selectors.plans_sold_in(product=product, currency=request.account.currency)
    form = SeatsForm(
        {"plan": request.GET.get("plan"), "seat_count": request.GET.get("seats")}, plans=plans
    )
    if not form.is_valid():
        return None
    return form.cleaned_data["plan"], form.cleaned_data["seat_count"]


@require_http_methods(["GET", "POST"])
@billing_contact_required
def choose_cycle(request, slug: str):
    """Step 4: Monthly or Annual with both prices and the annual saving; then Checkout, or Add
    to Cart when the cart already holds items."""
    account = request.account
    product = _product(slug)
    step = _valid_step(request, product)
    if step is None:
        messages.error(request, _("Choose a plan and a number of seats first."))
        return redirect("cart:configure", slug=product.slug, mode="buy")
    plan, seat_count = step
    cart = services.get_cart(owner=request.user, account=account)
    cart_has_items = cart.items.exclude(product=product).exists()

    form = CycleForm(request.POST or None, initial={"cycle": BillingCycle.ANNUAL})
    if request.method == "POST" and form.is_valid():
        try:
            services.add_to_cart(
                cart=cart,
                product=product,
                plan=plan,
                cycle=form.cleaned_data["cycle"],
                seat_count=seat_count,
            )
        except services.PurchaseError as error:
            messages.error(request, error.message)
        else:
            if cart_has_items:
                messages.success(request, _("%(product)s is in your cart.") % {"product": product})
                return redirect("cart:detail")
            return redirect("checkout:checkout")

    today = timezone.localdate()
    options = []
    for cycle, label in BillingCycle.choices:
        price = unit_price(plan=plan, cycle=cycle, currency=account.currency)
        options.append(
            {
                "cycle": cycle,
                "label": label,
                "unit_price": price,
                "period_price": price * seat_count,
                "period_end": period_end(today, cycle),
            }
        )
    return render(
        request,
        "cart/choose_cycle.html",
        {
            "product": product,
            "plan": plan,
            "seat_count": seat_count,
            "options": options,
            "saving": annual_saving(plan=plan, seat_count=seat_count, currency=account.currency),
            "form": form,
            "cart_has_items": cart_has_items,
            "today": today,
        },
    )


@require_http_methods(["GET", "POST"])
@billing_contact_required
def start_trial(request, slug: str):
    """Step 5 for Try: what the trial gives, and Start Trial."""
    account = request.account
    product = _product(slug)
    step = _valid_step(request, product)
    if step is None:
        messages.error(request, _("Choose a plan and a number of seats first."))
        return redirect("cart:configure", slug=product.slug, mode="try")
    plan, seat_count = step
    if request.method == "POST":
        try:
            subscription = subscription_services.start_trial(
                account=account,
                product=product,
                plan=plan,
                seat_count=seat_count,
                actor=request.user,
            )
        except subscription_services.SubscriptionError as error:
            messages.error(request, error.message)
            return redirect("cart:add")
        return redirect("subscriptions:trial_started", pk=subscription.pk)
    trial_end = timezone.localdate() + timezone.timedelta(days=product.trial_days or 0)
    return render(
        request,
        "cart/start_trial.html",
        {"product": product, "plan": plan, "seat_count": seat_count, "trial_end": trial_end},
    )


def _cart_item(request, pk) -> CartItem:
    # A cart is its owner's: another billing contact's cart item is a 404 like any outsider's.
    return get_for_account(
        CartItem.objects.select_related("cart", "product").filter(cart__owner=request.user),
        account=request.account,
        account_field="cart__account",
        pk=pk,
    )


@require_POST
@billing_contact_required
def update_cart_item(request, pk: int):
    item = _cart_item(request, pk)
    plans = selectors.plans_sold_in(product=item.product, currency=request.account.currency)
    form = CartItemForm(request.POST, plans=plans, prefix=f"item-{item.pk}")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("cart:detail")
    try:
        services.update_cart_item(
            item=item,
            plan=form.cleaned_data["plan"],
            cycle=form.cleaned_data["cycle"],
            seat_count=form.cleaned_data["seat_count"],
        )
    except services.PurchaseError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your cart is updated."))
    return redirect("cart:detail")


@require_POST
@billing_contact_required
def remove_cart_item(request, pk: int):
    item = _cart_item(request, pk)
    services.remove_cart_item(item=item)
    messages.success(
        request, _("%(product)s is removed from your cart.") % {"product": item.product}
    )
    return redirect("cart:detail")
