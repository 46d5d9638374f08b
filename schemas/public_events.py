"""Public events for downstream systems (ERP, accounting) and stream monitoring tools, on the topic
invoice-events: one JSON event per record, with CloudEvents Kafka-binding headers (binary content mode:
ce_specversion, ce_id, ce_type, ce_source, ce_time, ce_subject, content-type).

Unlike the internal events of `schemas/events.py`, these are a contract: fields are only ever added.
They carry no personal data beyond what an invoice number implies, and never a signed download link
(it expires; the storage key and the invoice number are what a consumer can ask the API about).
"""

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.orders import OrderId, Tenant

ReasonClass = Literal["validation", "price", "payment", "sequence", "internal"]


class PublicEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant: Tenant

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


class TaxAtRate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rate: Decimal = Field(description="Tax rate in percent")
    base: Decimal = Field(description="Net amount taxed at this rate")
    tax: Decimal


class InvoiceIssued(PublicEvent):
    """An invoice exists: numbered, rendered and stored (sent once per invoice)."""

    type: Literal["invoice.issued"] = "invoice.issued"
    jobId: str
    orderId: OrderId
    invoiceNumber: str
    currency: str
    issueDate: date
    netTotal: Decimal = Field(description="Lines and shipping, before tax")
    taxTotal: Decimal
    grossTotal: Decimal
    taxes: list[TaxAtRate] = Field(description="Totals per tax rate")
    storageKey: str = Field(description="Key of the PDF in the service's storage (never a signed link)")


class InvoiceFailed(PublicEvent):
    """An order of a job could not be invoiced; a later job may try it again."""

    type: Literal["invoice.failed"] = "invoice.failed"
    jobId: str
    orderId: OrderId
    reason: str
    reasonClass: ReasonClass


class InvoiceEmailed(PublicEvent):
    """The mail server took the invoice's email (the first send, a retry or a resend)."""

    type: Literal["invoice.emailed"] = "invoice.emailed"
    orderId: OrderId
    invoiceNumber: str
    emailedAt: AwareDatetime


class InvoiceEmailFailed(PublicEvent):
    """A send of the invoice's email failed: `retrying` says whether the service keeps trying."""

    type: Literal["invoice.email_failed"] = "invoice.email_failed"
    orderId: OrderId
    invoiceNumber: str
    reason: str
    retrying: bool


class CreditNoteEmailed(PublicEvent):
    """The mail server took the credit note's email (the first send, a retry or a resend)."""

    type: Literal["credit_note.emailed"] = "credit_note.emailed"
    orderId: OrderId
    creditNoteNumber: str
    invoiceNumber: str = Field(description="The invoice the credit note corrects")
    emailedAt: AwareDatetime


class CreditNoteEmailFailed(PublicEvent):
    """A send of the credit note's email failed: `retrying` says whether the service keeps trying."""

    type: Literal["credit_note.email_failed"] = "credit_note.email_failed"
    orderId: OrderId
    creditNoteNumber: str
    invoiceNumber: str = Field(description="The invoice the credit note corrects")
    reason: str
    retrying: bool


class CreditNoteIssued(PublicEvent):
    """A credit note exists: numbered, rendered and stored (sent once per credit note)."""

    type: Literal["credit_note.issued"] = "credit_note.issued"
    orderId: OrderId
    creditNoteNumber: str
    invoiceNumber: str = Field(description="The invoice the credit note corrects")
    currency: str
    issueDate: date
    netTotal: Decimal = Field(description="What is credited: lines and shipping, before tax")
    taxTotal: Decimal
    grossTotal: Decimal
    storageKey: str = Field(description="Key of the PDF in the service's storage (never a signed link)")


class WebhookEndpointDisabled(PublicEvent):
    """A webhook endpoint failed every attempt of a delivery's whole retry schedule and was disabled."""

    type: Literal["webhook.endpoint_disabled"] = "webhook.endpoint_disabled"
    endpointId: str
    url: str
    reason: str
    disabledAt: AwareDatetime


class InvoicePaid(PublicEvent):
    """The invoice is paid in full (by payments recorded through the API or an order event): sent once."""

    type: Literal["invoice.paid"] = "invoice.paid"
    orderId: OrderId
    invoiceNumber: str
    currency: str
    grossTotal: Decimal
    amountPaid: Decimal = Field(description="What the payments paid (the gross less what credit notes took back)")
    paidAt: AwareDatetime = Field(description="When the payment that settled it was recorded")


class InvoiceOverdue(PublicEvent):
    """The invoice is past its due date and neither paid nor credited: sent once per invoice."""

    type: Literal["invoice.overdue"] = "invoice.overdue"
    orderId: OrderId
    invoiceNumber: str
    currency: str
    amountDue: Decimal
    dueOn: date
    overdueSince: date = Field(description="The first day it was overdue (the day after dueOn)")


class JobCompleted(PublicEvent):
    """Every order of the job has its result."""

    type: Literal["job.completed"] = "job.completed"
    jobId: str
    totalOrders: int
    succeeded: int
    failed: int
    completedAt: AwareDatetime


ALL_PUBLIC_EVENTS: tuple[type[PublicEvent], ...] = (
    InvoiceIssued,
    InvoiceFailed,
    InvoiceEmailed,
    InvoiceEmailFailed,
    CreditNoteEmailed,
    CreditNoteEmailFailed,
    CreditNoteIssued,
    WebhookEndpointDisabled,
    InvoicePaid,
    InvoiceOverdue,
    JobCompleted,
)
PublicEventT = (
    InvoiceIssued
    | InvoiceFailed
    | InvoiceEmailed
    | InvoiceEmailFailed
    | CreditNoteEmailed
    | CreditNoteEmailFailed
    | CreditNoteIssued
    | WebhookEndpointDisabled
    | InvoicePaid
    | InvoiceOverdue
    | JobCompleted
)


def subject_of(event: PublicEventT) -> str:
    """What an event is about (its CloudEvents subject): the job for job.completed, the endpoint for webhook
    events, else the order."""
    if isinstance(event, JobCompleted):
        return event.jobId
    if isinstance(event, WebhookEndpointDisabled):
        return event.endpointId
    return event.orderId
