from django.shortcuts import render
from django.views.decorators.http import require_GET

from billing_center.access import billing_contact_required, get_for_account
from subscriptions import selectors


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
