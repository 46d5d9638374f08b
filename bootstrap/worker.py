"""The worker's composition root: the Faust app, its topics (schemas/topics.py), the agents and timers
registered on it, and the provider of the adapters they use (WorkerResources), opened lazily in the
worker's event loop. From settings for a real worker; a test hands its own `open_resources` (fakes)."""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import faust

from infra import db as mongo
from infra.captures import PaymentCaptures
from infra.claims import OrderClaims
from infra.credit_notes import CreditNoteRepository
from infra.invoices import InvoiceRepository
from infra.jobs import JobRepository
from infra.links import LinkSigner
from infra.mail import Mailer
from infra.orders import OrderRepository
from infra.payments import PaymentGateway
from infra.reminders import ReminderRepository
from infra.settings import Settings
from infra.storage import open_storage
from infra.tenant_settings import TenantSettingsRepository
from infra.webhook_http import WebhookSender
from infra.webhooks import webhook_repository
from invoicing.clock import offset_clock
from streams import agents, failures
from streams.announcements import Announce
from streams.app import Topics, create_faust_app, create_topics
from streams.public_events import announcer
from streams.rendering.pool import RenderPool
from streams.resources import LazyResources, ResourcesProvider, WorkerResources

log = logging.getLogger(__name__)

# What opens the worker's resources, given the announcer of public events (made from the topics).
OpenResources = Callable[[Announce], Awaitable[WorkerResources]]


@dataclass(frozen=True)
class Worker:
    app: faust.App
    topics: Topics
    resources: ResourcesProvider


def build_worker(settings: Settings, open_resources: OpenResources | None = None) -> Worker:
    """The Faust app with every agent and timer registered. `open_resources` defaults to the real
    adapters (`open_worker_resources`); it runs once, on the first agent's first use."""
    app = create_faust_app(settings)
    topics = create_topics(app, settings)
    failures.bind_dead_letters(topics.dead_letters.channel)
    announce = announcer(topics.public_events)
    opener = open_resources or (lambda announce: open_worker_resources(settings, announce))
    resources = LazyResources(lambda: opener(announce))
    for module in agents.MODULES:
        module.register(app, topics, resources, settings)
    return Worker(app, topics, resources)


async def open_worker_resources(settings: Settings, announce: Announce) -> WorkerResources:
    client = mongo.connect(settings)
    db = client[settings.mongo_database]
    await mongo.ensure_indexes(db)
    jobs = JobRepository(db)
    moved = await jobs.migrate_results_to_pages()
    if moved:
        log.info("moved %d job results of earlier jobs into result pages", moved)
    render_pool = RenderPool(processes=settings.render_processes)
    return WorkerResources(
        settings=settings,
        mongo_client=client,
        jobs=jobs,
        orders=OrderRepository(db),
        invoices=InvoiceRepository(db),
        claims=OrderClaims(db),
        tenant_settings=TenantSettingsRepository(db),
        storage=open_storage(settings, LinkSigner(settings)),
        render=render_pool.render,
        check_einvoice=render_pool.check_einvoice,
        captures=PaymentCaptures(db),
        payment_gateway=PaymentGateway(settings),
        mailer=Mailer(settings),
        credit_notes=CreditNoteRepository(db),
        announce=announce,
        webhooks=webhook_repository(db, settings),
        webhook_sender=WebhookSender(settings),
        reminders=ReminderRepository(db),
        now=offset_clock(settings.clock_offset_seconds),
    )
