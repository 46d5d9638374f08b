"""What the agents share inside one worker process, opened on first use in the worker's event loop (by
the provider bootstrap/worker.py builds): the adapters behind the ports, and the dependencies of the
pipeline and of emailing made from them."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from infra.ports import (
    CaptureStore,
    CheckEInvoice,
    ClaimStore,
    CreditNoteStore,
    InvoiceNumbers,
    InvoiceStore,
    JobStore,
    MailSender,
    OrderStore,
    PaymentCapturer,
    PaymentRefunder,
    ReminderStore,
    Render,
    TenantSettingsStore,
    WebhookStore,
)
from infra.settings import Settings
from infra.storage import InvoiceStorage
from schemas.events import InvoiceEmailRequested, RefundRequested, utc_now
from streams.announcements import Announce
from streams.crediting import CreditDeps
from streams.emailing import EmailDeps, InvoiceEmailLocks
from streams.pipeline import PipelineDeps, TenantNumbering
from streams.webhooks import Sender


class Invoices(InvoiceStore, InvoiceNumbers, Protocol):
    """The invoice store with its numbering: one adapter (infra/invoices.py) or fake is both."""


class Payments(PaymentCapturer, PaymentRefunder, Protocol):
    """The payment gateway: captures an invoice's payment, refunds a credit note's."""


@dataclass
class WorkerResources:
    """Typed by the ports, so bootstrap/worker.py hands the real adapters and a test the fakes."""

    settings: Settings
    jobs: JobStore
    orders: OrderStore
    invoices: Invoices
    claims: ClaimStore
    tenant_settings: TenantSettingsStore
    storage: InvoiceStorage
    render: Render  # the issued PDF (the render pool of the worker)
    check_einvoice: CheckEInvoice
    captures: CaptureStore
    payment_gateway: Payments
    mailer: MailSender
    credit_notes: CreditNoteStore
    announce: Announce  # the public events, on invoice-events
    reminders: ReminderStore  # the reminder state of invoices (infra/reminders.py)
    numbering: TenantNumbering = field(default_factory=TenantNumbering)
    email_locks: InvoiceEmailLocks = field(default_factory=InvoiceEmailLocks)
    now: Callable[[], datetime] = utc_now
    # Webhook delivery (streams/webhooks.py); without them (fakes of other agents' tests) nothing is delivered.
    webhooks: WebhookStore | None = None
    webhook_sender: Sender | None = None
    # Kept open for the worker's lifetime (the MongoDB client the stores share), unused by the agents.
    mongo_client: Any = None

    def email_deps(self) -> EmailDeps:
        return EmailDeps(
            invoices=self.invoices,
            tenant_settings=self.tenant_settings,
            storage=self.storage,
            mailer=self.mailer,
            default_sender=self.settings.email_default_sender,
            now=self.now,
            announce=self.announce,
            sending=self.email_locks,
        )

    def pipeline_deps(self, queue_email: Callable[[InvoiceEmailRequested], Awaitable[None]]) -> PipelineDeps:
        return PipelineDeps(
            orders=self.orders,
            invoices=self.invoices,
            numbers=self.invoices,
            credit_notes=self.credit_notes,
            tenant_settings=self.tenant_settings,
            storage=self.storage,
            render=self.render,
            check_einvoice=self.check_einvoice,
            captures=self.captures,
            payments=self.payment_gateway,
            email=self.email_deps(),
            queue_email=queue_email,
            number_locks=self.numbering,
            now=self.now,
            announce=self.announce,
        )

    def credit_deps(
        self,
        queue_refund: Callable[[RefundRequested], Awaitable[None]],
        queue_email: Callable[[InvoiceEmailRequested], Awaitable[None]],
    ) -> CreditDeps:
        return CreditDeps(
            invoices=self.invoices,
            credit_notes=self.credit_notes,
            tenant_settings=self.tenant_settings,
            storage=self.storage,
            render=self.render,
            captures=self.captures,
            refunds=self.payment_gateway,
            check_einvoice=self.check_einvoice,
            email=self.email_deps(),
            queue_refund=queue_refund,
            queue_email=queue_email,
            now=self.now,
        )


# What an agent calls for the worker's resources (a `LazyResources`, or a test's stand-in).
ResourcesProvider = Callable[[], Awaitable[WorkerResources]]


class LazyResources:
    """The worker's resources, opened once, on first use, in the worker's event loop (the agents' loop:
    Motor and aiokafka bind to the loop they were made in), by `open_resources`."""

    def __init__(self, open_resources: Callable[[], Awaitable[WorkerResources]]) -> None:
        self._open = open_resources
        self._resources: WorkerResources | None = None
        self._lock: asyncio.Lock | None = None

    async def __call__(self) -> WorkerResources:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._resources is None:
                self._resources = await self._open()
            return self._resources
