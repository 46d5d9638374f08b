"""What the agents share inside one worker process, opened on first use in the worker's event loop:
the adapters behind the ports, and the dependencies of the pipeline and of emailing made from them."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pymongo import AsyncMongoClient

from infra import db as mongo
from infra.captures import PaymentCaptures
from infra.claims import OrderClaims
from infra.credit_notes import CreditNoteRepository
from infra.db import Document
from infra.invoices import InvoiceRepository
from infra.jobs import JobRepository
from infra.links import LinkSigner
from infra.mail import Mailer
from infra.orders import OrderRepository
from infra.payments import PaymentGateway
from infra.settings import Settings, get_settings
from infra.storage import InvoiceStorage, open_storage
from infra.tenant_settings import TenantSettingsRepository
from schemas.events import InvoiceEmailRequested, RefundRequested
from streams.crediting import CreditDeps
from streams.emailing import EmailDeps
from streams.pipeline import PipelineDeps, TenantNumbering
from streams.public_events import announce
from streams.rendering.pool import RenderPool

log = logging.getLogger(__name__)


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
    numbering: TenantNumbering = field(default_factory=TenantNumbering)

    def email_deps(self) -> EmailDeps:
        return EmailDeps(
            invoices=self.invoices,
            tenant_settings=self.tenant_settings,
            storage=self.storage,
            mailer=self.mailer,
            default_sender=self.settings.email_default_sender,
            announce=announce,
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
            announce=announce,
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


_resources: WorkerResources | None = None
_lock = asyncio.Lock()


async def worker_resources() -> WorkerResources:
    global _resources
    async with _lock:
        if _resources is None:
            settings = get_settings()
            client = mongo.connect(settings)
            db = client[settings.mongo_database]
            await mongo.ensure_indexes(db)
            jobs = JobRepository(db)
            moved = await jobs.migrate_results_to_pages()
            if moved:
                log.info("moved %d job results of earlier jobs into result pages", moved)
            _resources = WorkerResources(
                settings=settings,
                mongo_client=client,
                jobs=jobs,
                orders=OrderRepository(db),
                invoices=InvoiceRepository(db),
                claims=OrderClaims(db),
                tenant_settings=TenantSettingsRepository(db),
                storage=open_storage(settings, LinkSigner(settings)),
                render_pool=RenderPool(processes=settings.render_processes),
                captures=PaymentCaptures(db),
                payment_gateway=PaymentGateway(settings),
                mailer=Mailer(settings),
                credit_notes=CreditNoteRepository(db),
            )
        return _resources
