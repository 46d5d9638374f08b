"""What path operations depend on: the shared resources, the validated tenant and the tenant quotas."""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, Protocol

from fastapi import Depends, Path, Request

from infra.clients import CachedClients, ClientLookup
from infra.limits import WindowedCounters
from infra.links import LinkSigner
from infra.ports import (
    CreditNoteStore,
    EventPublisher,
    InvoiceCatalog,
    InvoiceStorage,
    InvoiceStore,
    JobStore,
    TenantSettingsStore,
    WebhookStore,
)
from infra.settings import Settings
from infra.tokens import TokenService
from infra.webhook_http import Resolver
from infra.webhook_http import resolve as resolve_host
from schemas.api import ErrorResponse
from schemas.events import utc_now
from schemas.orders import TENANT_PATTERN
from service.errors import ApiError
from service.login_limits import LoginBackoff
from service.services import CreditServices, InvoiceReading, JobServices
from service.services.webhooks import WebhookServices


class InvoiceRepository(InvoiceStore, InvoiceCatalog, Protocol):
    """The API's invoices: the records (one by number, email requests) and the read side (lists)."""


HealthCheck = Callable[[], Awaitable[None]]


@dataclass
class ApiResources:
    """What the path operations depend on, on the ports: `bootstrap/api.py` builds it from settings (the
    MongoDB, Kafka and storage adapters) or from the fakes a test hands it."""

    settings: Settings
    jobs: JobStore
    invoices: InvoiceRepository
    tenant_settings: TenantSettingsStore
    publisher: EventPublisher
    storage: InvoiceStorage
    signer: LinkSigner
    tokens: TokenService
    clients: ClientLookup
    credit_notes: CreditNoteStore
    counters: WindowedCounters  # shared by every replica: login backoff and tenant quotas
    login_backoff: LoginBackoff
    client_checks: CachedClients  # the token check's view of revocations
    # GET /health: each dependency's check by the name it answers under ("kafka", "mongodb", "storage").
    health_checks: dict[str, HealthCheck] = field(default_factory=dict)
    clock: Callable[[], datetime] = utc_now
    webhooks: WebhookStore | None = None  # None: the webhook operations answer 503
    resolve: Resolver = resolve_host  # a webhook URL's host to its addresses (tests: a fake)


def get_resources(request: Request) -> ApiResources:
    resources: ApiResources = request.app.state.resources
    return resources


Resources = Annotated[ApiResources, Depends(get_resources)]

# The path's tenant is documented with the contract's constraints but checked by the auth dependency,
# not here: a tenant that cannot be the token's is 403 like any other tenant but the token's (the
# contract documents 403, not 400, for GET), and a call without a token is 401 whatever its path.


def get_job_services(res: Resources) -> JobServices:
    return JobServices(
        settings=res.settings,
        jobs=res.jobs,
        tenant_settings=res.tenant_settings,
        publisher=res.publisher,
        storage=res.storage,
        signer=res.signer,
    )


Jobs = Annotated[JobServices, Depends(get_job_services)]


def get_invoice_reading(res: Resources) -> InvoiceReading:
    return InvoiceReading(catalog=res.invoices, storage=res.storage, clock=res.clock)


InvoiceReads = Annotated[InvoiceReading, Depends(get_invoice_reading)]


def get_credit_services(res: Resources) -> CreditServices:
    return CreditServices(
        settings=res.settings, invoices=res.invoices, credit_notes=res.credit_notes, publisher=res.publisher
    )


Credits = Annotated[CreditServices, Depends(get_credit_services)]


def get_webhook_services(res: Resources) -> WebhookServices:
    if res.webhooks is None:
        raise ApiError(503, "Webhooks are not available")
    return WebhookServices(settings=res.settings, webhooks=res.webhooks, resolve=res.resolve, clock=res.clock)


Webhooks = Annotated[WebhookServices, Depends(get_webhook_services)]


# --- the pieces a path operation takes one by one (never the whole bag) -----------------------------


