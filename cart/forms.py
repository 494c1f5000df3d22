from django import forms
from django.utils.translation import gettext_lazy as _

from billing_center.money import format_money
from catalog.models import BillingCycle, Plan
from subscriptions.seats import seat_count_problem

# Far above any plan's maximum, far below what the database column holds: 10^20 is refused here.
SEAT_COUNT_CEILING = 100_000


def plan_label(plan) -> str:
    """The plan and its prices per seat without VAT (from the prices prefetched in the account's
    currency: cart.selectors.plans_sold_in), so the plan step shows what each tier costs."""
    prices = {price.cycle: price.amount for price in plan.prices.all()}
    parts = []
    if BillingCycle.MONTHLY in prices:
        price = format_money(prices[BillingCycle.MONTHLY])
        parts.append(_("%(price)s excl. VAT / seat / month") % {"price": price})
    if BillingCycle.ANNUAL in prices:
        price = format_money(prices[BillingCycle.ANNUAL])
        parts.append(_("%(price)s excl. VAT / seat / year") % {"price": price})
    return " · ".join([plan.name, *parts]) if parts else plan.name


class PlanChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, plan):
        return plan_label(plan)


class SeatsForm(forms.Form):
    """Tier and number of seats of one product (wizard step 3, cart item edits)."""

    plan = PlanChoiceField(
        label=_("Plan"),
        queryset=Plan.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose one of the plans shown.")},
    )
    seat_count = forms.IntegerField(
        label=_("Number of seats"),
        min_value=1,
        max_value=SEAT_COUNT_CEILING,
        error_messages={
            "invalid": _("Enter a whole number of seats."),
            "required": _("Enter a number of seats."),
        },
    )

    def __init__(self, *args, plans, assigned: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.assigned = assigned  # seats already given to users: the count cannot go below
        self.fields["plan"].queryset = plans
        self.fields["seat_count"].widget.attrs.update({"inputmode": "numeric", "data-seats": ""})

    def clean(self):
        cleaned = super().clean()
        plan, seats = cleaned.get("plan"), cleaned.get("seat_count")
        if plan is not None and seats is not None:
            problem = seat_count_problem(plan=plan, seat_count=seats, assigned=self.assigned)
            if problem:
                self.add_error("seat_count", problem)
        return cleaned


class CycleForm(forms.Form):
    cycle = forms.ChoiceField(
        label=_("Billing cycle"),
        choices=BillingCycle.choices,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose Monthly or Annual.")},
    )


class CartItemForm(SeatsForm):
    cycle = forms.ChoiceField(
        label=_("Billing cycle"),
        choices=BillingCycle.choices,
        error_messages={"invalid_choice": _("Choose Monthly or Annual.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].widget = forms.Select()
        self.fields["plan"].widget.choices = self.fields["plan"].choices


class CartItemFields:
    """What the cart shows of an item's CartItemForm without building one per item (a bound
    form renders each widget through its templates and reads its plans once per item): the
    same names, ids, labels, choices and limits, in templates/cart/_item_fields.html. The POST
    is still validated by CartItemForm."""

    def __init__(self, item, plans):
        fields = CartItemForm.base_fields
        self.prefix = f"item-{item.pk}"
        self.item = item
        self.plan_label = fields["plan"].label
        self.plans = [(plan.pk, plan_label(plan)) for plan in plans]
        self.cycle_label = fields["cycle"].label
        self.cycles = fields["cycle"].choices
        self.seats_label = fields["seat_count"].label
        self.seats_min, self.seats_max = 1, SEAT_COUNT_CEILING


class ChangeForm(CartItemForm):
    """New seats, tier and cycle of a live subscription (Add Organizers / Agents / Experts…)."""
