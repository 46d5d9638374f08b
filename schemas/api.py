"""REST models, named and shaped as in `contract/invoice-api.yaml`.

Fields marked "extension" are not in the contract; they are added compatibly (optional, additive) and
listed in the README.
"""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

MAX_ORDER_ID_LENGTH = 64


class JobType(StrEnum):
    AUTOMATIC = "AUTOMATIC"
    MANUAL = "MANUAL"


class JobTrigger(StrEnum):
    """Extension: what started a job: a client through the API, or the tenant's schedule."""

    API = "api"
    SCHEDULE = "schedule"


class JobStatus(StrEnum):
    DONE = "DONE"
    IN_PROGRESS = "IN_PROGRESS"


class OrderResultStatus(StrEnum):
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    PENDING = "PENDING"


class CreditNoteStatus(StrEnum):
    """Extension: where a credit-note request stands."""

    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"  # the credit note is numbered, rendered and stored
    FAILED = "FAILED"  # refused (say, more than is left to credit); the message says why


class JobRequest(BaseModel):
    # None (absent) and [] differ: AUTOMATIC jobs must not carry orderIds at all.
    orderIds: list[str] | SkipJsonSchema[None] = Field(
        default=None, description="A list of order IDs for which the invoices should be created."
    )
    jobType: JobType = Field(
        description="A job type determines if the orders are searched automatically based on parameters "
        "configured in configuration service or are manually provided in orderIds array."
    )

    @model_validator(mode="after")
    def order_ids_fit_the_job_type(self) -> "JobRequest":
        # The most order IDs per job is a setting: the application service checks it.
        if self.jobType is JobType.AUTOMATIC:
            if self.orderIds is not None:
                raise ValueError("orderIds must not be given for an AUTOMATIC job: its orders are found by query")
            return self
        if not self.orderIds:
            raise ValueError("orderIds is required for a MANUAL job and must not be empty")
        for index, order_id in enumerate(self.orderIds):
            if not order_id.strip():
                raise ValueError(f"orderIds[{index}] is empty")
            if len(order_id) > MAX_ORDER_ID_LENGTH:
                raise ValueError(f"orderIds[{index}] is longer than {MAX_ORDER_ID_LENGTH} characters")
        return self

    def distinct_order_ids(self) -> list[str]:
        """The distinct order IDs, in request order (none for an AUTOMATIC job)."""
        return list(dict.fromkeys(self.orderIds or ()))


class JobCreationResponse(BaseModel):
    jobId: str = Field(description="The created job ID.")


class JobOrder(BaseModel):
    orderId: str = Field(description="The ID of the processed order.")
    orderStatus: OrderResultStatus = Field(description="Status determining if the order was processed successfully.")
    message: str | SkipJsonSchema[None] = Field(
        default=None, description="Information about the result of order processing."
    )
    downloadLink: str | SkipJsonSchema[None] = Field(default=None, description="URL to the generated invoice PDF.")
    invoiceNumber: str | SkipJsonSchema[None] = Field(default=None, description="Number of the generated invoice.")


class JobStatusResponse(BaseModel):
    jobStatus: JobStatus = Field(description="Status of the processed job. Possible values: `DONE`, `IN_PROGRESS`")
    jobType: JobType = Field(
        description="Job type determines if the orders are provided manually or searched by a parametrized query."
    )
    orders: list[JobOrder]
    # extensions
    createdAt: datetime | SkipJsonSchema[None] = Field(
        default=None, description="Extension: when the job was created (UTC)."
    )
    updatedAt: datetime | SkipJsonSchema[None] = Field(
        default=None, description="Extension: last change of the job (UTC)."
    )
    totalOrders: int | SkipJsonSchema[None] = Field(
        default=None, description="Extension: number of distinct orders in the job, once planned."
    )


class ErrorResponse(BaseModel):
    message: str = Field(description="A descriptive error message for debugging.")
    code: str = Field(description="Original HTTP error code. It should be consistent with the HTTP response code.")
    detailInfo: str | SkipJsonSchema[None] = Field(
        default=None, description="More details about the error (if available)."
    )


class InvoiceEmailAccepted(BaseModel):
    """Extension: the answer to POST /invoice/{tenant}/invoices/{invoiceNumber}/email."""

    invoiceNumber: str = Field(description="The invoice that will be emailed.")
    recipient: str = Field(description="The customer email address it goes to (the one on the invoice).")
    message: str


