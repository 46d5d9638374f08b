"""In-memory fakes of the ports of `infra/ports.py`, for unit tests without services. Each obeys the
same contract tests as its MongoDB adapter (tests/integration/test_store_contracts.py), so a unit test
on these says something about the real thing."""

import hashlib
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from infra.credit_notes import credit_summary
from infra.limits import WindowCount, window_start
from infra.mail import EmailNotSent, OutgoingEmail
from infra.payments import Capture, CaptureDeclined, GatewayError, GatewayUnavailable, Refund
from infra.ports import RequestState
from infra.records import (
    STORED_DOCUMENT,
    CaptureRecord,
    CreditNoteRecord,
    CreditNoteRequestRecord,
    CreditRaced,
    InvoiceFilter,
    InvoiceRecord,
    IssuedInvoice,
    Job,
    JobExists,
    JobFilter,
    JobOrderResult,
    ListedCreditNote,
    NumberInUse,
    NumberTaken,
    OrderOutcome,
    PageKey,
    RefundState,
    ScheduledTenant,
    TenantSettingsSnapshot,
    UnreadableOrder,
    as_stored,
)
from infra.storage import AlreadyStored
from invoicing.credit_state import check_final
from invoicing.document import InvoiceDocument
from invoicing.einvoice import invoice_xml
from invoicing.email_state import EmailState
from invoicing.identity import FIRST_INVOICE, invoice_identity
from invoicing.jobs import JobResultPage, pending, places_for
from invoicing.logo import Logo
from invoicing.payments import CaptureRequest, RefundRequest
from invoicing.selection import OrderSelection, delivery_instant
from invoicing.statuses import CreditNoteStatus, JobStatus, JobTrigger, JobType
from schemas.events import utc_now
from schemas.orders import Order
from schemas.settings import InvoiceSettings, LogoInfo, TenantSettings

SettingsT = TypeVar("SettingsT", bound=TenantSettings)
KeyedT = TypeVar("KeyedT")


def newest_first_page(items: Iterable[tuple[PageKey, KeyedT]], after: PageKey | None, limit: int) -> list[KeyedT]:
    """The fakes' keyset page: (instant desc, id desc), strictly after `after`."""
    ordered = sorted(items, key=lambda item: (item[0].at, item[0].id), reverse=True)
    if after is not None:
        ordered = [item for item in ordered if (item[0].at, item[0].id) < (after.at, after.id)]
    return [value for _, value in ordered[:limit]]


def _within(at: datetime, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or at >= start) and (end is None or at < end)


# --- jobs ------------------------------------------------------------------------------------------


