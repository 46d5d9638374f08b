"""The API's application services: what a path operation asks for, on the ports of `infra/ports.py`.

A path operation parses, authorises, calls one of these and shapes the answer. These raise the errors
of this module, which `service/errors.py` turns into answers; they know nothing of HTTP.
"""

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter
from pymongo.errors import PyMongoError

from infra.kafka import KafkaUnavailable
from infra.links import LinkSigner
from infra.metrics import JOBS_CREATED, tenant_label
from infra.ports import (
    CreditNoteStore,
    EventPublisher,
    InvoiceCatalog,
    InvoiceStorage,
    InvoiceStore,
    JobStore,
    TenantSettingsStore,
)
from infra.records import (
    CreditNoteRequestRecord,
    InvoiceFilter,
    InvoiceRecord,
    IssuedInvoice,
    Job,
    JobFilter,
    JobOrderResult,
    ListedCreditNote,
    PageKey,
)
from infra.settings import Settings
from infra.storage import invoice_key
from invoicing.credit import CreditAsk, CreditedQuantity, LeftToCredit, NothingToCredit, OverCredit, credit_totals
from invoicing.einvoice import EInvoiceFormat, EInvoiceRefused, invoice_xml
from invoicing.recipients import NoRecipient, invoice_recipient
from schemas.api import (
    Amounts,
    AmountsCreditedView,
    CreditNoteAccepted,
    CreditNoteReference,
    CreditNoteRequest,
    CreditNoteResponse,
    CreditNoteStatus,
    DocumentLinks,
    DocumentType,
    InvoiceDetail,
    InvoiceLineView,
    InvoiceSummary,
    JobOrder,
    JobRequest,
    JobSummary,
    JobType,
    OrderResultStatus,
    PaymentView,
    RefundInfo,
)
from schemas.events import CreditedLine, CreditNoteRequested, EmailReason, InvoiceEmailRequested, JobRequested
from schemas.settings import InvoiceSettings
from schemas.topics import CREDIT_NOTE_REQUESTS, INVOICE_EMAILS, JOB_REQUESTS

log = logging.getLogger(__name__)


class InvalidRequest(Exception):
    """400: the request cannot be done as asked; the message says why."""


class NotFound(Exception):
    """404."""


class Unconfirmed(Exception):
    """503: Kafka did not confirm a request and it could not be withdrawn either; it may still go ahead."""


class Conflict(Exception):
    """409: the resource is not in a state that allows this; `detail` (optional) goes to detailInfo."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


async def publish_or_withdraw(
    publisher: EventPublisher, topic: str, key: str, value: bytes, withdraw: Callable[[], Awaitable[bool]], what: str
) -> None:
    """Publish a request recorded in the store. A send that Kafka does not confirm (a timeout) may still
    have reached the broker, so the recorded request is withdrawn, unless the worker has started it:

    - withdrawn: KafkaUnavailable goes on to the client (503 "nothing was created"), and that is true,
      since the worker drops a record whose request is gone (streams/recorded.py);
    - started: the broker did take it, and the work goes on; this returns, and the caller answers as
      accepted, so the client is told of the work that is being done.

    Both are conditional writes on the request's one document, so exactly one of them wins."""
    try:
        await publisher.publish(topic, key, value)
    except KafkaUnavailable:
        try:
            withdrawn = await withdraw()
        except PyMongoError:
            log.exception("could not withdraw %s after Kafka did not confirm it", what)
            raise Unconfirmed(
                f"Kafka did not confirm {what} and it could not be withdrawn; it may still go ahead"
            ) from None
        if withdrawn:
            raise
        log.warning("%s: Kafka did not confirm it, but the worker has started it: accepted", what)


@dataclass(frozen=True)
class JobServices:
    settings: Settings
    jobs: JobStore
    tenant_settings: TenantSettingsStore
    publisher: EventPublisher
    storage: InvoiceStorage
    signer: LinkSigner


