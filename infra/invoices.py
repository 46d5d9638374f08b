"""Invoices in MongoDB: one current invoice per (tenant, order), numbered gap-free per tenant.

An order's first invoice has `_id` tenant:orderId, so one order can never get two first invoices; the
unique (tenant, seq) and (tenant, number) indexes mean one number is never given to two invoices, not
even when two sequence formats format different values alike. The number is bound to the order by one
insert, so a crash can neither leave a gap nor make the order's number change on redelivery.

An order whose invoice is credited in full can be invoiced again (by a MANUAL job): its Nth invoice is
a document of its own, `_id` tenant#N:orderId (`invoice_identity`), inserted like the first, so of two
jobs racing to invoice it again exactly one inserts it. No invoice is ever copied or moved: every
invoice keeps its one document, its number and its credit notes. The first invoice's document points to
the current one (`currentGeneration`, only ever raised, by `$max`), so `find` reads one document by
`_id`, or two for an order invoiced again. One adapter serves two ports: the invoices themselves
(`InvoiceStore`) and the tenant's numbers (`InvoiceNumbers`).
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from infra.db import Document, email_fields, gather_bounded, newest_first_page
from infra.ports import RequestState
from infra.records import (
    NOTHING_CREDITED,
    STORED_DOCUMENT,
    AmountsCredited,
    CreditNoteRef,
    InvoiceFilter,
    InvoiceRecord,
    IssuedInvoice,
    ListedCreditNote,
    NumberInUse,
    NumberTaken,
    PageKey,
)
from infra.reminders import opening_reminder_fields
from infra.sequences import INVOICE_SEQUENCE, SequenceMarks
from infra.settlements import (
    change_settlement,
    due_on_of,
    opening_fields,
    payment_fields,
    payments_of,
    settlement_fields,
    settlement_of,
)
from invoicing.document import InvoiceDocument
from invoicing.email_state import EmailState
from invoicing.identity import FIRST_INVOICE, invoice_identity
from invoicing.settlement import UNSETTLED, InvoicePaymentStatus, Payment, PaymentResult, record_payment
from invoicing.sites import TENANT_SCOPE
from invoicing.statuses import EmailStatus
from schemas.events import utc_now

EMAIL_REQUEST_IN_PROGRESS = "IN_PROGRESS"
EMAIL_REQUEST_DONE = "DONE"


class InvoiceRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.invoices: AsyncCollection[Document] = db.invoices
        self.marks = SequenceMarks(db.invoice_sequences, INVOICE_SEQUENCE)
        # Written by the credit-note side (infra/credit_notes.py); read here in the agreed shape.
        self.credit_notes: AsyncCollection[Document] = db.credit_notes
        self.email_requests: AsyncCollection[Document] = db.email_requests

    async def find(self, tenant: str, order_id: str) -> InvoiceRecord | None:
        """The order's current invoice: its first, or the one its first points to."""
        first = await self.invoices.find_one({"_id": invoice_identity(tenant, order_id)})
        if first is None:
            return None
        current = int(first.get("currentGeneration") or FIRST_INVOICE)
        if current == FIRST_INVOICE:
            return _invoice_record(first)
        doc = await self.invoices.find_one({"_id": invoice_identity(tenant, order_id, current)})
        if doc is None:  # the pointer is raised only after the insert of what it points to
            raise RuntimeError(f"invoice {current} of order {order_id} of tenant {tenant} is current but missing")
        return _invoice_record(doc)

    async def find_generation(self, tenant: str, order_id: str, generation: int) -> InvoiceRecord | None:
        doc = await self.invoices.find_one({"_id": invoice_identity(tenant, order_id, generation)})
        return None if doc is None else _invoice_record(doc)

    async def make_current(self, invoice: InvoiceRecord) -> None:
        """Point the order's first invoice to `invoice`. `$max`: a late or repeated call never points back."""
        if invoice.generation == FIRST_INVOICE:
            return
        await self.invoices.update_one(
            {"_id": invoice_identity(invoice.tenant, invoice.order_id)},
            {"$max": {"currentGeneration": invoice.generation}},
        )

    async def find_by_number(self, tenant: str, number: str) -> InvoiceRecord | None:
        doc = await self.invoices.find_one({"tenant": tenant, "number": number})
        return None if doc is None else _invoice_record(doc)

    async def last_seq(self, tenant: str, scope: str = TENANT_SCOPE) -> int | None:
        """The highest sequence value taken, from the tenant's high-water mark (read by `_id`). The mark may
        lag behind after a crash; `allocate` then meets NumberTaken and moves it on. Without a mark (data
        from before marks existed) the invoices themselves say."""
        mark = await self.marks.last(tenant, scope)
        if mark is not None:
            return mark
        query = {"tenant": tenant, "seqScope": scope}
        doc = await self.invoices.find_one(query, sort=[("seq", DESCENDING)], projection={"seq": 1})
        return None if doc is None else int(doc["seq"])

    async def invoiced_among(self, tenant: str, order_ids: Sequence[str]) -> set[str]:
        """Which of these orders have an invoice (a first one, so any): a lookup by `_id` each, all at once
        (an `_id` `$in` is an index lookup on MongoDB, but FerretDB v1 does not push `$in` down and would scan)."""
        found = await gather_bounded(
            self.invoices.find_one({"_id": invoice_identity(tenant, order_id)}, {"_id": 1}) for order_id in order_ids
        )
        return {order_id for order_id, doc in zip(order_ids, found, strict=True) if doc is not None}

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
        generation: int = FIRST_INVOICE,
        site_code: str | None = None,
        scope: str = TENANT_SCOPE,
    ) -> InvoiceRecord | None:
        """Bind `number` to the order's invoice of this `generation`. Returns None when the order already has
        that invoice (read it with `find_generation`); raises NumberTaken when another invoice got this
        sequence value first, NumberInUse when another invoice of the tenant already has this number under
        another sequence value."""
        doc = {
            "_id": invoice_identity(tenant, order_id, generation),
            "tenant": tenant,
            "orderId": order_id,
            "generation": generation,
            "jobId": job_id,
            "seqScope": scope,  # whose sequence `seq` is of: the tenant's ("") or a site's own
            "seq": seq,
            "number": number,
            "siteCode": site_code,
            "document": STORED_DOCUMENT.dump_python(document, mode="json"),
            "logoSha256": logo_sha256,
            "allocatedAt": utc_now(),
            "issuedAt": None,
            "storageKey": None,
            "emailStatus": EmailStatus.NOT_SENT.value,
        }
        doc |= opening_fields(document, doc["allocatedAt"]) | opening_reminder_fields(document, doc["allocatedAt"])
        try:
            await self.invoices.insert_one(doc)
        except DuplicateKeyError:
            if await self.invoices.find_one({"_id": doc["_id"]}, {"_id": 1}) is not None:
                return None
            await self.marks.raise_to(tenant, seq, scope)
            if await self.invoices.find_one({"tenant": tenant, "seqScope": scope, "seq": seq}, {"_id": 1}) is None:
                raise NumberInUse(number) from None
            raise NumberTaken(number) from None
        await self.marks.raise_to(tenant, seq, scope)
        return _invoice_record(doc)

    async def mark_issued(self, invoice: InvoiceRecord, storage_key: str) -> None:
        await self.invoices.update_one(
            {"_id": invoice.record_id}, {"$set": {"storageKey": storage_key, "issuedAt": utc_now()}}
        )

    # The invoice email's state lives on the invoice: when it was sent, or that it is pending and why.

    async def mark_emailed(self, invoice: InvoiceRecord, recipient: str, at: datetime) -> None:
        await self._write_email(invoice, invoice.email.sent(at), recipient)

    async def mark_email_pending(self, invoice: InvoiceRecord, reason: str) -> None:
        await self._write_email(invoice, invoice.email.deferred(reason))

    async def mark_email_failed(self, invoice: InvoiceRecord, reason: str) -> None:
        """The mail server refused this email for good (say, an unknown recipient): no more retries."""
        await self._write_email(invoice, invoice.email.refused(reason))

    async def _write_email(self, invoice: InvoiceRecord, email: EmailState, sent_to: str | None = None) -> None:
        """Store the state the domain gave, and its status for the emailStatus filter (one write)."""
        fields = email_fields(email, sent_to) | {"emailStatus": email.status.value}
        await self.invoices.update_one({"_id": invoice.record_id}, {"$set": fields})

    # Payments: one conditional update each (infra/settlements.py), so two concurrent payments never
    # together exceed what is due, and a retry under the same Idempotency-Key answers the first result.

    async def record_payment(self, invoice: InvoiceRecord, payment: Payment) -> PaymentResult:
        """Record `payment` on the invoice; raises InvalidPayment, Overpayment or KeyReused (the domain's)."""
        outcome: list[PaymentResult] = []

        def pay(doc: Document) -> tuple[Document, Document] | None:
            outcome[:] = [record_payment(settlement_of(doc), payments_of(doc), payment)]
            if outcome[0].replayed:
                return None
            after = outcome[0].settlement
            return settlement_fields(after), {"payments": payment_fields(payment)}

        if await change_settlement(self.invoices, {"_id": invoice.record_id}, pay) is None:
            raise LookupError(f"invoice {invoice.number} of tenant {invoice.tenant} is gone")
        return outcome[0]

    # Email resends a client asked for: recorded by the API before it publishes the request, started
    # (checked) by the email agent before it sends, finished once sent; a request the API withdrew after
    # a publish timeout is gone, so the agent sends nothing for it (README "Under faults").

    async def record_email_request(
        self, *, tenant: str, request_id: str, invoice_number: str, order_id: str, request_digest: str
    ) -> None:
        await self.email_requests.insert_one(
            {
                "_id": request_id,
                "tenant": tenant,
                "invoiceNumber": invoice_number,
                "orderId": order_id,
                "requestDigest": request_digest,
                "status": EMAIL_REQUEST_IN_PROGRESS,
                "createdAt": utc_now(),
            }
        )

    async def start_email_request(self, tenant: str, request_id: str, request_digest: str) -> RequestState:
        """STARTED when this tenant recorded this request with this content and it is not done (then marked
        started, so the API can no longer withdraw it); FINISHED when it is done (a redelivery, a replay)."""
        request: Document = {"_id": request_id, "tenant": tenant, "requestDigest": request_digest}
        started = await self.email_requests.update_one(
            request | {"status": EMAIL_REQUEST_IN_PROGRESS}, {"$set": {"started": True}}
        )
        if started.matched_count == 1:
            return RequestState.STARTED
        done = await self.email_requests.find_one(request, {"_id": 1})
        return RequestState.UNRECORDED if done is None else RequestState.FINISHED

    async def finish_email_request(self, tenant: str, request_id: str) -> None:
        """Done: a copy of the request arriving later (a replay) sends nothing."""
        await self.email_requests.update_one(
            {"_id": request_id, "tenant": tenant}, {"$set": {"status": EMAIL_REQUEST_DONE, "finishedAt": utc_now()}}
        )

    async def withdraw_email_request(self, tenant: str, request_id: str) -> bool:
        """Remove the request unless the email agent started it; whether it was removed."""
        removed = await self.email_requests.delete_one(
            {"_id": request_id, "tenant": tenant, "started": {"$exists": False}}
        )
        return removed.deleted_count == 1

    # The read side: issued invoices and credit notes as lists, newest first. Every query starts with
    # an equality on tenant and the filter's field, which an index of infra/db.py serves.

    async def issued_invoices(
        self, tenant: str, where: InvoiceFilter, after: PageKey | None, limit: int
    ) -> list[IssuedInvoice]:
        query: Document = {"tenant": tenant, "issuedAt": _issued_range(where)}
        if where.order_id is not None:
            query["orderId"] = where.order_id  # all of the order's invoices: it may have been invoiced again
        if where.invoice_number is not None:
            query["number"] = where.invoice_number
        if where.job_id is not None:
            query["jobId"] = where.job_id
        if where.email_status is not None:
            query["emailStatus"] = where.email_status.value
        if where.site_code is not None:
            query["siteCode"] = where.site_code
        query |= _payment_query(where)
        return [_issued_invoice(doc) for doc in await newest_first_page(self.invoices, query, "issuedAt", after, limit)]

    async def issued_invoice(self, tenant: str, number: str) -> IssuedInvoice | None:
        doc = await self.invoices.find_one({"tenant": tenant, "number": number})
        return None if doc is None or doc.get("issuedAt") is None else _issued_invoice(doc)

    async def credit_notes_page(
        self, tenant: str, where: InvoiceFilter, after: PageKey | None, limit: int
    ) -> list[ListedCreditNote]:
        query: Document = {"tenant": tenant, "issuedAt": _issued_range(where)}
        if where.order_id is not None:
            query["orderId"] = where.order_id
        if where.invoice_number is not None:
            query["invoiceNumber"] = where.invoice_number
        if where.site_code is not None:
            query["siteCode"] = where.site_code
        docs = await newest_first_page(self.credit_notes, query, "issuedAt", after, limit)
        return [_listed_credit_note(doc) for doc in docs]


