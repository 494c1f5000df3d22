"""Invoices as other systems see them (the read API and the webhooks' events)."""

from datetime import date, datetime

from ninja import Schema

from checkout.models import Invoice
from subscriptions.representations import AccountRef, Money


def money(value) -> Money:
    return Money(amount=str(value.amount), currency=value.currency.code)


class InvoiceLineOut(Schema):
    kind: str
    product: str
    plan: str
    cycle: str
    seats: int
    period_start: date
    period_end: date
    amount: Money
    subscription: int | None


class InvoiceOut(Schema):
    number: str
    kind: str
    status: str
    account: AccountRef
    order: str
    issued_at: datetime
    paid_at: datetime | None
    subtotal: Money
    tax: Money
    total: Money
    amount_due: Money
    corrects: str | None
    lines: list[InvoiceLineOut]

    @classmethod
    def of(cls, invoice: Invoice) -> "InvoiceOut":
        order = invoice.order
        return cls(
            number=invoice.number,
            kind=invoice.kind,
            status=invoice.status,
            account=AccountRef(id=invoice.account_id, name=invoice.account.name),
            order=order.number,
            issued_at=invoice.issued_at,
            paid_at=invoice.paid_at,
            subtotal=money(order.subtotal),
            tax=money(order.tax),
            total=money(order.total),
            amount_due=money(invoice.amount_due),
            corrects=invoice.corrects.number if invoice.corrects_id else None,
            lines=[
                InvoiceLineOut(
                    kind=line.kind,
                    product=line.product_name,
                    plan=line.plan_name,
                    cycle=line.cycle,
                    seats=line.seat_count,
                    period_start=line.period_start,
                    period_end=line.period_end,
                    amount=money(line.amount),
                    subscription=line.subscription_id,
                )
                for line in order.lines.all()
            ],
        )


def invoice_payload(invoice: Invoice) -> dict:
    return InvoiceOut.of(invoice).model_dump(mode="json")
