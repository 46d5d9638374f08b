"""CloudEvents of the public events (schemas/public_events.py): their deterministic `ce_id`, their Kafka
binding headers, and invoice.paid made from a payment; shared by the worker (streams/public_events.py,
streams/settling.py) and the API (invoice.paid of a payment recorded through it).

Each state change has a deterministic `ce_id` (a hash of tenant, subject, type and what identifies the
change), so an event emitted again (a redelivered step, a retried request) carries the same `ce_id`.
"""

import hashlib

from infra.records import InvoiceRecord
from infra.tracing import trace_headers
from invoicing.clock import utc_now
from invoicing.settlement import PaymentResult
from schemas.public_events import (
    CreditNoteEmailed,
    CreditNoteEmailFailed,
    CreditNoteIssued,
    InvoiceEmailed,
    InvoiceEmailFailed,
    InvoiceFailed,
    InvoiceIssued,
    InvoiceOverdue,
    InvoicePaid,
    JobCompleted,
    PublicEventT,
    WebhookEndpointDisabled,
    subject_of,
)

SPEC_VERSION = b"1.0"
SOURCE = "/invoice-service"


def change_of(event: PublicEventT) -> str:
    """What makes this state change one of a kind: the same change always gives the same text."""
    match event:
        case InvoiceIssued():
            return event.invoiceNumber
        case InvoiceFailed():
            return event.jobId  # an order fails at most once per job
        case InvoiceEmailed():
            return f"{event.invoiceNumber}:{event.emailedAt.isoformat()}"
        case InvoiceEmailFailed():
            return f"{event.invoiceNumber}:{event.retrying}:{event.reason}"
        case CreditNoteEmailed():
            return f"{event.creditNoteNumber}:{event.emailedAt.isoformat()}"
        case CreditNoteEmailFailed():
            return f"{event.creditNoteNumber}:{event.retrying}:{event.reason}"
        case InvoicePaid():
            return event.invoiceNumber  # an invoice is paid once
        case InvoiceOverdue():
            return event.invoiceNumber  # an invoice becomes overdue once
        case CreditNoteIssued():
            return event.creditNoteNumber
        case WebhookEndpointDisabled():
            return event.disabledAt.isoformat()
        case JobCompleted():
            return ""  # a job completes once


def cloud_event_id(event: PublicEventT) -> str:
    identity = f"{event.tenant}:{subject_of(event)}:{event.type}:{change_of(event)}"
    return hashlib.sha256(identity.encode()).hexdigest()


def cloud_event_headers(event: PublicEventT) -> list[tuple[str, bytes]]:
    """The CloudEvents Kafka protocol binding, binary content mode: attributes as ce_ headers."""
    return [
        ("ce_specversion", SPEC_VERSION),
        ("ce_id", cloud_event_id(event).encode()),
        ("ce_type", event.type.encode()),
        ("ce_source", f"{SOURCE}/{event.tenant}".encode()),
        ("ce_time", utc_now().isoformat().encode()),
        ("ce_subject", subject_of(event).encode()),
        ("content-type", b"application/json"),
        *trace_headers(),  # CloudEvents' distributed tracing extension: traceparent, tracestate
    ]


def invoice_paid(invoice: InvoiceRecord, result: PaymentResult) -> InvoicePaid:
    return InvoicePaid(
        tenant=invoice.tenant,
        orderId=invoice.order_id,
        invoiceNumber=invoice.number,
        currency=result.settlement.currency,
        grossTotal=result.settlement.gross,
        amountPaid=result.settlement.paid,
        paidAt=result.payment.recorded_at,
    )