async def create_job(app: JobServices, tenant: str, request: JobRequest) -> str:
    """Store the job with the digest of its request, then publish the request; returns the job ID. If
    Kafka does not confirm it, the job is withdrawn unless the planner started it already (then the
    answer is 201: the job goes on), so a 503 leaves nothing that the worker would act on."""
    given = len(request.orderIds or ())
    if given > app.settings.max_order_ids:
        raise InvalidRequest(f"Too many orderIds: {given} given, at most {app.settings.max_order_ids} per job")
    order_ids = request.distinct_order_ids()
    invoice_settings = None
    if request.jobType is JobType.AUTOMATIC:
        invoice_settings = await app.tenant_settings.read(tenant, InvoiceSettings)
        if invoice_settings is None:
            raise InvalidRequest(
                f"AUTOMATIC jobs select orders by the tenant's invoice settings, and tenant {tenant} has none: "
                f"create them with PUT /invoice/{tenant}/settings/invoice"
            )
    job_id = uuid.uuid4().hex
    event = JobRequested(
        tenant=tenant, jobId=job_id, jobType=request.jobType, orderIds=order_ids, invoiceSettings=invoice_settings
    )
    await app.jobs.create(
        tenant=tenant, job_id=job_id, job_type=request.jobType, order_ids=order_ids, request_digest=event.digest()
    )
    await publish_or_withdraw(
        app.publisher,
        app.settings.topic(app.settings.topic_job_requests),
        JOB_REQUESTS.key_text(event),
        event.to_bytes(),
        partial(app.jobs.withdraw, tenant, job_id),
        f"job {job_id}",
    )
    JOBS_CREATED.labels(request.jobType.value, tenant_label(tenant)).inc()
    log.info("job created", extra={"tenant": tenant, "job": job_id, "orders": len(order_ids)})
    return job_id


async def job_with_orders(app: JobServices, tenant: str, job_id: str) -> tuple[Job, list[JobOrder]]:
    job = await app.jobs.get(tenant, job_id)
    if job is None:
        raise NotFound(f"Job {job_id} not found for tenant {tenant}")
    if job.total_orders is None:
        # Not planned yet: show what was asked for, all PENDING, so GET right after 201 is complete.
        orders = [JobOrder(orderId=o, orderStatus=OrderResultStatus.PENDING) for o in job.requested_order_ids]
    else:
        fields = [await job_order_fields(app, tenant, result) async for result in app.jobs.order_results(job_id)]
        orders = JOB_ORDERS.validate_python(fields)
    return job, orders


# The orders of GET validated in one call: a job has up to 10,000 orders, and one JobOrder(...) each
# cost three times as much.
JOB_ORDERS = TypeAdapter(list[JobOrder])


async def job_order_fields(app: JobServices, tenant: str, result: JobOrderResult) -> dict[str, Any]:
    """One order's entry in GET of its job, as the fields of a JobOrder."""
    number = result.invoice_number
    link = xml_link = None
    if number and result.status is OrderResultStatus.SUCCESS:
        # Signed now, at read time: a stored link would expire while the job document lives on.
        link = await app.storage.download_link(invoice_key(tenant, number), tenant, number)
        xml_link = app.signer.link(tenant, number, what="xml")
    return {
        "orderId": result.order_id,
        "orderStatus": result.status,
        "message": result.message,
        "invoiceNumber": number,
        "downloadLink": link,
        "xmlLink": xml_link,
    }


async def issued_invoice(invoices: InvoiceStore, tenant: str, invoice_number: str) -> InvoiceRecord:
    """The tenant's invoice of this number, issued: 404 when there is none, 409 while it is being made."""
    invoice = await invoices.find_by_number(tenant, invoice_number)
    if invoice is None:
        raise NotFound(f"Invoice {invoice_number} not found for tenant {tenant}")
    if not invoice.issued:
        raise Conflict(f"Invoice {invoice_number} is still being made; try again in a moment")
    return invoice


