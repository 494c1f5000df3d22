"""Service orders as other systems see them (the webhooks' service_order.completed)."""

from datetime import datetime

from ninja import Schema

from checkout.representations import money
from corporate_portal.models import ServiceOrder
from subscriptions.representations import AccountRef, Money


class ServiceOrderOut(Schema):
    id: int
    account: AccountRef
    status: str
    admin_contact_email: str
    total: Money
    invoice: str | None
    placed_at: datetime | None
    subscriptions: list[int]

    @classmethod
    def of(cls, service_order: ServiceOrder) -> "ServiceOrderOut":
        order = service_order.order
        invoice = getattr(order, "invoice", None) if order is not None else None
        return cls(
            id=service_order.pk,
            account=AccountRef(id=service_order.account_id, name=service_order.account.name),
            status=service_order.status,
            admin_contact_email=service_order.admin_contact_email,
            total=money(service_order.total),
            invoice=invoice.number if invoice is not None else None,
            placed_at=service_order.placed_at,
            subscriptions=sorted(
                {line.subscription_id for line in order.lines.all() if line.subscription_id}
            )
            if order is not None
            else [],
        )


def service_order_payload(service_order: ServiceOrder) -> dict:
    return ServiceOrderOut.of(service_order).model_dump(mode="json")
