"""The MongoDB connection and the indexes of every collection.

Only features that both MongoDB and FerretDB v1 support: single-document atomic writes, unique
indexes, upserts; no multi-document transactions, no change streams. Uniqueness that must hold under
redelivery and concurrency is carried by `_id` or a unique index, never by a read-then-write check.

Hot paths address documents by `_id`: FerretDB v1 pushes only `_id` filters down to its storage and
scans the whole collection for any other. Where a write depends on what it read (order snapshots, job
results), its agent runs a single actor, and Kafka delivers one key (tenant:orderId, tenant:jobId) to
one consumer at a time, in order, so the reader is the only writer of that document. The invoice agent
runs several actors: its writes rely on inserts.

One module per aggregate holds its adapter (`infra/jobs.py`, `orders.py`, `claims.py`, `invoices.py`,
`captures.py`, `tenant_settings.py`, `clients.py`); each returns the typed records of `infra/records.py`.
"""

from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from infra.settings import Settings

Document = dict[str, Any]
DUPLICATE_KEY = 11000


def connect(settings: Settings) -> AsyncMongoClient[Document]:
    timeout_ms = int(settings.mongo_timeout_seconds * 1000)
    return AsyncMongoClient(
        settings.mongo_url.get_secret_value(),
        tz_aware=True,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=timeout_ms * 4,
    )


async def ping(db: AsyncDatabase[Document]) -> None:
    await db.command("ping")


async def ensure_indexes(db: AsyncDatabase[Document]) -> None:
    await db.job_orders.create_index([("jobId", ASCENDING), ("position", ASCENDING)])
    await db.invoices.create_index([("tenant", ASCENDING), ("seq", DESCENDING)], unique=True)
    # AUTOMATIC jobs: equality on tenant, a short $in on status, then a range on the delivery instant.
    await db.orders.create_index([("tenant", ASCENDING), ("status", ASCENDING), ("deliveredAt", ASCENDING)])
    await db.order_claims.create_index([("jobId", ASCENDING), ("orderId", ASCENDING)])
    # Tenants with a scheduled AUTOMATIC job, found by the scheduler on every tick.
    await db.tenant_settings.create_index([("scheduled", ASCENDING)])
    # Credit notes: a unique number per tenant, and a unique place among the credit notes of one invoice.
    await db.credit_notes.create_index([("tenant", ASCENDING), ("seq", DESCENDING)], unique=True)
    await db.credit_notes.create_index(
        [("tenant", ASCENDING), ("orderId", ASCENDING), ("ordinal", ASCENDING)], unique=True
    )


def ignore_duplicates(error: BulkWriteError) -> None:
    """Re-raise a bulk error unless every failure is a duplicate key (the write was already done)."""
    if any(failure.get("code") != DUPLICATE_KEY for failure in error.details.get("writeErrors", [])):
        raise error
