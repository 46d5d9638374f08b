"""The typed records the stores hand out and take in, and the errors their contracts name.

The MongoDB adapters (`infra/jobs.py`, ...) and the in-memory fakes of the tests return exactly these,
never raw documents, so a caller cannot come to depend on how a store keeps its data.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import TypeAdapter

from invoicing.credit_state import CreditNoteRequestRecord as CreditNoteRequestRecord
from invoicing.credit_state import RefundState as RefundState
from invoicing.document import InvoiceDocument
from invoicing.email_state import EmailState
from invoicing.identity import FIRST_INVOICE, invoice_identity
from invoicing.jobs import Job as Job
from invoicing.jobs import JobOrderResult as JobOrderResult
from invoicing.settlement import InvoicePaymentStatus, Payment, Settlement
from invoicing.sites import TENANT_SCOPE, sequence_scope, site_over_tenant
from invoicing.statuses import EmailStatus, JobStatus, JobType, OrderResultStatus
from invoicing.statuses import RefundStatus as RefundStatus
from schemas.settings import InvoiceSettings, LogoInfo, TenantSettings

# --- jobs ------------------------------------------------------------------------------------------
# Job and JobOrderResult are the domain's (invoicing/jobs.py), as are the stored states
# (invoicing/statuses.py): imported above, where the stores' records are.


def as_stored(at: datetime) -> datetime:
    """`at` as the store keeps it: BSON dates hold milliseconds, so what a write returns equals what a
    later read gives (and an event announced again from the stored time carries the same time)."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class JobFilter:
    """What GET /invoice/{tenant}/jobs/invoices narrows the tenant's jobs to (None: any)."""

    status: JobStatus | None = None
    job_type: JobType | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class JobExists(Exception):
    """A job with this ID exists already (a scheduled job started by another worker, or before a restart)."""


@dataclass(frozen=True)
class ScheduledTenant:
    """A tenant whose invoice settings carry a schedule, and since when they do. The stored settings are
    validated when the scheduler reads `settings`, tenant by tenant: settings stored before a rule was
    tightened fail their own tenant's schedule, not the list of every tenant's."""

    tenant: str
    stored: Mapping[str, Any]
    since: datetime

    @property
    def settings(self) -> InvoiceSettings:
        return InvoiceSettings.model_validate(self.stored)


@dataclass(frozen=True)
class OrderOutcome:
    """A final result to fold into its job (from OrderInvoiced or OrderFailed)."""

    tenant: str
    job_id: str
    order_id: str
    status: OrderResultStatus
    message: str
    invoice_number: str | None = None
    # The order's place in its job; None in results of requests written before the place was carried.
    position: int | None = None


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
    # 1 for the order's first invoice, N for the Nth: an order is invoiced again (by a MANUAL job) only
    # once its current invoice is credited in full; the earlier invoices stay as they are.
    generation: int = FIRST_INVOICE
    # The order's siteCode (GET .../invoices filters by it), and whose number sequence `seq` is of: the
    # site's own when the site had a sequence setting of its own, else the tenant's (invoicing/sites.py).
    site_code: str | None = None
    sequence_scope: str = TENANT_SCOPE
    # What is paid and due (invoicing/settlement.py), the payments recorded and the due date, as stored
    # top-level (infra/settlements.py). None only for a record built without one (it then reads as the
    # document implies, see `settled`).
    settlement: Settlement | None = None
    payments: tuple[Payment, ...] = ()
    due_on: date | None = None

    @property
    def settled(self) -> Settlement:
        """The settlement as stored, or as the document implies for a record without one."""
        if self.settlement is not None:
            return self.settlement
        totals = self.document["totals"]
        gross = Decimal(str(totals["total"]))
        paid = gross if (self.document.get("payment") or {}).get("paid") else Decimal(0)
        return Settlement(totals["currency"], gross, paid=paid)

    @property
    def payment_status(self) -> InvoicePaymentStatus:
        """The STORED status (never overdue: that is derived at read time)."""
        return self.settled.status

    @property
    def record_id(self) -> str:
        return invoice_identity(self.tenant, self.order_id, self.generation)

    @property
    def email(self) -> EmailState:
        return EmailState(self.emailed_at, self.email_pending, self.email_error)

    @property
    def email_status(self) -> EmailStatus:
        """The outcome of the latest send (invoicing/email_state.py), as the adapter also stores it for
        the emailStatus filter."""
        return self.email.status

    def with_email(self, email: EmailState) -> "InvoiceRecord":
        return replace(self, emailed_at=email.emailed_at, email_pending=email.pending, email_error=email.error)

    def invoice_document(self) -> InvoiceDocument:
        """The document the invoice was made from, as it was then."""
        return STORED_DOCUMENT.validate_python(self.document)

    @property
    def language(self) -> str:
        """The language the invoice was issued in: its document's (the order's or the tenant's language
        then; every stored document has one), which its resends and credit notes are written in too."""
        seller = self.document.get("seller") or {}
        language = seller.get("language")
        return language if isinstance(language, str) else "en"

    @property
    def customer_email(self) -> str | None:
        """The address on the invoice (the order's customer email when it was made)."""
        buyer = self.document.get("buyer") or {}
        email = buyer.get("email")
        return email if isinstance(email, str) else None


