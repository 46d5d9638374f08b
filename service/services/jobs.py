"""Jobs: create one, read one with its orders, list them."""

import logging
import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any

from pydantic import TypeAdapter

from infra.links import LinkSigner
from infra.metrics import JOBS_CREATED, tenant_label
from infra.ports import (
    EventPublisher,
    InvoiceStorage,
    JobStore,
    TenantSettingsStore,
)
from infra.records import (
    Job,
    JobFilter,
    JobOrderResult,
    PageKey,
)
from infra.settings import Settings
from infra.storage import invoice_key
from schemas.api import (
    JobOrder,
    JobRequest,
    JobSummary,
    JobType,
    OrderResultStatus,
)
from schemas.events import JobRequested
from schemas.settings import InvoiceSettings
from schemas.topics import JOB_REQUESTS
from service.services.common import InvalidRequest, NotFound, Page, publish_or_withdraw

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobServices:
    settings: Settings
    jobs: JobStore
    tenant_settings: TenantSettingsStore
    publisher: EventPublisher
    storage: InvoiceStorage
    signer: LinkSigner


async def create_job(app: JobServices, tenant: str, request: JobRequest) -> str:
    """Store the job with the digest of its request, then publish the request; returns the job ID. If
    Kafka does not confirm it, the job is withdrawn unless the planner started it already (then the
    answer is 201: the job goes on), so a 503 leaves nothing that the worker would act on."""
    given = len(request.orderIds or ())
    if given > app.settings.max_order_ids:
        raise InvalidRequest(f"Too many orderIds: {given} given, at most {app.settings.max_order_ids} per job")
    order_ids = request.distinct_order_ids()
    invoice_settings = None
    if request.jobType is JobType.AUTOMATIC:
        # A job limited to one site selects by the site's own invoice settings, else by the tenant's.
        settings = await app.tenant_settings.read_all(tenant, request.siteCode)
        invoice_settings = settings.get(InvoiceSettings)
        if invoice_settings is None:
            raise InvalidRequest(
                f"AUTOMATIC jobs select orders by the tenant's invoice settings, and tenant {tenant} has none: "
                f"create them with PUT /invoice/{tenant}/settings/invoice"
            )
    job_id = uuid.uuid4().hex
    event = JobRequested(
        tenant=tenant,
        jobId=job_id,
        jobType=request.jobType,
        orderIds=order_ids,
        invoiceSettings=invoice_settings,
        siteCode=request.siteCode,
    )
    await app.jobs.create(
        tenant=tenant, job_id=job_id, job_type=request.jobType, order_ids=order_ids, request_digest=event.digest()
    )
    await publish_or_withdraw(
        app.publisher,
        app.settings.topic(app.settings.topic_job_requests),
        JOB_REQUESTS.key_text(event),
        event.to_bytes(),
        partial(app.jobs.withdraw, tenant, job_id),
        f"job {job_id}",
    )
    JOBS_CREATED.labels(request.jobType.value, tenant_label(tenant)).inc()
    log.info("job created", extra={"tenant": tenant, "job": job_id, "orders": len(order_ids)})
    return job_id


async def job_with_orders(app: JobServices, tenant: str, job_id: str) -> tuple[Job, list[JobOrder]]:
    job = await app.jobs.get(tenant, job_id)
    if job is None:
        raise NotFound(f"Job {job_id} not found for tenant {tenant}")
    if job.total_orders is None:
        # Not planned yet: show what was asked for, all PENDING, so GET right after 201 is complete.
        orders = [JobOrder(orderId=o, orderStatus=OrderResultStatus.PENDING) for o in job.requested_order_ids]
    else:
        fields = [await job_order_fields(app, tenant, result) async for result in app.jobs.order_results(job_id)]
        orders = JOB_ORDERS.validate_python(fields)
    return job, orders


# The orders of GET validated in one call: a job has up to 10,000 orders, and one JobOrder(...) each
# cost three times as much.
JOB_ORDERS = TypeAdapter(list[JobOrder])


async def job_order_fields(app: JobServices, tenant: str, result: JobOrderResult) -> dict[str, Any]:
    """One order's entry in GET of its job, as the fields of a JobOrder."""
    number = result.invoice_number
    link = xml_link = None
    if number and result.status is OrderResultStatus.SUCCESS:
        # Signed now, at read time: a stored link would expire while the job document lives on.
        link = await app.storage.download_link(invoice_key(tenant, number), tenant, number)
        xml_link = app.signer.link(tenant, number, what="xml")
    return {
        "orderId": result.order_id,
        "orderStatus": result.status,
        "message": result.message,
        "invoiceNumber": number,
        "downloadLink": link,
        "xmlLink": xml_link,
    }


async def list_jobs(
    jobs: JobStore, tenant: str, where: JobFilter, after: PageKey | None, limit: int
) -> Page[JobSummary]:
    found = await jobs.list_jobs(tenant, where, after, limit + 1)
    return Page([job_summary(job) for job in found[:limit]], [PageKey(job.created_at, job.job_id) for job in found])


def job_summary(job: Job) -> JobSummary:
    counts = {OrderResultStatus.SUCCESS: job.succeeded_orders, OrderResultStatus.FAILURE: job.failed_orders}
    planned = job.total_orders if job.total_orders is not None else len(job.requested_order_ids)
    counts[OrderResultStatus.PENDING] = max(planned - job.finished_orders, 0)
    return JobSummary(
        jobId=job.job_id,
        jobStatus=job.status,
        jobType=job.job_type,
        trigger=job.trigger,
        createdAt=job.created_at,
        updatedAt=job.updated_at,
        totalOrders=job.total_orders,
        orderCounts=counts,
    )
