"""In-memory fakes of the invoice (and number) store and the capture store."""

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from infra.ports import RequestState
from infra.records import (
    STORED_DOCUMENT,
    CaptureRecord,
    InvoiceFilter,
    InvoiceRecord,
    IssuedInvoice,
    ListedCreditNote,
    NumberInUse,
    NumberTaken,
    PageKey,
    as_stored,
)
from invoicing.document import InvoiceDocument
from invoicing.email_state import EmailState
from invoicing.identity import FIRST_INVOICE, invoice_identity
from invoicing.settlement import (
    InvoicePaymentStatus,
    Payment,
    PaymentResult,
    opening_settlement,
    record_payment,
    shown_status,
)
from invoicing.sites import TENANT_SCOPE
from schemas.events import utc_now
from tests.memory.paging import newest_first_page, within_period

# --- invoices and their numbers --------------------------------------------------------------------


def mark_key(tenant: str, scope: str) -> str:
    """The fakes' high-water mark of a sequence: the tenant's under the tenant, a site's under both."""
    return tenant if scope == TENANT_SCOPE else f"{tenant}:{scope}"


class MemoryInvoices:
    """Both ports of the invoice adapter: InvoiceStore and InvoiceNumbers."""

    def __init__(self) -> None:
        self.records: dict[str, InvoiceRecord] = {}  # by the invoice's identity (its stored ID)
        self.current: dict[str, int] = {}  # the first invoice's ID -> the current generation, once raised
        self.marks: dict[str, int] = {}
        self.allocations = 0  # allocate calls, NumberTaken included
        self.issued_at: dict[str, datetime] = {}
        self.credit_notes: list[ListedCreditNote] = []  # as the lists read what the credit-note side wrote
        # Email requests by ID: (tenant, digest, status), and the IDs started.
        self.email_requests: dict[str, tuple[str, str, str]] = {}
        self.email_requests_started: set[str] = set()

    async def find(self, tenant: str, order_id: str) -> InvoiceRecord | None:
        first = invoice_identity(tenant, order_id)
        if first not in self.records:
            return None
        return self.records[invoice_identity(tenant, order_id, self.current.get(first, FIRST_INVOICE))]

    async def find_generation(self, tenant: str, order_id: str, generation: int) -> InvoiceRecord | None:
        return self.records.get(invoice_identity(tenant, order_id, generation))

    async def make_current(self, invoice: InvoiceRecord) -> None:
        first = invoice_identity(invoice.tenant, invoice.order_id)
        if invoice.generation > FIRST_INVOICE:
            self.current[first] = max(self.current.get(first, FIRST_INVOICE), invoice.generation)

    async def find_by_number(self, tenant: str, number: str) -> InvoiceRecord | None:
        return next((r for r in self.records.values() if r.tenant == tenant and r.number == number), None)

    async def invoiced_among(self, tenant: str, order_ids: Sequence[str]) -> set[str]:
        return {order_id for order_id in order_ids if invoice_identity(tenant, order_id) in self.records}

    async def last_seq(self, tenant: str, scope: str = TENANT_SCOPE) -> int | None:
        mark = mark_key(tenant, scope)
        if mark in self.marks:
            return self.marks[mark]
        of_scope = (r.seq for r in self.records.values() if r.tenant == tenant and r.sequence_scope == scope)
        return max(of_scope, default=None)

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
        self.allocations += 1
        key = invoice_identity(tenant, order_id, generation)
        if key in self.records:
            return None
        mark = mark_key(tenant, scope)
        self.marks[mark] = max(self.marks.get(mark, seq), seq)
        if any(r.tenant == tenant and r.sequence_scope == scope and r.seq == seq for r in self.records.values()):
            raise NumberTaken(number)
        if any(r.tenant == tenant and r.number == number for r in self.records.values()):
            raise NumberInUse(number)
        settlement, payments = opening_settlement(document, as_stored(utc_now()))
        record = InvoiceRecord(
            settlement=settlement,
            payments=payments,
            due_on=document.payment.due_on,
            tenant=tenant,
            order_id=order_id,
            job_id=job_id,
            seq=seq,
            number=number,
            issued=False,
            document=STORED_DOCUMENT.dump_python(document, mode="json"),
            storage_key=None,
            logo_sha256=logo_sha256,
            generation=generation,
            site_code=site_code,
            sequence_scope=scope,
        )
        self.records[key] = record
        return record

    def _change(self, invoice: InvoiceRecord, **changes: Any) -> None:
        key = invoice.record_id
        if key in self.records:
            self.records[key] = replace(self.records[key], **changes)

    async def mark_issued(self, invoice: InvoiceRecord, storage_key: str) -> None:
        self._change(invoice, issued=True, storage_key=storage_key)
        # BSON dates hold milliseconds: keep what a MongoDB read would give.
        now = utc_now()
        self.issued_at[invoice.record_id] = as_stored(now)

    def _issued(self, key: str) -> IssuedInvoice:
        return IssuedInvoice(PageKey(self.issued_at[key], key), self.issued_at[key], self.records[key])

    async def issued_invoices(
        self, tenant: str, where: InvoiceFilter, after: PageKey | None, limit: int
    ) -> list[IssuedInvoice]:
        found = [
            (invoice.key, invoice)
            for invoice in map(self._issued, self.issued_at)
            if invoice.record.tenant == tenant
            and where.order_id in (None, invoice.record.order_id)
            and where.invoice_number in (None, invoice.record.number)
            and where.job_id in (None, invoice.record.job_id)
            and where.email_status in (None, invoice.record.email_status)
            and where.site_code in (None, invoice.record.site_code)
            and within_period(invoice.issued_at, where.issued_from, where.issued_to)
            and _payment_matches(invoice.record, where)
        ]
        return newest_first_page(found, after, limit)

    async def record_payment(self, invoice: InvoiceRecord, payment: Payment) -> PaymentResult:
        stored = self.records[invoice.record_id]
        result = record_payment(
            stored.settled, stored.payments, replace(payment, recorded_at=as_stored(payment.recorded_at))
        )
        if not result.replayed:
            self.records[invoice.record_id] = replace(
                stored, settlement=result.settlement, payments=(*stored.payments, result.payment)
            )
        return result

    async def issued_invoice(self, tenant: str, number: str) -> IssuedInvoice | None:
        record = await self.find_by_number(tenant, number)
        key = None if record is None else record.record_id
        return None if key is None or key not in self.issued_at else self._issued(key)

    async def credit_notes_page(
        self, tenant: str, where: InvoiceFilter, after: PageKey | None, limit: int
    ) -> list[ListedCreditNote]:
        found = [
            (note.key, note)
            for note in self.credit_notes
            if note.tenant == tenant
            and where.order_id in (None, note.order_id)
            and where.invoice_number in (None, note.invoice_number)
            and where.site_code in (None, note.site_code)
            and within_period(note.issued_at, where.issued_from, where.issued_to)
        ]
        return newest_first_page(found, after, limit)

    async def mark_emailed(self, invoice: InvoiceRecord, recipient: str, at: datetime) -> None:
        self._email(invoice, lambda email: email.sent(at))

    async def mark_email_pending(self, invoice: InvoiceRecord, reason: str) -> None:
        self._email(invoice, lambda email: email.deferred(reason))

    async def mark_email_failed(self, invoice: InvoiceRecord, reason: str) -> None:
        self._email(invoice, lambda email: email.refused(reason))

    def _email(self, invoice: InvoiceRecord, send: Callable[[EmailState], EmailState]) -> None:
        """Move the stored invoice's email state as the domain says (invoicing/email_state.py)."""
        stored = self.records.get(invoice.record_id)
        if stored is not None:
            self.records[invoice.record_id] = stored.with_email(send(stored.email))

    async def record_email_request(
        self, *, tenant: str, request_id: str, invoice_number: str, order_id: str, request_digest: str
    ) -> None:
        self.email_requests[request_id] = (tenant, request_digest, "IN_PROGRESS")

    async def start_email_request(self, tenant: str, request_id: str, request_digest: str) -> RequestState:
        stored = self.email_requests.get(request_id)
        if stored is None or stored[:2] != (tenant, request_digest):
            return RequestState.UNRECORDED
        if stored[2] != "IN_PROGRESS":
            return RequestState.FINISHED
        self.email_requests_started.add(request_id)
        return RequestState.STARTED

    async def finish_email_request(self, tenant: str, request_id: str) -> None:
        stored = self.email_requests.get(request_id)
        if stored is not None and stored[0] == tenant:
            self.email_requests[request_id] = (tenant, stored[1], "DONE")

    async def withdraw_email_request(self, tenant: str, request_id: str) -> bool:
        stored = self.email_requests.get(request_id)
        if stored is None or stored[0] != tenant or request_id in self.email_requests_started:
            return False
        del self.email_requests[request_id]
        return True


