"""Payment capture end to end: the worker captures authorised payments through a real HTTP gateway
(tests/fakes.py, started by the test; the worker gets its URL through INVOICE_PAYMENT_GATEWAY_URL)
before it numbers the invoice."""

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from infra.captures import PaymentCaptures
from infra.credit_notes import CreditNoteRepository
from infra.invoices import InvoiceRepository
from infra.links import LinkSigner
from infra.mail import Mailer
from infra.orders import OrderRepository
from infra.payments import PaymentGateway
from infra.settings import Settings
from infra.storage import LocalStorage
from infra.tenant_settings import TenantSettingsRepository
from invoicing.payments import idempotency_key
from invoicing.recalculation import recalculate
from schemas.events import OrderInvoiceRequested
from schemas.orders import parse_order_event
from streams.capturing import capture_payment
from streams.emailing import EmailDeps
from streams.pipeline import PipelineDeps
from tests.factories import encoded, order_event
from tests.fakes import FakePaymentGateway
from tests.integration.conftest import GATEWAY_API_KEY
from tests.integration.flows import create_job, finished_job, invoice_events, pdf_text, stored
from tests.support import WorkerProcess

pytestmark = pytest.mark.integration

Publish = Callable[..., Awaitable[None]]


def card(transaction_id: str, status: str = "AUTHORIZED") -> list[dict[str, Any]]:
    return [
        {
            "method": "credit_card",
            "status": status,
            "authorizedAmount": 58.76,
            "transactionId": transaction_id,
            "provider": "fakepay",
        }
    ]


async def test_authorised_payment_is_captured_and_the_invoice_says_paid(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    payment_gateway: FakePaymentGateway,
    tenant: str,
    mongo_db: Any,
) -> None:
    transaction = f"ok-{tenant}"
    results = await invoice_events(
        api,
        publish_orders,
        stored_order,
        tenant,
        order_event(tenant, "card", payments=card(transaction)),
        order_event(tenant, "on-invoice"),  # method invoice, PENDING: paid later
        order_event(tenant, "paid-before", payments=card(f"ok-{tenant}-before", status="CAPTURED")),
    )
    assert {order: result["orderStatus"] for order, result in results.items()} == dict.fromkeys(
        ("card", "on-invoice", "paid-before"), "SUCCESS"
    )

    [call] = payment_gateway.calls_for(transaction)
    assert call.body == {"transactionId": transaction, "amount": "58.76", "currency": "EUR"}
    assert call.idempotency_key == idempotency_key(tenant, "card")
    assert call.authorization == f"Bearer {GATEWAY_API_KEY}"
    assert payment_gateway.calls_for(f"ok-{tenant}-before") == []  # captured already: not again

    assert "Paid by credit card on" in await pdf_text(results["card"]["downloadLink"])
    assert "Paid by credit card on" in await pdf_text(results["paid-before"]["downloadLink"])
    on_invoice = await pdf_text(results["on-invoice"]["downloadLink"])
    assert "Please pay" in on_invoice and "Paid by" not in on_invoice

    capture = await mongo_db.payment_captures.find_one({"_id": f"{tenant}:card"})
    assert capture["amount"] == "58.76" and capture["currency"] == "EUR"
    assert capture["transactionId"] == transaction
    assert capture["idempotencyKey"] == idempotency_key(tenant, "card")
    assert await mongo_db.payment_captures.count_documents({"tenant": tenant}) == 1


async def test_declined_payment_fails_the_order_and_uses_no_number(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    payment_gateway: FakePaymentGateway,
    tenant: str,
    mongo_db: Any,
) -> None:
    declined = await invoice_events(
        api, publish_orders, stored_order, tenant, order_event(tenant, "declined", payments=card(f"decline-{tenant}"))
    )
    result = declined["declined"]
    assert result["orderStatus"] == "FAILURE"
    assert "declined" in result["message"] and "Insufficient funds" in result["message"]
    assert "invoiceNumber" not in result
    assert len(payment_gateway.calls_for(f"decline-{tenant}")) == 1  # a decline is final: not retried
    assert await mongo_db.invoices.count_documents({"tenant": tenant}) == 0
    assert await mongo_db.payment_captures.count_documents({"tenant": tenant}) == 0

    # The tenant's next invoice gets the first number: the declined order used none.
    after = await invoice_events(api, publish_orders, stored_order, tenant, order_event(tenant, "next"))
    assert after["next"]["invoiceNumber"] == "INV-000001"


async def test_gateway_timeout_is_retried_with_the_same_key_and_charges_once(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    payment_gateway: FakePaymentGateway,
    tenant: str,
) -> None:
    transaction = f"slow-{tenant}"
    results = await invoice_events(
        api, publish_orders, stored_order, tenant, order_event(tenant, "slow", payments=card(transaction))
    )
    assert results["slow"]["orderStatus"] == "SUCCESS", results["slow"]
    calls = payment_gateway.calls_for(transaction)
    # The first request captured but answered after the worker's timeout; the retry, with the same key,
    # was answered from the key.
    assert [call.status for call in calls] == [201, 200]
    assert {call.idempotency_key for call in calls} == {idempotency_key(tenant, "slow")}
    assert payment_gateway.charges[transaction] == 1
    assert "Paid by credit card on" in await pdf_text(results["slow"]["downloadLink"])


