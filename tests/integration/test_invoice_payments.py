"""Payments end to end, on the real services: through the API (partial, full, one too many; a retry
under the same Idempotency-Key; two concurrent payments that together exceed what is due), and from an
order event that says paid (recorded once however often it comes); invoice.paid once on invoice-events."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from infra.kafka import kafka_client_options
from infra.settings import Settings
from tests.factories import order_event
from tests.integration.flows import invoice_events
from tests.support import WorkerProcess, wait_for

pytestmark = pytest.mark.integration

Publish = Callable[..., Awaitable[None]]
GROSS = "58.76"  # the factory order's gross total


@dataclass
class PublicEvents:
    """What invoice-events carries for the module's tenant: (ce_id, body)."""

    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def paid(self, number: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (i, body) for i, body in self.seen if body["type"] == "invoice.paid" and body["invoiceNumber"] == number
        ]


@pytest.fixture(scope="module")
def shop() -> str:
    return "pay" + uuid.uuid4().hex[:10]


@pytest.fixture(scope="module")
async def public_events(settings: Settings, shop: str) -> AsyncIterator[PublicEvents]:
    consumer = AIOKafkaConsumer(
        settings.topic(settings.topic_invoice_events),
        **kafka_client_options(settings),
        group_id=f"payments-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    events = PublicEvents()

    async def consume() -> None:
        while True:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    body = json.loads(record.value)
                    if body["tenant"] == shop:
                        events.seen.append((dict(record.headers)["ce_id"].decode(), body))

    consuming = asyncio.create_task(consume())
    try:
        yield events
    finally:
        consuming.cancel()
        await consumer.stop()


async def invoiced(api: httpx.AsyncClient, publish_orders: Publish, stored_order: Any, shop: str, order_id: str) -> str:
    results = await invoice_events(api, publish_orders, stored_order, shop, order_event(shop, order_id))
    assert results[order_id]["orderStatus"] == "SUCCESS", results
    number: str = results[order_id]["invoiceNumber"]
    return number


def body(amount: str, reference: str = "r") -> dict[str, Any]:
    return {
        "amount": amount,
        "currency": "EUR",
        "date": "2026-12-01",
        "method": "bank_transfer",
        "reference": reference,
    }


async def test_a_partial_then_a_full_payment_then_one_too_many(
    api: httpx.AsyncClient, worker: WorkerProcess, publish_orders: Publish, stored_order: Any, shop: str,
    public_events: PublicEvents,
) -> None:  # fmt: skip
    number = await invoiced(api, publish_orders, stored_order, shop, "pay-1")
    url = f"/invoice/{shop}/invoices/{number}/payments"
    partial = await api.post(url, json=body("20.00"))
    assert partial.status_code == 201, partial.text
    assert partial.json()["invoice"] | {"dueOn": None} == {
        "invoiceNumber": number, "currency": "EUR", "paymentStatus": "partially_paid", "amountPaid": "20.00",
        "amountDue": "38.76", "dueOn": None,
    }  # fmt: skip
    full = await api.post(url, json=body("38.76"))
    assert full.status_code == 201 and full.json()["invoice"]["paymentStatus"] == "paid"
    over = await api.post(url, json=body("0.01"))
    assert over.status_code == 409 and over.json()["detailInfo"] == "amountDue: 0.00 EUR"
    shown = (await api.get(f"/invoice/{shop}/invoices/{number}")).json()
    assert (shown["paymentStatus"], shown["amountPaid"], shown["amountDue"]) == ("paid", GROSS, "0.00")
    listed = (await api.get(f"/invoice/{shop}/invoices", params={"paymentStatus": "paid"})).json()["items"]
    assert number in [item["number"] for item in listed]
    [(_, paid)] = await wait_for(lambda: _async(public_events.paid(number)), timeout=30, what="invoice.paid")
    assert (paid["amountPaid"], paid["grossTotal"], paid["orderId"]) == (GROSS, GROSS, "pay-1")


async def test_a_redelivered_payment_request_is_recorded_once(
    api: httpx.AsyncClient, worker: WorkerProcess, publish_orders: Publish, stored_order: Any, shop: str
) -> None:
    number = await invoiced(api, publish_orders, stored_order, shop, "pay-2")
    url = f"/invoice/{shop}/invoices/{number}/payments"
    headers = {"Idempotency-Key": "transfer-4711"}
    first = await api.post(url, json=body("10.00"), headers=headers)
    again = await api.post(url, json=body("10.00"), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["payment"] == first.json()["payment"]
    other = await api.post(url, json=body("11.00"), headers=headers)
    assert other.status_code == 409
    payments = (await api.get(url)).json()
    assert [p["amount"] for p in payments["items"]] == ["10.00"] and payments["invoice"]["amountDue"] == "48.76"


async def test_of_two_concurrent_payments_that_together_exceed_the_amount_due_exactly_one_wins(
    api: httpx.AsyncClient, worker: WorkerProcess, publish_orders: Publish, stored_order: Any, shop: str
) -> None:
    number = await invoiced(api, publish_orders, stored_order, shop, "pay-3")
    url = f"/invoice/{shop}/invoices/{number}/payments"
    answers = await asyncio.gather(*(api.post(url, json=body("40.00", f"r{n}")) for n in range(2)))
    assert sorted(a.status_code for a in answers) == [201, 409]
    refused = next(a for a in answers if a.status_code == 409)
    assert refused.json()["detailInfo"] == "amountDue: 18.76 EUR"
    payments = (await api.get(url)).json()
    assert len(payments["items"]) == 1 and payments["invoice"]["amountPaid"] == "40.00"


async def test_an_order_event_that_says_paid_marks_the_invoice_paid_once(
    api: httpx.AsyncClient, worker: WorkerProcess, publish_orders: Publish, stored_order: Any, shop: str,
    public_events: PublicEvents,
) -> None:  # fmt: skip
    number = await invoiced(api, publish_orders, stored_order, shop, "pay-4")
    later = datetime.now(UTC) + timedelta(seconds=1)
    paid = order_event(shop, "pay-4", occurred_at=later, payments=[{"method": "invoice", "status": "CAPTURED"}])
    await publish_orders(shop, paid, paid)  # the event and a redelivery of it

    async def settled() -> dict[str, Any] | None:
        shown: dict[str, Any] = (await api.get(f"/invoice/{shop}/invoices/{number}")).json()
        return shown if shown.get("paymentStatus") == "paid" else None

    await wait_for(settled, timeout=60, what=f"invoice {number} paid by the order event")
    # One more copy, then a later snapshot of the same order (same partition, so handled after the copies).
    last = order_event(
        shop, "pay-4", occurred_at=later + timedelta(seconds=1), status="SHIPPED", payments=paid["order"]["payments"]
    )
    await publish_orders(shop, paid, last)

    async def last_stored() -> bool:
        doc = await stored_order(shop, "pay-4")
        return doc is not None and doc["status"] == "SHIPPED"

    await wait_for(last_stored, timeout=60, what="the last order event stored")
    payments = (await api.get(f"/invoice/{shop}/invoices/{number}/payments")).json()["items"]
    assert [(p["amount"], p["source"]) for p in payments] == [(GROSS, "order_event")]
    await wait_for(lambda: _async(public_events.paid(number)), timeout=30, what="invoice.paid")
    assert len(public_events.paid(number)) == 1


async def _async(value: Any) -> Any:
    return value
