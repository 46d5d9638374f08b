"""The FastAPI application: resources opened in the lifespan, routes, error handlers."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from infra import db as mongo
from infra.clients import CachedClients, ClientRepository, unknown_client_hash
from infra.credit_notes import CreditNoteRepository
from infra.deployment import check_deployment
from infra.invoices import InvoiceRepository
from infra.jobs import JobRepository
from infra.kafka import KafkaPublisher
from infra.limits import MongoWindowedCounters
from infra.links import LinkSigner
from infra.settings import Settings, get_settings
from infra.storage import open_storage
from infra.tenant_settings import TenantSettingsRepository
from infra.tokens import TokenService
from infra.tracing import tracing_wanted
from service.body_limit import BodySizeLimit
from service.dependencies import ApiResources
from service.errors import install_error_handlers
from service.http_metrics import HttpMetrics, metrics
from service.login_limits import LoginBackoff
from service.routes import credit_notes, downloads, health, invoices, jobs, oauth
from service.routes import settings as tenant_settings

DESCRIPTION = """The Emporix Invoice Service can be used for invoices generation based on provided order IDs.

Access: an OAuth2 client-credentials token of the tenant (`POST /oauth/token`) with the scope each operation names.

Extensions beyond the contract (all additive): `POST /oauth/token`, `GET /health`,
`GET /invoice/{tenant}/invoices/{invoiceNumber}/pdf` (signed download links), the tenant settings under
`/invoice/{tenant}/settings/` (invoice query of AUTOMATIC jobs, number sequence, seller details, e-invoice,
logo), the fields `createdAt`, `updatedAt`, `totalOrders` of a job status and `xmlLink` of its orders, and
the 503 answer when Kafka or MongoDB cannot take a job. `POST /invoice/{tenant}/invoices/{invoiceNumber}/email`
emails an issued invoice again; `GET /invoice/{tenant}/invoices/{invoiceNumber}/xml` gives it as e-invoice XML
(Factur-X, XRechnung CII or UBL, Peppol). Every invoice PDF is Factur-X PDF/A-3b.
`GET /invoice/{tenant}/invoices` lists issued invoices or credit notes (filters, cursor pages, newest first),
`GET /invoice/{tenant}/invoices/{invoiceNumber}` reads one with its lines and credit notes, and
`GET /invoice/{tenant}/jobs/invoices` lists jobs with their order counts.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        check_deployment(settings)  # outside environment=local, no default credentials or random keys
        client = mongo.connect(settings)
        db = client[settings.mongo_database]
        signer = LinkSigner(settings)
        counters = MongoWindowedCounters(db)
        clients = ClientRepository(db)
        resources = ApiResources(
            settings=settings,
            mongo=client,
            db=db,
            jobs=JobRepository(db),
            invoices=InvoiceRepository(db),
            tenant_settings=TenantSettingsRepository(db),
            publisher=KafkaPublisher(settings),
            storage=open_storage(settings, signer),
            signer=signer,
            tokens=TokenService(settings),
            clients=clients,
            credit_notes=CreditNoteRepository(db),
            counters=counters,
            login_backoff=LoginBackoff(
                counters,
                free_failures=settings.login_free_failures,
                max_delay=timedelta(seconds=settings.login_backoff_max_seconds),
                window=timedelta(seconds=settings.login_failure_window_seconds),
            ),
            client_checks=CachedClients(clients, timedelta(seconds=settings.client_check_seconds)),
        )
        app.state.resources = resources
        # Made now, so not even the first unknown client ID answers slower (it makes the hash once).
        await asyncio.to_thread(unknown_client_hash)
        try:
            yield
        finally:
            await resources.publisher.close()
            await resources.storage.close()
            await client.close()

    app = FastAPI(title="Invoice Service", version="1.0.0", description=DESCRIPTION, lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_body_bytes)
    app.include_router(oauth.router)
    app.include_router(jobs.router)
    app.include_router(tenant_settings.router)
    app.include_router(downloads.router)
    app.include_router(invoices.router)
    app.include_router(credit_notes.router)
    app.include_router(health.router)
    app.add_route("/metrics", metrics, include_in_schema=False)
    app.add_middleware(HttpMetrics)
    if settings.trusted_proxies:
        # Outermost: X-Forwarded-For and -Proto are believed only from these peers, and then only the
        # nearest address that is not itself a trusted proxy. uvicorn's own proxy_headers stay off
        # (cli/__init__.py): its default would trust whatever 127.0.0.1 forwards.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    if tracing_wanted(settings):
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, excluded_urls="/metrics,/health")
    app.openapi = lambda: openapi_without_422(app)  # type: ignore[method-assign]
    return app


def openapi_without_422(app: FastAPI) -> dict[str, Any]:
    """Validation failures are answered 400 with an ErrorResponse, so FastAPI's generated 422
    entries would document an answer the API never gives."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        for path in schema["paths"].values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = schema
    return app.openapi_schema
