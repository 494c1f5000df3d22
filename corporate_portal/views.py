"""The Corporate Billing Portal (SPEC flow C). Quote and service order pages also serve accounts
that moved to the Billing Center, under /billing/, where they keep accepting or rejecting
quotes by the same path. Which account may use which of the two is decided by the URL namespace,
in `billing_center.access.billing_contact_required`."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing_center.access import billing_contact_required, get_for_account
from checkout.billing import BillingDetails
from checkout.selectors import invoices_of_account, saved_cards
from corporate_portal import selectors, services
from corporate_portal.documents import quote_pdf as render_quote_pdf
from corporate_portal.forms import AddSeatsForm, PaymentForm
from corporate_portal.models import QuoteStatus, ServiceOrderStatus
from corporate_portal.rules import eligibility_problem, product_problem


def _ns(request) -> str:
    return request.resolver_match.namespace


@require_GET
@billing_contact_required
def subscriptions(request):
    account = request.account
    today = timezone.localdate()
    rows = [
        {"subscription": s, "problem": product_problem(subscription=s, today=today)}
        for s in selectors.portal_subscriptions(account=account)
    ]
    return render(
        request,
        "corporate_portal/subscriptions.html",
        {
            "rows": rows,
            "problem": eligibility_problem(account=account),
            "corporate_services_email": settings.CORPORATE_ACCOUNT_SERVICES_EMAIL,
            "open_quote": services.open_quote(account=account),
        },
    )


@require_http_methods(["GET", "POST"])
@billing_contact_required
def add_seats(request):
    account = request.account
    problem = eligibility_problem(account=account)
    if problem:
        messages.error(request, problem)
        return redirect("corporate:subscriptions")
    today = timezone.localdate()
    problems = {
        s: product_problem(subscription=s, today=today)
        for s in selectors.portal_subscriptions(account=account)
    }
    eligible = [s for s, problem in problems.items() if problem is None]
    others = [{"subscription": s, "problem": p} for s, p in problems.items() if p is not None]
    form = AddSeatsForm(request.POST or None, subscriptions=eligible)
    current = services.open_quote(account=account)
    warn = False
    if request.method == "POST" and form.is_valid():
        requests = [services.SeatRequest(s.pk, n) for s, n in form.requests() if n]
        if current is not None and not form.cleaned_data["confirm_replace"] and requests:
            warn = True  # SPEC C.2: warn first; the same answers come back with the confirmation
        else:
            try:
                quote = services.create_quote(
                    account=account,
                    requests=requests,
                    actor=request.user,
                    replace_open=form.cleaned_data["confirm_replace"],
                )
            except services.CorporateError as error:
                form.add_error(None, error.message)
            else:
                return redirect("corporate:quote_detail", number=quote.number)
    return render(
        request,
        "corporate_portal/add_seats.html",
        {
            "form": form,
            "seat_rows": [{"subscription": s, "field": form.seat_field(s)} for s in eligible],
            "others": others,
            "open_quote": current,
            "warn": warn,
        },
    )


@require_GET
@billing_contact_required
def quote_list(request):
    quotes = selectors.quotes_of_account(account=request.account)
    return render(request, "corporate_portal/quotes.html", {"quotes": quotes, "ns": _ns(request)})


@require_GET
@billing_contact_required
def quote_detail(request, number: str):
    quote = get_for_account(selectors.quote_for_display(), account=request.account, number=number)
    return render(
        request,
        "corporate_portal/quote_detail.html",
        {"quote": quote, "ns": _ns(request), "is_open": quote.status == QuoteStatus.OPEN},
    )


@require_GET
@billing_contact_required
def quote_pdf(request, number: str):
    """The quote as a PDF in the account's language, as it stands now (corporate_portal.documents
    says why it is not stored)."""
    quote = get_for_account(selectors.quote_for_display(), account=request.account, number=number)
    response = HttpResponse(render_quote_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{quote.number}.pdf"'
    return response


@require_POST
@billing_contact_required
def reject_quote(request, number: str):
    quote = get_for_account(selectors.quote_for_display(), account=request.account, number=number)
    try:
        services.reject_quote(quote=quote, actor=request.user)
    except services.CorporateError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Quote %(number)s is rejected.") % {"number": quote.number})
    return redirect(f"{_ns(request)}:quote_detail", number=quote.number)


@require_http_methods(["GET", "POST"])
@billing_contact_required
def proceed_to_payment(request, number: str):
    account = request.account
    quote = get_for_account(selectors.quote_for_display(), account=account, number=number)
    draft = getattr(quote, "service_order", None)
    if quote.status != QuoteStatus.OPEN and not (
        draft and draft.status == ServiceOrderStatus.DRAFT
    ):
        messages.error(request, _("Only an open quote can be paid."))
        return redirect(f"{_ns(request)}:quote_detail", number=quote.number)
    cards = list(saved_cards(account=account))
    default = next((c for c in cards if c.is_default), None)
    billing = BillingDetails.of_account(account)
    initial = {**billing.__dict__, "payment_method": str(default.pk) if default else None}
    if draft:
        initial.update(
            admin_contact_name=draft.admin_contact_name,
            admin_contact_email=draft.admin_contact_email,
            payment_method=str(draft.payment_method_id),
        )
    form = PaymentForm(request.POST or None, initial=initial, cards=cards)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        details = services.PaymentDetails(
            admin_contact_name=data["admin_contact_name"],
            admin_contact_email=data["admin_contact_email"],
            payment_method=form.card,
            billing=form.billing_details(),
        )
        try:
            service_order = services.save_service_order(
                quote=quote, details=details, actor=request.user
            )
        except services.CorporateError as error:
            form.add_error("admin_contact_email" if "@" in error.message else None, error.message)
        else:
            return redirect(f"{_ns(request)}:service_order_detail", pk=service_order.pk)
    return render(
        request,
        "corporate_portal/payment.html",
        {"quote": quote, "form": form, "ns": _ns(request)},
    )


@require_GET
@billing_contact_required
def service_order_list(request):
    orders = selectors.service_orders_of_account(account=request.account)
    return render(
        request,
        "corporate_portal/service_orders.html",
        {"service_orders": orders, "ns": _ns(request)},
    )


@require_GET
@billing_contact_required
def service_order_detail(request, pk: int):
    service_order = get_for_account(
        selectors.service_order_for_display(), account=request.account, pk=pk
    )
    return render(
        request,
        "corporate_portal/service_order_detail.html",
        {"service_order": service_order, "quote": service_order.quote, "ns": _ns(request)},
    )


@require_POST
@billing_contact_required
def place_service_order(request, pk: int):
    service_order = get_for_account(
        selectors.service_order_for_display(), account=request.account, pk=pk
    )
    services.place_service_order(service_order=service_order, actor=request.user)
    service_order.refresh_from_db(fields=["status"])
    if service_order.status == ServiceOrderStatus.COMPLETED:
        # Processed already (a worker was free): say so, not "up to 24 hours".
        messages.success(
            request, _("Your service order is completed. A receipt is emailed to you.")
        )
    else:
        messages.success(
            request,
            _(
                "Your service order is placed. Processing can take up to 24 hours; a receipt "
                "will be emailed to you."
            ),
        )
    return redirect(f"{_ns(request)}:service_order_detail", pk=service_order.pk)


INVOICES_PAGE_SIZE = 50


@require_GET
@billing_contact_required
def invoice_list(request):
    """The account's invoices (its service orders', its renewals'), each opening the invoice page
    and PDF the two portals share (billing_center.access.SHARED_VIEWS)."""
    page = Paginator(invoices_of_account(account=request.account), INVOICES_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "corporate_portal/invoices.html", {"page": page})


@require_http_methods(["GET", "POST"])
@billing_contact_required
def payment_method(request):
    """Changing the payment method sends the account to the Billing Center for good (SPEC C.7):
    a warning first, then the move on confirmation."""
    if request.method == "POST":
        services.move_to_billing_center(account=request.account, actor=request.user)
        messages.success(
            request,
            _("Your account now uses the Billing Center. Manage your payment methods here."),
        )
        return redirect("checkout:payment_methods")
    return render(
        request,
        "corporate_portal/payment_method.html",
        {
            "cards": saved_cards(account=request.account),
            "billing_url": reverse("checkout:payment_methods"),
        },
    )
