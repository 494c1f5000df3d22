"""The cart page and checkout (SPEC A.6–A.9), the order confirmation and invoices."""

from collections import defaultdict

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing_center.access import billing_contact_required, get_for_account
from cart.forms import CartItemFields, ChangeForm
from cart.selectors import cart_with_items, plans_sold_by_product, plans_sold_in
from cart.services import PurchaseError, add_change_to_cart, get_cart
from checkout import selectors
from checkout.billing import BillingDetails, BillingInformationError, update_billing_information
from checkout.cancellation import cancel_suspended_now, suspended_cancellation
from checkout.card_entry import (
    card_entry_context,
    returned_from_card_page,
    to_hosted_card_page,
    wants_card_entry,
)
from checkout.forms import BillingInformationForm, CheckoutForm, NewCardForm, PayInvoiceForm
from checkout.invoices.documents import open_document_pdf
from checkout.invoices.einvoice import cii_xml, has_einvoice
from checkout.invoices.payments import InvoicePaymentError
from checkout.invoices.payments import pay_invoice as pay_invoice_service
from checkout.models import AttemptStatus, InvoiceStatus, PaymentMethod, PaymentPurpose
from checkout.payments.attempts import PaymentFailed, PaymentPending, PaymentRequiresAction
from checkout.payments.cards import (
    PaymentMethodError,
    add_payment_method,
    finish_card_setup,
    removal_problem,
    remove_payment_method,
    set_default_payment_method,
)
from checkout.payments.gateway import PaymentDeclined, decline_message
from checkout.payments.money_path import continue_after_authentication
from checkout.payments.reconciliation import settle
from checkout.placement import CheckoutError, change_preview, place_order, preview_order
from checkout.pricing import PricingError
from checkout.tasks import renew_reactivated
from checkout.tax import MissingVatRate
from subscriptions import lifecycle
from subscriptions import selectors as subscription_selectors
from subscriptions import services as subscription_services
from subscriptions.forms import CancelForm
from subscriptions.invoice_recipients import invoice_cc_states
from subscriptions.models import SubscriptionStatus


@require_GET
@billing_contact_required
def cart_detail(request):
    """The cart (SPEC A.6), priced exactly as the checkout page prices it (preview_order): per
    item its lines (a change: the credit for the unused time, then the new period), then the
    subtotal, the VAT with its mention, the total, the credit applied and the total due."""
    account = request.account
    cart = cart_with_items(owner=request.user, account=request.account)
    items = list(cart.items.all()) if cart is not None else []
    pricing, problem = None, None
    if items:
        try:
            pricing = preview_order(cart=cart, billing=BillingDetails.of_account(account))
        except MissingVatRate:
            problem = _("We cannot sell to your country right now. Please contact us.")
        except PricingError as error:
            problem = str(error)
    # One item per product in a cart (its lines are those of its product: a credit line's plan
    # is the subscription's, of the same product).
    lines = defaultdict(list)
    for line in pricing.lines if pricing is not None else ():
        lines[line.plan.product_id].append(line)
    plans = plans_sold_by_product(
        product_ids={item.product_id for item in items}, currency=account.currency
    )
    rows = []
    for item in items:
        item_lines = lines[item.product_id]
        rows.append(
            {
                "item": item,
                "lines": item_lines,
                "amount": sum((line.amount for line in item_lines[1:]), item_lines[0].amount)
                if item_lines
                else None,
                "fields": CartItemFields(item, plans[item.product_id]),
            }
        )
    return render(request, "cart/cart.html", {"rows": rows, "pricing": pricing, "problem": problem})


def _initial(account, cart, pricing, cards):
    billing = BillingDetails.of_account(account)
    default = next((card for card in cards if card.is_default), None) or (
        cards[0] if cards else None
    )
    return {
        **billing.__dict__,
        "payment": str(default.pk) if default else "new",
        "cart_version": cart.version,
        "pricing_fingerprint": pricing.fingerprint,
    }


