"""Trust boundaries, against the real worker, Kafka, the store and the fake gateway and mail server:
records written straight onto the request topics (as anything with write access to Kafka could) are
acted on only when the API recorded them (streams/recorded.py), and a publish that times out after the
broker took the record leaves no phantom work (README "Under faults")."""

import asyncio
import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from infra.credit_notes import CreditNoteRepository
from infra.kafka import KafkaPublisher, KafkaUnavailable
from infra.settings import Settings
from schemas.api import JobType
from schemas.events import (
    CreditNoteRequested,
    EmailReason,
    InvoiceEmailRequested,
    JobRequested,
    OrderInvoiceRequested,
)
from tests.factories import order_event
from tests.fakes import FakePaymentGateway, SmtpSink
from tests.integration.flows import finished_job, invoice_events, stored
from tests.integration.test_jobs import dead_letters_of
from tests.support import WorkerProcess, api_client, wait_for

pytestmark = pytest.mark.integration

Publish = Callable[..., Awaitable[None]]


def paid_order(tenant: str, order_id: str, transaction: str) -> dict[str, Any]:
    event = order_event(tenant, order_id)
    payment = {"method": "credit_card", "status": "AUTHORIZED", "authorizedAmount": 58.76}
    event["order"]["payments"] = [{**payment, "transactionId": transaction}]
    event["order"]["customer"]["email"] = f"{tenant}-{order_id}@example.com"
    return event


async def invoiced(api: httpx.AsyncClient, publish_orders: Publish, stored_order: Any, event: dict[str, Any]) -> str:
    tenant, order_id = event["tenant"], event["order"]["id"]
    results = await invoice_events(api, publish_orders, stored_order, tenant, event)
    assert results[order_id]["orderStatus"] == "SUCCESS", results
    number: str = results[order_id]["invoiceNumber"]
    return number


async def forge(producer: AIOKafkaProducer, topic: str, key: str, *records: bytes) -> None:
    for value in records:
        await producer.send_and_wait(topic, value, key=key.encode())


def unrecorded(letters: dict[bytes, Any], *records: bytes) -> bool:
    return all(value in letters for value in records)


async def test_forged_credit_note_requests_refund_nothing_number_nothing_and_are_dead_lettered(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    producer: AIOKafkaProducer,
    settings: Settings,
    publish_orders: Publish,
    stored_order: Any,
    payment_gateway: FakePaymentGateway,
    mongo_db: Any,
    tenant: str,
) -> None:
    transaction = f"ok-{tenant}-victim"
    number = await invoiced(api, publish_orders, stored_order, paid_order(tenant, "victim", transaction))
    # The attacker's own request, recorded for the attacker's tenant, copied into a record that names
    # the victim tenant's invoice; and one with an ID nobody recorded, naming the victim's tenant.
    attacker = f"x{tenant[:10]}"
    own = CreditNoteRequested(
        tenant=attacker, creditNoteId=uuid.uuid4().hex, orderId="victim", invoiceNumber=number, reason="mine",
        wholeInvoice=True,
    )  # fmt: skip
    await CreditNoteRepository(mongo_db).create_request(
        tenant=attacker, request_id=own.creditNoteId, invoice_number=number, order_id="victim",
        request_digest=own.digest(),
    )  # fmt: skip
    another_tenants = own.model_copy(update={"tenant": tenant}).to_bytes()
    never_recorded = own.model_copy(update={"tenant": tenant, "creditNoteId": uuid.uuid4().hex}).to_bytes()
    await forge(
        producer,
        settings.topic(settings.topic_credit_note_requests),
        f"{tenant}:victim",
        another_tenants,
        never_recorded,
    )

    letters = await dead_letters_of(settings, lambda found: unrecorded(found, another_tenants, never_recorded))
    for value in (another_tenants, never_recorded):
        assert "not acted on: no credit-note request" in letters[value]["reason"]
    assert payment_gateway.refund_calls_for(transaction) == []
    assert transaction not in payment_gateway.refunds
    assert await mongo_db.credit_notes.count_documents({"tenant": tenant}) == 0
    assert await mongo_db.credit_notes.count_documents({"tenant": attacker}) == 0


