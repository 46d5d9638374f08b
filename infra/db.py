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
`captures.py`, `tenant_settings.py`, `clients.py`, `limits.py`); each returns the typed records of
`infra/records.py`.
"""

import asyncio
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, OperationFailure

from infra.metrics import StoreCommandCounter
from infra.records import PageKey
from infra.settings import Settings
from invoicing.email_state import EmailState
from invoicing.sites import TENANT_SCOPE

Document = dict[str, Any]
T = TypeVar("T")
DUPLICATE_KEY = 11000
NOT_IMPLEMENTED = 238  # FerretDB v1's answer to an index option it lacks, such as expireAfterSeconds
NUMBER_INDEX = "tenant_number_unique"
SCOPED_SEQ = [("seqScope", ASCENDING), ("seq", DESCENDING)]


def connect(settings: Settings) -> AsyncMongoClient[Document]:
    timeout_ms = int(settings.mongo_timeout_seconds * 1000)
    return AsyncMongoClient(
        settings.mongo_url.get_secret_value(),
        tz_aware=True,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=timeout_ms * 4,
        maxPoolSize=settings.mongo_max_pool_size,
        event_listeners=[StoreCommandCounter()],
    )


async def ping(db: AsyncDatabase[Document]) -> None:
    await db.command("ping")


async def ensure_indexes(db: AsyncDatabase[Document]) -> None:
    """Create the indexes that are missing. Each process calls this at start: asking which exist first
    means no index creation at all once they do (FerretDB v1 creates, even an existing index, under a
    lock that stalls every other command while it waits for a storage connection)."""
    index = MissingIndexes(db)
    await index.create("job_result_pages", [("jobId", ASCENDING), ("page", ASCENDING)])
    # Sequence values are unique per tenant and sequence scope: the tenant's ("") and each site's own
    # (invoicing/sites.py). The index of (tenant, seq) alone, from before sites had sequences, is dropped
    # once every document has its scope.
    await migrate_sequence_scopes(db)
    await index.create("invoices", [("tenant", ASCENDING), *SCOPED_SEQ], unique=True)
    await index.drop("invoices", [("tenant", ASCENDING), ("seq", DESCENDING)])
    # Numbers are unique per tenant as strings, not only as sequence values: two sequence formats can
    # format different values alike, and the number names the invoice (its PDF, its download link).
    await index.create("invoices", [("tenant", ASCENDING), ("number", ASCENDING)], unique=True, name=NUMBER_INDEX)
    # AUTOMATIC jobs: equality on tenant, awaitingInvoice and one status, then a range on the delivery instant.
    await index.create(
        "orders",
        [("tenant", ASCENDING), ("awaitingInvoice", ASCENDING), ("status", ASCENDING), ("deliveredAt", ASCENDING)],
    )
    await migrate_orders_awaiting_invoice(db)
    # An AUTOMATIC job limited to one site: equality on its siteCode too (orders stored before the field
    # existed on the snapshot carry none until their next event).
    await index.create(
        "orders",
        [
            ("tenant", ASCENDING),
            ("siteCode", ASCENDING),
            ("awaitingInvoice", ASCENDING),
            ("status", ASCENDING),
            ("deliveredAt", ASCENDING),
        ],
    )
    await index.create("order_claims", [("jobId", ASCENDING), ("orderId", ASCENDING)])
    # The pipeline reads all of a tenant's settings at once.
    await index.create("tenant_settings", [("tenant", ASCENDING)])
    # Newest-first lists (keyset pages on (instant desc, _id desc)). Each list query is an equality on
    # tenant (plus the filter's own field) followed by the order of the page, so one compound index
    # per filter serves filter, order and the cursor's range; FerretDB pushes the equality part down.
    newest_first = [("issuedAt", DESCENDING), ("_id", DESCENDING)]
    await index.create("invoices", [("tenant", ASCENDING), *newest_first])  # no filter; issuedFrom/To
    await index.create("invoices", [("tenant", ASCENDING), ("number", ASCENDING), *newest_first])  # invoiceNumber
    await index.create("invoices", [("tenant", ASCENDING), ("jobId", ASCENDING), *newest_first])  # jobId
    await index.create("invoices", [("tenant", ASCENDING), ("emailStatus", ASCENDING), *newest_first])
    # paymentStatus (the stored one); overdue and unsettled ones by `settled`, the range on dueOn applied after.
    await index.create("invoices", [("tenant", ASCENDING), ("paymentStatus", ASCENDING), *newest_first])
    await index.create("invoices", [("tenant", ASCENDING), ("settled", ASCENDING), *newest_first])
    await index.create("invoices", [("settled", ASCENDING)])  # every tenant's unsettled: the amount-open gauge
    # orderId: an order invoiced again (after a full credit) has more than one invoice, each its own _id.
    await index.create("invoices", [("tenant", ASCENDING), ("orderId", ASCENDING), *newest_first])
    await index.create("invoices", [("tenant", ASCENDING), ("siteCode", ASCENDING), *newest_first])  # siteCode
    await index.create("credit_notes", [("tenant", ASCENDING), *newest_first])
    await index.create("credit_notes", [("tenant", ASCENDING), ("invoiceNumber", ASCENDING), *newest_first])
    await index.create("credit_notes", [("tenant", ASCENDING), ("orderId", ASCENDING), *newest_first])
    await index.create("credit_notes", [("tenant", ASCENDING), ("siteCode", ASCENDING), *newest_first])
    jobs_newest_first = [("createdAt", DESCENDING), ("_id", DESCENDING)]
    await index.create("jobs", [("tenant", ASCENDING), *jobs_newest_first])
    await index.create("jobs", [("tenant", ASCENDING), ("status", ASCENDING), *jobs_newest_first])
    await index.create("jobs", [("tenant", ASCENDING), ("jobType", ASCENDING), *jobs_newest_first])

    # Invoices with a reminder step due on a day (infra/reminders.py: one day's bucket per equality query).
    await index.create("invoices", [("nextReminderOn", ASCENDING)])
    # Tenants with a scheduled AUTOMATIC job, found by the scheduler on every tick.
    await db.tenant_settings.create_index([("scheduled", ASCENDING)])
    # Credit notes: a unique number per tenant (as sequence value and as string, like invoices), and a
    # unique place among the credit notes of one invoice (the claim that serialises them).
    await index.create("credit_notes", [("tenant", ASCENDING), *SCOPED_SEQ], unique=True)
    await index.drop("credit_notes", [("tenant", ASCENDING), ("seq", DESCENDING)])
    await db.credit_notes.create_index([("tenant", ASCENDING), ("number", ASCENDING)], unique=True, name=NUMBER_INDEX)
    # The place is per invoice, by its number: an order invoiced again has credit notes of each of its
    # invoices, each invoice's numbered from 1. The earlier index of the place per order (made when an
    # order had one invoice, so the same places) would refuse the second invoice's first note: dropped.
    await index.create(
        "credit_notes", [("tenant", ASCENDING), ("invoiceNumber", ASCENDING), ("ordinal", ASCENDING)], unique=True
    )
    await index.drop("credit_notes", [("tenant", ASCENDING), ("orderId", ASCENDING), ("ordinal", ASCENDING)])
    # Webhooks (infra/webhooks.py): a tenant's endpoints; an endpoint's delivery log; the due deliveries
    # (equality on state "pending", which a delivery leaves once made, then the range on nextAttemptAt).
    await index.create("webhook_endpoints", [("tenant", ASCENDING), ("createdAt", ASCENDING)])
    await index.create(
        "webhook_deliveries",
        [("tenant", ASCENDING), ("endpointId", ASCENDING), ("createdAt", DESCENDING), ("_id", DESCENDING)],
    )
    await index.create("webhook_deliveries", [("state", ASCENDING), ("nextAttemptAt", ASCENDING)])
    # The windowed counters of login backoff and tenant quotas (infra/limits.py): a TTL index removes
    # ended windows; where the store refuses TTL indexes (FerretDB v1) a plain one serves the purge
    # that the counters then run themselves.
    try:
        await index.create("windowed_counters", [("expiresAt", ASCENDING)], expireAfterSeconds=0)
    except OperationFailure as refused:
        if refused.code != NOT_IMPLEMENTED:
            raise
        await index.create("windowed_counters", [("expiresAt", ASCENDING)])


async def migrate_sequence_scopes(db: AsyncDatabase[Document]) -> None:
    """Invoices and credit notes numbered before sites had sequences of their own are of the tenant's
    sequence (scope ""). Written as a value, never left missing: PostgreSQL's unique indexes under FerretDB
    would take a missing field for NULL, which is unique to nothing. Runs once per database."""
    if await db.migrations.find_one({"_id": "sequence-scopes"}) is not None:
        return
    for collection in (db.invoices, db.credit_notes):
        await collection.update_many({"seqScope": {"$exists": False}}, {"$set": {"seqScope": TENANT_SCOPE}})
    await db.migrations.update_one({"_id": "sequence-scopes"}, {"$set": {"done": True}}, upsert=True)


async def migrate_orders_awaiting_invoice(db: AsyncDatabase[Document]) -> None:
    """Orders stored before `awaitingInvoice` existed count as awaiting one (AUTOMATIC selection then
    checks and clears it). Runs once per database: a marker document records that it ran."""
    if await db.migrations.find_one({"_id": "orders-awaiting-invoice"}) is not None:
        return
    await db.orders.update_many({"awaitingInvoice": {"$exists": False}}, {"$set": {"awaitingInvoice": True}})
    await db.migrations.update_one({"_id": "orders-awaiting-invoice"}, {"$set": {"done": True}}, upsert=True)


async def gather_bounded(operations: Iterable[Awaitable[T]], at_once: int = 8) -> list[T]:
    """Await `operations` with at most `at_once` in flight, in order: many lookups by `_id` without a
    burst that takes all of the store's connections at once."""
    limit = asyncio.Semaphore(at_once)

    async def bounded(operation: Awaitable[T]) -> T:
        async with limit:
            return await operation

    return await asyncio.gather(*(bounded(operation) for operation in operations))


