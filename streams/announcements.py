"""The public events (schemas/public_events.py) made from the pipeline's records. Free of Kafka, so the
pipeline can make them; streams/public_events.py sends them."""

from collections.abc import Awaitable, Callable
from datetime import datetime

from infra.records import CreditNoteRecord, InvoiceRecord
from infra.storage import credit_note_key, invoice_key
from schemas.events import OrderFailed
from schemas.public_events import (
    CreditNoteEmailed,
    CreditNoteEmailFailed,
    CreditNoteIssued,
    InvoiceEmailed,
    InvoiceEmailFailed,
    InvoiceFailed,
    InvoiceIssued,
    PublicEventT,
    TaxAtRate,
)

Announce = Callable[[PublicEventT], Awaitable[None]]


async def keep_to_yourself(event: PublicEventT) -> None:
    """Where public events go when nobody listens (tests of the pipeline alone)."""


def invoice_issued(record: InvoiceRecord, job_id: str) -> InvoiceIssued:
    document = record.invoice_document()
    totals = document.totals
    return InvoiceIssued(
        tenant=record.tenant,
        jobId=job_id,
        orderId=record.order_id,
        invoiceNumber=record.number,
        currency=totals.currency,
        issueDate=document.invoice_date,
        netTotal=totals.subtotal + totals.shipping_net,
        taxTotal=totals.tax_total,
        grossTotal=totals.total,
        taxes=[TaxAtRate(rate=row.rate, base=row.base, tax=row.tax) for row in totals.taxes],
        storageKey=record.storage_key or invoice_key(record.tenant, record.number),
    )


def invoice_failed(result: OrderFailed) -> InvoiceFailed:
    return InvoiceFailed(
        tenant=result.tenant,
        jobId=result.jobId,
        orderId=result.orderId,
        reason=result.reason,
        reasonClass=result.reasonClass,
    )


def invoice_emailed(record: InvoiceRecord, emailed_at: datetime) -> InvoiceEmailed:
    return InvoiceEmailed(
        tenant=record.tenant, orderId=record.order_id, invoiceNumber=record.number, emailedAt=emailed_at
    )


def invoice_email_failed(record: InvoiceRecord, reason: str, *, retrying: bool) -> InvoiceEmailFailed:
    return InvoiceEmailFailed(
        tenant=record.tenant, orderId=record.order_id, invoiceNumber=record.number, reason=reason, retrying=retrying
    )


def credit_note_emailed(note: CreditNoteRecord, emailed_at: datetime) -> CreditNoteEmailed:
    return CreditNoteEmailed(
        tenant=note.tenant,
        orderId=note.order_id,
        creditNoteNumber=note.number,
        invoiceNumber=note.invoice_number,
        emailedAt=emailed_at,
    )


def credit_note_email_failed(note: CreditNoteRecord, reason: str, *, retrying: bool) -> CreditNoteEmailFailed:
    return CreditNoteEmailFailed(
        tenant=note.tenant,
        orderId=note.order_id,
        creditNoteNumber=note.number,
        invoiceNumber=note.invoice_number,
        reason=reason,
        retrying=retrying,
    )


def credit_note_issued(note: CreditNoteRecord) -> CreditNoteIssued:
    document = note.credit_document()
    totals = document.totals
    return CreditNoteIssued(
        tenant=note.tenant,
        orderId=note.order_id,
        creditNoteNumber=note.number,
        invoiceNumber=note.invoice_number,
        currency=totals.currency,
        issueDate=document.invoice_date,
        netTotal=totals.subtotal + totals.shipping_net,
        taxTotal=totals.tax_total,
        grossTotal=totals.total,
        storageKey=note.storage_key or credit_note_key(note.tenant, note.number),
    )
