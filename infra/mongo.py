"""MongoDB adapter: one client, the collections, their indexes, and the repositories over them.

Only features that both MongoDB and FerretDB v1 support: single-document atomic writes, unique
indexes, upserts; no multi-document transactions, no change streams. Uniqueness that must hold under
redelivery and concurrency is carried by `_id` or a unique index, never by a read-then-write check.
"""

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from infra.settings import Settings
from schemas.api import JobStatus, JobType, OrderResultStatus
from schemas.events import utc_now

Document = dict[str, Any]


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


def _ignore_duplicates(error: BulkWriteError) -> None:
    """Re-raise a bulk error unless every failure is a duplicate key (the write was already done)."""
    if any(failure.get("code") != 11000 for failure in error.details.get("writeErrors", [])):
        raise error


# --- jobs and their per-order results ------------------------------------------------------------
# A job document holds the job; each order's result is a document of its own in job_orders, so a job
# of 50,000 orders stays far below the 16 MB document limit.


class JobRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.jobs: AsyncCollection[Document] = db.jobs
        self.orders: AsyncCollection[Document] = db.job_orders

    async def create(self, *, tenant: str, job_id: str, job_type: JobType, order_ids: Sequence[str]) -> None:
        now = utc_now()
        await self.jobs.insert_one(
            {
                "_id": job_id,
                "tenant": tenant,
                "jobType": job_type.value,
                "status": JobStatus.IN_PROGRESS.value,
                "requestedOrderIds": list(order_ids),
                "totalOrders": None,
                "finishedOrders": 0,
                "createdAt": now,
                "updatedAt": now,
            }
        )

    async def delete(self, tenant: str, job_id: str) -> None:
        await self.jobs.delete_one({"_id": job_id, "tenant": tenant})

    async def get(self, tenant: str, job_id: str) -> Document | None:
        return await self.jobs.find_one({"_id": job_id, "tenant": tenant})

    def order_results(self, job_id: str) -> AsyncIterator[Document]:
        return self.orders.find({"jobId": job_id}).sort("position", ASCENDING)

    async def record_planned(
        self, *, tenant: str, job_id: str, total: int, first_position: int, order_ids: Sequence[str]
    ) -> None:
        """Add PENDING results for one planned part; a redelivered part changes nothing."""
        if order_ids:
            pending = [
                {
                    "_id": f"{job_id}:{order_id}",
                    "tenant": tenant,
                    "jobId": job_id,
                    "orderId": order_id,
                    "position": first_position + offset,
                    "status": OrderResultStatus.PENDING.value,
                }
                for offset, order_id in enumerate(order_ids)
            ]
            try:
                await self.orders.insert_many(pending, ordered=False)
            except BulkWriteError as error:
                _ignore_duplicates(error)
        await self.jobs.update_one(
            {"_id": job_id, "tenant": tenant}, {"$set": {"totalOrders": total, "updatedAt": utc_now()}}
        )
        await self._finish_if_complete(tenant, job_id)

    async def record_result(
        self,
        *,
        tenant: str,
        job_id: str,
        order_id: str,
        status: OrderResultStatus,
        message: str,
        invoice_number: str | None = None,
    ) -> None:
        """Set an order's final result once. The finished counter moves only when this call changed the
        order from PENDING, so redelivered results are not counted twice."""
        fields = {"status": status.value, "message": message, "invoiceNumber": invoice_number}
        result = await self.orders.update_one(
            {"_id": f"{job_id}:{order_id}", "status": OrderResultStatus.PENDING.value}, {"$set": fields}
        )
        if result.modified_count == 1:
            await self.jobs.update_one(
                {"_id": job_id, "tenant": tenant},
                {"$inc": {"finishedOrders": 1}, "$set": {"updatedAt": utc_now()}},
            )
        else:
            # Either a redelivery (already final) or the result overtook its plan: store it, then recount,
            # which also repairs a counter left behind by a crash between the two writes above.
            await self.orders.update_one(
                {"_id": f"{job_id}:{order_id}"},
                {
                    "$setOnInsert": {"tenant": tenant, "jobId": job_id, "orderId": order_id, "position": -1},
                    "$set": fields,
                },
                upsert=True,
            )
            finished = await self.orders.count_documents(
                {"jobId": job_id, "status": {"$ne": OrderResultStatus.PENDING.value}}
            )
            await self.jobs.update_one(
                {"_id": job_id, "tenant": tenant}, {"$set": {"finishedOrders": finished, "updatedAt": utc_now()}}
            )
        await self._finish_if_complete(tenant, job_id)

    async def _finish_if_complete(self, tenant: str, job_id: str) -> None:
        job = await self.jobs.find_one({"_id": job_id, "tenant": tenant}, {"totalOrders": 1, "finishedOrders": 1})
        if job is None or job["totalOrders"] is None or job["finishedOrders"] < job["totalOrders"]:
            return
        await self.jobs.update_one(
            {"_id": job_id, "status": JobStatus.IN_PROGRESS.value},
            {"$set": {"status": JobStatus.DONE.value, "finishedAt": utc_now()}},
        )