class MemoryJobs:
    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        # Each job's results in one page of the domain, its slots the positions (invoicing/jobs.py).
        self.results: dict[str, JobResultPage] = {}
        self.digests: dict[str, str] = {}  # job ID -> the digest of the request recorded with it
        self.started: set[str] = set()

    async def create(
        self,
        *,
        tenant: str,
        job_id: str,
        job_type: JobType,
        order_ids: Sequence[str],
        trigger: JobTrigger = JobTrigger.API,
        request_digest: str | None = None,
    ) -> None:
        if job_id in self.jobs:
            raise JobExists(job_id)
        now = utc_now()
        self.jobs[job_id] = Job(
            tenant, job_id, job_type, JobStatus.IN_PROGRESS, tuple(order_ids), None, 0, now, now, trigger=trigger
        )
        if request_digest is not None:
            self.digests[job_id] = request_digest

    async def start(self, tenant: str, job_id: str, job_type: JobType, request_digest: str) -> RequestState:
        job = await self.get(tenant, job_id)
        if job is None or job.job_type is not job_type or self.digests.get(job_id, request_digest) != request_digest:
            return RequestState.UNRECORDED
        if job.status is not JobStatus.IN_PROGRESS:
            return RequestState.FINISHED if job_id in self.digests else RequestState.UNRECORDED
        self.digests[job_id] = request_digest
        self.started.add(job_id)
        return RequestState.STARTED

    async def withdraw(self, tenant: str, job_id: str) -> bool:
        if await self.get(tenant, job_id) is None or job_id in self.started:
            return False
        del self.jobs[job_id]
        self.digests.pop(job_id, None)
        return True

    async def planned_by(self, tenant: str, job_id: str, order_id: str) -> tuple[JobType, JobStatus] | None:
        job = await self.get(tenant, job_id)
        if job is None or (job.job_type is JobType.MANUAL and order_id not in job.requested_order_ids):
            return None
        return job.job_type, job.status

    async def list_jobs(self, tenant: str, where: JobFilter, after: PageKey | None, limit: int) -> list[Job]:
        found = [
            (PageKey(job.created_at, job.job_id), job)
            for job in self.jobs.values()
            if job.tenant == tenant
            and where.status in (None, job.status)
            and where.job_type in (None, job.job_type)
            and _within(job.created_at, where.created_from, where.created_to)
        ]
        return newest_first_page(found, after, limit)

    async def get(self, tenant: str, job_id: str) -> Job | None:
        job = self.jobs.get(job_id)
        return job if job is not None and job.tenant == tenant else None

    async def order_results(self, job_id: str) -> AsyncIterator[JobOrderResult]:
        page = self.results.get(job_id, JobResultPage())
        for slot in sorted(page.slots, key=int):
            yield page.slots[slot]

    async def record_planned(
        self, *, tenant: str, job_id: str, total: int, first_position: int, order_ids: Sequence[str]
    ) -> None:
        self._record(
            job_id, [(first_position + offset, pending(order_id)) for offset, order_id in enumerate(order_ids)]
        )
        job = self.jobs.get(job_id)
        if job is not None:
            self.jobs[job_id] = job.planned(total, utc_now())

    async def record_results(self, outcomes: Sequence[OrderOutcome]) -> None:
        for outcome in outcomes:
            result = JobOrderResult(outcome.order_id, outcome.status, outcome.message, outcome.invoice_number)
            self._record(outcome.job_id, [(outcome.position, result)])
        for job_id in {outcome.job_id for outcome in outcomes}:
            job = self.jobs.get(job_id)
            if job is not None:
                self.jobs[job_id] = job.counted(self.results[job_id].counts, utc_now())

    def _record(self, job_id: str, placed: Sequence[tuple[int | None, JobOrderResult]]) -> None:
        page = self.results.setdefault(job_id, JobResultPage())
        change = page.record((str(position), result) for position, result in placed if position is not None)
        unplaced = [result for position, result in placed if position is None] + change.misplaced
        if unplaced:
            positions = {result.order_id: int(slot) for slot, result in page.slots.items()}
            page.record((str(position), result) for position, result in places_for(positions, unplaced))


# --- orders and claims -----------------------------------------------------------------------------


class MemoryOrders:
    def __init__(self) -> None:
        self.snapshots: dict[str, tuple[datetime, dict[str, Any]]] = {}
        self.invoiced: set[str] = set()  # keys whose orders AUTOMATIC selection no longer reads

    async def store_snapshot(self, *, tenant: str, occurred_at: datetime, order: Order) -> bool:
        key = f"{tenant}:{order.id}"
        stored = self.snapshots.get(key)
        if stored is not None and stored[0] > occurred_at:
            return False
        self.snapshots[key] = (occurred_at, order.model_dump(mode="json", exclude_none=True))
        return True

    def put_raw(self, tenant: str, order_id: str, body: dict[str, Any]) -> None:
        """A snapshot as some older version may have stored it (whether it still parses or not)."""
        self.snapshots[f"{tenant}:{order_id}"] = (utc_now(), body)

    async def get(self, tenant: str, order_id: str) -> Order | None:
        stored = self.snapshots.get(f"{tenant}:{order_id}")
        if stored is None:
            return None
        try:
            return Order.model_validate(stored[1])
        except ValueError as error:
            raise UnreadableOrder(str(error)) from None

    async def select(self, tenant: str, selection: OrderSelection, delivered_before: datetime) -> AsyncIterator[str]:
        for key, (_, body) in list(self.snapshots.items()):
            if not key.startswith(f"{tenant}:") or key in self.invoiced:
                continue
            order = Order.model_validate(body)
            delivered = delivery_instant(order.deliveryDate)
            if (
                order.status in selection.statuses
                and delivered is not None
                and delivered <= delivered_before
                and (not selection.extended_statuses or order.extendedOrderStatus in selection.extended_statuses)
            ):
                yield order.id

    async def mark_invoiced(self, tenant: str, order_ids: Iterable[str]) -> None:
        self.invoiced.update(f"{tenant}:{order_id}" for order_id in order_ids)


