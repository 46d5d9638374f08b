"""What path operations depend on: the shared resources and the validated tenant."""

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from infra.clients import ClientRepository
from infra.credit_notes import CreditNoteRepository
from infra.db import Document
from infra.invoices import InvoiceRepository
from infra.jobs import JobRepository
from infra.kafka import KafkaPublisher
from infra.links import LinkSigner
from infra.settings import Settings
from infra.storage import InvoiceStorage
from infra.tenant_settings import TenantSettingsRepository
from infra.tokens import TokenService
from schemas.orders import TENANT_PATTERN
from service.login_limits import FailedLogins
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
    failed_logins: FailedLogins
    credit_notes: CreditNoteRepository


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
