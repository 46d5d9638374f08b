"""REST models, named and shaped as in `contract/invoice-api.yaml`.

Fields marked "extension" are not in the contract; they are added compatibly (optional, additive) and
listed in the README.
"""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints, model_validator
from pydantic.json_schema import SkipJsonSchema

from invoicing.settlement import InvoicePaymentStatus
from invoicing.sites import SITE_CODE_MAX_LENGTH, SITE_CODE_PATTERN
from invoicing.statuses import CreditNoteStatus, EmailStatus, JobStatus, JobTrigger, JobType, OrderResultStatus
from schemas.invoice_views import RESOURCE_EXAMPLE, BuyerView, SellerView, VatBreakdownView

# The stored states are the domain's (invoicing/statuses.py); the wire models show them as they are.
# re-exported: the states and the site code's rule are the domain's, the API documents them
__all__ = [
    "SITE_CODE_MAX_LENGTH",
    "SITE_CODE_PATTERN",
    "CreditNoteStatus",
    "EmailStatus",
    "InvoicePaymentStatus",
    "JobStatus",
    "JobTrigger",
    "JobType",
    "OrderResultStatus",
]

MAX_ORDER_ID_LENGTH = 64
# The job's request event carries its order IDs and must fit Kafka's default message size (1 MB): 10,000
# ASCII IDs of 64 characters take ~670 KB, but IDs of 2- or 3-byte characters would not fit.
MAX_ORDER_IDS_BYTES = 900_000


def has_unstorable_character(text: str) -> bool:
    """Control characters (NUL among them) and lone surrogates: no order ID holds them, and the
    MongoDB-wire store cannot keep all of them (FerretDB on PostgreSQL refuses NUL, UTF-8 a surrogate)."""
    return any(ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF for c in text)


