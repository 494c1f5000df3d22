from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing_center.access import billing_contact_required, get_for_account
from billing_center.activity import describe_events
from subscriptions import invoice_recipients, lifecycle, selectors, services
from subscriptions.activity import credit_entry_description
from subscriptions.forms import CancelForm, InviteForm, SeatUserForm
from subscriptions.models import SubscriptionStatus


@require_GET
@billing_contact_required
def dashboard(request):
    subscriptions = selectors.dashboard_subscriptions(account=request.account)
    return render(
        request,
        "subscriptions/dashboard.html",
        {
            "subscriptions": subscriptions,
            "ended": selectors.ended_subscriptions(account=request.account),
        },
    )


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


@require_GET
@billing_contact_required
def account_balance(request):
    account = request.account
    page = Paginator(selectors.credit_history(account=account), 50).get_page(
        request.GET.get("page")
    )
    entries = [(entry, credit_entry_description(entry)) for entry in page.object_list]
    return render(
        request,
        "subscriptions/balance.html",
        {"account": account, "page": page, "entries": entries},
    )


ACTIVITY_PAGE_SIZE = 50


@require_GET
@billing_contact_required
def activity(request):
    page = Paginator(
        selectors.account_activity(account=request.account), ACTIVITY_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    # Told in the reader's language now, from what each event stored (billing_center.activity).
    events = describe_events(page.object_list)
    return render(request, "subscriptions/activity.html", {"page": page, "events": events})


@require_http_methods(["GET", "POST"])
@billing_contact_required
def cancel_subscription(request, pk: int):
    """Cancel subscription: what it means (usable until the period ends, not renewed, nothing
    more charged), then the billing contact confirms."""
    subscription = get_for_account(
        selectors.subscriptions_of_account(account=request.account), account=request.account, pk=pk
    )
    if subscription.status == SubscriptionStatus.UNPAID:
        # Suspended: canceled at once, its open invoice corrected (checkout's page says how).
        return redirect("checkout:cancel_suspended", pk=subscription.pk)
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not form.is_valid():
            return render(
                request, "subscriptions/cancel.html", {"subscription": subscription, "form": form}
            )
        try:
            lifecycle.cancel_at_period_end(
                subscription=subscription,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                comment=form.cleaned_data["comment"],
            )
        except lifecycle.LifecycleError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("%(product)s is canceled: it ends on %(date)s and is not renewed.")
                % {
                    "product": subscription.product,
                    "date": date_format(subscription.current_period_end, "DATE_FORMAT"),
                },
            )
        return redirect("subscriptions:subscription_detail", pk=subscription.pk)
    return render(
        request, "subscriptions/cancel.html", {"subscription": subscription, "form": form}
    )


@require_POST
@billing_contact_required
def resume_subscription(request, pk: int):
    subscription = get_for_account(
        selectors.subscriptions_of_account(account=request.account), account=request.account, pk=pk
    )
    try:
        lifecycle.resume(subscription=subscription, actor=request.user)
    except lifecycle.LifecycleError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(product)s is resumed: it renews as before.") % {"product": subscription.product},
        )
    return redirect("subscriptions:subscription_detail", pk=subscription.pk)


@require_http_methods(["GET", "POST"])
def invoice_copy_consent(request, token: str):
    """The link sent once to an address added to an account's invoice copies: the page says who
    asks; the address gets documents only after its owner confirms here (a POST, so that a mail
    scanner following the link confirms nothing). No login: the link is the proof."""
    consent = invoice_recipients.consent_of_token(token)
    if consent is None:
        return render(
            request, "subscriptions/invoice_copy_consent.html", {"consent": None}, status=404
        )
    with translation.override(consent.account.language):
        if request.method == "POST":
            invoice_recipients.confirm_consent(consent)
        return render(request, "subscriptions/invoice_copy_consent.html", {"consent": consent})
