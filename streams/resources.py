"""What the agents share inside one worker process, opened on first use in the worker's event loop."""

import asyncio
from dataclasses import dataclass

from pymongo import AsyncMongoClient

from infra import mongo
from infra.links import LinkSigner
from infra.mail import Mailer
from infra.mongo import Document
from infra.payments import PaymentGateway
from infra.settings import Settings, get_settings
from infra.storage import InvoiceStorage, open_storage
from infra.tenant_settings import TenantSettingsRepository
from streams.rendering.pool import RenderPool


@dataclass
class WorkerResources:
    settings: Settings
    mongo_client: AsyncMongoClient[Document]
    jobs: mongo.JobRepository
    orders: mongo.OrderRepository
    invoices: mongo.InvoiceRepository
    claims: mongo.OrderClaims
    tenant_settings: TenantSettingsRepository
    storage: InvoiceStorage
    render_pool: RenderPool
    captures: mongo.PaymentCaptures
    payment_gateway: PaymentGateway
    mailer: Mailer


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
            _resources = WorkerResources(
                settings=settings,
                mongo_client=client,
                jobs=mongo.JobRepository(db),
                orders=mongo.OrderRepository(db),
                invoices=mongo.InvoiceRepository(db),
                claims=mongo.OrderClaims(db),
                tenant_settings=TenantSettingsRepository(db),
                storage=open_storage(settings, LinkSigner(settings)),
                render_pool=RenderPool(processes=settings.render_processes),
                captures=mongo.PaymentCaptures(db),
                payment_gateway=PaymentGateway(settings),
                mailer=Mailer(settings),
            )
        return _resources