@require_http_methods(["GET", "POST"])
@billing_contact_required
def checkout(request):
    account = request.account
    cart = cart_with_items(owner=request.user, account=request.account)
    if (
        request.method == "POST"
        and cart is not None
        and str(cart.version) != request.POST.get("cart_version")
    ):
        # Place Order pressed again after the order was placed (which emptied the cart and
        # moved its version on): show that order.
        placed = selectors.order_of_cart_version(
            cart=cart, version=request.POST.get("cart_version")
        )
        if placed is not None:
            return redirect("checkout:order_confirmation", number=placed.number)
    if cart is None or not cart.items.all():
        messages.info(request, _("Your cart is empty."))
        return redirect("cart:detail")
    cards = list(selectors.saved_cards(account=account))
    try:
        pricing = preview_order(cart=cart, billing=BillingDetails.of_account(account))
    except MissingVatRate:
        messages.error(request, _("We cannot sell to your country right now. Please contact us."))
        return redirect("cart:detail")

    initial = _initial(account, cart, pricing, cards)
    returned = returned_from_card_page(request)
    form = CheckoutForm(
        request.POST or None,
        initial={**initial, **returned} if returned else initial,
        saved_cards=cards,
        payment_required=pricing.amount_due.amount > 0,
    )
    if request.method == "POST" and wants_card_entry(request, form):
        return to_hosted_card_page(request)  # a new card, and no JavaScript to take it here
    if request.method == "POST" and form.is_valid():
        billing = form.billing_details()
        try:
            # place_order prices the cart with these details and refuses it if the page showed
            # another price; the page's own price says whether a card is needed.
            new_card = form.new_card() if form.payment_required else None
            order = place_order(
                cart=cart,
                cart_version=form.cleaned_data["cart_version"],
                billing=billing,
                expected_pricing=form.cleaned_data["pricing_fingerprint"],
                actor=request.user,
                payment_method=None if form.uses_new_card else form.saved_card,
                new_card=new_card,
            )
        except PaymentRequiresAction as action:
            return redirect(action.url)  # the bank's authentication, then payment_return
        except PaymentPending as pending:
            return redirect("checkout:payment_status", public_id=pending.attempt.public_id)
        except (PaymentDeclined, PaymentFailed) as error:
            form.add_error(None, error.message)
        except CheckoutError as error:
            form.add_error(None, error.message)
            if error.pricing is not None:
                pricing = error.pricing
                form = _rebound(form, pricing, cards)
        except MissingVatRate:
            form.add_error(
                "country", _("We cannot sell to this country right now. Please contact us.")
            )
        else:
            return redirect("checkout:order_confirmation", number=order.number)
    return render(
        request,
        "checkout/checkout.html",
        {
            "cart": cart,
            "pricing": pricing,
            "form": form,
            "cards": cards,
            **card_entry_context(form),
        },
    )


def _rebound(form: CheckoutForm, pricing, cards) -> CheckoutForm:
    """The same answers again, carrying the new priced order the page now shows."""
    data = form.data.copy()
    data["pricing_fingerprint"] = pricing.fingerprint
    rebound = CheckoutForm(data, saved_cards=cards, payment_required=pricing.amount_due.amount > 0)
    rebound.is_valid()
    for error in form.non_field_errors():
        rebound.add_error(None, error)
    return rebound


@require_GET
@billing_contact_required
def payment_status(request, public_id):
    """Where a billing contact waits when the gateway's answer was not known: it tells whether
    they were charged, and moves on to the order as soon as it is placed."""
    attempt = get_for_account(
        selectors.payment_attempts(), account=request.account, public_id=public_id
    )
    settle(attempt)
    if attempt.order_id is not None:
        return _paid(request, attempt)
    return render(
        request,
        "checkout/payment_status.html",
        {
            "attempt": attempt,
            "invoice": selectors.invoice_paid_by(attempt),
            "decline": decline_message(attempt.decline_code) if attempt.decline_code else "",
        },
    )


