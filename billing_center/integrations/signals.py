from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from billing_center.integrations.events import forget_endpoints
from billing_center.integrations.models import WebhookEndpoint


@receiver([post_save, post_delete], sender=WebhookEndpoint)
def endpoints_changed(**kwargs):
    forget_endpoints()
