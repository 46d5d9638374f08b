"""Kafka events of the invoicing flow: small immutable messages, one model per event.

invoice-job-requests   JobRequested            key tenant:jobId
invoice-order-requests OrderInvoiceRequested   key tenant:orderId
invoice-order-results  JobPlanned | OrderInvoiced | OrderFailed   key tenant:jobId
invoice-dead-letters   DeadLetter              key as the original record
invoice-emails         InvoiceEmailRequested   key tenant:orderId
invoice-credit-note-requests CreditNoteRequested key tenant:orderId
invoice-refunds        RefundRequested         key tenant:creditNoteId
order-events           schemas.orders.OrderEvent (the upstream contract)
"""

import hashlib
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from invoicing.clock import utc_now
from schemas.api import JobType
from schemas.orders import OrderId, Tenant, unstorable_text
from schemas.public_events import ReasonClass
from schemas.settings import InvoiceSettings

__all__ = ["utc_now"]  # the one clock (invoicing/clock.py), re-exported for the callers that import it here


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        # A NUL character (or a lone surrogate) in any text would fail at the store on PostgreSQL (and
        # in MongoDB's keys), mid-step and for every retry: refuse the record where it is read instead.
        problem = unstorable_text(data) if isinstance(data, dict) else None
        if problem is not None:
            raise ValueError(problem)
        return data

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    def digest(self) -> str:
        """SHA-256 of the event's canonical JSON: the API records it with a request, and the worker acts
        only on a record whose digest is the one recorded (a forged copy with other content is not)."""
        return hashlib.sha256(self.to_bytes()).hexdigest()


class JobRequested(Event):
    """The API accepted a job; the planner turns it into per-order requests."""

    eventType: Literal["job.requested"] = "job.requested"
    tenant: Tenant
    jobId: str
    jobType: JobType
    orderIds: list[OrderId] = []
    invoiceSettings: InvoiceSettings | None = Field(
        default=None, description="AUTOMATIC jobs: the tenant's order query as it was when the job was requested"
    )
    requestedAt: AwareDatetime = Field(default_factory=utc_now)
    siteCode: str | None = Field(
        default=None,
        description="AUTOMATIC jobs limited to one site: only orders of this siteCode (invoiceSettings are then "
        "the site's own, else the tenant's)",
    )

    def to_bytes(self) -> bytes:
        # Without a site the field is left out, so a request recorded before it existed keeps its digest.
        return self.model_dump_json(exclude={"siteCode"} if self.siteCode is None else None).encode()


class JobPlanned(Event):
    """The orders of a job, in parts of bounded size so no record nears Kafka's message size limit."""

    eventType: Literal["job.planned"] = "job.planned"
    tenant: Tenant
    jobId: str
    totalOrders: int
    part: int
    parts: int
    firstPosition: int = Field(description="Position of this part's first order within the job")
    orderIds: list[OrderId]
    plannedAt: AwareDatetime = Field(default_factory=utc_now)


class OrderInvoiceRequested(Event):
    eventType: Literal["order.invoice-requested"] = "order.invoice-requested"
    tenant: Tenant
    jobId: str
    orderId: OrderId
    jobType: JobType | None = Field(
        default=None,
        description="The job's type: only a MANUAL job invoices an order again whose invoice is credited in "
        "full (absent in requests written before the field existed: those never do)",
    )
    position: int | None = Field(
        default=None,
        ge=0,
        description="The order's place in its job (from the plan); the projection files the result there. "
        "Absent in requests written before the field existed: the projection then finds the order in the job",
    )
    requestedAt: AwareDatetime = Field(default_factory=utc_now)


class OrderInvoiced(Event):
    eventType: Literal["order.invoiced"] = "order.invoiced"
    tenant: Tenant
    jobId: str
    orderId: OrderId
    invoiceNumber: str
    message: str
    position: int | None = Field(
        default=None, ge=0, description="The order's place in its job, as its OrderInvoiceRequested gave it"
    )
    occurredAt: AwareDatetime = Field(default_factory=utc_now)