@dataclass(frozen=True)
class EmailRequested:
    invoice_number: str
    recipient: str


async def request_invoice_email(
    settings: Settings, invoices: InvoiceStore, publisher: EventPublisher, tenant: str, invoice_number: str
) -> EmailRequested:
    """Record the resend and queue it (the email agent sends a recorded one only, retrying while the server
    is away); withdrawn again if Kafka does not confirm it and the agent has not started it."""
    invoice = await issued_invoice(invoices, tenant, invoice_number)
    try:
        recipient = invoice_recipient(invoice.customer_email)
    except NoRecipient as nobody:
        raise Conflict(f"Invoice {invoice_number} cannot be emailed: {nobody}") from None
    request_id = uuid.uuid4().hex
    request = InvoiceEmailRequested(
        tenant=tenant,
        orderId=invoice.order_id,
        invoiceNumber=invoice.number,
        reason=EmailReason.RESEND,
        requestId=request_id,
    )
    await invoices.record_email_request(
        tenant=tenant,
        request_id=request_id,
        invoice_number=invoice.number,
        order_id=invoice.order_id,
        request_digest=request.digest(),
    )
    # Keyed like the order, so the email agent handles one order's emails in the order they were asked for.
    await publish_or_withdraw(
        publisher,
        settings.topic(settings.topic_invoice_emails),
        INVOICE_EMAILS.key_text(request),
        request.to_bytes(),
        partial(invoices.withdraw_email_request, tenant, request_id),
        f"the email of invoice {invoice.number}",
    )
    return EmailRequested(invoice_number=invoice.number, recipient=recipient)


# --- invoices, credit notes and jobs as lists ------------------------------------------------------


@dataclass(frozen=True)
class InvoiceReading:
    catalog: InvoiceCatalog
    storage: InvoiceStorage


ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class Page(Generic[ItemT]):
    """Up to `limit` items and the key of each; one more key than `limit` means another page exists."""

    items: list[ItemT]
    keys: list[PageKey]


async def list_documents(
    app: InvoiceReading,
    tenant: str,
    document_type: DocumentType,
    where: InvoiceFilter,
    after: PageKey | None,
    limit: int,
) -> Page[InvoiceSummary]:
    """One page of the tenant's invoices or credit notes, newest first. One more than `limit` is read,
    so the caller knows whether a next page exists without a second query."""
    if document_type is DocumentType.CREDIT_NOTE:
        if where.job_id is not None or where.email_status is not None:
            raise InvalidRequest("jobId and emailStatus filter invoices only; leave them out with type=credit-note")
        notes = await app.catalog.credit_notes_page(tenant, where, after, limit + 1)
        return Page([await credit_note_summary(app.storage, note) for note in notes[:limit]], [n.key for n in notes])
    invoices = await app.catalog.issued_invoices(tenant, where, after, limit + 1)
    return Page([await invoice_summary(app.storage, inv) for inv in invoices[:limit]], [i.key for i in invoices])


async def invoice_detail(app: InvoiceReading, tenant: str, number: str) -> InvoiceDetail:
    invoice = await app.catalog.issued_invoice(tenant, number)
    if invoice is None:
        raise NotFound(f"Invoice {number} not found for tenant {tenant}")
    summary = await invoice_summary(app.storage, invoice)
    document = invoice.record.invoice_document()
    lines = [
        InvoiceLineView(
            position=line.position,
            description=line.description,
            sku=line.sku,
            quantity=line.quantity,
            unitPrice=line.unit_price,
            discount=line.discount,
            net=line.net,
            taxRate=line.tax_rate,
        )
        for line in document.totals.lines
    ]
    notes = await app.catalog.credit_notes_page(tenant, InvoiceFilter(invoice_number=number), None, 1000)
    return InvoiceDetail(
        **summary.model_dump(),
        lines=lines,
        shippingNet=document.totals.shipping_net,
        creditNotes=[await credit_note_summary(app.storage, note) for note in notes],
    )


