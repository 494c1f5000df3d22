from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing_center.access import billing_contact_required, get_for_account
from cart.selectors import plans_sold_in
from cart.services import PurchaseError, add_change_to_cart, get_cart
from checkout.services import change_preview
from subscriptions import selectors, services
from subscriptions.forms import ChangeForm, InviteForm, SeatUserForm
from subscriptions.models import LIVE_STATUSES, SubscriptionStatus


@require_GET
@billing_contact_required
def dashboard(request):
    subscriptions = selectors.dashboard_subscriptions(account=request.account)
    return render(request, "subscriptions/dashboard.html", {"subscriptions": subscriptions})


@require_GET
@billing_contact_required
def subscription_detail(request, pk: int):
    subscription = get_for_account(
        selectors.subscription_for_detail(), account=request.account, pk=pk
    )
    assignments = list(subscription.seat_assignments.all())
    return render(
        request,
        "subscriptions/subscription_detail.html",
        {
            "subscription": subscription,
            "assignments": assignments,
            "free_seat_count": subscription.seat_count - len(assignments),
        },
    )


@require_GET
@billing_contact_required
def seats(request, pk: int):
    """Who holds the subscription's seats: assign, unassign, invite a user by email."""
    subscription = get_for_account(
        selectors.subscription_for_detail(), account=request.account, pk=pk
    )
    return render(request, "subscriptions/seats.html", _seats_context(request, subscription))


def _seats_context(request, subscription, invite_form=None):
    holders = {a.user_id for a in subscription.seat_assignments.all()}
    members = selectors.account_users(account=request.account)
    return {
        "subscription": subscription,
        "members": [{"user": user, "has_seat": user.pk in holders} for user in members],
        "assigned_count": len(holders),
        "free_seat_count": subscription.seat_count - len(holders),
        "invite_form": invite_form or InviteForm(),
    }


def _subscription_and_user(request, pk):
    subscription = get_for_account(
        selectors.subscriptions_of_account(account=request.account), account=request.account, pk=pk
    )
    form = SeatUserForm(request.POST)
    user = None
    if form.is_valid():
        user = (
            selectors.account_users(account=request.account)
            .filter(pk=form.cleaned_data["user"])
            .first()
        )
    return subscription, user


@require_POST
@billing_contact_required
def assign_seat(request, pk: int):
    subscription, user = _subscription_and_user(request, pk)
    if user is None:
        messages.error(request, _("Choose a user of your account."))
    else:
        try:
            services.assign_seat(subscription=subscription, user=user, actor=request.user)
        except services.SubscriptionError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("%(user)s now has a seat.") % {"user": user.email})
    return redirect("subscriptions:seats", pk=subscription.pk)


@require_POST
@billing_contact_required
def unassign_seat(request, pk: int):
    subscription, user = _subscription_and_user(request, pk)
    if user is None:
        messages.error(request, _("Choose a user of your account."))
    else:
        try:
            services.unassign_seat(subscription=subscription, user=user, actor=request.user)
        except services.SubscriptionError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("%(user)s no longer has a seat.") % {"user": user.email})
    return redirect("subscriptions:seats", pk=subscription.pk)


@require_POST
@billing_contact_required
def invite(request, pk: int):
    """Invite a user by email and, if a seat is free, give them one."""
    subscription = get_for_account(
        selectors.subscription_for_detail(), account=request.account, pk=pk
    )
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            user = services.invite_member_to_seat(
                subscription=subscription,
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                actor=request.user,
            )
        except services.SubscriptionError as error:
            form.add_error("email", error.message)
        else:
            messages.success(
                request, _("%(user)s is invited and has a seat.") % {"user": user.email}
            )
            return redirect("subscriptions:seats", pk=subscription.pk)
    return render(
        request,
        "subscriptions/seats.html",
        _seats_context(request, subscription, invite_form=form),
        status=400,
    )


@require_GET
@billing_contact_required
def trial_started(request, pk: int):
    subscription = get_for_account(
        selectors.subscriptions_of_account(account=request.account), account=request.account, pk=pk
    )
    return render(request, "subscriptions/trial_started.html", {"subscription": subscription})


@require_http_methods(["GET", "POST"])
@billing_contact_required
def change_subscription(request, pk: int):
    """Add Organizers / Agents / Experts…: seats up or down (tier and cycle too), with what the
    change costs; then Add to Cart. In trial the change is free and applies at once."""
    subscription = get_for_account(
        selectors.subscriptions_of_account(account=request.account).filter(
            status__in=LIVE_STATUSES
        ),
        account=request.account,
        pk=pk,
    )
    plans = plans_sold_in(product=subscription.product, currency=request.account.currency)
    initial = {
        "plan": subscription.plan_id,
        "cycle": subscription.cycle,
        "seat_count": subscription.seat_count,
    }
    data = (
        request.POST
        if request.method == "POST"
        else (request.GET if "seat_count" in request.GET else None)
    )
    form = ChangeForm(data, initial=initial, plans=plans)
    if data is not None and data.get("adjust") in {"-1", "+1"}:
        # The − and + buttons without JavaScript: the same page, one seat more or less.
        values = {**initial, **data.dict()}
        try:
            values["seat_count"] = max(1, int(values["seat_count"]) + int(data["adjust"]))
        except (TypeError, ValueError):
            values["seat_count"] = subscription.seat_count
        form = ChangeForm(values, initial=initial, plans=plans)

    preview, problem = None, None
    if form.is_bound and form.is_valid():
        preview, problem = change_preview(subscription=subscription, **form.cleaned_data)

    ready = form.is_bound and form.is_valid() and problem is None
    if request.method == "POST" and not data.get("adjust") and ready:
        if subscription.status == SubscriptionStatus.TRIALING:
            try:
                services.change_trial_seats(
                    subscription=subscription,
                    seat_count=form.cleaned_data["seat_count"],
                    actor=request.user,
                )
            except services.SubscriptionError as error:
                problem = error.message
            else:
                messages.success(
                    request, _("The seats are changed. During the trial they are free.")
                )
                return redirect("subscriptions:subscription_detail", pk=subscription.pk)
        else:
            cart = get_cart(owner=request.user, account=request.account)
            try:
                add_change_to_cart(cart=cart, subscription=subscription, **form.cleaned_data)
            except PurchaseError as error:
                problem = error.message
            else:
                if cart.items.count() == 1:
                    return redirect("checkout:checkout")
                messages.success(
                    request, _("%(product)s is in your cart.") % {"product": subscription.product}
                )
                return redirect("cart:detail")
    return render(
        request,
        "subscriptions/change.html",
        {
            "subscription": subscription,
            "assigned_count": subscription.seat_assignments.count(),
            "form": form,
            "plans": plans,
            "preview": preview,
            "problem": problem,
        },
    )


@require_GET
@billing_contact_required
def account_balance(request):
    account = request.account
    page = Paginator(selectors.credit_history(account=account), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "subscriptions/balance.html", {"account": account, "page": page})