class MemoryClaims:
    def __init__(self) -> None:
        self.claims: dict[str, str] = {}  # tenant:orderId -> jobId

    async def claim(self, *, tenant: str, job_id: str, order_ids: Iterable[str]) -> None:
        for order_id in order_ids:
            self.claims.setdefault(f"{tenant}:{order_id}", job_id)

    async def claimed_by(self, tenant: str, job_id: str) -> list[str]:
        prefix = f"{tenant}:"
        return sorted(k.removeprefix(prefix) for k, j in self.claims.items() if j == job_id and k.startswith(prefix))

    async def holds(self, *, tenant: str, job_id: str, order_id: str) -> bool:
        return self.claims.get(f"{tenant}:{order_id}") == job_id

    async def release(self, *, tenant: str, job_id: str, order_id: str) -> None:
        key = f"{tenant}:{order_id}"
        if self.claims.get(key) == job_id:
            del self.claims[key]


# --- invoices and their numbers --------------------------------------------------------------------


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

    async def last_seq(self, tenant: str) -> int | None:
        if tenant in self.marks:
            return self.marks[tenant]
        return max((r.seq for r in self.records.values() if r.tenant == tenant), default=None)

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
    ) -> InvoiceRecord | None:
        self.allocations += 1
        key = invoice_identity(tenant, order_id, generation)
        if key in self.records:
            return None
        self.marks[tenant] = max(self.marks.get(tenant, seq), seq)
        if any(r.tenant == tenant and r.seq == seq for r in self.records.values()):
            raise NumberTaken(number)
        if any(r.tenant == tenant and r.number == number for r in self.records.values()):
            raise NumberInUse(number)
        record = InvoiceRecord(
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
            and _within(invoice.issued_at, where.issued_from, where.issued_to)
        ]
        return newest_first_page(found, after, limit)

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
            and _within(note.issued_at, where.issued_from, where.issued_to)
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


# --- tenant settings -------------------------------------------------------------------------------


class MemoryTenantSettings:
    def __init__(self) -> None:
        self.values: dict[str, dict[str, Any]] = {}
        self.logos: dict[str, bytes] = {}
        self.scheduled_since: dict[str, datetime] = {}

    async def read(self, tenant: str, model: type[SettingsT]) -> SettingsT | None:
        value = self.values.get(f"{tenant}:{model.KIND}")
        return None if value is None else model.model_validate(value)

    async def read_all(self, tenant: str) -> TenantSettingsSnapshot:
        prefix = f"{tenant}:"
        return TenantSettingsSnapshot(
            {key.removeprefix(prefix): value for key, value in self.values.items() if key.startswith(prefix)}
        )

    async def write(self, tenant: str, value: TenantSettings) -> None:
        self.values[f"{tenant}:{value.KIND}"] = value.model_dump(mode="json", exclude_none=True)
        if value.is_scheduled():
            self.scheduled_since[tenant] = utc_now()
        elif isinstance(value, InvoiceSettings):
            self.scheduled_since.pop(tenant, None)

    async def scheduled(self) -> list[ScheduledTenant]:
        return [
            ScheduledTenant(tenant, self.values[f"{tenant}:invoice"], since)
            for tenant, since in self.scheduled_since.items()
        ]

    async def put_logo(self, tenant: str, logo: Logo) -> LogoInfo:
        self.logos.setdefault(f"{tenant}:{logo.sha256}", logo.content)
        info = LogoInfo(
            mediaType=logo.media_type, width=logo.width, height=logo.height, size=len(logo.content), sha256=logo.sha256
        )
        self.values[f"{tenant}:logo"] = info.model_dump()
        return info

    async def current_logo(self, tenant: str) -> LogoInfo | None:
        value = self.values.get(f"{tenant}:logo")
        return None if value is None else LogoInfo.model_validate(value)

    async def delete_logo(self, tenant: str) -> bool:
        return self.values.pop(f"{tenant}:logo", None) is not None

    async def logo_content(self, tenant: str, sha256: str) -> bytes | None:
        return self.logos.get(f"{tenant}:{sha256}")


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

    async def last_seq(self, tenant: str) -> int | None:
        return self.marks.get(tenant)

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
    ) -> CreditNoteRecord:
        if note_id in self.notes:
            return self.notes[note_id]
        if any(
            n.tenant == tenant and n.invoice_number == invoice_number and n.ordinal == ordinal
            for n in self.notes.values()
        ):
            raise CreditRaced(invoice_number)
        self.marks[tenant] = max(self.marks.get(tenant, seq), seq)
        if any(n.tenant == tenant and n.seq == seq for n in self.notes.values()):
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