async def invoice_summary(storage: InvoiceStorage, invoice: IssuedInvoice) -> InvoiceSummary:
    record, credited = invoice.record, invoice.credited
    document = record.invoice_document()
    totals = document.totals
    gross = totals.total
    paid = document.payment.paid
    return InvoiceSummary(
        number=record.number,
        type=DocumentType.INVOICE,
        orderId=record.order_id,
        jobId=record.job_id,
        issuedAt=invoice.issued_at,
        currency=totals.currency,
        totals=Amounts(net=gross - totals.tax_total, tax=totals.tax_total, gross=gross),
        credited=AmountsCreditedView(
            net=credited.net,
            tax=credited.tax,
            gross=credited.gross,
            notes=[CreditNoteReference(number=n.number, issuedAt=n.issued_at, gross=n.gross) for n in credited.notes],
        ),
        payment=PaymentView(
            paid=paid,
            method=document.payment.method,
            paidOn=document.payment.paid_on,
            dueOn=document.payment.due_on,
            captured=gross if paid else Decimal(0),
            # What is credited on a paid invoice is paid back (refunds are made with the credit note).
            refunded=credited.gross if paid else Decimal(0),
        ),
        emailStatus=record.email_status,
        language=record.language,
        # Signed now, at read time: a stored link would expire. No XML e-invoice is stored yet.
        links=DocumentLinks(
            pdf=await storage.download_link(invoice_key(record.tenant, record.number), record.tenant, record.number)
        ),
    )


async def credit_note_summary(storage: InvoiceStorage, note: ListedCreditNote) -> InvoiceSummary:
    pdf = None if note.storage_key is None else await storage.download_link(note.storage_key, note.tenant, note.number)
    return InvoiceSummary(
        number=note.number,
        type=DocumentType.CREDIT_NOTE,
        orderId=note.order_id,
        invoiceNumber=note.invoice_number,
        issuedAt=note.issued_at,
        currency=note.currency,
        totals=Amounts(net=note.net, tax=note.tax, gross=note.gross),
        links=DocumentLinks(pdf=pdf),
    )


async def list_jobs(
    jobs: JobStore, tenant: str, where: JobFilter, after: PageKey | None, limit: int
) -> Page[JobSummary]:
    found = await jobs.list_jobs(tenant, where, after, limit + 1)
    return Page([job_summary(job) for job in found[:limit]], [PageKey(job.created_at, job.job_id) for job in found])


def job_summary(job: Job) -> JobSummary:
    counts = {OrderResultStatus.SUCCESS: job.succeeded_orders, OrderResultStatus.FAILURE: job.failed_orders}
    planned = job.total_orders if job.total_orders is not None else len(job.requested_order_ids)
    counts[OrderResultStatus.PENDING] = max(planned - job.finished_orders, 0)
    return JobSummary(
        jobId=job.job_id,
        jobStatus=job.status,
        jobType=job.job_type,
        trigger=job.trigger,
        createdAt=job.created_at,
        updatedAt=job.updated_at,
        totalOrders=job.total_orders,
        orderCounts=counts,
    )


async def issued_invoice_xml(invoices: InvoiceStore, tenant: str, invoice_number: str, fmt: EInvoiceFormat) -> bytes:
    """The issued invoice's e-invoice XML in `fmt`, made from its stored document and the e-invoice
    settings frozen in it (the FACTURX one is the PDF's embedded factur-x.xml)."""
    invoice = await issued_invoice(invoices, tenant, invoice_number)
    try:
        return invoice_xml(invoice.invoice_document(), fmt)
    except EInvoiceRefused as refused:
        raise Conflict(f"Invoice {invoice_number} as {refused}") from None


# --- credit notes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditServices:
    settings: Settings
    invoices: InvoiceStore
    credit_notes: CreditNoteStore
    publisher: EventPublisher


