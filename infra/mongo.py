"""MongoDB adapter: one client, the collections, their indexes, and the repositories over them.

Only features that both MongoDB and FerretDB v1 support: single-document atomic writes, unique
indexes, upserts; no multi-document transactions, no change streams. Uniqueness that must hold under
redelivery and concurrency is carried by `_id` or a unique index, never by a read-then-write check.

Hot paths address documents by `_id` alone: FerretDB v1 pushes only such filters down to its storage
and scans the whole collection for any other (an `_id` plus one more condition included). Where a
write depends on what it read (order snapshots, job results), its agent runs a single actor, and Kafka
delivers one key (tenant:orderId, tenant:jobId) to one consumer at a time, in order, so the reader is
the only writer of that document. The invoice agent runs several actors: its writes rely on inserts.
"""

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from infra.settings import Settings
from invoicing.document import InvoiceDocument
from invoicing.selection import OrderSelection, delivery_instant
from schemas.api import JobStatus, JobType, OrderResultStatus
from schemas.events import utc_now
from schemas.orders import Order

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
    # AUTOMATIC jobs: equality on tenant, a short $in on status, then a range on the delivery instant.
    await db.orders.create_index([("tenant", ASCENDING), ("status", ASCENDING), ("deliveredAt", ASCENDING)])
    await db.order_claims.create_index([("jobId", ASCENDING), ("orderId", ASCENDING)])


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
        if await self.get(tenant, job_id) is not None:
            await self.jobs.delete_one({"_id": job_id})

    async def get(self, tenant: str, job_id: str) -> Document | None:
        """The job, if it is this tenant's: job IDs are unique across tenants, the check keeps them apart."""
        job = await self.jobs.find_one({"_id": job_id})
        return job if job is not None and job["tenant"] == tenant else None

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
        await self.jobs.update_one({"_id": job_id}, {"$set": {"totalOrders": total, "updatedAt": utc_now()}})
        await self._finish_if_complete(job_id)

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
        key = f"{job_id}:{order_id}"
        current = await self.orders.find_one({"_id": key}, {"status": 1})
        if current is not None and current["status"] == OrderResultStatus.PENDING.value:
            await self.orders.update_one({"_id": key}, {"$set": fields})
            await self.jobs.update_one(
                {"_id": job_id}, {"$inc": {"finishedOrders": 1}, "$set": {"updatedAt": utc_now()}}
            )
        else:
            # Either a redelivery (already final) or the result overtook its plan: store it, then recount,
            # which also repairs a counter left behind by a crash between the two writes above.
            await self.orders.update_one(
                {"_id": key},
                {
                    "$setOnInsert": {"tenant": tenant, "jobId": job_id, "orderId": order_id, "position": -1},
                    "$set": fields,
                },
                upsert=True,
            )
            finished = await self.orders.count_documents(
                {"jobId": job_id, "status": {"$ne": OrderResultStatus.PENDING.value}}
            )
            await self.jobs.update_one({"_id": job_id}, {"$set": {"finishedOrders": finished, "updatedAt": utc_now()}})
        await self._finish_if_complete(job_id)

    async def _finish_if_complete(self, job_id: str) -> None:
        job = await self.jobs.find_one({"_id": job_id}, {"totalOrders": 1, "finishedOrders": 1, "status": 1})
        if job is None or job["status"] != JobStatus.IN_PROGRESS.value or job["totalOrders"] is None:
            return
        if job["finishedOrders"] >= job["totalOrders"]:
            await self.jobs.update_one(
                {"_id": job_id}, {"$set": {"status": JobStatus.DONE.value, "finishedAt": utc_now()}}
            )


# --- the order store, fed by upstream order events --------------------------------------------------


class OrderRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.orders: AsyncCollection[Document] = db.orders

    async def store_snapshot(self, *, tenant: str, occurred_at: datetime, order: Order) -> bool:
        """Keep the newest snapshot of an order; an event older than the stored one is ignored.
        Returns whether the snapshot was stored. The fields AUTOMATIC jobs query sit beside the order."""
        key = f"{tenant}:{order.id}"
        stored = await self.orders.find_one({"_id": key}, {"occurredAt": 1})
        if stored is not None and stored["occurredAt"] > occurred_at:
            return False  # a newer snapshot is already stored
        snapshot = {
            "tenant": tenant,
            "orderId": order.id,
            "occurredAt": occurred_at,
            "status": order.status.value,
            "extendedOrderStatus": order.extendedOrderStatus,
            "deliveredAt": delivery_instant(order.deliveryDate),
            "order": order.model_dump(mode="json", exclude_none=True),
        }
        if stored is not None:
            await self.orders.replace_one({"_id": key}, snapshot)
            return True
        try:
            await self.orders.insert_one({"_id": key, **snapshot})
        except DuplicateKeyError:  # stored meanwhile (a rebalance's overlap): compare with that one
            return await self.store_snapshot(tenant=tenant, occurred_at=occurred_at, order=order)
        return True

    async def get(self, tenant: str, order_id: str) -> Document | None:
        found = await self.orders.find_one({"_id": f"{tenant}:{order_id}"})
        return None if found is None else found["order"]

    def select(self, tenant: str, selection: OrderSelection, delivered_before: datetime) -> AsyncIterator[str]:
        """IDs of the tenant's orders that `selection` takes (whether invoiced or not)."""
        cursor = self.orders.find(selection_filter(tenant, selection, delivered_before), {"orderId": 1})
        return (doc["orderId"] async for doc in cursor)


