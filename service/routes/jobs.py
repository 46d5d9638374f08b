"""The contract's two endpoints: create an invoice job, read its status."""

import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pymongo.errors import PyMongoError

from infra.kafka import KafkaUnavailable
from infra.storage import invoice_key
from schemas.api import (
    ErrorResponse,
    JobCreationResponse,
    JobOrder,
    JobRequest,
    JobStatus,
    JobStatusResponse,
    JobType,
    OrderResultStatus,
)
from schemas.events import JobRequested
from schemas.settings import InvoiceSettings
from service.auth import ManageScope, ReadScope
from service.dependencies import ApiResources, Resources, Tenant
from service.errors import ApiError

log = logging.getLogger(__name__)
router = APIRouter(tags=["Invoice Jobs"])

ERROR = {"model": ErrorResponse}
MAX_ORDER_ID_LENGTH = 64
# The job's request event carries its order IDs and must fit Kafka's default message size (1 MB): 10,000
# ASCII IDs of 64 characters take ~670 KB, but IDs of 2- or 3-byte characters would not fit.
MAX_ORDER_IDS_BYTES = 900_000


def has_unstorable_character(text: str) -> bool:
    """Control characters (NUL among them) and lone surrogates: no order ID holds them, and the
    MongoDB-wire store cannot keep all of them (FerretDB on PostgreSQL refuses NUL, UTF-8 a surrogate)."""
    return any(ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF for c in text)


def requested_order_ids(request: JobRequest, max_order_ids: int) -> list[str]:
    """The distinct order IDs of a job request, in request order; ApiError(400) says what is wrong."""
    if request.jobType is JobType.AUTOMATIC:
        if request.orderIds is not None:
            raise ApiError(400, "orderIds must not be given for an AUTOMATIC job: its orders are found by query")
        return []
    if not request.orderIds:
        raise ApiError(400, "orderIds is required for a MANUAL job and must not be empty")
    if len(request.orderIds) > max_order_ids:
        raise ApiError(400, f"Too many orderIds: {len(request.orderIds)} given, at most {max_order_ids} per job")
    for index, order_id in enumerate(request.orderIds):
        if not order_id.strip():
            raise ApiError(400, f"orderIds[{index}] is empty")
        if len(order_id) > MAX_ORDER_ID_LENGTH:
            raise ApiError(400, f"orderIds[{index}] is longer than {MAX_ORDER_ID_LENGTH} characters")
        if has_unstorable_character(order_id):
            raise ApiError(400, f"orderIds[{index}] holds a control character or a lone surrogate")
    size = sum(len(order_id.encode()) + 3 for order_id in request.orderIds)  # as JSON: quotes and a comma
    if size > MAX_ORDER_IDS_BYTES:
        raise ApiError(400, f"orderIds take {size} bytes as UTF-8 JSON, at most {MAX_ORDER_IDS_BYTES} per job")
    return list(dict.fromkeys(request.orderIds))


async def submit_job(
    res: ApiResources, tenant: str, job_type: JobType, order_ids: list[str], invoice_settings: InvoiceSettings | None
) -> str:
    """Store the job, then publish its request. If Kafka cannot take it, the job is removed again, so a
    503 leaves nothing half-made and a 201 always has both."""
    job_id = uuid.uuid4().hex
    await res.jobs.create(tenant=tenant, job_id=job_id, job_type=job_type, order_ids=order_ids)
    event = JobRequested(
        tenant=tenant, jobId=job_id, jobType=job_type, orderIds=order_ids, invoiceSettings=invoice_settings
    )
    try:
        await res.publisher.publish(
            res.settings.topic(res.settings.topic_job_requests), f"{tenant}:{job_id}", event.to_bytes()
        )
    except KafkaUnavailable:
        try:
            await res.jobs.delete(tenant, job_id)
        except PyMongoError:
            log.exception("could not remove job %s after Kafka refused it", job_id)
        raise
    return job_id


@router.post(
    "/invoice/{tenant}/jobs/invoices",
    dependencies=[ManageScope],
    operation_id="POST-invoice-create-job",
    summary="Creating a job that starts an invoice creation",
    status_code=201,
    responses={400: ERROR, 401: ERROR, 403: ERROR, 500: ERROR, 503: ERROR},
)
async def create_job(tenant: Tenant, request: JobRequest, res: Resources) -> JobCreationResponse:
    order_ids = requested_order_ids(request, res.settings.max_order_ids)
    invoice_settings = None
    if request.jobType is JobType.AUTOMATIC:
        invoice_settings = await res.tenant_settings.read(tenant, InvoiceSettings)
        if invoice_settings is None:
            raise ApiError(
                400,
                f"AUTOMATIC jobs select orders by the tenant's invoice settings, and tenant {tenant} has none: "
                f"create them with PUT /invoice/{tenant}/settings/invoice",
            )
    job_id = await submit_job(res, tenant, request.jobType, order_ids, invoice_settings)
    log.info("job created", extra={"tenant": tenant, "job_id": job_id, "orders": len(order_ids)})
    return JobCreationResponse(jobId=job_id)


@router.get(
    "/invoice/{tenant}/jobs/invoices/{jobId}",
    dependencies=[ReadScope],
    operation_id="GET-invoice-retrieve-job-and-order",
    summary="Returning a job status and order details",
    description="Returns the job status and details about the processed orders.",
    response_model_exclude_none=True,
    responses={401: ERROR, 403: ERROR, 404: ERROR, 500: ERROR, 503: ERROR},
)
async def get_job(
    tenant: Tenant,
    jobId: Annotated[str, Path(description="Unique identifier of an invoice job.\n")],
    res: Resources,
) -> JobStatusResponse:
    job = await res.jobs.get(tenant, jobId)
    if job is None:
        raise ApiError(404, f"Job {jobId} not found for tenant {tenant}")
    if job["totalOrders"] is None:
        # Not planned yet: show what was asked for, all PENDING, so GET right after 201 is complete.
        orders = [JobOrder(orderId=o, orderStatus=OrderResultStatus.PENDING) for o in job["requestedOrderIds"]]
    else:
        orders = [await job_order(res, tenant, result) async for result in res.jobs.order_results(jobId)]
    return JobStatusResponse(
        jobStatus=JobStatus(job["status"]),
        jobType=JobType(job["jobType"]),
        orders=orders,
        createdAt=job["createdAt"],
        updatedAt=job["updatedAt"],
        totalOrders=job["totalOrders"],
    )


async def job_order(res: ApiResources, tenant: str, result: dict[str, Any]) -> JobOrder:
    number = result.get("invoiceNumber")
    status = OrderResultStatus(result["status"])
    link = None
    if number and status is OrderResultStatus.SUCCESS:
        # Signed now, at read time: a stored link would expire while the job document lives on.
        link = await res.storage.download_link(invoice_key(tenant, number), tenant, number)
    return JobOrder(
        orderId=result["orderId"],
        orderStatus=status,
        message=result.get("message"),
        invoiceNumber=number,
        downloadLink=link,
    )