async def test_gateway_down_fails_the_order_and_a_later_job_invoices_it(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    payment_gateway: FakePaymentGateway,
    tenant: str,
    mongo_db: Any,
) -> None:
    transaction = f"down-{tenant}"
    results = await invoice_events(
        api, publish_orders, stored_order, tenant, order_event(tenant, "down", payments=card(transaction))
    )
    result = results["down"]
    assert result["orderStatus"] == "FAILURE"
    assert "payment capture not confirmed" in result["message"] and "HTTP 503" in result["message"]
    assert "later job" in result["message"]
    assert len(payment_gateway.calls_for(transaction)) >= 2  # retried before giving up
    assert await mongo_db.invoices.count_documents({"tenant": tenant}) == 0
    assert await mongo_db.payment_captures.count_documents({"tenant": tenant}) == 0

    payment_gateway.heal(transaction)
    again = await finished_job(api, tenant, await create_job(api, tenant, ["down"]))
    [order] = again["orders"]
    assert order["orderStatus"] == "SUCCESS", order
    assert order["invoiceNumber"] == "INV-000001"
    assert payment_gateway.charges[transaction] == 1
    assert "Paid by credit card on" in await pdf_text(order["downloadLink"])


async def test_an_order_delivered_twice_is_captured_once(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    producer: AIOKafkaProducer,
    settings: Settings,
    publish_orders: Publish,
    stored_order: Any,
    payment_gateway: FakePaymentGateway,
    tenant: str,
    mongo_db: Any,
) -> None:
    transaction = f"ok-{tenant}-twice"
    await publish_orders(tenant, order_event(tenant, "twice", payments=card(transaction)))
    await stored(stored_order, tenant, "twice")
    job_id = await create_job(api, tenant, ["twice"])
    # The same request once more, as Kafka redelivers after a worker dies before committing.
    duplicate = OrderInvoiceRequested(tenant=tenant, jobId=job_id, orderId="twice")
    await producer.send_and_wait(
        settings.topic(settings.topic_order_requests), duplicate.to_bytes(), key=f"{tenant}:twice".encode()
    )
    job = await finished_job(api, tenant, job_id)
    assert job["orders"][0]["orderStatus"] == "SUCCESS", job
    # Handled one after the other, the second finds the invoice (or the recorded capture) and calls no
    # one; handled at the same time (the agent's actors share partitions), the second call carries the
    # same key and is answered from it. Either way: charged once.
    calls = payment_gateway.calls_for(transaction)
    assert [call.status for call in calls] in ([201], [201, 200]), calls
    assert {call.idempotency_key for call in calls} == {idempotency_key(tenant, "twice")}
    assert payment_gateway.charges[transaction] == 1
    assert await mongo_db.invoices.count_documents({"tenant": tenant}) == 1
    assert await mongo_db.payment_captures.count_documents({"tenant": tenant}) == 1


async def test_a_recorded_capture_is_never_sent_to_the_gateway_again(
    settings: Settings, payment_gateway: FakePaymentGateway, mongo_db: Any, tenant: str, tmp_path: Any
) -> None:
    """A worker that dies between the capture and the invoice: its redelivery finds the capture recorded."""
    transaction = f"ok-{tenant}-recorded"
    order = parse_order_event(encoded(order_event(tenant, "o-1", payments=card(transaction)))).order
    gateway = PaymentGateway(settings)  # the session's settings name the test gateway and its key
    invoices = InvoiceRepository(mongo_db)
    tenant_settings = TenantSettingsRepository(mongo_db)
    storage = LocalStorage(tmp_path, LinkSigner(settings))
    deps = PipelineDeps(
        orders=OrderRepository(mongo_db),
        invoices=invoices,
        numbers=invoices,
        credit_notes=CreditNoteRepository(mongo_db),
        tenant_settings=tenant_settings,
        storage=storage,
        render=_no_render,
        check_einvoice=_no_render,
        captures=PaymentCaptures(mongo_db),
        payments=gateway,
        email=EmailDeps(invoices, tenant_settings, storage, Mailer(settings), "x@example.com"),
        queue_email=_no_queue,
    )
    try:
        first = await capture_payment(tenant, order, recalculate(order), deps, generation=1)
        again = await capture_payment(tenant, order, recalculate(order), deps, generation=1)
    finally:
        await gateway.close()
    assert first == again and first is not None
    assert first.method == "credit_card"
    assert len(payment_gateway.calls_for(transaction)) == 1
    stored_capture = await PaymentCaptures(mongo_db).find(tenant, "o-1")
    assert stored_capture is not None and stored_capture.amount == Decimal("58.76")


async def _no_render(document: Any) -> Any:
    raise AssertionError("nothing is rendered or checked here")


async def _no_queue(request: Any) -> None:
    raise AssertionError("nothing is emailed here")