def selection_filter(tenant: str, selection: OrderSelection, delivered_before: datetime) -> Document:
    query: Document = {
        "tenant": tenant,
        "status": {"$in": [status.value for status in selection.statuses]},
        "deliveredAt": {"$lte": delivered_before},
    }
    if selection.extended_statuses:
        query["extendedOrderStatus"] = {"$in": list(selection.extended_statuses)}
    return query


# --- claims: which AUTOMATIC job takes an order -------------------------------------------------------


class OrderClaims:
    """`_id` is tenant:orderId, so of two AUTOMATIC jobs that select the same order at the same time,
    exactly one inserts the claim. A claim is released when its order fails, so a later job retries it."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.claims: AsyncCollection[Document] = db.order_claims

    async def claim(self, *, tenant: str, job_id: str, order_ids: Iterable[str]) -> None:
        now = utc_now()
        claims = [
            {"_id": f"{tenant}:{order_id}", "tenant": tenant, "orderId": order_id, "jobId": job_id, "claimedAt": now}
            for order_id in order_ids
        ]
        if claims:
            try:
                await self.claims.insert_many(claims, ordered=False)
            except BulkWriteError as error:
                _ignore_duplicates(error)  # claimed before: by another job, or by this one before a redelivery

    async def claimed_by(self, tenant: str, job_id: str) -> list[str]:
        cursor = self.claims.find({"jobId": job_id, "tenant": tenant}, {"orderId": 1}).sort("orderId", ASCENDING)
        return [doc["orderId"] async for doc in cursor]

    async def release(self, *, tenant: str, job_id: str, order_id: str) -> None:
        await self.claims.delete_one({"_id": f"{tenant}:{order_id}", "jobId": job_id})


# --- invoices: one per (tenant, order), numbered gap-free per tenant ----------------------------------


# How an invoice's document is kept in its record: JSON-compatible, read back into the dataclass.
STORED_DOCUMENT = TypeAdapter(InvoiceDocument)


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
    logo_sha256: str | None
    emailed_at: datetime | None = None
    email_pending: bool = False  # a first send failed; an InvoiceEmailRequested retries it
    email_error: str | None = None  # why the last send failed

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
            logo_sha256=doc.get("logoSha256"),
            emailed_at=doc.get("emailedAt"),
            email_pending=bool(doc.get("emailPending")),
            email_error=doc.get("emailError"),
        )

    def invoice_document(self) -> InvoiceDocument:
        """The document the invoice was made from, as it was then."""
        return STORED_DOCUMENT.validate_python(self.document)

    @property
    def customer_email(self) -> str | None:
        """The address on the invoice (the order's customer email when it was made)."""
        buyer = self.document.get("buyer") or {}
        email = buyer.get("email")
        return email if isinstance(email, str) else None


class NumberTaken(Exception):
    """Another worker allocated the same sequence value first; take the next one."""


class InvoiceRepository:
    """`_id` is tenant:orderId, so one order can never get two invoices; the unique (tenant, seq) index
    means one number is never given to two orders. The number is bound to the order by one insert,
    so a crash can neither leave a gap nor make the order's number change on redelivery."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.invoices: AsyncCollection[Document] = db.invoices
        self.sequences: AsyncCollection[Document] = db.invoice_sequences

    async def find(self, tenant: str, order_id: str) -> InvoiceRecord | None:
        doc = await self.invoices.find_one({"_id": f"{tenant}:{order_id}"})
        return None if doc is None else InvoiceRecord.from_document(doc)

    async def find_by_number(self, tenant: str, number: str) -> InvoiceRecord | None:
        doc = await self.invoices.find_one({"tenant": tenant, "number": number})
        return None if doc is None else InvoiceRecord.from_document(doc)

    async def last_seq(self, tenant: str) -> int | None:
        """The highest sequence value taken, from the tenant's high-water mark (read by `_id`). The mark may
        lag behind after a crash; `allocate` then meets NumberTaken and moves it on. Without a mark (data
        from before marks existed) the invoices themselves say."""
        mark = await self.sequences.find_one({"_id": tenant})
        if mark is not None:
            return int(mark["lastSeq"])
        doc = await self.invoices.find_one({"tenant": tenant}, sort=[("seq", DESCENDING)], projection={"seq": 1})
        return None if doc is None else int(doc["seq"])

    async def _raise_mark(self, tenant: str, seq: int) -> None:
        try:
            await self.sequences.update_one({"_id": tenant}, {"$max": {"lastSeq": seq}}, upsert=True)
        except DuplicateKeyError:  # two first upserts at once: the mark exists now, so this one updates it
            await self.sequences.update_one({"_id": tenant}, {"$max": {"lastSeq": seq}})

    async def invoiced_among(self, tenant: str, order_ids: Sequence[str]) -> set[str]:
        cursor = self.invoices.find(
            {"_id": {"$in": [f"{tenant}:{order_id}" for order_id in order_ids]}}, {"orderId": 1}
        )
        return {doc["orderId"] async for doc in cursor}

    async def allocate(
        self,
        *,
        tenant: str,
        order_id: str,
        job_id: str,
        seq: int,
        number: str,
        document: InvoiceDocument,
        logo_sha256: str | None = None,
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
            "document": STORED_DOCUMENT.dump_python(document, mode="json"),
            "logoSha256": logo_sha256,
            "allocatedAt": utc_now(),
            "issuedAt": None,
            "storageKey": None,
        }
        try:
            await self.invoices.insert_one(doc)
        except DuplicateKeyError:
            if await self.invoices.find_one({"_id": doc["_id"]}, {"_id": 1}) is not None:
                return None
            await self._raise_mark(tenant, seq)
            raise NumberTaken(number) from None
        await self._raise_mark(tenant, seq)
        return InvoiceRecord.from_document(doc)

    async def mark_issued(self, tenant: str, order_id: str, storage_key: str) -> None:
        await self.invoices.update_one(
            {"_id": f"{tenant}:{order_id}"}, {"$set": {"storageKey": storage_key, "issuedAt": utc_now()}}
        )

    async def count(self, tenant: str) -> int:
        return await self.invoices.count_documents({"tenant": tenant})

    # The invoice email's state lives on the invoice: when it was sent, or that it is pending and why.

    async def mark_emailed(self, tenant: str, order_id: str, recipient: str, at: datetime) -> None:
        await self.invoices.update_one(
            {"_id": f"{tenant}:{order_id}"},
            {"$set": {"emailedAt": at, "emailedTo": recipient, "emailPending": False, "emailError": None}},
        )

    async def mark_email_pending(self, tenant: str, order_id: str, reason: str) -> None:
        await self.invoices.update_one(
            {"_id": f"{tenant}:{order_id}"}, {"$set": {"emailPending": True, "emailError": reason}}
        )

    async def mark_email_failed(self, tenant: str, order_id: str, reason: str) -> None:
        """The mail server refused this email for good (say, an unknown recipient): no more retries."""
        await self.invoices.update_one(
            {"_id": f"{tenant}:{order_id}"}, {"$set": {"emailPending": False, "emailError": reason}}
        )


# --- payment captures: one per (tenant, order), recorded once the gateway confirmed it ----------------


@dataclass(frozen=True)
class CaptureRecord:
    transaction_id: str
    amount: Decimal
    currency: str
    method: str
    capture_id: str
    captured_at: datetime


class PaymentCaptures:
    """`_id` is tenant:orderId. Only confirmed captures are recorded: a redelivered order finds its
    capture here and is never sent to the gateway again, while a declined or unanswered capture leaves
    nothing behind, so a later job may try the order again (with the same idempotency key)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.captures: AsyncCollection[Document] = db.payment_captures

    async def find(self, tenant: str, order_id: str) -> CaptureRecord | None:
        doc = await self.captures.find_one({"_id": f"{tenant}:{order_id}"})
        return None if doc is None else _capture_record(doc)

    async def record(self, *, tenant: str, order_id: str, record: CaptureRecord, idempotency_key: str) -> CaptureRecord:
        """Store the capture; if one is stored already (a race), that one stands and is returned."""
        # BSON dates hold milliseconds: return exactly what a later read gives.
        at = record.captured_at
        record = replace(record, captured_at=at.replace(microsecond=at.microsecond // 1000 * 1000))
        doc = {
            "_id": f"{tenant}:{order_id}",
            "tenant": tenant,
            "orderId": order_id,
            "transactionId": record.transaction_id,
            "amount": format(record.amount, "f"),  # Decimal as text: exact, and readable in the database
            "currency": record.currency,
            "method": record.method,
            "captureId": record.capture_id,
            "idempotencyKey": idempotency_key,
            "capturedAt": record.captured_at,
        }
        try:
            await self.captures.insert_one(doc)
        except DuplicateKeyError:
            existing = await self.find(tenant, order_id)
            if existing is not None:
                return existing
            raise
        return record


def _capture_record(doc: Document) -> CaptureRecord:
    return CaptureRecord(
        transaction_id=doc["transactionId"],
        amount=Decimal(doc["amount"]),
        currency=doc["currency"],
        method=doc["method"],
        capture_id=doc["captureId"],
        captured_at=doc["capturedAt"],
    )
