"""Background work of the subscriptions app (Django Tasks API): the emails it sends."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks import task

from billing_center.emails import send_templated_email
from billing_center.models import User
from subscriptions.invoice_recipients import consent_token
from subscriptions.models import InvoiceCopyConsent, Subscription
from subscriptions.selectors import billing_contact_emails


@task()
def send_trial_welcome_email(subscription_id: int) -> None:
    subscription = Subscription.objects.select_related("account", "product", "plan").get(
        pk=subscription_id
    )
    account = subscription.account
    send_templated_email(
        to=billing_contact_emails(account),
        template="trial_welcome",
        context={"subscription": subscription, "account": account},
        language=account.language,
    )


@task()
def send_invitation_email(user_id: int, invited_by_id: int | None) -> None:
    user = User.objects.select_related("membership__account").get(pk=user_id)
    inviter = User.objects.filter(pk=invited_by_id).first()
    account = user.membership.account
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    send_templated_email(
        to=[user.email],
        template="invitation",
        context={
            "user": user,
            "account": account,
            "inviter": inviter,
            "set_password_url": f"{settings.SITE_URL}{path}",
            # The seats given with the invitation (a seat of a subscription, a corporate
            # service order's admin contact): read after the commit that gave them.
            "seats": list(
                user.seat_assignments.select_related(
                    "subscription__product", "subscription__plan"
                ).order_by("subscription__product__name")
            ),
        },
        language=account.language,
    )


def _subscription_email(subscription_id: int, template: str, **context) -> None:
    subscription = Subscription.objects.select_related("account", "product", "plan").get(
        pk=subscription_id
    )
    account = subscription.account
    send_templated_email(
        to=billing_contact_emails(account),
        template=template,
        context={"subscription": subscription, "account": account, **context},
        language=account.language,
    )


@task()
def send_trial_reminder_email(subscription_id: int) -> None:
    """A few days before a trial ends: what happens then, and how to buy."""
    _subscription_email(subscription_id, "trial_reminder")


@task()
def send_trial_ended_email(subscription_id: int) -> None:
    _subscription_email(subscription_id, "trial_ended")


@task()
def send_subscription_cancel_email(subscription_id: int, canceled: bool) -> None:
    """The cancellation at period end is confirmed (or taken back: resumed)."""
    _subscription_email(
        subscription_id, "subscription_canceled" if canceled else "subscription_resumed"
    )


@task()
def send_invoice_copy_consent_email(consent_id: int) -> None:
    """The one email an address added to the invoice copies gets before it confirms: who asks,
    and the link to confirm. Nothing else is sent to it until then."""
    consent = InvoiceCopyConsent.objects.select_related("account").filter(pk=consent_id).first()
    if consent is None or consent.confirmed_at is not None:
        return
    account = consent.account
    path = reverse("invoice_copy_consent", kwargs={"token": consent_token(consent)})
    send_templated_email(
        to=[consent.email],
        template="invoice_copy_consent",
        context={"account": account, "confirm_url": f"{settings.SITE_URL}{path}"},
        language=account.language,
    )
