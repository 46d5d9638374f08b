"""What path operations depend on: the shared resources, the validated tenant and the tenant quotas."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from infra.clients import CachedClients, ClientRepository
from infra.credit_notes import CreditNoteRepository
from infra.db import Document
from infra.invoices import InvoiceRepository
from infra.jobs import JobRepository
from infra.kafka import KafkaPublisher
from infra.limits import WindowedCounters
from infra.links import LinkSigner
from infra.settings import Settings
from infra.storage import InvoiceStorage
from infra.tenant_settings import TenantSettingsRepository
from infra.tokens import TokenService
from schemas.api import ErrorResponse
from schemas.events import utc_now
from schemas.orders import TENANT_PATTERN
from service.errors import ApiError
from service.login_limits import LoginBackoff
from service.services import CreditServices, InvoiceReading, JobServices


@dataclass
class ApiResources:
    settings: Settings
    mongo: AsyncMongoClient[Document]
    db: AsyncDatabase[Document]
    jobs: JobRepository
    invoices: InvoiceRepository
    tenant_settings: TenantSettingsRepository
    publisher: KafkaPublisher
    storage: InvoiceStorage
    signer: LinkSigner
    tokens: TokenService
    clients: ClientRepository
    credit_notes: CreditNoteRepository
    counters: WindowedCounters  # shared by every replica: login backoff and tenant quotas
    login_backoff: LoginBackoff
    client_checks: CachedClients  # the token check's view of revocations
    clock: Callable[[], datetime] = utc_now


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
    return InvoiceReading(catalog=res.invoices, storage=res.storage)


InvoiceReads = Annotated[InvoiceReading, Depends(get_invoice_reading)]


def get_credit_services(res: Resources) -> CreditServices:
    return CreditServices(
        settings=res.settings, invoices=res.invoices, credit_notes=res.credit_notes, publisher=res.publisher
    )


Credits = Annotated[CreditServices, Depends(get_credit_services)]

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
