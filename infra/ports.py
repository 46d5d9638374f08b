"""The ports: what the per-order pipeline, the agents and the API's application services need of the
outside world, as small Protocols. The MongoDB, S3, SMTP, Kafka and gateway adapters of `infra/`
implement them; `tests/memory.py` holds in-memory fakes that pass the same contract tests
(`tests/integration/test_store_contracts.py`).

Both sides (`service/` and `streams/`) import the ports from here, so neither imports the other.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from infra.mail import OutgoingEmail
from infra.payments import Capture, Refund
from infra.records import (
    CaptureRecord,
    CreditNoteRecord,
    CreditNoteRequestRecord,
    InvoiceFilter,
    InvoiceRecord,
    IssuedInvoice,
    Job,
    JobFilter,
    JobOrderResult,
    ListedCreditNote,
    OrderOutcome,
    PageKey,
    RefundState,
    ScheduledTenant,
    TenantSettingsSnapshot,
)
from infra.reminders import ReminderCandidate, ReminderEmailState
from infra.storage import InvoiceStorage
from invoicing.document import InvoiceDocument
from invoicing.identity import FIRST_INVOICE
from invoicing.logo import Logo
from invoicing.payments import CaptureRequest, RefundRequest
from invoicing.selection import OrderSelection
from invoicing.settlement import OpenAmount, Payment, PaymentResult
from invoicing.sites import TENANT_SCOPE
from invoicing.statuses import CreditNoteStatus, JobStatus, JobTrigger, JobType
from invoicing.webhooks import Delivery, Endpoint
from schemas.orders import Order
from schemas.settings import LogoInfo, TenantSettings

SettingsT = TypeVar("SettingsT", bound=TenantSettings)

__all__ = [
    "CaptureStore",
    "CheckEInvoice",
    "ClaimStore",
    "CreditNoteStore",
    "EventPublisher",
    "InvoiceCatalog",
    "InvoiceNumbers",
    "InvoiceStorage",
    "InvoiceStore",
    "JobStore",
    "MailSender",
    "OrderStore",
    "PaymentCapturer",
    "PaymentRefunder",
    "Render",
    "RequestState",
    "TenantSettingsStore",
]


class RequestState(StrEnum):
    """What the store says of a request record the worker is about to act on (streams/recorded.py)."""

    STARTED = "started"  # recorded with this content and in progress: act (and it can no longer be withdrawn)
    FINISHED = "finished"  # recorded with this content and done: a redelivery or a replay, nothing to do
    UNRECORDED = "unrecorded"  # no such request of this tenant with this content: never, or withdrawn


class JobStore(Protocol):
    async def create(
        self,
        *,
        tenant: str,
        job_id: str,
        job_type: JobType,
        order_ids: Sequence[str],
        trigger: JobTrigger = JobTrigger.API,
        request_digest: str | None = None,
    ) -> None:
        """Raises JobExists when a job has this ID. `request_digest`: of the request to be published."""
        ...

    async def start(self, tenant: str, job_id: str, job_type: JobType, request_digest: str) -> RequestState:
        """STARTED (and marked so) when the tenant has this job in progress, of this type, recorded with this
        request digest (a job recorded without one is bound to the first digest that starts it); FINISHED
        when it is that job, done."""
        ...

    async def withdraw(self, tenant: str, job_id: str) -> bool:
        """Remove the job unless it was started; whether it was removed."""
        ...

    async def planned_by(self, tenant: str, job_id: str, order_id: str) -> tuple[JobType, JobStatus] | None:
        """The type and status of the tenant's job if it may have planned this order (a MANUAL job asked
        for it, or any AUTOMATIC job: its orders are its claims); None otherwise."""
        ...

    async def get(self, tenant: str, job_id: str) -> Job | None: ...
    async def list_jobs(self, tenant: str, where: JobFilter, after: PageKey | None, limit: int) -> list[Job]:
        """Newest first (createdAt desc, then job ID desc), strictly after `after`."""
        ...

    def order_results(self, job_id: str) -> AsyncIterator[JobOrderResult]: ...
    async def record_planned(
        self, *, tenant: str, job_id: str, total: int, first_position: int, order_ids: Sequence[str]
    ) -> None: ...
    async def record_results(self, outcomes: Sequence[OrderOutcome]) -> None: ...


class OrderStore(Protocol):
    async def store_snapshot(self, *, tenant: str, occurred_at: datetime, order: Order) -> bool: ...
    async def get(self, tenant: str, order_id: str) -> Order | None: ...
    def select(self, tenant: str, selection: OrderSelection, delivered_before: datetime) -> AsyncIterator[str]: ...
    async def mark_invoiced(self, tenant: str, order_ids: Iterable[str]) -> None: ...


class ClaimStore(Protocol):
    async def claim(self, *, tenant: str, job_id: str, order_ids: Iterable[str]) -> None: ...
    async def claimed_by(self, tenant: str, job_id: str) -> list[str]: ...
    async def holds(self, *, tenant: str, job_id: str, order_id: str) -> bool: ...
    async def release(self, *, tenant: str, job_id: str, order_id: str) -> None: ...


class InvoiceStore(Protocol):
    async def find(self, tenant: str, order_id: str) -> InvoiceRecord | None:
        """The order's current invoice (its latest, once it was invoiced again after a full credit)."""
        ...

    async def find_generation(self, tenant: str, order_id: str, generation: int) -> InvoiceRecord | None:
        """The order's invoice of this generation (1: its first), current or not."""
        ...

    async def make_current(self, invoice: InvoiceRecord) -> None:
        """Make `invoice` its order's current one, unless a later one is current already."""
        ...

    async def find_by_number(self, tenant: str, number: str) -> InvoiceRecord | None: ...
    async def invoiced_among(self, tenant: str, order_ids: Sequence[str]) -> set[str]: ...
    async def mark_issued(self, invoice: InvoiceRecord, storage_key: str) -> None: ...
    async def mark_emailed(self, invoice: InvoiceRecord, recipient: str, at: datetime) -> None: ...
    async def mark_email_pending(self, invoice: InvoiceRecord, reason: str) -> None: ...
    async def mark_email_failed(self, invoice: InvoiceRecord, reason: str) -> None: ...
    async def record_payment(self, invoice: InvoiceRecord, payment: Payment) -> PaymentResult:
        """Record a payment in one conditional update; raises the domain's InvalidPayment, Overpayment or
        KeyReused (invoicing/settlement.py). A payment under a key recorded before answers that one again."""
        ...

    # Email resends: recorded (API), started (the email agent's check), finished, or withdrawn (API).
    async def record_email_request(
        self, *, tenant: str, request_id: str, invoice_number: str, order_id: str, request_digest: str
    ) -> None: ...
    async def start_email_request(self, tenant: str, request_id: str, request_digest: str) -> RequestState:
        """STARTED (and marked so) when the tenant recorded this request with this digest and it is not done."""
        ...

    async def finish_email_request(self, tenant: str, request_id: str) -> None: ...
    async def withdraw_email_request(self, tenant: str, request_id: str) -> bool:
        """Remove the request unless it was started; whether it was removed."""
        ...


