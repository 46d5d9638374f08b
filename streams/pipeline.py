"""Invoicing one order: validate, recalculate, capture the payment, number, render, store, email.
Returns the result event.

The steps read top to bottom; every decision that needs no I/O is a pure function of `invoicing/`.
Idempotent under redelivery: the invoice record (one current per tenant and order) is the point of
truth, and a confirmed payment capture is recorded (one per invoice) before the invoice exists.

An order whose current invoice is credited in full is invoiced again by a MANUAL job (not the one that
made that invoice): a new invoice of its own, the order's next generation, inserted like the first, so a
redelivery or a racing job finds it instead of making another.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from infra.mapping import einvoice_settings, seller_details, sequence_schema
from infra.ports import (
    CaptureStore,
    CheckEInvoice,
    CreditNoteStore,
    InvoiceNumbers,
    InvoiceStorage,
    InvoiceStore,
    OrderStore,
    PaymentCapturer,
    Render,
    TenantSettingsStore,
)
from infra.records import InvoiceRecord, NumberInUse, NumberTaken, UnreadableOrder
from infra.storage import AlreadyStored, invoice_key
from invoicing.credit import fully_credited
from invoicing.document import DEFAULT_SELLER, EInvoiceSettings, InvoiceDocument, SellerDetails, build_invoice_document
from invoicing.einvoice import EInvoiceRefused
from invoicing.identity import FIRST_INVOICE
from invoicing.language import invoice_language, invoice_locale
from invoicing.numbering import DEFAULT_SEQUENCE, SequenceExhausted, SequenceSchema
from invoicing.payments import CapturedPayment
from invoicing.recalculation import PriceMismatch, Totals, check_order_figures, recalculate
from invoicing.sites import TENANT_SCOPE
from schemas.api import JobType
from schemas.events import OrderFailed, OrderInvoiced, OrderInvoiceRequested, utc_now
from schemas.orders import Order, OrderStatus
from schemas.public_events import ReasonClass
from schemas.settings import EInvoiceSettings as EInvoiceSettingsModel
from schemas.settings import SellerSettings, SequenceSettings
from streams.announcements import Announce, invoice_issued, keep_to_yourself
from streams.capturing import CaptureFailed, capture_payment, expected_capture
from streams.email_documents import InvoiceEmail
from streams.emailing import EmailDeps, QueueEmail, email_once
from streams.observability import step_timer

log = logging.getLogger(__name__)

NOT_INVOICEABLE = {OrderStatus.DECLINED}


class TenantNumbering:
    """Per tenant, a lock under which one order of this worker at a time takes the next number, and per
    sequence (the tenant's, or a site's own: `key`) the highest value this worker allocated (so the next
    order need not wait for the store's mark)."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, int] = {}

    def lock(self, tenant: str) -> asyncio.Lock:
        return self._locks.setdefault(tenant, asyncio.Lock())

    @staticmethod
    def key(tenant: str, scope: str = TENANT_SCOPE) -> str:
        return tenant if scope == TENANT_SCOPE else f"{tenant}:{scope}"

    def known_last(self, tenant: str, read: int | None, scope: str = TENANT_SCOPE) -> int | None:
        """The higher of the value read from the store and the last one this worker allocated."""
        mine = self._last.get(self.key(tenant, scope))
        return mine if read is None else read if mine is None else max(read, mine)

    def allocated(self, tenant: str, seq: int, scope: str = TENANT_SCOPE) -> None:
        key = self.key(tenant, scope)
        self._last[key] = max(seq, self._last.get(key, seq))


@dataclass(frozen=True)
class PipelineDeps:
    """The ports the pipeline works through: MongoDB, storage, gateway and SMTP adapters in the worker,
    the in-memory fakes of tests/memory.py in the unit tests."""

    orders: OrderStore
    invoices: InvoiceStore
    numbers: InvoiceNumbers
    credit_notes: CreditNoteStore  # read only: whether an invoice is credited in full
    tenant_settings: TenantSettingsStore
    storage: InvoiceStorage
    render: Render  # the issued PDF: Factur-X, PDF/A-3b
    check_einvoice: CheckEInvoice
    captures: CaptureStore
    payments: PaymentCapturer
    email: EmailDeps
    # Hands an email whose first send failed to the email agent (topic invoice-emails), which retries it.
    queue_email: QueueEmail
    now: Callable[[], datetime] = utc_now
    # Shared by every invoice actor of the worker (one per worker, not per actor).
    number_locks: TenantNumbering = field(default_factory=TenantNumbering)
    # Publishes the public events (invoice.issued, ...; streams/public_events.py in the worker).
    announce: Announce = keep_to_yourself


class OrderRejected(Exception):
    """The order cannot be invoiced; the message says why and becomes the FAILURE message, and
    `reason_class` says what kind of failure it is."""

    def __init__(self, message: str, reason_class: ReasonClass = "validation") -> None:
        super().__init__(message)
        self.reason_class: ReasonClass = reason_class


async def invoice_order(request: OrderInvoiceRequested, deps: PipelineDeps) -> OrderInvoiced | OrderFailed:
    pdf = None
    skipped: list[str] = []  # numbers the sequence formatted that other invoices of the tenant already have
    try:
        record = await existing_or_new_invoice(request, deps, skipped)
        if record.job_id != request.jobId and record.issued:
            # Only a MANUAL job invoices an order again, and only once its invoice is credited in full.
            again = "; credit it fully to invoice it again" if request.jobType is JobType.MANUAL else ""
            return failed(request, f"Order {request.orderId} is already invoiced as {record.number}{again}")
        if not record.issued:
            pdf = await issue(record, deps)
    except OrderRejected as rejection:
        return failed(request, str(rejection), rejection.reason_class)
    # Announced again by a redelivery, under the same ce_id: once for a consumer that deduplicates.
    await deps.announce(invoice_issued(record, request.jobId))
    with step_timer("email"):
        sender = invoice_sender(record, deps.email.default_sender)
        email = await email_once(InvoiceEmail(record, deps.invoices), deps.email, deps.queue_email, pdf, sender)
    return OrderInvoiced(
        tenant=request.tenant,
        jobId=request.jobId,
        orderId=request.orderId,
        invoiceNumber=record.number,
        message=f"Invoice {record.number} created{email}{skipped_note(skipped)}",
        position=request.position,
    )


def skipped_note(skipped: list[str]) -> str:
    """Tells the tenant that its sequence format produced numbers its earlier invoices already carry."""
    if not skipped:
        return ""
    return (
        f" (the sequence gave {', '.join(skipped)}, already the number of another invoice of the tenant, so it was"
        " skipped; check the number sequence settings: its format and startValue repeat earlier numbers)"
    )


async def existing_or_new_invoice(
    request: OrderInvoiceRequested, deps: PipelineDeps, skipped: list[str]
) -> InvoiceRecord:
    """The order's invoice record: the one it already has (a redelivery, a retry, another job), or a new
    one numbered from the tenant's sequence once the order passed validation and recalculation: its first,
    or its next when a MANUAL job asks for an order whose invoice is credited in full. Numbers the
    sequence formats like an earlier invoice's are skipped and appended to `skipped`."""
    with step_timer("validate"):
        on_record, generation = await invoice_on_record(request, deps)
        if on_record is not None:
            return on_record
        order = await load_invoiceable_order(deps.orders, request.tenant, request.orderId)
    with step_timer("recalculate"):
        totals = checked_totals(order)
    draft = await invoice_draft(request, order, totals, generation, deps)
    await check_einvoice_before_capture(draft, deps)
    # The money is taken once every check has passed (no capture for an order that cannot be invoiced)
    # and before the number is allocated (a declined payment uses up no number).
    with step_timer("capture"):
        try:
            captured = await capture_payment(draft.tenant, order, totals, deps, generation)
        except CaptureFailed as failure:
            raise OrderRejected(str(failure), "payment") from None
    async with step_timer("number"), deps.number_locks.lock(draft.tenant):
        record = await allocate_number(draft, captured, deps, skipped)
    if record is None:
        record = await allocated_by_another_job(draft, deps)
    # Current before it is issued, as a first invoice is: a crash before this is finished by the redelivery.
    await deps.invoices.make_current(record)
    return record


async def invoice_on_record(request: OrderInvoiceRequested, deps: PipelineDeps) -> tuple[InvoiceRecord | None, int]:
    """The invoice the request is answered with, if the order has one already, and the generation of the
    invoice to make otherwise: the first, or the next one of an order this request invoices again."""
    tenant, order_id = request.tenant, request.orderId
    existing = await deps.invoices.find(tenant, order_id)
    if existing is None:
        return None, FIRST_INVOICE
    if not await invoices_again(request, existing, deps):
        return existing, existing.generation
    generation = existing.generation + 1
    # Made by an earlier attempt (this job's, or a racing job's) that stopped before making it current.
    made = await deps.invoices.find_generation(tenant, order_id, generation)
    if made is not None:
        await deps.invoices.make_current(made)
    return made, generation


def checked_totals(order: Order) -> Totals:
    """The order's totals as recalculated, once they agree with the figures the order states."""
    totals = recalculate(order)
    try:
        check_order_figures(order, totals)
    except PriceMismatch as mismatch:
        raise OrderRejected(f"Order {order.id} not invoiced: {mismatch}", "price") from None
    return totals


@dataclass(frozen=True)
class InvoiceDraft:
    """Everything a new invoice is made of but its number and its capture: the checked order, its totals,
    and the tenant's settings as they were read for it."""

    request: OrderInvoiceRequested
    order: Order
    totals: Totals
    generation: int
    sequence: SequenceSchema
    seller: SellerDetails
    logo_sha256: str | None
    einvoice: EInvoiceSettings
    last_seq: int | None  # the sequence's highest value in the store when the draft was made
    issued_at: datetime
    scope: str = TENANT_SCOPE  # whose sequence numbers it: the order's site's own, or the tenant's

    @property
    def site_code(self) -> str | None:
        return self.order.siteCode

    @property
    def tenant(self) -> str:
        return self.request.tenant

    def document(self, number: str, captured: CapturedPayment | None) -> InvoiceDocument:
        return build_invoice_document(
            order=self.order,
            tenant=self.tenant,
            totals=self.totals,
            invoice_number=number,
            issued_at=self.issued_at,
            seller=self.seller,
            captured=captured,
            einvoice=self.einvoice,
        )


async def invoice_draft(
    request: OrderInvoiceRequested, order: Order, totals: Totals, generation: int, deps: PipelineDeps
) -> InvoiceDraft:
    settings = await tenant_invoice_settings(deps.tenant_settings, request.tenant, order.siteCode)
    sequence, seller, logo_sha256, einvoice, scope = settings
    # The invoice is written in the order's language, else the site's or the tenant's (the seller in force
    # for the order's site); the stored document keeps it.
    language = invoice_language(order.language, seller.language)
    locale = invoice_locale(order.language, language, seller.language, seller.locale)
    seller = replace(seller, language=language, locale=locale)
    last_seq = await deps.numbers.last_seq(request.tenant, scope)
    next_number(sequence, last_seq)  # an exhausted sequence fails before money is taken
    return InvoiceDraft(
        request, order, totals, generation, sequence, seller, logo_sha256, einvoice, last_seq, deps.now(), scope
    )


async def check_einvoice_before_capture(draft: InvoiceDraft, deps: PipelineDeps) -> None:
    """Every issued PDF carries the e-invoice XML: an order or settings it cannot be made from fail the
    order here, before the money is taken and the number used (checked as the document will be once the
    payment is captured: a paid card invoice needs more than a due one)."""
    _, first_number = next_number(draft.sequence, draft.last_seq)
    captured = expected_capture(draft.tenant, draft.order, draft.totals, draft.issued_at, draft.generation)
    try:
        await deps.check_einvoice(draft.document(first_number, captured))
    except EInvoiceRefused as refused:
        raise OrderRejected(f"Order {draft.order.id} not invoiced: {refused}") from None


async def allocate_number(
    draft: InvoiceDraft, captured: CapturedPayment | None, deps: PipelineDeps, skipped: list[str]
) -> InvoiceRecord | None:
    """The new invoice under the tenant's next number, or None when another job allocated this order's
    invoice at the same moment. Called under the tenant's lock: one order of this worker at a time takes
    the next number, so this worker's actors never race each other for it; another worker's insert of the
    same number shows as NumberTaken, and only the number is tried again, not the reads before it."""
    tenant, request = draft.tenant, draft.request
    last_seq = deps.number_locks.known_last(tenant, draft.last_seq, draft.scope)
    while True:
        seq, number = next_number(draft.sequence, last_seq)
        try:
            record = await deps.numbers.allocate(
                tenant=tenant,
                order_id=request.orderId,
                job_id=request.jobId,
                seq=seq,
                number=number,
                document=draft.document(number, captured),
                logo_sha256=draft.logo_sha256,
                generation=draft.generation,
                site_code=draft.site_code,
                scope=draft.scope,
            )
        except NumberInUse as in_use:
            skipped.append(in_use.number)
            log.warning(
                "invoice number %s already in use; skipping it",
                in_use.number,
                extra={"tenant": tenant, "job": request.jobId, "order": request.orderId},
            )
            last_seq = seq
            continue
        except NumberTaken:
            last_seq = seq
            continue
        if record is not None:
            deps.number_locks.allocated(tenant, seq, draft.scope)
        return record


async def allocated_by_another_job(draft: InvoiceDraft, deps: PipelineDeps) -> InvoiceRecord:
    """The invoice another job allocated for this order at the same moment as this one: use that one."""
    order_id = draft.request.orderId
    record = await deps.invoices.find_generation(draft.tenant, order_id, draft.generation)
    if record is None:
        raise RuntimeError(f"invoice {draft.generation} of order {order_id} neither allocated nor found")
    return record


async def invoices_again(request: OrderInvoiceRequested, current: InvoiceRecord, deps: PipelineDeps) -> bool:
    """Whether this request makes the order a new invoice beside `current`: only a MANUAL job does, not
    the job that made `current` (its redelivery reports that invoice), and only when `current` is issued
    and its credit notes, as stored, leave nothing of it to credit. AUTOMATIC jobs never do."""
    if request.jobType is not JobType.MANUAL or current.job_id == request.jobId or not current.issued:
        return False
    notes = await deps.credit_notes.of_invoice(current.tenant, current.number)
    return fully_credited(current.invoice_document().totals, [note.credit_document().totals for note in notes])


def next_number(sequence: SequenceSchema, last_seq: int | None) -> tuple[int, str]:
    try:
        seq = sequence.next_value(last_seq)
    except SequenceExhausted as exhausted:
        raise OrderRejected(str(exhausted), "sequence") from None
    return seq, sequence.format(seq)


async def load_invoiceable_order(orders: OrderStore, tenant: str, order_id: str) -> Order:
    try:
        order = await orders.get(tenant, order_id)
    except UnreadableOrder as error:
        raise OrderRejected(f"Order {order_id} is stored in a form that cannot be read: {error}") from None
    if order is None:
        raise OrderRejected(f"Order {order_id} not found")
    if order.status in NOT_INVOICEABLE:
        raise OrderRejected(f"Order {order_id} has status {order.status.value} and cannot be invoiced")
    return order


async def tenant_invoice_settings(
    repository: TenantSettingsStore, tenant: str, site: str | None = None
) -> tuple[SequenceSchema, SellerDetails, str | None, EInvoiceSettings, str]:
    """The number sequence, seller details, logo (its SHA-256) and e-invoice settings as they are now for
    the order's site (each concern the site's own, else the tenant's: invoicing/sites.py), and whose
    sequence it is (the scope); defaults where neither has one. Read for each new invoice (all in one
    query), so a change applies to the invoices made after it."""
    settings = await repository.read_all(tenant, site)
    sequence, seller, logo = settings.get(SequenceSettings), settings.get(SellerSettings), settings.logo
    einvoice = settings.get(EInvoiceSettingsModel)
    return (
        sequence_schema(sequence) if sequence else DEFAULT_SEQUENCE,
        seller_details(seller) if seller else DEFAULT_SELLER,
        logo.sha256 if logo else None,
        einvoice_settings(einvoice) if einvoice else EInvoiceSettings(),
        settings.sequence_scope(SequenceSettings),
    )


async def issue(record: InvoiceRecord, deps: PipelineDeps) -> bytes:
    """Render the stored document and store the PDF; returns the PDF. Stored objects are write-once: when
    a crash came between storing and marking the invoice issued, the redelivery finds the PDF stored under
    the invoice's own key (numbers are unique per tenant) and keeps that one instead of overwriting it."""
    document = record.invoice_document()
    if record.logo_sha256:
        # The logo lives once per tenant and content, not in every invoice record.
        logo = await deps.tenant_settings.logo_content(record.tenant, record.logo_sha256)
        document = replace(document, seller=replace(document.seller, logo=logo))
    try:
        with step_timer("render"):
            pdf = await deps.render(document)
    except EInvoiceRefused as refused:
        # Checked before the number was allocated; this is an invoice allocated before that check existed.
        raise OrderRejected(f"Invoice {record.number} not issued: {refused}") from None
    key = invoice_key(record.tenant, record.number)
    with step_timer("store"):
        try:
            await deps.storage.put(key, pdf)
        except AlreadyStored:
            pdf = await deps.storage.get(key)
        await deps.invoices.mark_issued(record, key)
    log.info("invoice issued", extra={"tenant": record.tenant, "order": record.order_id, "number": record.number})
    return pdf


def invoice_sender(record: InvoiceRecord, default_sender: str) -> str:
    """The From address of an invoice's first email: the seller on the invoice was read from the tenant's
    settings moments ago, so they need not be read again. The placeholder seller of a tenant without
    settings sends from the default address."""
    seller = record.invoice_document().seller
    return seller.email if seller != DEFAULT_SELLER and seller.email else default_sender


def failed(request: OrderInvoiceRequested, reason: str, reason_class: ReasonClass = "validation") -> OrderFailed:
    return OrderFailed(
        tenant=request.tenant,
        jobId=request.jobId,
        orderId=request.orderId,
        reason=reason,
        reasonClass=reason_class,
        position=request.position,
    )


def failed_by_defect(request: OrderInvoiceRequested, reference: str) -> OrderFailed:
    """The order's result when invoicing it met a defect (its request is dead-lettered under `reference`)."""
    reason = f"Internal error while invoicing; the order can be retried in a new job (reference {reference})"
    return failed(request, reason, "internal")