def _renew_what_paying_reactivated(account_id: int) -> None:
    """A suspended subscription paid back after its period ended is due from today: charged
    now, not at the next billing run."""
    renew_reactivated.enqueue(account_id, timezone.localdate().isoformat())


def _paid(request, attempt):
    if attempt.purpose == PaymentPurpose.INVOICE:
        return redirect("checkout:invoice_detail", number=attempt.order.invoice.number)
    return redirect("checkout:order_confirmation", number=attempt.order.number)


@require_GET
@billing_contact_required
def payment_return(request, public_id):
    """Where the processor sends the billing contact back after authenticating a payment with
    their bank. The visit proves nothing: the processor is asked how the payment ended, and
    the order (or the invoice) is completed only if it captured. Coming back twice, or with a
    forged link, changes nothing."""
    attempt = get_for_account(
        selectors.payment_attempts(), account=request.account, public_id=public_id
    )
    attempt = continue_after_authentication(attempt)
    if attempt.order_id is not None:
        if attempt.purpose == PaymentPurpose.INVOICE:
            messages.success(
                request,
                _("Invoice %(number)s is paid. Thank you.")
                % {"number": attempt.order.invoice.number},
            )
            _renew_what_paying_reactivated(attempt.account_id)
        return _paid(request, attempt)
    if attempt.status in (AttemptStatus.DECLINED, AttemptStatus.FAILED):
        messages.error(request, decline_message(attempt.decline_code or "authentication_failed"))
        invoice = selectors.invoice_paid_by(attempt)
        if invoice is not None:
            return redirect("checkout:pay_invoice", number=invoice.number)
        return redirect("checkout:checkout")
    return redirect("checkout:payment_status", public_id=attempt.public_id)


@require_GET
@billing_contact_required
def order_confirmation(request, number: str):
    order = get_for_account(selectors.orders_for_display(), account=request.account, number=number)
    return render(request, "checkout/order_confirmation.html", {"order": order})


@require_GET
@billing_contact_required
def invoice_list(request):
    page = Paginator(selectors.invoices_of_account(account=request.account), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "checkout/invoices.html", {"invoices": page.object_list, "page": page})


@require_GET
@billing_contact_required
def invoice_detail(request, number: str):
    invoice = get_for_account(
        selectors.invoices_for_display(), account=request.account, number=number
    )
    return render(
        request, "checkout/invoice_detail.html", {"invoice": invoice, "order": invoice.order}
    )


@require_http_methods(["GET", "POST"])
@billing_contact_required
def pay_invoice(request, number: str):
    """Pay now: an open invoice (a renewal whose charge was declined) paid with a saved card or
    a new one; paying reactivates what it renewed."""
    invoice = get_for_account(
        selectors.invoices_for_display(), account=request.account, number=number
    )
    if invoice.is_credit_note:  # nothing is ever paid on a credit note
        return redirect("checkout:invoice_detail", number=invoice.number)
    if invoice.status != InvoiceStatus.OPEN:
        return render(request, "checkout/pay_invoice.html", {"invoice": invoice, "form": None})
    cards = list(selectors.saved_cards(account=request.account))
    failed = selectors.last_failed_payment(invoice)
    offered = selectors.card_to_offer(cards=cards, failed=failed, today=timezone.localdate())
    initial = {"payment": str(offered.pk) if offered else "new"}
    returned = returned_from_card_page(request)
    form = PayInvoiceForm(
        request.POST or None,
        initial={**initial, **returned} if returned else initial,
        saved_cards=cards,
    )
    if request.method == "POST" and wants_card_entry(request, form):
        return to_hosted_card_page(request)
    if request.method == "POST" and form.is_valid():
        try:
            pay_invoice_service(
                invoice=invoice,
                actor=request.user,
                payment_method=None if form.uses_new_card else form.saved_card,
                new_card=form.new_card(),
            )
        except PaymentRequiresAction as action:
            return redirect(action.url)
        except PaymentPending as pending:
            return redirect("checkout:payment_status", public_id=pending.attempt.public_id)
        except (PaymentDeclined, PaymentFailed, InvoicePaymentError) as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("Invoice %(number)s is paid. Thank you.") % {"number": invoice.number},
            )
            _renew_what_paying_reactivated(invoice.account_id)
            return redirect("checkout:invoice_detail", number=invoice.number)
    return render(
        request,
        "checkout/pay_invoice.html",
        {
            "invoice": invoice,
            "form": form,
            "cards": cards,
            "failed": failed,
            "failed_reason": decline_message(failed.decline_code) if failed else "",
            **card_entry_context(form),
        },
    )