# --- the order store, fed by upstream order events --------------------------------------------------


class OrderRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.orders: AsyncCollection[Document] = db.orders

    async def store_snapshot(self, *, tenant: str, order_id: str, occurred_at: datetime, order: Document) -> bool:
        """Keep the newest snapshot of an order; an event older than the stored one is ignored.
        Returns whether the snapshot was stored."""
        key = f"{tenant}:{order_id}"
        snapshot = {"tenant": tenant, "orderId": order_id, "occurredAt": occurred_at, "order": order}
        result = await self.orders.update_one({"_id": key, "occurredAt": {"$lte": occurred_at}}, {"$set": snapshot})
        if result.matched_count:
            return True
        try:
            await self.orders.insert_one({"_id": key, **snapshot})
        except DuplicateKeyError:
            return False  # a newer snapshot is already stored
        return True

    async def get(self, tenant: str, order_id: str) -> Document | None:
        found = await self.orders.find_one({"_id": f"{tenant}:{order_id}"})
        return None if found is None else found["order"]


# --- invoices: one per (tenant, order), numbered gap-free per tenant ----------------------------------


@dataclass(frozen=True)
class InvoiceRecord:
    tenant: str
    order_id: str
    job_id: str
    seq: int
    number: str
    issued: bool
    document: Mapping[str, Any]
    storage_key: str | None

    @classmethod
    def from_document(cls, doc: Document) -> "InvoiceRecord":
        return cls(
            tenant=doc["tenant"],
            order_id=doc["orderId"],
            job_id=doc["jobId"],
            seq=doc["seq"],
            number=doc["number"],
            issued=doc.get("issuedAt") is not None,
            document=doc["document"],
            storage_key=doc.get("storageKey"),
        )


class NumberTaken(Exception):
    """Another worker allocated the same sequence value first; take the next one."""


class InvoiceRepository:
    """`_id` is tenant:orderId, so one order can never get two invoices; the unique (tenant, seq) index
    means one number is never given to two orders. The number is bound to the order by one insert,
    so a crash can neither leave a gap nor make the order's number change on redelivery."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.invoices: AsyncCollection[Document] = db.invoices

    async def find(self, tenant: str, order_id: str) -> InvoiceRecord | None:
        doc = await self.invoices.find_one({"_id": f"{tenant}:{order_id}"})
        return None if doc is None else InvoiceRecord.from_document(doc)

    async def find_by_number(self, tenant: str, number: str) -> InvoiceRecord | None:
        doc = await self.invoices.find_one({"tenant": tenant, "number": number})
        return None if doc is None else InvoiceRecord.from_document(doc)

    async def last_seq(self, tenant: str) -> int | None:
        doc = await self.invoices.find_one({"tenant": tenant}, sort=[("seq", DESCENDING)], projection={"seq": 1})
        return None if doc is None else int(doc["seq"])

    async def allocate(
        self, *, tenant: str, order_id: str, job_id: str, seq: int, number: str, document: Mapping[str, Any]
    ) -> InvoiceRecord | None:
        """Bind `number` to the order. Returns None when the order already has an invoice (read it with
        `find`); raises NumberTaken when another order got this sequence value first."""
        doc = {
            "_id": f"{tenant}:{order_id}",
            "tenant": tenant,
            "orderId": order_id,
            "jobId": job_id,
            "seq": seq,
            "number": number,
            "document": dict(document),
            "allocatedAt": utc_now(),
            "issuedAt": None,
            "storageKey": None,
        }
        try:
            await self.invoices.insert_one(doc)
        except DuplicateKeyError:
            if await self.invoices.count_documents({"_id": doc["_id"]}, limit=1):
                return None
            raise NumberTaken(number) from None
        return InvoiceRecord.from_document(doc)

    async def mark_issued(self, tenant: str, order_id: str, storage_key: str) -> None:
        await self.invoices.update_one(
            {"_id": f"{tenant}:{order_id}"}, {"$set": {"storageKey": storage_key, "issuedAt": utc_now()}}
        )

    async def count(self, tenant: str) -> int:
        return await self.invoices.count_documents({"tenant": tenant})