class InvoiceCatalog(Protocol):
    """The read side of invoices and credit notes, newest first (issuedAt desc, then ID desc)."""

    async def issued_invoices(
        self, tenant: str, where: InvoiceFilter, after: PageKey | None, limit: int
    ) -> list[IssuedInvoice]: ...
    async def issued_invoice(self, tenant: str, number: str) -> IssuedInvoice | None: ...
    async def credit_notes_page(
        self, tenant: str, where: InvoiceFilter, after: PageKey | None, limit: int
    ) -> list[ListedCreditNote]: ...


class InvoiceNumbers(Protocol):
    """Numbers per sequence `scope`: the tenant's (TENANT_SCOPE) or a site's own (its code)."""

    async def last_seq(self, tenant: str, scope: str = TENANT_SCOPE) -> int | None: ...
    async def allocate(
        self,
        *,
        tenant: str,
        order_id: str,
        job_id: str,
        seq: int,
        number: str,
        document: InvoiceDocument,
        logo_sha256: str | None = None,
        generation: int = FIRST_INVOICE,
        site_code: str | None = None,
        scope: str = TENANT_SCOPE,
    ) -> InvoiceRecord | None:
        """None when the order has its invoice of this generation already; raises NumberTaken when `seq` is
        another's, NumberInUse (a NumberTaken) when `number` is another invoice's under another `seq`."""
        ...