@require_GET
@billing_contact_required
def invoice_pdf(request, number: str):
    """The invoice or credit note as a PDF, in the language it was issued in (the account's):
    the copy stored when it was issued (checkout.invoices.documents)."""
    invoice = get_for_account(selectors.invoice_pdfs(), account=request.account, number=number)
    with open_document_pdf(invoice) as pdf:
        response = HttpResponse(pdf.read(), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.pdf_filename}"'
    return response


@require_GET
@billing_contact_required
def invoice_xml(request, number: str):
    """The invoice or credit note as its EN 16931 XML alone (what its PDF embeds as
    factur-x.xml), for an accounts-payable platform that takes the XML: same access as the PDF."""
    invoice = get_for_account(
        selectors.invoices_for_display(), account=request.account, number=number
    )
    if not has_einvoice(invoice):
        raise Http404
    response = HttpResponse(cii_xml(invoice), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.xml"'
    return response


@require_http_methods(["GET", "POST"])
@billing_contact_required
def payment_methods(request):
    """The account's saved cards: add one (entered in the processor's card fields, set up for
    later charges with the bank's authentication where the card asks for it), choose the
    default."""
    account = request.account
    returned = returned_from_card_page(request)
    form = NewCardForm(request.POST or None, initial=returned)
    if request.method == "POST" and wants_card_entry(request, form):
        return to_hosted_card_page(request)
    if request.method == "POST" and form.is_valid():
        try:
            saving = add_payment_method(
                account=account,
                new_card=form.new_card(),
                make_default=form.cleaned_data["make_default"],
                actor=request.user,
            )
        except PaymentMethodError as error:
            form.add_error(None, error.message)
        else:
            if saving.action_url:
                # The bank confirms it is the cardholder; the choice waits for the way back.
                request.session[_setup_key(saving.payment_method)] = form.cleaned_data[
                    "make_default"
                ]
                return redirect(saving.action_url)
            messages.success(request, _("The card is saved."))
            return redirect("checkout:payment_methods")
    return render(
        request,
        "checkout/payment_methods.html",
        {
            "cards": selectors.saved_cards(account=account),
            "form": form,
            **card_entry_context(form),
        },
    )


def _setup_key(card: PaymentMethod) -> str:
    return f"card-setup-default:{card.pk}"


@require_GET
@billing_contact_required
def card_setup_return(request, pk: int):
    """Back from the bank's authentication of a card being saved: the processor is asked how
    it went; the card is saved only if the setup succeeded."""
    card = get_for_account(
        PaymentMethod.objects.filter(removed_at__isnull=True), account=request.account, pk=pk
    )
    try:
        saving = finish_card_setup(
            payment_method=card,
            make_default=request.session.get(_setup_key(card), False),
            actor=request.user,
        )
    except PaymentMethodError as error:
        messages.error(request, error.message)
    else:
        if saving.action_url:
            messages.warning(request, _("Your bank has not confirmed the card yet."))
        else:
            request.session.pop(_setup_key(card), None)
            messages.success(request, _("The card is saved."))
    return redirect("checkout:payment_methods")


@require_POST
@billing_contact_required
def make_default_payment_method(request, pk: int):
    card = get_for_account(
        selectors.saved_cards(account=request.account), account=request.account, pk=pk
    )
    try:
        set_default_payment_method(payment_method=card, actor=request.user)
    except PaymentMethodError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(card)s is now your default card.") % {"card": card})
    return redirect("checkout:payment_methods")


@require_http_methods(["GET", "POST"])
@billing_contact_required
def remove_payment_method_view(request, pk: int):
    """Remove a card: a confirmation page, then the removal (refused for the default card while
    a subscription renews on it)."""
    card = get_for_account(
        selectors.saved_cards(account=request.account), account=request.account, pk=pk
    )
    if request.method == "POST":
        try:
            remove_payment_method(payment_method=card, actor=request.user)
        except PaymentMethodError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("%(card)s is removed.") % {"card": card})
        return redirect("checkout:payment_methods")
    return render(
        request,
        "checkout/remove_payment_method.html",
        {"card": card, "problem": removal_problem(payment_method=card)},
    )