_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


def _issued_range(where: InvoiceFilter) -> Document:
    # A lower bound always: it leaves out invoices still being made (issuedAt null) and keeps the
    # condition a range on the index rather than a $ne, which no index serves.
    issued: Document = {"$gte": where.issued_from or _EARLIEST}
    if where.issued_to is not None:
        issued["$lt"] = where.issued_to
    return issued


def _payment_query(where: InvoiceFilter) -> Document:
    query: Document = {}
    if where.payment_status is InvoicePaymentStatus.OVERDUE:
        query["settled"] = False
    elif where.payment_status is not None:
        query["paymentStatus"] = where.payment_status.value
    due: Document = {}
    if where.due_from is not None:
        due["$gte"] = where.due_from.isoformat()
    if where.due_to is not None:
        due["$lt"] = where.due_to.isoformat()
    today = (where.today or utc_now().date()).isoformat()
    if where.payment_status is InvoicePaymentStatus.OVERDUE:  # due before today
        due["$lt"] = min(due.get("$lt", today), today)
    elif where.payment_status in UNSETTLED:  # and not (yet) overdue: due today or later
        due["$gte"] = max(due.get("$gte", today), today)
    if due:
        query["dueOn"] = due
    return query


def _money(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def _amounts_credited(credit: Mapping[str, Any] | None) -> AmountsCredited:
    if not credit:
        return NOTHING_CREDITED
    notes = tuple(
        CreditNoteRef(number=note["number"], issued_at=note["issuedAt"], gross=_money(note.get("gross")))
        for note in credit.get("notes") or ()
    )
    return AmountsCredited(
        net=_money(credit.get("net")), tax=_money(credit.get("tax")), gross=_money(credit.get("gross")), notes=notes
    )


def _issued_invoice(doc: Document) -> IssuedInvoice:
    return IssuedInvoice(
        key=PageKey(doc["issuedAt"], doc["_id"]),
        issued_at=doc["issuedAt"],
        record=_invoice_record(doc),
        credited=_amounts_credited(doc.get("credit")),
    )


def _listed_credit_note(doc: Document) -> ListedCreditNote:
    totals = doc.get("totals") or {}
    return ListedCreditNote(
        key=PageKey(doc["issuedAt"], doc["_id"]),
        tenant=doc["tenant"],
        number=doc["number"],
        invoice_number=doc["invoiceNumber"],
        order_id=doc["orderId"],
        issued_at=doc["issuedAt"],
        currency=doc["currency"],
        net=_money(totals.get("net")),
        tax=_money(totals.get("tax")),
        gross=_money(totals.get("gross")),
        storage_key=doc.get("storageKey"),
        site_code=doc.get("siteCode"),
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
        generation=int(doc.get("generation") or FIRST_INVOICE),
        site_code=doc.get("siteCode"),
        sequence_scope=doc.get("seqScope") or TENANT_SCOPE,
        # A document stored before settlements were kept reads as its own document implies (`settled`).
        settlement=settlement_of(doc) if "paymentStatus" in doc else None,
        payments=payments_of(doc),
        due_on=due_on_of(doc),
    )