@dataclass(frozen=True)
class PageKey:
    """Where a page of a newest-first list ends: lists are ordered by (instant desc, _id desc), a total
    order, so the next page starts strictly after this key whatever was inserted meanwhile."""

    at: datetime
    id: str


@dataclass(frozen=True)
class InvoiceFilter:
    """What GET /invoice/{tenant}/invoices narrows the tenant's documents to (None: any)."""

    order_id: str | None = None
    invoice_number: str | None = None
    job_id: str | None = None
    issued_from: datetime | None = None
    issued_to: datetime | None = None
    email_status: EmailStatus | None = None
    site_code: str | None = None  # the order's siteCode, stored on the invoice and its credit notes
    # The status as shown (overdue: open or partially paid and due before `today`) and due-date bounds.
    payment_status: InvoicePaymentStatus | None = None
    due_from: date | None = None  # due on or after
    due_to: date | None = None  # due before
    today: date | None = None  # what "overdue" is measured at (the API's clock)


@dataclass(frozen=True)
class AmountsCredited:
    """What credit notes took back from an invoice so far (written by the credit-note side)."""

    net: Decimal
    tax: Decimal
    gross: Decimal
    notes: tuple["CreditNoteRef", ...] = ()


@dataclass(frozen=True)
class CreditNoteRef:
    number: str
    issued_at: datetime
    gross: Decimal


NOTHING_CREDITED = AmountsCredited(Decimal(0), Decimal(0), Decimal(0))


@dataclass(frozen=True)
class IssuedInvoice:
    """An issued invoice as the invoice list shows it."""

    key: PageKey
    issued_at: datetime
    record: InvoiceRecord
    credited: AmountsCredited = NOTHING_CREDITED


@dataclass(frozen=True)
class ListedCreditNote:
    """A credit note as the lists show it, read from the `credit_notes` documents infra/credit_notes.py
    writes (the fields agreed for the read side; CreditNoteRecord is the whole of one)."""

    key: PageKey
    tenant: str
    number: str
    invoice_number: str
    order_id: str
    issued_at: datetime
    currency: str
    net: Decimal
    tax: Decimal
    gross: Decimal
    storage_key: str | None
    site_code: str | None = None


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


# --- tenant settings -------------------------------------------------------------------------------

LOGO_KIND = "logo"
SettingsModelT = TypeVar("SettingsModelT", bound=TenantSettings)


@dataclass(frozen=True)
class TenantSettingsSnapshot:
    """Every settings document of one tenant (and of one of its sites) as read at one moment, by kind:
    the pipeline reads them in one round trip instead of one per kind. `get` and `logo` answer with the
    site's own value of a concern where the site has one, else the tenant's (invoicing/sites.py)."""

    values: Mapping[str, Mapping[str, Any]]  # the tenant's
    site_values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # the site's own
    site: str | None = None

    @property
    def in_force(self) -> Mapping[str, Mapping[str, Any]]:
        return site_over_tenant(self.values, self.site_values)

    def get(self, model: type[SettingsModelT]) -> SettingsModelT | None:
        value = self.in_force.get(model.KIND)
        return None if value is None else model.model_validate(value)

    @property
    def logo(self) -> LogoInfo | None:
        value = self.in_force.get(LOGO_KIND)
        return None if value is None else LogoInfo.model_validate(value)

    def sequence_scope(self, model: type[TenantSettings]) -> str:
        """Whose sequence of this kind numbers the site's documents: the site's when it has its own."""
        return sequence_scope(self.site, self.site_values, model.KIND)


# --- credit notes ----------------------------------------------------------------------------------
# A request's state and a refund's (CreditNoteRequestRecord, RefundState) are the domain's
# (invoicing/credit_state.py): imported above.


@dataclass(frozen=True)
class CreditNoteRecord:
    tenant: str
    note_id: str  # the ID of the credit-note request that made it
    order_id: str
    invoice_number: str
    ordinal: int  # 1, 2, ... per invoice: the claim that serialises the credit notes of one invoice
    seq: int
    number: str
    reason: str
    document: Mapping[str, Any]  # the credit note's InvoiceDocument in its JSON form
    issued_at: datetime
    storage_key: str | None
    logo_sha256: str | None
    refund: RefundState
    emailed_at: datetime | None = None
    email_pending: bool = False
    email_error: str | None = None
    site_code: str | None = None  # the invoice's site
    sequence_scope: str = TENANT_SCOPE  # the site's own credit-note sequence, or the tenant's ("")

    @property
    def stored(self) -> bool:
        return self.storage_key is not None

    @property
    def email(self) -> EmailState:
        return EmailState(self.emailed_at, self.email_pending, self.email_error)

    def with_email(self, email: EmailState) -> "CreditNoteRecord":
        return replace(self, emailed_at=email.emailed_at, email_pending=email.pending, email_error=email.error)

    def credit_document(self) -> InvoiceDocument:
        return STORED_DOCUMENT.validate_python(self.document)

    @property
    def customer_email(self) -> str | None:
        buyer = self.document.get("buyer") or {}
        email = buyer.get("email")
        return email if isinstance(email, str) else None


class CreditRaced(Exception):
    """Another credit note of the same invoice was numbered first: read what is left again, then retry."""