class OrderFailed(Event):
    eventType: Literal["order.failed"] = "order.failed"
    tenant: Tenant
    jobId: str
    orderId: OrderId
    reason: str
    reasonClass: ReasonClass = Field(
        default="validation",
        description="The kind of failure, set where the order failed (the metrics and invoice.failed carry "
        "it, never the free text of `reason`)",
    )
    position: int | None = Field(
        default=None, ge=0, description="The order's place in its job, as its OrderInvoiceRequested gave it"
    )
    occurredAt: AwareDatetime = Field(default_factory=utc_now)


class EmailReason(StrEnum):
    RETRY = "RETRY"  # the first send failed: send until the mail server takes it
    RESEND = "RESEND"  # asked for through the API: send again, even if sent before
    REMINDER = "REMINDER"  # a reminder level of an overdue invoice (reminderLevel): sent once, retried like RETRY


class InvoiceEmailRequested(Event):
    """Email an issued invoice to the customer. Written when the first send failed (the invoice agent)
    and when a client asks for the invoice again (the API); the email agent sends it, with retries."""

    eventType: Literal["invoice.email-requested"] = "invoice.email-requested"
    tenant: Tenant
    orderId: OrderId
    invoiceNumber: str
    reason: EmailReason
    creditNoteId: str | None = Field(
        default=None, description="Set when the email is of a credit note of this invoice, not of the invoice itself"
    )
    requestId: str | None = Field(
        default=None,
        description="RESEND: the ID of the email request the API recorded (the worker sends only a recorded one)",
    )
    reminderLevel: int | None = Field(
        default=None, ge=1, description="REMINDER: the reminder level (1-based) of the invoice to email"
    )
    requestedAt: AwareDatetime = Field(default_factory=utc_now)


class CreditedLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    entryId: str
    quantity: Decimal


class CreditNoteRequested(Event):
    """The API accepted a credit-note request; the credit-note agent makes it (key tenant:orderId, so the
    credit notes of one invoice are made one after the other; correctness does not depend on it)."""

    eventType: Literal["credit-note.requested"] = "credit-note.requested"
    tenant: Tenant
    creditNoteId: str
    orderId: OrderId
    invoiceNumber: str
    reason: str
    wholeInvoice: bool = False
    lines: list[CreditedLine] = []
    shipping: bool = False
    requestedAt: AwareDatetime = Field(default_factory=utc_now)


class RefundRequested(Event):
    """A credit note's refund that the gateway has not confirmed yet; the refund agent retries it."""

    eventType: Literal["credit-note.refund-requested"] = "credit-note.refund-requested"
    tenant: Tenant
    creditNoteId: str
    requestedAt: AwareDatetime = Field(default_factory=utc_now)


class DeadLetter(Event):
    """A record no agent could process: the reason, where it came from, and its original bytes."""

    eventType: Literal["dead-letter"] = "dead-letter"
    reason: str
    sourceTopic: str
    partition: int | None = None
    offset: int | None = None
    key: str | None = Field(default=None, description="Original key, base64")
    value: str = Field(description="Original value, base64 (its first bytes only when valueTruncated)")
    valueSize: int | None = Field(default=None, description="Size of the original value in bytes")
    valueTruncated: bool = Field(
        default=False, description="The original value was too large to keep whole within Kafka's message limit"
    )
    occurredAt: AwareDatetime = Field(default_factory=utc_now)


JobResult = Annotated[JobPlanned | OrderInvoiced | OrderFailed, Field(discriminator="eventType")]
JOB_RESULT = TypeAdapter[JobPlanned | OrderInvoiced | OrderFailed](JobResult)

ALL_EVENTS: tuple[type[Event], ...] = (
    JobRequested,
    JobPlanned,
    OrderInvoiceRequested,
    OrderInvoiced,
    OrderFailed,
    InvoiceEmailRequested,
    CreditNoteRequested,
    RefundRequested,
    DeadLetter,
)
