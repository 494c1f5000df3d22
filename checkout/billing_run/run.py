"""The daily billing run (SPEC "D. Around the flows"): everything that happens because a day
has come, in the order it must happen. Idempotent (a second run of the same day changes
nothing), safe to run in several workers at once (rows are claimed with SKIP LOCKED), and it
catches up the days it missed. `manage.py run_billing [--today YYYY-MM-DD]` and the
`checkout.tasks.run_billing` task both call `run_billing`."""

from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from checkout.billing_run.dunning import DunningReport, one_email_per_account, retry_open_invoices
from checkout.billing_run.renewals import RenewalReport, renew_due_subscriptions
from checkout.payments.attempts import remembering_opened_attempts
from checkout.payments.reconciliation import Reconciliation, reconcile_payments
from subscriptions import lifecycle
from subscriptions.vies import recheck_vat_numbers


@dataclass
class BillingRunReport:
    today: date
    trials_reminded: int = 0
    trials_expired: int = 0
    subscriptions_ended: int = 0
    vat_numbers_checked: int = 0
    renewals: RenewalReport = field(default_factory=RenewalReport)
    dunning: DunningReport = field(default_factory=DunningReport)
    reconciliation: Reconciliation | None = None
    # Payments this run opened whose outcome is still not known when it ends.
    payments_left_open: int = 0

    def lines(self) -> list[str]:
        return [
            f"Billing run for {self.today.isoformat()}",
            f"  trials: {self.trials_reminded} reminded, {self.trials_expired} expired",
            f"  canceled subscriptions ended: {self.subscriptions_ended}",
            f"  VAT numbers asked of VIES: {self.vat_numbers_checked}",
            f"  renewals: {self.renewals}",
            f"  open invoices retried: {self.dunning}",
            f"  payments reconciled: {self.reconciliation}",
            f"  payments of this run still open: {self.payments_left_open}",
            f"  held by another run: {self.renewals.left_behind + self.dunning.left_behind}",
        ]

    def __str__(self):
        return "\n".join(self.lines())


def run_billing(
    *, today: date | None = None, batch_size: int = 200, on_progress=None
) -> BillingRunReport:
    today = today or timezone.localdate()
    report = BillingRunReport(today=today)
    report.trials_reminded = lifecycle.remind_trials(today=today, batch_size=batch_size)
    report.trials_expired = lifecycle.expire_trials(today=today, batch_size=batch_size)
    # Canceled subscriptions end before renewals are looked at: they are never renewed.
    report.subscriptions_ended = lifecycle.end_canceled_subscriptions(
        today=today, batch_size=batch_size
    )
    # Reverse charge only for numbers VIES has not rejected: stale or pending ones are asked
    # again before anything is renewed.
    report.vat_numbers_checked = recheck_vat_numbers(today=today)
    # A billing contact hears of this run's failed payments once: one email per account.
    with one_email_per_account(), remembering_opened_attempts() as opened:
        report.renewals = renew_due_subscriptions(
            today=today, batch_size=batch_size, on_progress=on_progress
        )
        report.dunning = retry_open_invoices(today=today, batch_size=batch_size)
    # The run settles the payments it opened before it reports (their age notwithstanding).
    report.reconciliation = reconcile_payments(opened_by=opened)
    report.payments_left_open = len(set(opened) & set(report.reconciliation.still_open_ids))
    return report


def shortfall(report: BillingRunReport) -> str:
    """What the run could not do, for an operator (empty when it did everything)."""
    problems = []
    held = report.renewals.left_behind + report.dunning.left_behind
    if held:
        problems.append(
            f"{held} due subscriptions or invoices were held by another run past the wait "
            "(BILLING_RUN_WAIT_SECONDS): run again once it is done"
        )
    if report.payments_left_open:
        problems.append(
            f"{report.payments_left_open} payments of this run are still open: the gateway "
            "could not tell their outcome; run reconcile_payments once it answers"
        )
    return "; ".join(problems)