def get_settings_dep(res: Resources) -> Settings:
    return res.settings


def get_invoices(res: Resources) -> InvoiceRepository:
    return res.invoices


def get_credit_notes(res: Resources) -> CreditNoteStore:
    return res.credit_notes


def get_tenant_settings(res: Resources) -> TenantSettingsStore:
    return res.tenant_settings


def get_publisher(res: Resources) -> EventPublisher:
    return res.publisher


def get_storage(res: Resources) -> InvoiceStorage:
    return res.storage


def get_signer(res: Resources) -> LinkSigner:
    return res.signer


def get_tokens(res: Resources) -> TokenService:
    return res.tokens


def get_clients(res: Resources) -> ClientLookup:
    return res.clients


def get_client_checks(res: Resources) -> CachedClients:
    return res.client_checks


def get_login_backoff(res: Resources) -> LoginBackoff:
    return res.login_backoff


def get_health_checks(res: Resources) -> dict[str, HealthCheck]:
    return res.health_checks


AppSettings = Annotated[Settings, Depends(get_settings_dep)]
Invoices = Annotated[InvoiceRepository, Depends(get_invoices)]
CreditNotes = Annotated[CreditNoteStore, Depends(get_credit_notes)]
SettingsStore = Annotated[TenantSettingsStore, Depends(get_tenant_settings)]
Publisher = Annotated[EventPublisher, Depends(get_publisher)]
Storage = Annotated[InvoiceStorage, Depends(get_storage)]
Signer = Annotated[LinkSigner, Depends(get_signer)]
Tokens = Annotated[TokenService, Depends(get_tokens)]
Clients = Annotated[ClientLookup, Depends(get_clients)]
ClientChecks = Annotated[CachedClients, Depends(get_client_checks)]
Backoff = Annotated[LoginBackoff, Depends(get_login_backoff)]
HealthChecks = Annotated[dict[str, HealthCheck], Depends(get_health_checks)]

Tenant = Annotated[
    str,
    Path(
        json_schema_extra={"pattern": TENANT_PATTERN, "minLength": 3, "maxLength": 16},
        description="The tenant that the caller is acting upon.\nPlease note that this value is always lowercase.\n",
    ),
]


def is_tenant(value: str) -> bool:
    """Whether `value` can name a tenant at all (the contract's pattern and length)."""
    return 3 <= len(value) <= 16 and re.fullmatch(TENANT_PATTERN, value) is not None


# --- tenant quotas: counted in the store, so they hold across API replicas --------------------------

QUOTA_EXCEEDED: dict[int | str, dict[str, Any]] = {
    429: {
        "model": ErrorResponse,
        "description": "Extension: the tenant's quota for this operation is used up; retry after Retry-After",
        "headers": {"Retry-After": {"description": "Seconds until the quota has room", "schema": {"type": "integer"}}},
    }
}


async def charge_quota(res: ApiResources, key: str, window: timedelta, limit: int, what: str) -> None:
    """Count one request against a quota; 429 with Retry-After once the window holds more than `limit`."""
    now = res.clock()
    used = await res.counters.add(key, window, now)
    if used.count > limit:
        wait = used.seconds_to_window_end(now)
        raise ApiError(
            429, f"Too many requests: at most {limit} {what}; retry in {wait} s", headers={"Retry-After": str(wait)}
        )


async def job_quota(tenant: Tenant, res: Resources) -> None:
    limit = res.settings.quota_jobs_per_minute
    await charge_quota(res, f"jobs\x00{tenant}", timedelta(minutes=1), limit, "job creation requests per minute")


async def resend_quota(tenant: Tenant, invoiceNumber: Annotated[str, Path(max_length=128)], res: Resources) -> None:
    limit = res.settings.quota_resends_per_invoice_per_hour
    key = f"resends\x00{tenant}\x00{invoiceNumber}"
    await charge_quota(res, key, timedelta(hours=1), limit, "email resends of one invoice per hour")


JobQuota = Depends(job_quota)
ResendQuota = Depends(resend_quota)
