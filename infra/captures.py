"""Payment captures in MongoDB: one per invoice of an order, recorded once the gateway confirmed it.

`_id` is the invoice's (`invoice_identity`): tenant:orderId for the order's first invoice,
tenant#N:orderId for the Nth (an order invoiced again after a full credit is captured again, as a capture
of its own). Only confirmed captures are recorded: a redelivered order finds its capture here and is
never sent to the gateway again, while a declined or unanswered capture leaves nothing
behind, so a later job may try the order again (with the same idempotency key)."""

from dataclasses import replace
from decimal import Decimal

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from infra.db import Document
from infra.records import CaptureRecord, as_stored
from invoicing.identity import FIRST_INVOICE, invoice_identity


class PaymentCaptures:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.captures: AsyncCollection[Document] = db.payment_captures

    async def find(self, tenant: str, order_id: str, generation: int = FIRST_INVOICE) -> CaptureRecord | None:
        doc = await self.captures.find_one({"_id": invoice_identity(tenant, order_id, generation)})
        return None if doc is None else _capture_record(doc)

    async def record(
        self,
        *,
        tenant: str,
        order_id: str,
        record: CaptureRecord,
        idempotency_key: str,
        generation: int = FIRST_INVOICE,
    ) -> CaptureRecord:
        """Store the capture; if one is stored already (a race), that one stands and is returned."""
        # BSON dates hold milliseconds: return exactly what a later read gives.
        record = replace(record, captured_at=as_stored(record.captured_at))
        doc = {
            "_id": invoice_identity(tenant, order_id, generation),
            "tenant": tenant,
            "orderId": order_id,
            "generation": generation,
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
            existing = await self.find(tenant, order_id, generation)
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