def left_to_credit_detail(left: LeftToCredit) -> str:
    """What is left to credit, for a 409's detailInfo: a JSON object a client can act on."""
    return json.dumps(
        {
            "currency": left.currency,
            "lines": [{"entryId": entry, "quantity": str(quantity)} for entry, quantity in left.quantities.items()],
            "shippingNet": str(left.shipping_net),
            "gross": str(left.gross),
        }
    )


async def request_credit_note(
    app: CreditServices, tenant: str, invoice_number: str, body: CreditNoteRequest
) -> CreditNoteAccepted:
    """Check the request against what is left to credit now (an obvious over-credit is a 409 at once), then
    store the request and publish it; the credit-note agent makes the authoritative check as it numbers."""
    invoice = await issued_invoice(app.invoices, tenant, invoice_number)
    ask = CreditAsk(
        whole=body.wholeInvoice,
        lines=tuple(CreditedQuantity(line.entryId, line.quantity) for line in body.lines),
        shipping=body.shipping,
    )
    earlier = await app.credit_notes.of_invoice(tenant, invoice.number)
    try:
        credit_totals(invoice.invoice_document().totals, [note.credit_document().totals for note in earlier], ask)
    except OverCredit as over:
        message = f"Credit note for invoice {invoice_number} refused: {over}"
        raise Conflict(message, left_to_credit_detail(over.left)) from None
    except NothingToCredit as nothing:
        raise InvalidRequest(f"Credit note for invoice {invoice_number}: {nothing}") from None
    credit_note_id = uuid.uuid4().hex
    event = CreditNoteRequested(
        tenant=tenant,
        creditNoteId=credit_note_id,
        orderId=invoice.order_id,
        invoiceNumber=invoice.number,
        reason=body.reason,
        wholeInvoice=body.wholeInvoice,
        lines=[CreditedLine(entryId=line.entryId, quantity=line.quantity) for line in body.lines],
        shipping=body.shipping,
    )
    await app.credit_notes.create_request(
        tenant=tenant,
        request_id=credit_note_id,
        invoice_number=invoice.number,
        order_id=invoice.order_id,
        request_digest=event.digest(),
    )
    await publish_or_withdraw(
        app.publisher,
        app.settings.topic(app.settings.topic_credit_note_requests),
        CREDIT_NOTE_REQUESTS.key_text(event),
        event.to_bytes(),
        partial(app.credit_notes.withdraw_request, tenant, credit_note_id),
        f"credit note {credit_note_id}",
    )
    return CreditNoteAccepted(creditNoteId=credit_note_id, status=CreditNoteStatus.IN_PROGRESS)


async def credit_note(app: CreditServices, tenant: str, credit_note_id: str) -> CreditNoteResponse:
    request = await app.credit_notes.get_request(tenant, credit_note_id)
    if request is None:
        raise NotFound(f"Credit note {credit_note_id} not found for tenant {tenant}")
    answer = _credit_note_response(request)
    note = await app.credit_notes.find(tenant, credit_note_id)
    if note is None:
        return answer
    totals = note.credit_document().totals
    net = totals.subtotal + totals.shipping_net
    return answer.model_copy(
        update={
            "creditNoteNumber": note.number,
            "issuedAt": note.issued_at,
            "currency": totals.currency,
            "totals": Amounts(net=net, tax=totals.tax_total, gross=totals.total),
            "refund": RefundInfo(
                status=note.refund.status.value,
                amount=note.refund.amount,
                refundId=note.refund.refund_id,
                error=note.refund.error,
            ),
        }
    )


def _credit_note_response(request: CreditNoteRequestRecord) -> CreditNoteResponse:
    return CreditNoteResponse(
        creditNoteId=request.request_id,
        status=request.status,
        invoiceNumber=request.invoice_number,
        orderId=request.order_id,
        message=request.message,
        creditNoteNumber=request.credit_note_number,
        createdAt=request.created_at,
        updatedAt=request.updated_at,
    )
