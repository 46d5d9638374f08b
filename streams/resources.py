"""What the agents share inside one worker process, opened on first use in the worker's event loop (by
the provider bootstrap/worker.py builds): the adapters behind the ports, and the dependencies of the
pipeline and of emailing made from them."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pymongo import AsyncMongoClient

from infra.captures import PaymentCaptures
from infra.claims import OrderClaims
from infra.credit_notes import CreditNoteRepository
from infra.db import Document
from infra.invoices import InvoiceRepository
from infra.jobs import JobRepository
from infra.mail import Mailer
from infra.orders import OrderRepository
from infra.payments import PaymentGateway
from infra.settings import Settings
from infra.storage import InvoiceStorage
from infra.tenant_settings import TenantSettingsRepository
from schemas.events import InvoiceEmailRequested, RefundRequested
from streams.announcements import Announce
from streams.crediting import CreditDeps
from streams.emailing import EmailDeps
from streams.pipeline import PipelineDeps, TenantNumbering
from streams.rendering.pool import RenderPool


@dataclass
class WorkerResources:
    settings: Settings
    mongo_client: AsyncMongoClient[Document]
    jobs: JobRepository
    orders: OrderRepository
    invoices: InvoiceRepository
    claims: OrderClaims
    tenant_settings: TenantSettingsRepository
    storage: InvoiceStorage
    render_pool: RenderPool
    captures: PaymentCaptures
    payment_gateway: PaymentGateway
    mailer: Mailer
    credit_notes: CreditNoteRepository
    announce: Announce  # the public events, on invoice-events
    numbering: TenantNumbering = field(default_factory=TenantNumbering)

    def email_deps(self) -> EmailDeps:
        return EmailDeps(
            invoices=self.invoices,
            tenant_settings=self.tenant_settings,
            storage=self.storage,
            mailer=self.mailer,
            default_sender=self.settings.email_default_sender,
            announce=self.announce,
        )

    def pipeline_deps(self, queue_email: Callable[[InvoiceEmailRequested], Awaitable[None]]) -> PipelineDeps:
        return PipelineDeps(
            orders=self.orders,
            invoices=self.invoices,
            numbers=self.invoices,
            credit_notes=self.credit_notes,
            tenant_settings=self.tenant_settings,
            storage=self.storage,
            render=self.render_pool.render,
            check_einvoice=self.render_pool.check_einvoice,
            captures=self.captures,
            payments=self.payment_gateway,
            email=self.email_deps(),
            queue_email=queue_email,
            number_locks=self.numbering,
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
            render=self.render_pool.render,
            captures=self.captures,
            refunds=self.payment_gateway,
            check_einvoice=self.render_pool.check_einvoice,
            email=self.email_deps(),
            queue_refund=queue_refund,
            queue_email=queue_email,
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
