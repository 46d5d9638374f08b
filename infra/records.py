"""The typed records the stores hand out and take in, and the errors their contracts name.

The MongoDB adapters (`infra/jobs.py`, ...) and the in-memory fakes of the tests return exactly these,
never raw documents, so a caller cannot come to depend on how a store keeps its data.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter

from invoicing.document import InvoiceDocument
from schemas.api import JobStatus, JobType, OrderResultStatus

# --- jobs ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    tenant: str
    job_id: str
    job_type: JobType
    status: JobStatus
    requested_order_ids: Sequence[str]
    total_orders: int | None  # None until the job is planned
    finished_orders: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class JobOrderResult:
    """One order's result in a job, as GET shows it."""

    order_id: str
    status: OrderResultStatus
    message: str | None = None
    invoice_number: str | None = None


@dataclass(frozen=True)
class OrderOutcome:
    """A final result to fold into its job (from OrderInvoiced or OrderFailed)."""

    tenant: str
    job_id: str
    order_id: str
    status: OrderResultStatus
    message: str
    invoice_number: str | None = None


# --- invoices --------------------------------------------------------------------------------------

# How an invoice's document is kept in its record: JSON-compatible, read back into the dataclass.
STORED_DOCUMENT = TypeAdapter(InvoiceDocument)


@dataclass(frozen=True)
class InvoiceRecord:
    tenant: str
    order_id: str
    job_id: str
    seq: int
    number: str
    issued: bool
    document: Mapping[str, Any]  # the InvoiceDocument in its JSON form, as stored
    storage_key: str | None
    logo_sha256: str | None
    emailed_at: datetime | None = None
    email_pending: bool = False  # a first send failed; an InvoiceEmailRequested retries it
    email_error: str | None = None  # why the last send failed

    def invoice_document(self) -> InvoiceDocument:
        """The document the invoice was made from, as it was then."""
        return STORED_DOCUMENT.validate_python(self.document)

    @property
    def customer_email(self) -> str | None:
        """The address on the invoice (the order's customer email when it was made)."""
        buyer = self.document.get("buyer") or {}
        email = buyer.get("email")
        return email if isinstance(email, str) else None


class NumberTaken(Exception):
    """Another worker allocated the same sequence value first; take the next one."""


class NumberInUse(NumberTaken):
    """The formatted number is already another invoice's (the tenant changed its sequence format so that
    two sequence values format alike, e.g. "A1__num__" 1 digit then "A__num__" 2 digits from 11 both give
    A11). The sequence value is skipped like a taken one, and the order's message tells the tenant."""

    def __init__(self, number: str) -> None:
        super().__init__(number)
        self.number = number


# --- orders ----------------------------------------------------------------------------------------


class UnreadableOrder(Exception):
    """The stored snapshot no longer passes the order model (stored by an older version, or edited)."""


# --- payment captures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaptureRecord:
    transaction_id: str
    amount: Decimal
    currency: str
    method: str
    capture_id: str
    captured_at: datetime