class MissingIndexes:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db
        # collection -> the keys of each of its indexes -> the index's name
        self.existing: dict[str, dict[tuple[tuple[str, int], ...], str]] = {}

    async def create(self, collection: str, keys: list[tuple[str, int]], **options: Any) -> None:
        existing = await self._existing(collection)
        if tuple(keys) not in existing:
            existing[tuple(keys)] = await self.db[collection].create_index(keys, **options)

    async def drop(self, collection: str, keys: list[tuple[str, int]]) -> None:
        """Drop an index that an earlier version created, if it is still there (once per database)."""
        name = (await self._existing(collection)).pop(tuple(keys), None)
        if name is not None:
            await self.db[collection].drop_index(name)  # by name: what FerretDB v1 and MongoDB both take

    async def _existing(self, collection: str) -> dict[tuple[tuple[str, int], ...], str]:
        if collection not in self.existing:
            found = await self.db[collection].index_information()
            self.existing[collection] = {
                tuple((k, int(v)) for k, v in info["key"]): name for name, info in found.items()
            }
        return self.existing[collection]


def email_fields(email: EmailState, sent_to: str | None = None) -> Document:
    """What a send changed of a document's email state (invoicing/email_state.py decides it), as invoices
    and credit notes store it: a send also records when and to whom; a failure leaves the last send."""
    fields: Document = {"emailPending": email.pending, "emailError": email.error}
    if sent_to is not None:
        fields |= {"emailedAt": email.emailed_at, "emailedTo": sent_to}
    return fields


def ignore_duplicates(error: BulkWriteError) -> None:
    """Re-raise a bulk error unless every failure is a duplicate key (the write was already done)."""
    if any(failure.get("code") != DUPLICATE_KEY for failure in error.details.get("writeErrors", [])):
        raise error


async def newest_first_page(
    collection: AsyncCollection[Document], query: Document, at_field: str, after: PageKey | None, limit: int
) -> list[Document]:
    """One page of a newest-first list: (at_field desc, _id desc) is a total order, so the page after
    `after` is exactly the documents strictly below it, however many were inserted meanwhile (new ones
    are newer, so they land before the first page, never inside a later one)."""
    if after is not None:
        query = {
            **query,
            "$or": [{at_field: {"$lt": after.at}}, {at_field: after.at, "_id": {"$lt": after.id}}],
        }
    cursor = collection.find(query).sort([(at_field, DESCENDING), ("_id", DESCENDING)]).limit(limit)
    return await cursor.to_list()
