"""An order event that says paid settles its issued invoice once (streams/settling.py over the fakes),
and invoice.paid is announced when it does."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from infra.records import InvoiceRecord
from invoicing.settlement import InvoicePaymentStatus, Payment, PaymentSource, order_says_paid, with_digest
from schemas.orders import Order, parse_order_event
from schemas.public_events import InvoicePaid, PublicEventT
from streams.settling import settle_from_order
from tests.factories import encoded, order_event
from tests.memory import MemoryInvoices
from tests.unit.test_rendering import document

NOW = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)


def order(*payments: dict[str, Any]) -> Order:
    event = order_event("shop", "order-9")
    event["order"]["payments"] = list(payments)
    return parse_order_event(encoded(event)).order


async def issued(invoices: MemoryInvoices) -> InvoiceRecord:
    record = await invoices.allocate(
        tenant="shop", order_id="order-9", job_id="j", seq=1, number="INV-1", document=document()
    )
    assert record is not None
    await invoices.mark_issued(record, "shop/INV-1.pdf")
    return invoices.records[record.record_id]


class Announced(list[PublicEventT]):
    async def __call__(self, event: PublicEventT) -> None:
        self.append(event)


PAID = {"method": "invoice", "status": "CAPTURED"}


async def test_an_order_that_says_paid_pays_the_invoice_once_and_announces_it_once() -> None:
    invoices, announced = MemoryInvoices(), Announced()
    invoice = await issued(invoices)
    for _ in range(3):  # the event and two redeliveries
        await settle_from_order(invoices, announced, "shop", order(PAID), lambda: NOW)
    stored = invoices.records[invoice.record_id]
    assert stored.payment_status is InvoicePaymentStatus.PAID
    assert [(p.amount, p.source, p.method) for p in stored.payments] == [
        (Decimal("58.76"), PaymentSource.ORDER_EVENT, "invoice")
    ]
    assert announced == [
        InvoicePaid(
            tenant="shop", orderId="order-9", invoiceNumber="INV-1", currency="EUR",
            grossTotal=Decimal("58.76"), amountPaid=Decimal("58.76"), paidAt=NOW,
        )
    ]  # fmt: skip


async def test_an_order_event_pays_what_is_left_after_a_partial_payment() -> None:
    invoices, announced = MemoryInvoices(), Announced()
    invoice = await issued(invoices)
    partial = Payment("p1", Decimal("8.76"), "EUR", NOW.date(), "cash", None, NOW, PaymentSource.API, "k")
    await invoices.record_payment(invoice, with_digest(partial))
    result = await settle_from_order(invoices, announced, "shop", order(PAID), lambda: NOW)
    assert result is not None and result.payment.amount == Decimal("50.00") and result.became_paid
    assert len(announced) == 1


async def test_an_order_that_does_not_say_paid_or_is_not_invoiced_records_nothing() -> None:
    invoices, announced = MemoryInvoices(), Announced()
    assert await settle_from_order(invoices, announced, "shop", order(PAID), lambda: NOW) is None  # not invoiced
    invoice = await issued(invoices)
    pending = {"method": "invoice", "status": "PENDING"}
    assert await settle_from_order(invoices, announced, "shop", order(pending), lambda: NOW) is None
    assert invoices.records[invoice.record_id].payments == () and announced == []


@pytest.mark.parametrize(
    ("payments", "paid"),
    [
        ([{"method": "invoice", "status": "PENDING", "paidAmount": "58.76"}], True),
        (
            [
                {"method": "a", "status": "PENDING", "paidAmount": "50"},
                {"method": "b", "status": "PENDING", "paidAmount": "8.76"},
            ],
            True,
        ),
        ([{"method": "invoice", "status": "PENDING", "paidAmount": "58.75"}], False),
        ([{"method": "card", "status": "AUTHORIZED"}], False),
        ([], False),
    ],
)
def test_what_says_paid(payments: list[dict[str, Any]], paid: bool) -> None:
    assert order_says_paid(order(*payments).payments, Decimal("58.76")) is paid
