"""The API's composition root: its adapters built from settings (opened in the lifespan, closed after it)
or the fakes a test hands over, given to `service.app.create_app`."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, nullcontext
from datetime import datetime, timedelta

from fastapi import FastAPI

from infra import db as mongo
from infra.clients import CachedClients, ClientRepository, unknown_client_hash
from infra.credit_notes import CreditNoteRepository
from infra.deployment import check_deployment
from infra.invoices import InvoiceRepository
from infra.jobs import JobRepository
from infra.kafka import KafkaPublisher
from infra.limits import MongoWindowedCounters, WindowedCounters
from infra.links import LinkSigner
from infra.settings import Settings, get_settings
from infra.storage import open_storage
from infra.tenant_settings import TenantSettingsRepository
from infra.tokens import TokenService
from infra.webhooks import webhook_repository
from schemas.events import utc_now
from service.app import create_app
from service.dependencies import ApiResources
from service.login_limits import LoginBackoff


def login_backoff(
    settings: Settings, counters: WindowedCounters, clock: Callable[[], datetime] = utc_now
) -> LoginBackoff:
    """The login backoff of `settings` (also for the fakes of a test, with its clock)."""
    return LoginBackoff(
        counters,
        free_failures=settings.login_free_failures,
        max_delay=timedelta(seconds=settings.login_backoff_max_seconds),
        window=timedelta(seconds=settings.login_failure_window_seconds),
        clock=clock,
    )


@asynccontextmanager
async def open_resources(settings: Settings) -> AsyncIterator[ApiResources]:
    """The real adapters: MongoDB, Kafka, the invoice storage; closed when the API stops."""
    check_deployment(settings)  # outside environment=local, no default credentials or random keys
    client = mongo.connect(settings)
    db = client[settings.mongo_database]
    signer = LinkSigner(settings)
    counters = MongoWindowedCounters(db)
    clients = ClientRepository(db)
    publisher = KafkaPublisher(settings)
    storage = open_storage(settings, signer)
    resources = ApiResources(
        settings=settings,
        jobs=JobRepository(db),
        invoices=InvoiceRepository(db),
        tenant_settings=TenantSettingsRepository(db),
        publisher=publisher,
        storage=storage,
        signer=signer,
        tokens=TokenService(settings),
        clients=clients,
        credit_notes=CreditNoteRepository(db),
        webhooks=webhook_repository(db, settings),
        counters=counters,
        login_backoff=login_backoff(settings, counters),
        client_checks=CachedClients(clients, timedelta(seconds=settings.client_check_seconds)),
        health_checks={"kafka": publisher.check, "mongodb": lambda: mongo.ping(db), "storage": storage.check},
    )
    # Made now, so not even the first unknown client ID answers slower (it makes the hash once).
    await asyncio.to_thread(unknown_client_hash)
    try:
        yield resources
    finally:
        await publisher.close()
        await storage.close()
        await client.close()


def build_api(settings: Settings | None = None, resources: ApiResources | None = None) -> FastAPI:
    """The API: over the real adapters of `settings` (read from the environment when not given), or over
    `resources` that a test built from fakes (nothing to open or close; usable without the lifespan)."""
    settings = settings or (resources.settings if resources is not None else get_settings())
    if resources is None:
        return create_app(settings, lambda: open_resources(settings))
    app = create_app(settings, lambda: nullcontext(resources))
    app.state.resources = resources  # also without the lifespan (a TestClient not used as a context)
    return app
