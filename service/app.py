"""The FastAPI application: routes, error handlers, middleware, over the resources `bootstrap/api.py`
built (opened in the lifespan)."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from infra.settings import Settings
from infra.tracing import tracing_wanted
from service.body_limit import BodySizeLimit
from service.dependencies import ApiResources
from service.errors import install_error_handlers
from service.http_metrics import HttpMetrics, metrics
from service.routes import credit_notes, downloads, health, invoices, jobs, oauth, payments, webhooks
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


# Bootstrap's opener of the API's resources: entered in the lifespan, left when the API stops.
OpenResources = Callable[[], AbstractAsyncContextManager[ApiResources]]

# The routers in the order their routes are matched. Order matters where paths overlap: `invoices`
# ends with GET /invoice/{tenant}/invoices/{invoiceNumber:path}, which also matches the `/pdf` path of
# `downloads` (numbers may hold '/'), so `downloads` comes first; within `invoices`, the `/email` and
# `/xml` routes come before that catch-all. tests/unit/api/test_route_precedence.py keeps this true.
ROUTERS: list[APIRouter] = [
    oauth.router,
    jobs.router,
    tenant_settings.router,
    downloads.router,
    payments.router,  # before invoices: its GET .../payments would be taken by the {invoiceNumber:path} catch-all
    invoices.router,
    credit_notes.router,
    webhooks.router,
    health.router,
]


def create_app(settings: Settings, open_resources: OpenResources) -> FastAPI:
    """The API over what `bootstrap/api.py` built: `open_resources` gives the resources for the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_resources() as resources:
            app.state.resources = resources
            yield

    app = FastAPI(title="Invoice Service", version="1.0.0", description=DESCRIPTION, lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_body_bytes)
    for router in ROUTERS:
        app.include_router(router)
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