class CreditNoteStore(Protocol):
    async def create_request(
        self, *, tenant: str, request_id: str, invoice_number: str, order_id: str, request_digest: str | None = None
    ) -> None: ...
    async def start_request(
        self, tenant: str, request_id: str, invoice_number: str, order_id: str, request_digest: str
    ) -> RequestState:
        """STARTED (and marked so) when the tenant recorded this request (for this invoice and order, with
        this digest) and it is still in progress."""
        ...

    async def withdraw_request(self, tenant: str, request_id: str) -> bool:
        """Remove the request unless it was started; whether it was removed."""
        ...

    async def get_request(self, tenant: str, request_id: str) -> CreditNoteRequestRecord | None: ...
    async def finish_request(
        self, tenant: str, request_id: str, status: CreditNoteStatus, message: str, number: str | None = None
    ) -> None: ...
    async def find(self, tenant: str, note_id: str) -> CreditNoteRecord | None: ...
    async def find_by_number(self, tenant: str, number: str) -> CreditNoteRecord | None: ...
    async def of_invoice(self, tenant: str, invoice_number: str) -> list[CreditNoteRecord]:
        """The credit notes of the invoice with this number, by ordinal."""
        ...

    async def last_seq(self, tenant: str, scope: str = TENANT_SCOPE) -> int | None: ...
    async def allocate(
        self,
        *,
        tenant: str,
        note_id: str,
        order_id: str,
        invoice_number: str,
        ordinal: int,
        seq: int,
        number: str,
        reason: str,
        document: InvoiceDocument,
        logo_sha256: str | None,
        refund: RefundState,
        site_code: str | None = None,
        scope: str = TENANT_SCOPE,
    ) -> CreditNoteRecord:
        """The stored note (this request's, if stored before); raises CreditRaced when another note of the
        invoice (`invoice_number`) took `ordinal`, NumberTaken when another took `seq`."""
        ...

    async def mark_stored(self, tenant: str, note_id: str, storage_key: str) -> None: ...
    async def mark_refund(self, tenant: str, note_id: str, refund: RefundState) -> None: ...
    async def mark_emailed(self, tenant: str, note_id: str, recipient: str, at: datetime) -> None: ...
    async def mark_email_pending(self, tenant: str, note_id: str, reason: str) -> None: ...
    async def mark_email_failed(self, tenant: str, note_id: str, reason: str) -> None: ...
    async def project_onto_invoice(self, tenant: str, invoice_number: str) -> None: ...


class CaptureStore(Protocol):
    """One capture per invoice: an order's first invoice and (after a full credit) each later one."""

    async def find(self, tenant: str, order_id: str, generation: int = FIRST_INVOICE) -> CaptureRecord | None: ...
    async def record(
        self,
        *,
        tenant: str,
        order_id: str,
        record: CaptureRecord,
        idempotency_key: str,
        generation: int = FIRST_INVOICE,
    ) -> CaptureRecord: ...


class ReminderStore(Protocol):
    """The reminder state of invoices (infra/reminders.py): day buckets, and the claims of each step."""

    async def swept_through(self) -> date | None: ...
    async def mark_swept(self, day: date) -> None: ...
    async def due_on(self, day: date) -> list[ReminderCandidate]: ...
    async def claim_overdue(self, record_id: str, since: date) -> bool: ...
    async def mark_overdue_announced(self, record_id: str) -> None: ...
    async def claim_level(self, record_id: str, sent: int, level: int) -> bool: ...
    async def mark_queued(self, record_id: str, level: int) -> None: ...
    async def move_to(self, record_id: str, day: date | None) -> None: ...
    async def find(self, record_id: str) -> ReminderCandidate | None: ...
    async def mark_reminder_email(self, record_id: str, level: int, state: ReminderEmailState) -> None: ...
    async def unsettled(self) -> list[OpenAmount]: ...


