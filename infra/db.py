"""The MongoDB connection and the indexes of every collection.

Only features that both MongoDB and FerretDB v1 support: single-document atomic writes, unique
indexes, upserts; no multi-document transactions, no change streams. Uniqueness that must hold under
redelivery and concurrency is carried by `_id` or a unique index, never by a read-then-write check.

Every query has an equality part that an index serves: FerretDB v1 (the local store) pushes equality
filters on top-level fields down to PostgreSQL, where a GIN index beside each index created here serves
them (deploy/local/postgres/gin-beside-btree.sql); ranges, `$in` and sorts it applies to what that
part found. Hot paths address documents by `_id`. Where a write depends on what it read (order
snapshots, job results), its agent runs a single actor, and Kafka delivers one key (tenant:orderId, tenant:jobId) to
one consumer at a time, in order, so the reader is the only writer of that document. The invoice agent
runs several actors: its writes rely on inserts.

One module per aggregate holds its adapter (`infra/jobs.py`, `orders.py`, `claims.py`, `invoices.py`,
`captures.py`, `tenant_settings.py`, `clients.py`); each returns the typed records of `infra/records.py`.
"""

from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from infra.metrics import StoreCommandCounter
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
        event_listeners=[StoreCommandCounter()],
    )


async def ping(db: AsyncDatabase[Document]) -> None:
    await db.command("ping")


async def ensure_indexes(db: AsyncDatabase[Document]) -> None:
    await db.job_orders.create_index([("jobId", ASCENDING), ("position", ASCENDING)])
    await db.invoices.create_index([("tenant", ASCENDING), ("seq", DESCENDING)], unique=True)
    # AUTOMATIC jobs: equality on tenant, awaitingInvoice and one status, then a range on the delivery instant.
    await db.orders.create_index(
        [("tenant", ASCENDING), ("awaitingInvoice", ASCENDING), ("status", ASCENDING), ("deliveredAt", ASCENDING)]
    )
    await migrate_orders_awaiting_invoice(db)
    await db.order_claims.create_index([("jobId", ASCENDING), ("orderId", ASCENDING)])
    # The pipeline reads all of a tenant's settings at once.
    await db.tenant_settings.create_index([("tenant", ASCENDING)])


async def migrate_orders_awaiting_invoice(db: AsyncDatabase[Document]) -> None:
    """Orders stored before `awaitingInvoice` existed count as awaiting one (AUTOMATIC selection then
    checks and clears it). Runs once per database: a marker document records that it ran."""
    if await db.migrations.find_one({"_id": "orders-awaiting-invoice"}) is not None:
        return
    await db.orders.update_many({"awaitingInvoice": {"$exists": False}}, {"$set": {"awaitingInvoice": True}})
    await db.migrations.update_one({"_id": "orders-awaiting-invoice"}, {"$set": {"done": True}}, upsert=True)


def ignore_duplicates(error: BulkWriteError) -> None:
    """Re-raise a bulk error unless every failure is a duplicate key (the write was already done)."""
    if any(failure.get("code") != DUPLICATE_KEY for failure in error.details.get("writeErrors", [])):
        raise error
