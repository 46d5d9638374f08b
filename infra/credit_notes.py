"""Credit notes in MongoDB (collection `credit_notes`), the requests for them (`credit_note_requests`,
the resource a client polls), and what they credited, kept on the invoice (its field `credit`).

Exactly one of two credit notes racing for the last unit of a line wins without transactions: the
credit notes of one invoice are numbered 1, 2, ... (`ordinal`) under a unique (tenant, invoiceNumber,
ordinal) index, and a worker computes what is left from notes 1..n before it inserts note n+1. A
second worker that read the same n meets the duplicate key, reads again, and finds the unit gone.
The same insert binds the tenant's credit-note number (unique (tenant, seq), gap-free like invoices)
and is keyed by the request (`_id`), so a redelivered request finds its credit note.
"""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from infra.db import Document, email_fields
from infra.ports import RequestState
from infra.records import (
    STORED_DOCUMENT,
    CreditNoteRecord,
    CreditNoteRequestRecord,
    CreditRaced,
    NumberInUse,
    NumberTaken,
    RefundState,
    RefundStatus,
    as_stored,
)
from infra.sequences import CREDIT_NOTE_SEQUENCE, SequenceMarks
from infra.settlements import change_settlement, settlement_fields, settlement_of
from invoicing.credit_state import check_final
from invoicing.document import InvoiceDocument
from invoicing.email_state import EmailState
from invoicing.money import ZERO
from invoicing.sites import TENANT_SCOPE
from invoicing.statuses import CreditNoteStatus
from schemas.events import utc_now

CREDIT_NOTE_TYPE = "credit-note"


class CreditNoteRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.notes: AsyncCollection[Document] = db.credit_notes
        self.requests: AsyncCollection[Document] = db.credit_note_requests
        self.invoices: AsyncCollection[Document] = db.invoices
        self.marks = SequenceMarks(db.invoice_sequences, CREDIT_NOTE_SEQUENCE)

    # --- requests: written by the API, finished by the credit-note agent ---------------------------

    async def create_request(
        self, *, tenant: str, request_id: str, invoice_number: str, order_id: str, request_digest: str | None = None
    ) -> None:
        """`request_digest`: of the CreditNoteRequested that will be published (the worker makes only that one)."""
        now = utc_now()
        await self.requests.insert_one(
            {
                "_id": request_id,
                "tenant": tenant,
                "invoiceNumber": invoice_number,
                "orderId": order_id,
                "requestDigest": request_digest,
                "status": CreditNoteStatus.IN_PROGRESS.value,
                "message": None,
                "creditNoteNumber": None,
                "createdAt": now,
                "updatedAt": now,
            }
        )

    async def start_request(
        self, tenant: str, request_id: str, invoice_number: str, order_id: str, request_digest: str
    ) -> RequestState:
        """The credit-note agent's check before it numbers or refunds: STARTED when this tenant recorded
        this request, for this invoice and order, with this content, and it is still in progress (then
        marked started, so the API can no longer withdraw it); FINISHED when it is done (a redelivery)."""
        request: Document = {"_id": request_id, "tenant": tenant, "invoiceNumber": invoice_number, "orderId": order_id}
        started = await self.requests.update_one(
            request
            | {
                # Requests recorded before digests were (None) are bound to the first that starts them.
                "$or": [{"requestDigest": request_digest}, {"requestDigest": None}],
                "status": CreditNoteStatus.IN_PROGRESS.value,
            },
            {"$set": {"requestDigest": request_digest, "started": True}},
        )
        if started.matched_count == 1:
            return RequestState.STARTED
        done = await self.requests.find_one(request | {"requestDigest": request_digest}, {"status": 1})
        return RequestState.UNRECORDED if done is None else RequestState.FINISHED

    async def withdraw_request(self, tenant: str, request_id: str) -> bool:
        """Remove the request unless the agent started it; whether it was removed."""
        removed = await self.requests.delete_one({"_id": request_id, "tenant": tenant, "started": {"$exists": False}})
        return removed.deleted_count == 1

    async def get_request(self, tenant: str, request_id: str) -> CreditNoteRequestRecord | None:
        doc = await self.requests.find_one({"_id": request_id})
        if doc is None or doc["tenant"] != tenant:
            return None
        return CreditNoteRequestRecord(
            tenant=doc["tenant"],
            request_id=doc["_id"],
            invoice_number=doc["invoiceNumber"],
            order_id=doc["orderId"],
            status=CreditNoteStatus(doc["status"]),
            message=doc.get("message"),
            credit_note_number=doc.get("creditNoteNumber"),
            created_at=doc["createdAt"],
            updated_at=doc["updatedAt"],
        )

    async def finish_request(
        self, tenant: str, request_id: str, status: CreditNoteStatus, message: str, number: str | None = None
    ) -> None:
        """Finish the request with a final status (invoicing/credit_state.py refuses any other)."""
        check_final(status)
        await self.requests.update_one(
            {"_id": request_id, "tenant": tenant},
            {"$set": {"status": status.value, "message": message, "creditNoteNumber": number, "updatedAt": utc_now()}},
        )

    # --- credit notes ------------------------------------------------------------------------------

    async def find(self, tenant: str, note_id: str) -> CreditNoteRecord | None:
        doc = await self.notes.find_one({"_id": note_id})
        return None if doc is None or doc["tenant"] != tenant else _credit_note_record(doc)

    async def find_by_number(self, tenant: str, number: str) -> CreditNoteRecord | None:
        """By the unique (tenant, number) index."""
        doc = await self.notes.find_one({"tenant": tenant, "number": number})
        return None if doc is None else _credit_note_record(doc)

    async def of_invoice(self, tenant: str, invoice_number: str) -> list[CreditNoteRecord]:
        """The invoice's credit notes, in the order they were made (equality on tenant and invoice number:
        indexed). By number, not by order: an order invoiced again has credit notes of each invoice."""
        docs = await self.notes.find({"tenant": tenant, "invoiceNumber": invoice_number}).to_list()
        return sorted((_credit_note_record(doc) for doc in docs), key=lambda note: note.ordinal)

    async def last_seq(self, tenant: str, scope: str = TENANT_SCOPE) -> int | None:
        return await self.marks.last(tenant, scope)

    async def allocate(
        self,
        *,
        tenant: str,
        note_id: str,
        order_id: str,
        invoice_number: str,
        ordinal: int,
        seq: int,
        number: str,
        reason: str,
        document: InvoiceDocument,
        logo_sha256: str | None,
        refund: RefundState,
        site_code: str | None = None,
        scope: str = TENANT_SCOPE,
    ) -> CreditNoteRecord:
        """Bind the credit note to its place among the invoice's credit notes (`ordinal`) and to its number.
        Returns the stored note (this request's, if it was stored before); raises CreditRaced when another
        credit note took `ordinal`, NumberTaken when another took `seq`."""
        now = utc_now()
        totals = document.totals
        doc: Document = {
            "_id": note_id,
            "tenant": tenant,
            "type": CREDIT_NOTE_TYPE,
            "number": number,
            "seqScope": scope,
            "seq": seq,
            "siteCode": site_code,
            "ordinal": ordinal,
            "invoiceNumber": invoice_number,
            "orderId": order_id,
            "jobId": note_id,
            "issuedAt": as_stored(now),
            "currency": totals.currency,
            "lines": [
                {"entryId": line.entry_id, "quantity": str(line.quantity), "net": str(line.net)}
                for line in totals.lines
            ],
            "shipping": str(totals.shipping_net) if totals.shipping_tax_rate is not None else None,
            "totals": {
                "net": str(totals.subtotal + totals.shipping_net),
                "tax": str(totals.tax_total),
                "gross": str(totals.total),
            },
            "reason": reason,
            "document": STORED_DOCUMENT.dump_python(document, mode="json"),
            "logoSha256": logo_sha256,
            "storageKey": None,
            "refund": _refund_fields(refund),
            "emailedAt": None,
            "emailPending": False,
            "emailError": None,
        }
        try:
            await self.notes.insert_one(doc)
        except DuplicateKeyError:
            existing = await self.find(tenant, note_id)
            if existing is not None:
                return existing
            if await self.notes.find_one({"_id": note_id}, {"_id": 1}) is not None:
                raise ValueError(f"credit-note ID {note_id} is another tenant's") from None  # a defect, not a race
            if await self.notes.find_one(
                {"tenant": tenant, "invoiceNumber": invoice_number, "ordinal": ordinal}, {"_id": 1}
            ):
                raise CreditRaced(invoice_number) from None
            await self.marks.raise_to(tenant, seq, scope)
            if await self.notes.find_one({"tenant": tenant, "seqScope": scope, "seq": seq}, {"_id": 1}) is None:
                raise NumberInUse(number) from None  # the number is another credit note's under another seq
            raise NumberTaken(number) from None
        await self.marks.raise_to(tenant, seq, scope)
        return _credit_note_record(doc)

    async def mark_stored(self, tenant: str, note_id: str, storage_key: str) -> None:
        await self.notes.update_one({"_id": note_id, "tenant": tenant}, {"$set": {"storageKey": storage_key}})

    async def mark_refund(self, tenant: str, note_id: str, refund: RefundState) -> None:
        await self.notes.update_one({"_id": note_id, "tenant": tenant}, {"$set": {"refund": _refund_fields(refund)}})

    # The note's email state is the domain's (invoicing/email_state.py): a send's fields do not depend on
    # what was stored before, so each is one write by `_id`, no read.

    async def mark_emailed(self, tenant: str, note_id: str, recipient: str, at: datetime) -> None:
        await self._write_email(tenant, note_id, EmailState().sent(at), recipient)

    async def mark_email_pending(self, tenant: str, note_id: str, reason: str) -> None:
        await self._write_email(tenant, note_id, EmailState().deferred(reason))

    async def mark_email_failed(self, tenant: str, note_id: str, reason: str) -> None:
        await self._write_email(tenant, note_id, EmailState().refused(reason))

    async def _write_email(self, tenant: str, note_id: str, email: EmailState, sent_to: str | None = None) -> None:
        await self.notes.update_one({"_id": note_id, "tenant": tenant}, {"$set": email_fields(email, sent_to)})

    async def project_onto_invoice(self, tenant: str, invoice_number: str) -> None:
        """Write what the invoice's credit notes credited onto the invoice (field `credit`), from all of them:
        recomputed whole, so a repeat or a late writer leaves the same figures. The invoice is addressed by
        its number (the unique (tenant, number) index): an order invoiced again has more than one."""
        notes = await self.of_invoice(tenant, invoice_number)
        credit = credit_summary(notes)

        def credited(doc: Document) -> tuple[Document, Document]:
            # What is due drops by what is credited (infra/settlements.py: conditional, like a payment).
            after = settlement_of(doc | {"credit": credit})
            return {"credit": credit} | settlement_fields(after), {}

        await change_settlement(self.invoices, {"tenant": tenant, "number": invoice_number}, credited)