# --- credit notes (extension) ----------------------------------------------------------------------


class CreditNoteLine(BaseModel):
    entryId: str = Field(min_length=1, max_length=64, description="The order entry's ID, as on the order.")
    quantity: Decimal = Field(gt=0, max_digits=18, description="How much of the entry to credit.")


class CreditNoteRequest(BaseModel):
    """Extension: the body of POST /invoice/{tenant}/invoices/{invoiceNumber}/credit-notes."""

    reason: str = Field(min_length=1, max_length=500, description="Why the invoice is corrected (kept, not printed).")
    wholeInvoice: bool = Field(default=False, description="Credit everything still left to credit.")
    lines: list[CreditNoteLine] = Field(default=[], max_length=1000, description="Lines to credit (by entry ID).")
    shipping: bool = Field(default=False, description="Credit the shipping.")

    @model_validator(mode="after")
    def whole_or_parts(self) -> "CreditNoteRequest":
        if self.wholeInvoice and (self.lines or self.shipping):
            raise ValueError("wholeInvoice credits everything left: give no lines and no shipping with it")
        if not self.wholeInvoice and not self.lines and not self.shipping:
            raise ValueError("give wholeInvoice: true, or lines and/or shipping: true")
        if not self.reason.strip():
            raise ValueError("reason must not be blank")
        return self


class CreditNoteAccepted(BaseModel):
    """Extension: the answer to POST .../credit-notes (202). Poll `creditNoteId` under /credit-notes/."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"creditNoteId": "5f0c2a9e4b1d4c7e9a3f6b8d2e1c0a97", "status": "IN_PROGRESS"}]}
    )

    creditNoteId: str
    status: CreditNoteStatus


class CreditNoteTotals(BaseModel):
    net: Decimal
    tax: Decimal
    gross: Decimal


class RefundInfo(BaseModel):
    status: str = Field(description="NOT_NEEDED, PENDING (retried), REFUNDED or FAILED.")
    amount: Decimal
    refundId: str | SkipJsonSchema[None] = None
    error: str | SkipJsonSchema[None] = None


class CreditNoteResponse(BaseModel):
    """Extension: a credit-note request and, once made, its credit note."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "creditNoteId": "5f0c2a9e4b1d4c7e9a3f6b8d2e1c0a97",
                    "status": "DONE",
                    "invoiceNumber": "INV-000001",
                    "orderId": "order-1",
                    "message": "Credit note CN-000001 issued for invoice INV-000001; 29.62 EUR refunded "
                    "and emailed to erika@example.com",
                    "creditNoteNumber": "CN-000001",
                    "issuedAt": "2026-12-02T09:30:00Z",
                    "currency": "EUR",
                    "totals": {"net": "24.89", "tax": "4.73", "gross": "29.62"},
                    "refund": {"status": "REFUNDED", "amount": "29.62", "refundId": "ref-3c1f9a2b7d4e"},
                    "createdAt": "2026-12-02T09:29:58Z",
                    "updatedAt": "2026-12-02T09:30:01Z",
                },
                {
                    "creditNoteId": "9d8e7f6a5b4c4d3e8f2a1b0c9d8e7f6a",
                    "status": "FAILED",
                    "invoiceNumber": "INV-000001",
                    "orderId": "order-1",
                    "message": "Credit note for invoice INV-000001 not made: entry 2: 1 asked, 0 left; left to "
                    "credit: entry 1: 1, entry 2: 0; no shipping; 23.79 EUR gross",
                    "createdAt": "2026-12-02T09:29:58Z",
                    "updatedAt": "2026-12-02T09:30:01Z",
                },
            ]
        }
    )

    creditNoteId: str
    status: CreditNoteStatus
    invoiceNumber: str
    orderId: str
    message: str | SkipJsonSchema[None] = None
    creditNoteNumber: str | SkipJsonSchema[None] = None
    issuedAt: datetime | SkipJsonSchema[None] = None
    currency: str | SkipJsonSchema[None] = None
    totals: CreditNoteTotals | SkipJsonSchema[None] = None
    refund: RefundInfo | SkipJsonSchema[None] = None
    createdAt: datetime
    updatedAt: datetime
