"""Invoice jobs end to end: REST API -> Kafka -> Faust agents -> MongoDB and S3, with the real services."""

import base64
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pydantic import SecretStr

from bootstrap.api import build_api
from infra.kafka import kafka_client_options
from infra.settings import Settings
from tests.integration.flows import create_job, finished_job, pdf_text, stored
from tests.support import WorkerProcess, api_client, wait_for

pytestmark = pytest.mark.integration

Publish = Callable[..., Awaitable[None]]


async def test_manual_job_invoices_known_orders_and_fails_unknown(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    tenant: str,
    new_order_event: Callable[..., dict[str, Any]],
    mongo_db: Any,
) -> None:
    await publish_orders(
        tenant,
        new_order_event(tenant, "order-1", customer="Jürgen Weiß"),
        new_order_event(tenant, "order-2", customer="Ada Lovelace"),
    )
    await stored(stored_order, tenant, "order-1", "order-2")

    job_id = await create_job(api, tenant, ["order-1", "missing-order", "order-2", "order-1"])
    first = (await api.get(f"/invoice/{tenant}/jobs/invoices/{job_id}")).json()
    # Read at once, the job may be at any stage; whatever it is, its status agrees with its orders:
    # DONE exactly when all three distinct orders have a final result.
    final = [order for order in first["orders"] if order["orderStatus"] in {"SUCCESS", "FAILURE"}]
    assert first["jobStatus"] == ("DONE" if len(final) == 3 else "IN_PROGRESS"), first

    job = await finished_job(api, tenant, job_id)
    assert job["jobType"] == "MANUAL"
    by_id = {order["orderId"]: order for order in job["orders"]}
    assert [order["orderId"] for order in job["orders"]] == ["order-1", "missing-order", "order-2"]
    assert by_id["missing-order"]["orderStatus"] == "FAILURE"
    assert "not found" in by_id["missing-order"]["message"]
    assert "downloadLink" not in by_id["missing-order"]
    numbers = {by_id[o]["invoiceNumber"] for o in ("order-1", "order-2")}
    assert len(numbers) == 2

    for order_id, buyer in (("order-1", "Jürgen Weiß"), ("order-2", "Ada Lovelace")):
        result = by_id[order_id]
        assert result["orderStatus"] == "SUCCESS"
        text = await pdf_text(result["downloadLink"])
        for expected in (
            result["invoiceNumber"],
            buyer,
            order_id,
            "Espresso cup",
            "Coffee beans 250 g",
            "58.76",
            "8.53",
        ):
            assert expected in text, f"{expected!r} not in the PDF of {order_id}"
    assert await mongo_db.invoices.count_documents({"tenant": tenant}) == 2

    # The same orders in a second job: FAILURE naming the existing invoice, and no new invoice.
    again = await finished_job(api, tenant, await create_job(api, tenant, ["order-1", "order-2"]))
    for order in again["orders"]:
        assert order["orderStatus"] == "FAILURE"
        assert by_id[order["orderId"]]["invoiceNumber"] in order["message"]
        assert "already invoiced" in order["message"]
    assert await mongo_db.invoices.count_documents({"tenant": tenant}) == 2


async def test_price_mismatch_fails_with_both_figures(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    tenant: str,
    new_order_event: Callable[..., dict[str, Any]],
    mongo_db: Any,
) -> None:
    await publish_orders(tenant, new_order_event(tenant, "bad-total", total="58.77"))
    await stored(stored_order, tenant, "bad-total")
    job = await finished_job(api, tenant, await create_job(api, tenant, ["bad-total"]))
    [order] = job["orders"]
    assert order["orderStatus"] == "FAILURE"
    assert "58.77" in order["message"] and "58.76" in order["message"]
    assert await mongo_db.invoices.count_documents({"tenant": tenant}) == 0


