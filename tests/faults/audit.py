"""The audit every fault case ends with: what must hold of a job whatever failed while it ran."""

import json
from collections import Counter
from typing import Any

import aioboto3
from aiokafka import AIOKafkaConsumer, TopicPartition

from infra.kafka import kafka_client_options
from infra.settings import Settings
from schemas.events import DeadLetter
from tests.fakes import FakePaymentGateway, SmtpSink

FINAL_STATUSES = {"SUCCESS", "FAILURE"}


async def audit_job(
    job: dict[str, Any],
    *,
    tenant: str,
    order_ids: list[str],
    db: Any,
    settings: Settings,
    gateway: FakePaymentGateway,
    smtp: SmtpSink,
    recipient: str,
) -> None:
    """Asserts, for the job's tenant: every order of the job reached a final status; at most one invoice
    per order; invoice numbers distinct and gap-free; at most one confirmed capture per order at the
    gateway; no invoice emailed twice; every invoice's PDF stored once under its own key; no dead
    letter for the tenant (none of its records was malformed)."""
    statuses = {order["orderId"]: order["orderStatus"] for order in job["orders"]}
    assert job["jobStatus"] == "DONE"
    assert sorted(statuses) == sorted(order_ids)
    assert set(statuses.values()) <= FINAL_STATUSES, Counter(statuses.values())

    invoices = [
        doc
        async for doc in db.invoices.find(
            {"tenant": tenant}, {"orderId": 1, "seq": 1, "number": 1, "storageKey": 1, "issuedAt": 1}
        )
    ]
    per_order = Counter(doc["orderId"] for doc in invoices)
    assert all(count == 1 for count in per_order.values()), "an order has two invoices"
    numbers = [doc["number"] for doc in invoices]
    assert len(set(numbers)) == len(numbers), "two invoices share a number"
    seqs = sorted(doc["seq"] for doc in invoices)
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "invoice numbers have a gap"
    succeeded = {order_id for order_id, status in statuses.items() if status == "SUCCESS"}
    assert succeeded <= set(per_order), "an order reported SUCCESS without an invoice"
    assert all(doc["issuedAt"] is not None for doc in invoices), "an invoice was left half-made"

    charges = {transaction: count for transaction, count in gateway.charges.items() if f"-{tenant}-" in transaction}
    assert all(count == 1 for count in charges.values()), "an order was charged twice"
    assert len(charges) == len(invoices), "an invoice without its capture, or a capture without its invoice"

    # A send repeated after a crash in the moment between the mail server taking it and the worker recording
    # it is the same message, under the same Message-ID (streams/emailing.py), which mail systems deliver
    # once: counted once. Two messages of one invoice are a real second email.
    messages = {mail.message["Message-ID"]: mail for mail in smtp.mails_to(recipient)}
    mailed = Counter(name for mail in messages.values() for name, _ in mail.attachments() if name is not None)
    assert all(count == 1 for count in mailed.values()), f"an invoice was emailed twice: {mailed.most_common(3)}"
    assert len(mailed) == len(invoices), f"{len(invoices) - len(mailed)} invoices were never emailed"

    await audit_storage(settings, tenant, {doc["storageKey"] for doc in invoices}, len(invoices))
    assert await dead_letters_of(settings, tenant) == [], "a well-formed record of the tenant was dead-lettered"


async def audit_storage(settings: Settings, tenant: str, keys: set[str], invoices: int) -> None:
    """One stored object per invoice, each under the key its invoice records (write-once storage
    refuses a second put, so an object is the first and only PDF of its invoice)."""
    assert len(keys) == invoices, "two invoices share a storage key"
    session = aioboto3.Session(
        aws_access_key_id=settings.s3_access_key_id.get_secret_value(),
        aws_secret_access_key=settings.s3_secret_access_key.get_secret_value(),
        region_name=settings.s3_region,
    )
    stored: set[str] = set()
    async with session.client("s3", endpoint_url=settings.s3_endpoint_url) as s3:
        paginator = s3.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=settings.s3_bucket, Prefix=f"{tenant}/"):
            stored.update(item["Key"] for item in page.get("Contents", []))
    assert stored == keys, f"stored objects and invoices differ: {sorted(stored ^ keys)[:5]}"


async def dead_letters_of(settings: Settings, tenant: str) -> list[DeadLetter]:
    """The dead letters whose record was keyed by the tenant, read from the start of the topic."""
    topic = settings.topic(settings.topic_dead_letters)
    consumer = AIOKafkaConsumer(**kafka_client_options(settings), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        if topic not in await consumer.topics():  # fetches the cluster's metadata
            return []
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or set()]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        letters: list[DeadLetter] = []
        while [p for p in partitions if await consumer.position(p) < ends[p]]:
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    if record.key and record.key.decode().startswith(f"{tenant}:"):
                        letters.append(DeadLetter.model_validate_json(record.value))
        return letters
    finally:
        await consumer.stop()


def order_log_entries(log: bytes, tenant: str) -> list[dict[str, Any]]:
    """The worker's JSON log entries that name the tenant (lines that are not JSON, like Faust's banner,
    are skipped)."""
    entries = []
    for line in log.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("tenant") == tenant:
            entries.append(entry)
    return entries
