"""Invoices in MongoDB: one per (tenant, order), numbered gap-free per tenant.

`_id` is tenant:orderId, so one order can never get two invoices; the unique (tenant, seq) index means
one number is never given to two orders. The number is bound to the order by one insert, so a crash can
neither leave a gap nor make the order's number change on redelivery. One adapter serves two ports:
the invoices themselves (`InvoiceStore`) and the tenant's numbers (`InvoiceNumbers`).
"""

from collections.abc import Sequence
from datetime import datetime

from pymongo import DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from infra.db import Document
from infra.records import STORED_DOCUMENT, InvoiceRecord, NumberTaken
from infra.sequences import INVOICE_SEQUENCE, SequenceMarks
from invoicing.document import InvoiceDocument
from schemas.events import utc_now


class InvoiceRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.invoices: AsyncCollection[Document] = db.invoices
        self.marks = SequenceMarks(db.invoice_sequences, INVOICE_SEQUENCE)

    async def find(self, tenant: str, order_id: str) -> InvoiceRecord | None:
        doc = await self.invoices.find_one({"_id": f"{tenant}:{order_id}"})
        return None if doc is None else _invoice_record(doc)

    async def find_by_number(self, tenant: str, number: str) -> InvoiceRecord | None:
        doc = await self.invoices.find_one({"tenant": tenant, "number": number})
        return None if doc is None else _invoice_record(doc)

    async def last_seq(self, tenant: str) -> int | None:
        """The highest sequence value taken, from the tenant's high-water mark (read by `_id`). The mark may
        lag behind after a crash; `allocate` then meets NumberTaken and moves it on. Without a mark (data
        from before marks existed) the invoices themselves say."""
        mark = await self.marks.last(tenant)
        if mark is not None:
            return mark
        doc = await self.invoices.find_one({"tenant": tenant}, sort=[("seq", DESCENDING)], projection={"seq": 1})
        return None if doc is None else int(doc["seq"])

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
            await self.marks.raise_to(tenant, seq)
            raise NumberTaken(number) from None
        await self.marks.raise_to(tenant, seq)
        return _invoice_record(doc)

    async def mark_issued(self, tenant: str, order_id: str, storage_key: str) -> None:
        await self.invoices.update_one(
            {"_id": f"{tenant}:{order_id}"}, {"$set": {"storageKey": storage_key, "issuedAt": utc_now()}}
        )

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


def _invoice_record(doc: Document) -> InvoiceRecord:
    return InvoiceRecord(
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