async def test_newer_order_snapshot_replaces_older_and_older_is_ignored(
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    tenant: str,
    new_order_event: Callable[..., dict[str, Any]],
) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    await publish_orders(tenant, new_order_event(tenant, "o", customer="First", occurred_at=now))
    await publish_orders(
        tenant, new_order_event(tenant, "o", customer="Second", occurred_at=now + timedelta(minutes=1))
    )
    await publish_orders(tenant, new_order_event(tenant, "o", customer="Stale", occurred_at=now - timedelta(minutes=1)))

    async def second() -> bool:
        doc = await stored_order(tenant, "o")
        return doc is not None and doc["order"]["customer"]["name"] == "Second"

    await wait_for(second, timeout=30, what="the newer snapshot")


async def dead_letters_of(
    settings: Settings, wanted: Callable[[dict[bytes, dict[str, Any]]], bool]
) -> dict[bytes, Any]:
    """The dead letters, by original value, once `wanted` is satisfied by them."""
    letters: dict[bytes, dict[str, Any]] = {}
    consumer = AIOKafkaConsumer(
        settings.topic(settings.topic_dead_letters),
        **kafka_client_options(settings),
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    try:

        async def collected() -> bool:
            batch = await consumer.getmany(timeout_ms=500)
            for record in (r for records in batch.values() for r in records):
                letter = json.loads(record.value)
                letters[base64.b64decode(letter["value"])] = letter
            return wanted(letters)

        await wait_for(collected, timeout=60, what="the dead letters")
    finally:
        await consumer.stop()
    return letters


async def test_malformed_order_events_are_dead_lettered_and_the_worker_goes_on(
    worker: WorkerProcess,
    producer: AIOKafkaProducer,
    publish_orders: Publish,
    stored_order: Any,
    settings: Settings,
    tenant: str,
    new_order_event: Callable[..., dict[str, Any]],
) -> None:
    garbage = b"{not json at all " + uuid.uuid4().hex.encode()
    await producer.send_and_wait(settings.topic(settings.topic_order_events), garbage, key=f"{tenant}:x".encode())
    await publish_orders(tenant, new_order_event(tenant, "no-entries", entries=[]))
    await publish_orders(tenant, new_order_event(tenant, "after-garbage"))
    await stored(stored_order, tenant, "after-garbage")
    assert await stored_order(tenant, "no-entries") is None

    def no_entries(letters: dict[bytes, Any]) -> list[Any]:
        return [
            letter for value, letter in letters.items() if f'"{tenant}"'.encode() in value and b"no-entries" in value
        ]

    letters = await dead_letters_of(settings, lambda found: garbage in found and bool(no_entries(found)))
    assert "invalid order event" in letters[garbage]["reason"]
    assert letters[garbage]["sourceTopic"] == settings.topic(settings.topic_order_events)
    assert base64.b64decode(letters[garbage]["key"]) == f"{tenant}:x".encode()
    [entries_letter] = no_entries(letters)
    assert "entries" in entries_letter["reason"]


@pytest.mark.parametrize(
    "topic", ["topic_job_requests", "topic_order_requests", "topic_order_results", "topic_invoice_emails"]
)
async def test_malformed_records_on_the_internal_topics_are_dead_lettered(
    worker: WorkerProcess, producer: AIOKafkaProducer, settings: Settings, topic: str
) -> None:
    name = settings.topic(getattr(settings, topic))
    garbage = b'{"eventType": "no such event", "nonce": "' + uuid.uuid4().hex.encode() + b'"}'
    await producer.send_and_wait(name, garbage, key=b"k")
    letters = await dead_letters_of(settings, lambda found: garbage in found)
    assert letters[garbage]["sourceTopic"] == name
    assert letters[garbage]["reason"].startswith("invalid ")


async def test_get_unknown_job_and_other_tenants_job_is_404(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    tenant: str,
) -> None:
    response = await api.get(f"/invoice/{tenant}/jobs/invoices/{uuid.uuid4().hex}")
    assert response.status_code == 404
    assert response.json()["code"] == "404"
    job_id = await create_job(api, tenant, ["whatever"])
    other = await api.get(f"/invoice/other{tenant[:8]}/jobs/invoices/{job_id}")
    assert other.status_code == 404


async def test_get_right_after_post_is_in_progress_with_pending_orders(api: httpx.AsyncClient, tenant: str) -> None:
    # No worker needed: the job exists from the moment POST answers 201.
    job_id = await create_job(api, tenant, ["a", "b"])
    response = await api.get(f"/invoice/{tenant}/jobs/invoices/{job_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["jobStatus"] == "IN_PROGRESS"
    assert body["orders"] == [{"orderId": "a", "orderStatus": "PENDING"}, {"orderId": "b", "orderStatus": "PENDING"}]


async def test_worker_killed_mid_job_finishes_after_restart(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    tenant: str,
    new_order_event: Callable[..., dict[str, Any]],
    mongo_db: Any,
) -> None:
    order_ids = [f"bulk-{i:03d}" for i in range(200)]
    await publish_orders(tenant, *(new_order_event(tenant, order_id) for order_id in order_ids))
    await stored(stored_order, tenant, *order_ids)
    job_id = await create_job(api, tenant, order_ids)

    async def some_invoiced() -> bool:
        return bool(await mongo_db.invoices.count_documents({"tenant": tenant, "issuedAt": {"$ne": None}}) >= 10)

    await wait_for(some_invoiced, timeout=120, what="the first invoices of the job")
    worker.kill()
    assert await mongo_db.invoices.count_documents({"tenant": tenant, "issuedAt": {"$ne": None}}) < 200, (
        "the job finished before the kill; the test proves nothing"
    )
    await worker.start()

    job = await finished_job(api, tenant, job_id, timeout=300)
    assert [order["orderStatus"] for order in job["orders"]] == ["SUCCESS"] * 200
    numbers = [order["invoiceNumber"] for order in job["orders"]]
    assert len(set(numbers)) == 200
    assert await mongo_db.invoices.count_documents({"tenant": tenant}) == 200
    seqs = sorted([doc["seq"] async for doc in mongo_db.invoices.find({"tenant": tenant}, {"seq": 1})])
    assert seqs == list(range(seqs[0], seqs[0] + 200)), "invoice numbers have a gap"


async def test_kafka_down_answers_503_and_leaves_no_job(
    settings: Settings, s3_bucket: str, mongo_db: Any, tenant: str
) -> None:
    app = build_api(
        settings.model_copy(update={"kafka_bootstrap_servers": "127.0.0.1:1", "kafka_timeout_seconds": 2.0})
    )
    async with api_client(app, settings) as client:
        response = await client.post(f"/invoice/{tenant}/jobs/invoices", json={"jobType": "MANUAL", "orderIds": ["a"]})
        assert response.status_code == 503
        assert "Kafka" in response.json()["message"]
        health = await client.get("/health")
        assert health.status_code == 503
        assert health.json()["dependencies"]["kafka"].startswith("down")
        assert health.json()["dependencies"]["mongodb"] == "up"
    assert await mongo_db.jobs.count_documents({"tenant": tenant}) == 0


async def test_mongo_down_answers_503(settings: Settings, s3_bucket: str, tenant: str) -> None:
    app = build_api(
        settings.model_copy(update={"mongo_url": SecretStr("mongodb://127.0.0.1:1"), "mongo_timeout_seconds": 1.0})
    )
    async with api_client(app, settings) as client:
        response = await client.post(f"/invoice/{tenant}/jobs/invoices", json={"jobType": "MANUAL", "orderIds": ["a"]})
        assert response.status_code == 503
        assert "MongoDB" in response.json()["message"]
        assert (await client.get("/health")).json()["dependencies"]["mongodb"].startswith("down")


async def test_health_up(api: httpx.AsyncClient) -> None:
    response = await api.get("/health")
    assert response.status_code == 200, response.text
    assert response.json()["dependencies"] == {"kafka": "up", "mongodb": "up", "storage": "up"}