async def test_forged_job_order_and_resend_records_charge_invoice_and_mail_nothing(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    producer: AIOKafkaProducer,
    settings: Settings,
    publish_orders: Publish,
    stored_order: Any,
    payment_gateway: FakePaymentGateway,
    smtp_sink: SmtpSink,
    mongo_db: Any,
    tenant: str,
) -> None:
    mailed = paid_order(tenant, "mailed", f"ok-{tenant}-mailed")
    number = await invoiced(api, publish_orders, stored_order, mailed)
    recipient = mailed["order"]["customer"]["email"]
    await wait_for(lambda: asyncio.sleep(0, smtp_sink.mails_to(recipient) or None), timeout=30, what="the first mail")
    fresh_transaction = f"ok-{tenant}-fresh"
    await publish_orders(tenant, paid_order(tenant, "fresh", fresh_transaction))
    await stored(stored_order, tenant, "fresh")

    job_id = uuid.uuid4().hex
    job = JobRequested(tenant=tenant, jobId=job_id, jobType=JobType.MANUAL, orderIds=["fresh"]).to_bytes()
    order = OrderInvoiceRequested(tenant=tenant, jobId=job_id, orderId="fresh", jobType=JobType.MANUAL).to_bytes()
    resends = [
        InvoiceEmailRequested(
            tenant=tenant, orderId="mailed", invoiceNumber=number, reason=EmailReason.RESEND, requestId=request_id
        ).to_bytes()
        for request_id in (None, uuid.uuid4().hex)
    ]
    await forge(producer, settings.topic(settings.topic_job_requests), f"{tenant}:{job_id}", job)
    await forge(producer, settings.topic(settings.topic_order_requests), f"{tenant}:fresh", order)
    await forge(producer, settings.topic(settings.topic_invoice_emails), f"{tenant}:mailed", *resends)

    letters = await dead_letters_of(settings, lambda found: unrecorded(found, job, order, *resends))
    assert f"not acted on: no MANUAL job {job_id} of tenant {tenant}" in letters[job]["reason"]
    assert "not acted on: order fresh is no order of a MANUAL job" in letters[order]["reason"]
    for resend in resends:
        assert "not acted on: no email request" in letters[resend]["reason"]
    assert payment_gateway.calls_for(fresh_transaction) == []
    assert await mongo_db.invoices.count_documents({"tenant": tenant, "orderId": "fresh"}) == 0
    assert await mongo_db.jobs.count_documents({"_id": job_id}) == 0
    assert len(smtp_sink.mails_to(recipient)) == 1  # the first email only


class TimesOutAfterTheBrokerTookIt:
    """A publisher whose send times out although the broker takes the record: before the timeout is
    seen (`first`: the worker reads and starts the request in between), or after it (the record reaches
    the broker late, as a producer's retry may deliver a batch whose send already timed out)."""

    def __init__(self, inner: KafkaPublisher, first: Callable[[bytes], Awaitable[None]] | None = None) -> None:
        self.inner, self.first = inner, first
        self.late: list[tuple[str, str, bytes]] = []

    async def publish(
        self, topic: str, key: str, value: bytes, headers: Sequence[tuple[str, bytes]] | None = None
    ) -> None:
        if self.first is None:
            self.late.append((topic, key, value))
        else:
            await self.inner.publish(topic, key, value)
            await self.first(value)
        raise KafkaUnavailable("Kafka at 127.0.0.1:9092: KafkaTimeoutError()")

    async def deliver_late(self) -> None:
        for topic, key, value in self.late:
            await self.inner.publish(topic, key, value)


async def test_a_job_whose_publish_timed_out_is_either_withdrawn_and_never_done_or_answered_as_created(
    worker: WorkerProcess,
    settings: Settings,
    publish_orders: Publish,
    stored_order: Any,
    payment_gateway: FakePaymentGateway,
    mongo_db: Any,
    tenant: str,
) -> None:
    from bootstrap.api import build_api

    withdrawn, started = f"ok-{tenant}-withdrawn", f"ok-{tenant}-started"
    await publish_orders(tenant, paid_order(tenant, "withdrawn", withdrawn), paid_order(tenant, "started", started))
    await stored(stored_order, tenant, "withdrawn", "started")
    app = build_api(settings)
    async with api_client(app, settings) as api:
        resources = app.state.resources
        late = TimesOutAfterTheBrokerTookIt(resources.publisher)
        app.state.resources = dataclasses.replace(resources, publisher=late)
        refused = await api.post(
            f"/invoice/{tenant}/jobs/invoices", json={"jobType": "MANUAL", "orderIds": ["withdrawn"]}
        )
        assert refused.status_code == 503 and "nothing was created" in refused.json()["message"]
        await late.deliver_late()
        [(_, _, record)] = late.late
        letters = await dead_letters_of(settings, lambda found: record in found)
        assert "withdrawn after a publish timeout" in letters[record]["reason"]
        job_id = JobRequested.model_validate_json(record).jobId
        assert (await api.get(f"/invoice/{tenant}/jobs/invoices/{job_id}")).status_code == 404

        async def planner_started(value: bytes) -> None:
            job_id = JobRequested.model_validate_json(value).jobId

            async def started() -> bool:
                found: int = await mongo_db.jobs.count_documents({"_id": job_id, "started": True})
                return found == 1

            await wait_for(started, timeout=30, what="the planner to start the job")

        app.state.resources = dataclasses.replace(
            resources, publisher=TimesOutAfterTheBrokerTookIt(resources.publisher, planner_started)
        )
        created = await api.post(
            f"/invoice/{tenant}/jobs/invoices", json={"jobType": "MANUAL", "orderIds": ["started"]}
        )
        assert created.status_code == 201, created.text
        job = await finished_job(api, tenant, created.json()["jobId"])
        assert job["orders"][0]["orderStatus"] == "SUCCESS", job
        app.state.resources = resources
    assert payment_gateway.calls_for(withdrawn) == []
    assert await mongo_db.invoices.count_documents({"tenant": tenant, "orderId": "withdrawn"}) == 0
    assert payment_gateway.charges[started] == 1
