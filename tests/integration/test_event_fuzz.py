"""Hostile records on every topic the worker consumes: malformed, oversized, deeply nested, wrong-typed and
Unicode-edge values. Each ends in the dead-letter topic with its reason, no agent stops (a valid order
published after the garbage is still invoiced), and no invoice is made from garbage.

The local broker takes messages up to its default message.max.bytes (~1 MB): a 10 MB value is refused by
the producer (and, past a raised producer limit, by the broker) before any agent could see it.
"""

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError

from infra.kafka import kafka_client_options
from infra.settings import Settings
from tests.factories import encoded, order_event
from tests.integration.flows import create_job, finished_job
from tests.support import WorkerProcess, wait_for

pytestmark = pytest.mark.integration

DEEP = 100_000  # far past any JSON parser's recursion limit
ONE_MB = 1_000_000


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def with_order(tenant: str, change: Callable[[dict[str, Any]], None]) -> bytes:
    """A valid order event of `tenant`, then changed into something the contract does not allow."""
    event = order_event(tenant, "o-" + uuid.uuid4().hex[:8])
    change(event)
    return encoded(event)


def order_event_garbage(tenant: str) -> dict[str, bytes]:
    """Name -> value. Each must be dead-lettered by the orders agent."""

    def set_in(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
        def change(event: dict[str, Any]) -> None:
            *parents, last = path.split(".")
            node = event
            for part in parents:
                node = node[int(part)] if isinstance(node, list) else node[part]
            node[last] = value

        return change

    def many_lines(event: dict[str, Any]) -> None:
        line = event["order"]["entries"][0]
        event["order"]["entries"] = [{**line, "id": str(i)} for i in range(5_001)]

    return {
        "not-json": b"\x00\xff\xfe{not json",
        "empty": b"",
        "truncated": with_order(tenant, lambda e: None)[:-7],
        "json-array": b"[]",
        "json-null": b"null",
        "json-number": b"1e999999",
        "nested-array": nested(DEEP),
        "nested-in-extra-field": with_order(tenant, lambda e: None)[:-1] + b', "x": ' + nested(DEEP) + b"}",
        "nested-objects": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
        "nested-200-in-extra-field": with_order(tenant, set_in("order.x", json.loads(nested(200)))),
        "wrong-type-tenant": with_order(tenant, set_in("tenant", 42)),
        "wrong-type-entries": with_order(tenant, set_in("order.entries", {"0": "x"})),
        "wrong-type-amount": with_order(tenant, set_in("order.entries.0.amount", "two")),
        "wrong-type-order-id": with_order(tenant, set_in("order.id", ["a"])),
        "negative-price": with_order(tenant, set_in("order.entries.0.unitPrice", -1)),
        "nan-price": with_order(tenant, set_in("order.entries.0.unitPrice", "NaN")),
        "lone-surrogate-name": with_order(tenant, set_in("order.customer.name", "\ud800")),
        "lone-surrogate-id": with_order(tenant, set_in("order.id", "o-\udfff")),
        "nul-in-id": with_order(tenant, set_in("order.id", "o-\x00")),
        "nul-in-name": with_order(tenant, set_in("order.customer.name", "Erika\x00Mustermann")),
        "rtl-tenant": with_order(tenant, set_in("tenant", "\u202e" + tenant)),
        "emoji-currency": with_order(tenant, set_in("order.currency", "\U0001f4b6")),
        "overlong-order-id": with_order(tenant, set_in("order.id", "o" * 65)),
        "overlong-tenant": with_order(tenant, set_in("tenant", "t" * 17)),
        "too-many-lines": with_order(tenant, many_lines),
        "near-the-size-limit": b'"' + b"x" * (ONE_MB - 2) + b'"',  # the broker takes it; its dead letter must fit too
    }


def internal_garbage(tenant: str) -> dict[str, bytes]:
    """Name -> value, for each internal topic: wrong shapes, wrong types and Unicode that cannot be kept."""
    nul_ids = {"tenant": tenant, "jobId": "j\u0000", "orderId": "o\u0000", "reason": "x", "invoiceNumber": "1"}
    return {
        # Each event of the topic's shape (whichever of these fields it has) with NUL in its IDs.
        **{
            f"nul-ids-{event_type}": json.dumps({"eventType": event_type, **nul_ids}).encode()
            for event_type in ("job.requested", "order.invoice-requested", "order.failed", "invoice.email-requested")
        },
        # Valid but for NUL in the job ID, a plain string: the store refuses it, and the agent must go on.
        "nul-job-id-only": json.dumps(
            {"eventType": "order.failed", "tenant": tenant, "jobId": "j\u0000", "orderId": "o-1", "reason": "x"}
        ).encode(),
        "not-json": b"\xc3\x28 not json",
        "empty": b"",
        "nested-array": nested(DEEP),
        "nested-objects": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
        "wrong-types": json.dumps({"eventType": 7, "tenant": ["x"], "jobId": {}, "orderId": None}).encode(),
        "lone-surrogate": b'{"tenant": "' + tenant.encode() + b'", "orderId": "\\ud800", "jobId": "\\udc00"}',
        "nul-and-rtl": json.dumps({"tenant": tenant + "\u0000", "orderId": "\u202e\U0001f600"}).encode(),
        "overlong": json.dumps({"tenant": tenant, "jobId": "j" * 100_000, "orderId": "o" * 100_000}).encode(),
    }


async def dead_letters_by_key(settings: Settings, keys: set[bytes], timeout: float = 120) -> dict[bytes, Any]:
    """The dead letters of the records with these keys, once there is one for each."""
    letters: dict[bytes, dict[str, Any]] = {}
    consumer = AIOKafkaConsumer(
        settings.topic(settings.topic_dead_letters),
        **kafka_client_options(settings),
        auto_offset_reset="earliest",
        group_id=None,
        fetch_max_bytes=16 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    try:

        async def all_there() -> bool:
            batch = await consumer.getmany(timeout_ms=500)
            for record in (r for records in batch.values() for r in records):
                if record.key in keys:
                    letters[record.key] = json.loads(record.value)
            return keys <= letters.keys()

        try:
            await wait_for(all_there, timeout=timeout, what="a dead letter for each hostile record")
        except AssertionError as missing:
            names = sorted(key.decode(errors="replace") for key in keys - letters.keys())
            raise AssertionError(f"{missing}; none for {names}") from None
    finally:
        await consumer.stop()
    return letters


async def test_hostile_records_are_dead_lettered_and_the_agents_go_on(
    worker: WorkerProcess,
    producer: AIOKafkaProducer,
    settings: Settings,
    api: httpx.AsyncClient,
    mongo_db: Any,
    tenant: str,
) -> None:
    sent: dict[bytes, tuple[str, bytes]] = {}  # key -> (topic, value)
    nonce = uuid.uuid4().hex[:8]
    topics = {
        settings.topic(settings.topic_order_events): order_event_garbage(tenant),
        **{
            settings.topic(getattr(settings, name)): internal_garbage(tenant)
            for name in ("topic_job_requests", "topic_order_requests", "topic_order_results", "topic_invoice_emails")
        },
    }
    for topic, garbage in topics.items():
        for name, value in garbage.items():
            key = f"{tenant}:fuzz-{nonce}-{topic}-{name}".encode()
            await producer.send_and_wait(topic, value, key=key)
            sent[key] = (topic, value)

    # The agents go on: a valid order published after all of it is stored, planned, invoiced, projected.
    valid = order_event(tenant, "after-the-garbage")
    await producer.send_and_wait(
        settings.topic(settings.topic_order_events), encoded(valid), key=f"{tenant}:after-the-garbage".encode()
    )

    async def stored() -> bool:
        return await mongo_db.orders.find_one({"_id": f"{tenant}:after-the-garbage"}) is not None

    await wait_for(stored, timeout=120, what="the valid order after the garbage in the order store")
    job = await finished_job(api, tenant, await create_job(api, tenant, ["after-the-garbage"]))
    assert [order["orderStatus"] for order in job["orders"]] == ["SUCCESS"], job

    letters = await dead_letters_by_key(settings, set(sent))
    for key, (topic, value) in sent.items():
        letter = letters[key]
        assert letter["sourceTopic"] == topic, key
        assert letter["reason"].strip(), key
        kept = base64.b64decode(letter["value"])
        if letter.get("valueTruncated"):
            assert value.startswith(kept) and letter["valueSize"] == len(value), key
        else:
            assert kept == value, key

    # Went on without falling over: Faust restarts a crashed agent, which would hide it from the checks above.
    log = worker.log_path.read_text(errors="replace").splitlines()
    crashed = [line for line in log if "]: Crashed reason=" in line]
    assert not crashed, crashed[:3]

    # Nothing made from garbage: the one invoice of the tenant is the valid order's.
    invoices = await mongo_db.invoices.find({"tenant": tenant}).to_list()
    assert [invoice["orderId"] for invoice in invoices] == ["after-the-garbage"]


async def test_a_10_mb_order_event_is_refused_by_kafka_itself(
    producer: AIOKafkaProducer, settings: Settings, tenant: str
) -> None:
    topic = settings.topic(settings.topic_order_events)
    value = b'"' + b"x" * (10 * 1024 * 1024) + b'"'
    # The producer's own limit (max_request_size, 1 MiB by default) refuses it before it leaves ...
    with pytest.raises(MessageSizeTooLargeError):
        await producer.send_and_wait(topic, value, key=f"{tenant}:10mb".encode())
    # ... and a producer allowed more meets the broker's (message.max.bytes, ~1 MB by default).
    bigger = AIOKafkaProducer(**kafka_client_options(settings), max_request_size=11 * 1024 * 1024)
    await bigger.start()
    try:
        with pytest.raises(MessageSizeTooLargeError):
            await bigger.send_and_wait(topic, value, key=f"{tenant}:10mb".encode())
    finally:
        await bigger.stop()
    # Nothing else broke: the same producer sends an ordinary event.
    await producer.send_and_wait(topic, encoded(order_event(tenant, "o-1")), key=f"{tenant}:o-1".encode())
