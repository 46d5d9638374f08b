"""In-memory fake of the credit note store."""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from infra.credit_notes import credit_summary
from infra.ports import RequestState
from infra.records import (
    STORED_DOCUMENT,
    CreditNoteRecord,
    CreditNoteRequestRecord,
    CreditRaced,
    NumberInUse,
    NumberTaken,
    RefundState,
    as_stored,
)
from invoicing.credit_state import check_final
from invoicing.document import InvoiceDocument
from invoicing.email_state import EmailState
from invoicing.sites import TENANT_SCOPE
from invoicing.statuses import CreditNoteStatus
from schemas.events import utc_now
from tests.memory.invoices import mark_key

# --- credit notes ----------------------------------------------------------------------------------


class MemoryCreditNotes:
    """CreditNoteStore: requests, credit notes with their (tenant, invoice number, ordinal) and (tenant, seq)
    uniqueness, and the credit summary it would write onto each invoice."""

    def __init__(self) -> None:
        self.requests: dict[str, CreditNoteRequestRecord] = {}
        self.notes: dict[str, CreditNoteRecord] = {}
        self.marks: dict[str, int] = {}
        self.summaries: dict[str, dict[str, Any]] = {}  # tenant:invoiceNumber -> the invoice's `credit`
        self.request_digests: dict[str, str | None] = {}
        self.started: set[str] = set()

    async def create_request(
        self, *, tenant: str, request_id: str, invoice_number: str, order_id: str, request_digest: str | None = None
    ) -> None:
        now = utc_now()
        self.requests[request_id] = CreditNoteRequestRecord(
            tenant, request_id, invoice_number, order_id, CreditNoteStatus.IN_PROGRESS, None, None, now, now
        )
        self.request_digests[request_id] = request_digest

    async def start_request(
        self, tenant: str, request_id: str, invoice_number: str, order_id: str, request_digest: str
    ) -> RequestState:
        request = await self.get_request(tenant, request_id)
        if (
            request is None
            or (request.invoice_number, request.order_id) != (invoice_number, order_id)
            or self.request_digests.get(request_id) not in (None, request_digest)
        ):
            return RequestState.UNRECORDED
        if request.status is not CreditNoteStatus.IN_PROGRESS:
            return RequestState.FINISHED if self.request_digests.get(request_id) else RequestState.UNRECORDED
        self.request_digests[request_id] = request_digest
        self.started.add(request_id)
        return RequestState.STARTED

    async def withdraw_request(self, tenant: str, request_id: str) -> bool:
        if await self.get_request(tenant, request_id) is None or request_id in self.started:
            return False
        del self.requests[request_id]
        return True

    async def get_request(self, tenant: str, request_id: str) -> CreditNoteRequestRecord | None:
        request = self.requests.get(request_id)
        return request if request is not None and request.tenant == tenant else None

    async def finish_request(
        self, tenant: str, request_id: str, status: CreditNoteStatus, message: str, number: str | None = None
    ) -> None:
        request = await self.get_request(tenant, request_id)
        if request is not None:
            self.requests[request_id] = request.finished(status, message, number, utc_now())
        else:
            check_final(status)

    async def find(self, tenant: str, note_id: str) -> CreditNoteRecord | None:
        note = self.notes.get(note_id)
        return note if note is not None and note.tenant == tenant else None

    async def find_by_number(self, tenant: str, number: str) -> CreditNoteRecord | None:
        return next((n for n in self.notes.values() if n.tenant == tenant and n.number == number), None)

    async def of_invoice(self, tenant: str, invoice_number: str) -> list[CreditNoteRecord]:
        found = [n for n in self.notes.values() if n.tenant == tenant and n.invoice_number == invoice_number]
        return sorted(found, key=lambda note: note.ordinal)

    async def last_seq(self, tenant: str, scope: str = TENANT_SCOPE) -> int | None:
        return self.marks.get(mark_key(tenant, scope))

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
        if note_id in self.notes:
            return self.notes[note_id]
        if any(
            n.tenant == tenant and n.invoice_number == invoice_number and n.ordinal == ordinal
            for n in self.notes.values()
        ):
            raise CreditRaced(invoice_number)
        mark = mark_key(tenant, scope)
        self.marks[mark] = max(self.marks.get(mark, seq), seq)
        if any(n.tenant == tenant and n.sequence_scope == scope and n.seq == seq for n in self.notes.values()):
            raise NumberTaken(number)
        if any(n.tenant == tenant and n.number == number for n in self.notes.values()):
            raise NumberInUse(number)
        now = utc_now()
        note = CreditNoteRecord(
            tenant=tenant,
            note_id=note_id,
            order_id=order_id,
            invoice_number=invoice_number,
            ordinal=ordinal,
            seq=seq,
            number=number,
            reason=reason,
            document=STORED_DOCUMENT.dump_python(document, mode="json"),
            issued_at=as_stored(now),
            storage_key=None,
            logo_sha256=logo_sha256,
            refund=refund,
            site_code=site_code,
            sequence_scope=scope,
        )
        self.notes[note_id] = note
        return note

    def _change(self, tenant: str, note_id: str, **changes: Any) -> None:
        if note_id in self.notes and self.notes[note_id].tenant == tenant:
            self.notes[note_id] = replace(self.notes[note_id], **changes)

    async def mark_stored(self, tenant: str, note_id: str, storage_key: str) -> None:
        self._change(tenant, note_id, storage_key=storage_key)

    async def mark_refund(self, tenant: str, note_id: str, refund: RefundState) -> None:
        self._change(tenant, note_id, refund=refund)

    async def mark_emailed(self, tenant: str, note_id: str, recipient: str, at: datetime) -> None:
        self._email(tenant, note_id, lambda email: email.sent(at))

    async def mark_email_pending(self, tenant: str, note_id: str, reason: str) -> None:
        self._email(tenant, note_id, lambda email: email.deferred(reason))

    async def mark_email_failed(self, tenant: str, note_id: str, reason: str) -> None:
        self._email(tenant, note_id, lambda email: email.refused(reason))

    def _email(self, tenant: str, note_id: str, send: Callable[[EmailState], EmailState]) -> None:
        note = self.notes.get(note_id)
        if note is not None and note.tenant == tenant:
            self.notes[note_id] = note.with_email(send(note.email))

    async def project_onto_invoice(self, tenant: str, invoice_number: str) -> None:
        self.summaries[f"{tenant}:{invoice_number}"] = credit_summary(await self.of_invoice(tenant, invoice_number))