@require_http_methods(["GET", "POST"])
@billing_contact_required
def billing_information(request):
    """Company name, billing address, VAT number and who else gets the invoice emails: saved
    for the next invoice through the service checkout uses."""
    account = request.account
    initial = {
        **BillingDetails.of_account(account).__dict__,
        "invoice_cc_emails": "\n".join(account.invoice_cc_emails),
    }
    form = BillingInformationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            update_billing_information(
                account=account,
                billing=form.billing_details(),
                invoice_cc_emails=form.cleaned_data["invoice_cc_emails"],
                actor=request.user,
            )
        except BillingInformationError as error:
            form.add_error("invoice_cc_emails", error.message)
        else:
            messages.success(
                request, _("Your billing information is saved. It applies to your next invoice.")
            )
            return redirect("checkout:billing_information")
    context = {"form": form, "account": account, "copies": invoice_cc_states(account)}
    return render(request, "checkout/billing_information.html", context)


@require_http_methods(["GET", "POST"])
@billing_contact_required
def change_subscription(request, pk: int):
    """Add Organizers / Agents / Experts…: seats up or down (tier and cycle too), with what the
    change costs; then Add to Cart. In trial the change is free and applies at once."""
    subscription = get_for_account(
        subscription_selectors.live_subscriptions_with_seat_counts(account=request.account),
        account=request.account,
        pk=pk,
    )
    subscription.account = request.account
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
    assigned = subscription.assigned_seats()
    # The seats already given are checked with the price (change_preview), so the page shows
    # that problem where it shows the cost.
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
                subscription_services.change_trial_seats(
                    subscription=subscription,
                    seat_count=form.cleaned_data["seat_count"],
                    actor=request.user,
                )
            except subscription_services.SubscriptionError as error:
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
            "assigned_count": assigned,
            "form": form,
            "plans": plans,
            "preview": preview,
            "problem": problem,
        },
    )


@require_http_methods(["GET", "POST"])
@billing_contact_required
def cancel_suspended(request, pk: int):
    """Cancel a suspended subscription at once (SPEC "D. Around the flows"): the page says what
    its open invoice becomes (the credit note for the suspended days, what stays due), then the
    billing contact confirms."""
    subscription = get_for_account(
        subscription_selectors.subscriptions_of_account(account=request.account),
        account=request.account,
        pk=pk,
    )
    if subscription.status != SubscriptionStatus.UNPAID:
        return redirect("subscriptions:cancel", pk=subscription.pk)
    today = timezone.localdate()
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            correction = cancel_suspended_now(
                subscription=subscription,
                actor=request.user,
                today=today,
                reason=form.cleaned_data["reason"],
                comment=form.cleaned_data["comment"],
            )
        except lifecycle.LifecycleError as error:
            messages.error(request, error.message)
            return redirect("subscriptions:subscription_detail", pk=subscription.pk)
        messages.success(request, _("%(product)s is canceled.") % {"product": subscription.product})
        if correction.invoice is not None:
            return redirect("checkout:invoice_detail", number=correction.invoice.number)
        return redirect("subscriptions:dashboard")
    context = {
        "subscription": subscription,
        "form": form,
        "correction": suspended_cancellation(subscription=subscription, today=today),
    }
    return render(request, "checkout/cancel_suspended.html", context)