class DocumentType(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit-note"


class JobRequest(BaseModel):
    # None (absent) and [] differ: AUTOMATIC jobs must not carry orderIds at all.
    orderIds: list[str] | SkipJsonSchema[None] = Field(
        default=None, description="A list of order IDs for which the invoices should be created."
    )
    jobType: JobType = Field(
        description="A job type determines if the orders are searched automatically based on parameters "
        "configured in configuration service or are manually provided in orderIds array."
    )

    siteCode: (
        Annotated[str, StringConstraints(pattern=SITE_CODE_PATTERN, min_length=1, max_length=SITE_CODE_MAX_LENGTH)]
        | SkipJsonSchema[None]
    ) = Field(
        default=None,
        description="Extension: limits an AUTOMATIC job to the orders of one site (the order's `siteCode`), "
        "selected by the site's own invoice settings, else the tenant's. Not for MANUAL jobs.",
        examples=["fr"],
    )

    @model_validator(mode="after")
    def order_ids_fit_the_job_type(self) -> "JobRequest":
        # The most order IDs per job is a setting: the application service checks it.
        if self.jobType is JobType.MANUAL and self.siteCode is not None:
            raise ValueError("siteCode limits AUTOMATIC jobs only: a MANUAL job names its orders")
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
            if has_unstorable_character(order_id):
                raise ValueError(f"orderIds[{index}] holds a control character or a lone surrogate")
        size = sum(len(order_id.encode("utf-8", "surrogatepass")) + 3 for order_id in self.orderIds)  # as JSON
        if size > MAX_ORDER_IDS_BYTES:
            raise ValueError(f"orderIds take {size} bytes as UTF-8 JSON, at most {MAX_ORDER_IDS_BYTES} per job")
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
    xmlLink: str | SkipJsonSchema[None] = Field(
        default=None,
        description="Extension: signed, expiring URL to the invoice's e-invoice XML (Factur-X CII, the XML "
        "embedded in the PDF); add `&format=xrechnung-cii`, `xrechnung-ubl` or `peppol` for another format.",
    )


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


# --- extensions: invoices and jobs as listable resources --------------------------------------------

_INVOICE_EXAMPLE: dict[str, JsonValue] = {
    "number": "INV-000042",
    "type": "invoice",
    "orderId": "demo-1001",
    "jobId": "3f1c9a7e5b2d4c6e8f0a1b2c3d4e5f60",
    "issuedAt": "2026-11-29T10:15:02.123000Z",
    "currency": "EUR",
    "totals": {"net": "138.70", "tax": "20.38", "gross": "159.08"},
    "credited": {
        "net": "10.50",
        "tax": "2.00",
        "gross": "12.50",
        "notes": [{"number": "CN-000001", "issuedAt": "2026-11-30T08:00:00Z", "gross": "12.50"}],
    },
    "payment": {"paid": False, "method": "invoice", "dueOn": "2026-12-13", "captured": "0", "refunded": "0"},
    "emailStatus": "SENT",
    "paymentStatus": "partially_paid",
    "amountPaid": "100.00",
    "amountDue": "46.58",
    "language": "de",
    **RESOURCE_EXAMPLE,
    "links": {"pdf": "http://127.0.0.1:8000/invoice/demo/invoices/INV-000042/pdf?expires=1796040000&signature=..."},
}


class Amounts(BaseModel):
    net: Decimal
    tax: Decimal
    gross: Decimal


class CreditNoteReference(BaseModel):
    number: str
    issuedAt: datetime
    gross: Decimal


class AmountsCreditedView(Amounts):
    notes: list[CreditNoteReference] = Field(default_factory=list)


class PaymentView(BaseModel):
    paid: bool
    method: str | None = None
    paidOn: date | None = None
    dueOn: date | None = None
    captured: Decimal = Field(description="What was paid of the gross total (all of it when paid, else 0).")
    refunded: Decimal = Field(description="What credit notes gave back of a paid invoice.")


class InvoiceLineView(BaseModel):
    position: int
    description: str
    sku: str | None = None
    quantity: Decimal
    unitPrice: Decimal = Field(description="The net unit price (BT-146; derived, to 6 places, for a gross order).")
    discount: Decimal = Field(description="The line's net discount.")
    net: Decimal
    taxRate: Decimal
    taxCategory: str | None = Field(
        default=None, description="Extension: the line's VAT category (UNTDID 5305, BT-151), as in the XML."
    )
    grossUnitPrice: Decimal | None = Field(
        default=None, description="Extension, a gross order only: the unit price the invoice shows (VAT included)."
    )
    gross: Decimal | None = Field(
        default=None, description="Extension, a gross order only: the line's amount as the invoice shows it."
    )


class DocumentLinks(BaseModel):
    pdf: str | None = Field(default=None, description="Signed, expiring link to the PDF (signed at read time).")
    xml: str | None = Field(default=None, description="Signed link to the e-invoice XML, where one exists.")


class InvoiceSummary(BaseModel):
    """Extension: one item of GET /invoice/{tenant}/invoices."""

    number: str
    type: DocumentType
    orderId: str
    jobId: str | None = None
    invoiceNumber: str | None = Field(default=None, description="For a credit note: the invoice it credits.")
    issuedAt: datetime
    currency: str
    totals: Amounts
    credited: AmountsCreditedView | None = Field(default=None, description="Invoices: credited so far.")
    payment: PaymentView | None = None
    emailStatus: EmailStatus | None = None
    # Extension (payments): invoices only.
    paymentStatus: InvoicePaymentStatus | None = Field(
        default=None, description="open, partially_paid, paid, overdue (derived: unsettled past dueOn) or credited."
    )
    amountPaid: Decimal | None = Field(default=None, description="Invoices: what payments paid so far.")
    amountDue: Decimal | None = Field(
        default=None, description="Invoices: gross less credit notes less payments, never below 0."
    )
    language: str | None = Field(
        default=None,
        description="Extension: the language the invoice was issued in (BCP 47); its resends and credit notes use it.",
        examples=["fr"],
    )
    # Extensions for booking an invoice without its PDF; invoices only (absent for credit notes in the lists).
    siteCode: str | None = Field(default=None, description="Extension: the order's site (shop) the invoice is of.")
    dueDate: date | None = Field(default=None, description="Extension: BT-9, absent when paid.")
    pricesIncludeTax: bool | None = Field(
        default=None, description="Extension: the order stated gross prices (the lines show `grossUnitPrice`)."
    )
    seller: SellerView | None = None
    buyer: BuyerView | None = None
    vatBreakdown: list[VatBreakdownView] | None = Field(
        default=None, description="Extension: per VAT category and rate, ordered by rate (BG-23)."
    )
    links: DocumentLinks


class InvoiceDetail(InvoiceSummary):
    """Extension: GET /invoice/{tenant}/invoices/{invoiceNumber}."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_INVOICE_EXAMPLE,
                    "lines": [
                        {
                            "position": 1,
                            "description": "Espresso cup, porcelain",
                            "sku": "CUP-1",
                            "quantity": "4",
                            "unitPrice": "12.50",
                            "discount": "0",
                            "net": "50.00",
                            "taxRate": "19",
                            "taxCategory": "S",
                        }
                    ],
                    "shippingNet": "4.90",
                    "creditNotes": [],
                }
            ]
        }
    )

    lines: list[InvoiceLineView]
    shippingNet: Decimal
    shippingGross: Decimal | None = Field(
        default=None, description="Extension, a gross order only: the shipping as the invoice shows it."
    )
    creditNotes: list[InvoiceSummary]


class InvoicePage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_INVOICE_EXAMPLE], "nextCursor": "eyJsIjoi..."}]}
    )

    items: list[InvoiceSummary]
    nextCursor: str | None = Field(default=None, description="Pass as `cursor` for the next page; absent at the end.")


class JobSummary(BaseModel):
    """Extension: one item of GET /invoice/{tenant}/jobs/invoices."""

    jobId: str
    jobStatus: JobStatus
    jobType: JobType
    trigger: JobTrigger
    createdAt: datetime
    updatedAt: datetime
    totalOrders: int | None = None
    orderCounts: dict[OrderResultStatus, int] = Field(description="Orders by status (PENDING until planned).")


class JobPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "jobId": "3f1c9a7e5b2d4c6e8f0a1b2c3d4e5f60",
                            "jobStatus": "DONE",
                            "jobType": "MANUAL",
                            "trigger": "api",
                            "createdAt": "2026-11-29T10:15:00.512000Z",
                            "updatedAt": "2026-11-29T10:15:09.040000Z",
                            "totalOrders": 3,
                            "orderCounts": {"SUCCESS": 2, "FAILURE": 1, "PENDING": 0},
                        }
                    ],
                    "nextCursor": None,
                }
            ]
        }
    )

    items: list[JobSummary]
    nextCursor: str | None = None


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
    totals: Amounts | SkipJsonSchema[None] = None
    refund: RefundInfo | SkipJsonSchema[None] = None
    createdAt: datetime
    updatedAt: datetime