def _payment_matches(record: InvoiceRecord, where: InvoiceFilter) -> bool:
    """The payment filters as infra/invoices.py applies them: the status as shown on `where.today`."""
    due = record.due_on
    if where.due_from is not None and (due is None or due < where.due_from):
        return False
    if where.due_to is not None and (due is None or due >= where.due_to):
        return False
    if where.payment_status is None:
        return True
    today = where.today or utc_now().date()
    at = datetime(today.year, today.month, today.day, tzinfo=UTC)
    shown: InvoicePaymentStatus = shown_status(record.payment_status, due, at)
    return shown is where.payment_status


class MemoryCaptures:
    def __init__(self) -> None:
        self.records: dict[str, CaptureRecord] = {}  # by the invoice's identity (its stored ID)

    async def find(self, tenant: str, order_id: str, generation: int = FIRST_INVOICE) -> CaptureRecord | None:
        return self.records.get(invoice_identity(tenant, order_id, generation))

    async def record(
        self,
        *,
        tenant: str,
        order_id: str,
        record: CaptureRecord,
        idempotency_key: str,
        generation: int = FIRST_INVOICE,
    ) -> CaptureRecord:
        record = replace(record, captured_at=as_stored(record.captured_at))
        return self.records.setdefault(invoice_identity(tenant, order_id, generation), record)