class TenantSettingsStore(Protocol):
    """The tenant's settings, and a site's own with `site` (invoicing/sites.py: a site falls back to the
    tenant's per concern)."""

    async def read(self, tenant: str, model: type[SettingsT], site: str | None = None) -> SettingsT | None: ...
    async def read_all(self, tenant: str, site: str | None = None) -> TenantSettingsSnapshot: ...
    async def write(self, tenant: str, value: TenantSettings, site: str | None = None) -> None: ...
    async def put_logo(self, tenant: str, logo: Logo, site: str | None = None) -> LogoInfo: ...
    async def current_logo(self, tenant: str, site: str | None = None) -> LogoInfo | None: ...
    async def delete_logo(self, tenant: str, site: str | None = None) -> bool: ...
    async def logo_content(self, tenant: str, sha256: str) -> bytes | None: ...
    async def scheduled(self) -> list[ScheduledTenant]: ...


class MailSender(Protocol):
    """Raises infra.mail.EmailNotSent when the server did not take the email."""

    async def send(self, email: OutgoingEmail) -> None: ...


class PaymentCapturer(Protocol):
    """Raises CaptureDeclined, GatewayUnavailable or GatewayError of infra.payments."""

    async def capture(self, request: CaptureRequest) -> Capture: ...


class PaymentRefunder(Protocol):
    """Raises CaptureDeclined (a refused refund), GatewayUnavailable or GatewayError of infra.payments."""

    async def refund(self, request: RefundRequest) -> Refund: ...


class EventPublisher(Protocol):
    """Raises infra.kafka.KafkaUnavailable when Kafka did not take the event. `headers`: the record's own
    (a public event's CloudEvents headers); by default the trace context's."""

    async def publish(
        self, topic: str, key: str, value: bytes, headers: Sequence[tuple[str, bytes]] | None = None
    ) -> None: ...


Render = Callable[[InvoiceDocument], Awaitable[bytes]]
# Raises invoicing.einvoice.EInvoiceRefused when the document cannot become an e-invoice.
CheckEInvoice = Callable[[InvoiceDocument], Awaitable[None]]


class WebhookStore(Protocol):
    """Webhook endpoints and their deliveries (infra/webhooks.py; rules in invoicing/webhooks.py)."""

    async def add_endpoint(self, endpoint: Endpoint) -> None: ...

    async def endpoint(self, tenant: str, endpoint_id: str) -> Endpoint | None: ...

    async def endpoints(self, tenant: str) -> list[Endpoint]:
        """All of a tenant's endpoints, oldest first."""
        ...

    async def save_endpoint(self, endpoint: Endpoint) -> None: ...

    async def delete_endpoint(self, tenant: str, endpoint_id: str) -> bool:
        """Whether it existed; its deliveries go with it."""
        ...

    async def add_delivery(self, delivery: Delivery) -> bool:
        """False when a delivery of that ID exists already (a redelivered event): nothing changes."""
        ...

    async def delivery(self, tenant: str, delivery_id: str) -> Delivery | None: ...

    async def deliveries(self, tenant: str, endpoint_id: str, limit: int) -> list[Delivery]:
        """The endpoint's deliveries, newest first."""
        ...

    async def due(self, now: datetime, limit: int, exclude_endpoints: Sequence[str] = ()) -> list[Delivery]:
        """Pending deliveries whose next attempt is at or before `now`, earliest first, but for those of
        `exclude_endpoints` (endpoints with no room for another attempt)."""
        ...

    async def mark_success(self, tenant: str, endpoint_id: str, at: datetime) -> None:
        """An attempt to the endpoint got a 2xx `at`."""
        ...

    async def claim(self, delivery: Delivery, lease_until: datetime) -> Delivery | None:
        """Take the attempt: its next attempt moves to `lease_until` (when another worker may take it, should
        this one die), unless another worker claimed it first (None)."""
        ...

    async def save_delivery(self, delivery: Delivery) -> None:
        """The outcome of an attempt, or a replay."""
        ...