def credit_summary(notes: Sequence[CreditNoteRecord]) -> Document:
    """The invoice's `credit` field: what all its credit notes credited, and each note."""
    totals = [note.credit_document().totals for note in notes]
    net = sum((t.subtotal + t.shipping_net for t in totals), ZERO)
    tax = sum((t.tax_total for t in totals), ZERO)
    return {
        "net": str(net),
        "tax": str(tax),
        "gross": str(net + tax),
        "notes": [
            {"number": note.number, "issuedAt": note.issued_at, "gross": str(t.total)}
            for note, t in zip(notes, totals, strict=True)
        ],
    }


def _refund_fields(refund: RefundState) -> Document:
    return {
        "status": refund.status.value,
        "amount": str(refund.amount),
        "refundId": refund.refund_id,
        "error": refund.error,
    }


def _credit_note_record(doc: Document) -> CreditNoteRecord:
    refund = doc["refund"]
    return CreditNoteRecord(
        tenant=doc["tenant"],
        note_id=doc["_id"],
        order_id=doc["orderId"],
        invoice_number=doc["invoiceNumber"],
        ordinal=doc["ordinal"],
        seq=doc["seq"],
        number=doc["number"],
        reason=doc["reason"],
        document=doc["document"],
        issued_at=doc["issuedAt"],
        storage_key=doc.get("storageKey"),
        logo_sha256=doc.get("logoSha256"),
        refund=RefundState(
            status=RefundStatus(refund["status"]),
            amount=Decimal(refund["amount"]),
            refund_id=refund.get("refundId"),
            error=refund.get("error"),
        ),
        emailed_at=doc.get("emailedAt"),
        email_pending=bool(doc.get("emailPending")),
        email_error=doc.get("emailError"),
        site_code=doc.get("siteCode"),
        sequence_scope=doc.get("seqScope") or TENANT_SCOPE,
    )
