from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.models import BillingCycle, Plan

# Far above any plan's maximum, far below what the database column holds: 10^20 is refused here.
SEAT_COUNT_CEILING = 100_000


class PlanChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, plan):
        return plan.name


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

    def __init__(self, *args, plans, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = plans
        self.fields["seat_count"].widget.attrs.update({"inputmode": "numeric", "data-seats": ""})

    def clean(self):
        cleaned = super().clean()
        plan, seats = cleaned.get("plan"), cleaned.get("seat_count")
        if plan is not None and seats is not None and not plan.min_seats <= seats <= plan.max_seats:
            self.add_error(
                "seat_count",
                _("Choose between %(min)s and %(max)s seats for %(plan)s.")
                % {"min": plan.min_seats, "max": plan.max_seats, "plan": plan.name},
            )
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