# --- storage, mail, gateway, publisher, renderer ---------------------------------------------------


class MemoryStorage:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.failing: Exception | None = None  # raised by put, to play a store that refuses

    async def put(self, key: str, data: bytes) -> None:
        if self.failing is not None:
            raise self.failing
        if key in self.files:
            raise AlreadyStored(key)
        self.files[key] = data

    async def get(self, key: str) -> bytes:
        return self.files[key]

    async def check(self) -> None:
        return None

    async def download_link(self, key: str, tenant: str, invoice_number: str) -> str:
        return f"memory://{key}"

    async def close(self) -> None:
        return None


class MemoryMailer:
    def __init__(self) -> None:
        self.sent: list[OutgoingEmail] = []
        self.failing: EmailNotSent | None = None

    async def send(self, email: OutgoingEmail) -> None:
        if self.failing is not None:
            raise self.failing
        self.sent.append(email)


@dataclass
class MemoryGateway:
    """Answers by the transaction ID's prefix, like tests/fakes.py's HTTP gateway: decline-, down-,
    broken- (an answer the API does not define); anything else is captured."""

    requests: list[CaptureRequest] = field(default_factory=list)
    refund_requests: list[RefundRequest] = field(default_factory=list)
    refunds_down: bool = False

    async def capture(self, request: CaptureRequest) -> Capture:
        self.requests.append(request)
        if request.transaction_id.startswith("decline-"):
            raise CaptureDeclined("Insufficient funds")
        if request.transaction_id.startswith("down-"):
            raise GatewayUnavailable("no answer within 60 s")
        if request.transaction_id.startswith("broken-"):
            raise GatewayError("HTTP 401 from the gateway")
        return Capture(capture_id=f"cap-{len(self.requests)}")

    async def refund(self, request: RefundRequest) -> Refund:
        """Refunds every capture, unless `refunds_down` (a gateway that gives no answer)."""
        self.refund_requests.append(request)
        if self.refunds_down:
            raise GatewayUnavailable("no answer within 60 s")
        return Refund(refund_id=f"ref-{len(self.refund_requests)}")


class MemoryPublisher:
    def __init__(self) -> None:
        self.published: list[tuple[str, str, bytes]] = []
        self.failing: Exception | None = None

    async def publish(self, topic: str, key: str, value: bytes) -> None:
        if self.failing is not None:
            raise self.failing
        self.published.append((topic, key, value))


class MemoryRenderer:
    """Renders a document to a few bytes that name it; `failing` plays a renderer that breaks."""

    def __init__(self) -> None:
        self.rendered: list[InvoiceDocument] = []
        self.checked: list[InvoiceDocument] = []
        self.failing: Exception | None = None

    async def __call__(self, document: InvoiceDocument) -> bytes:
        if self.failing is not None:
            raise self.failing
        self.rendered.append(document)
        return b"%PDF-memory " + hashlib.sha256(document.invoice_number.encode()).hexdigest().encode()

    async def check_einvoice(self, document: InvoiceDocument) -> None:
        """The real check (pure and quick), only not in a process pool."""
        self.checked.append(document)
        invoice_xml(document)


# --- windowed counters ------------------------------------------------------------------------------


class MemoryWindowedCounters:
    """infra/limits.py's counters in a dict: one count and latest event per (key, window start)."""

    def __init__(self) -> None:
        self.windows: dict[tuple[str, timedelta, datetime], tuple[int, datetime]] = {}

    async def add(self, key: str, window: timedelta, now: datetime) -> WindowCount:
        start = window_start(now, window)
        count, last_at = self.windows.get((key, window, start), (0, now))
        self.windows[(key, window, start)] = (count + 1, max(last_at, now))
        return WindowCount(count + 1, max(last_at, now), start + window)

    async def read(self, key: str, window: timedelta, now: datetime) -> WindowCount:
        start = window_start(now, window)
        if (key, window, start) not in self.windows:
            return WindowCount(0, None, start + window)
        count, last_at = self.windows[(key, window, start)]
        return WindowCount(count, last_at, start + window)
