"""The contract's two endpoints: create an invoice job, read its status."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query
from pydantic import AwareDatetime

from infra.records import JobFilter
from schemas.api import JobCreationResponse, JobPage, JobRequest, JobStatus, JobStatusResponse, JobType
from service import services
from service.auth import ManageScope, ReadScope
from service.dependencies import QUOTA_EXCEEDED, JobQuota, Jobs, Tenant
from service.errors import error_responses
from service.pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, decode_cursor, next_cursor

JOBS_LISTING = "jobs"

router = APIRouter(tags=["Invoice Jobs"])


JOB_REQUEST_EXAMPLES: dict[str, Any] = {
    "manual": {"summary": "The invoices of these orders", "value": {"jobType": "MANUAL", "orderIds": ["order-1"]}},
    "automatic": {"summary": "The due orders, by the tenant's invoice settings", "value": {"jobType": "AUTOMATIC"}},
    "automatic-site": {
        "summary": "Extension: the due orders of one site, by the site's invoice settings (else the tenant's)",
        "value": {"jobType": "AUTOMATIC", "siteCode": "fr"},
    },
}


@router.post(
    "/invoice/{tenant}/jobs/invoices",
    dependencies=[ManageScope, JobQuota],  # in this order: only an authorised request uses the quota
    operation_id="POST-invoice-create-job",
    summary="Creating a job that starts an invoice creation",
    description=(
        "An order has one current invoice. A MANUAL job that names an order whose current invoice is credited "
        "in full (by credit notes) invoices it again: a new invoice with the next number, recalculated from the "
        "order as stored now; the earlier invoice and its credit notes stay as they are. For an order whose "
        "invoice is not credited in full the order's result is FAILURE \"Order X is already invoiced as N; "
        'credit it fully to invoice it again". AUTOMATIC jobs never take an order that has an invoice. '
        "Extension: `siteCode` limits an AUTOMATIC job to one site's orders, selected by the site's own "
        "invoice settings, else the tenant's."
    ),
    status_code=201,
    responses={**error_responses(400, 401, 403, 500, 503), **QUOTA_EXCEEDED},
)
async def create_job(
    tenant: Tenant, request: Annotated[JobRequest, Body(openapi_examples=JOB_REQUEST_EXAMPLES)], jobs: Jobs
) -> JobCreationResponse:
    return JobCreationResponse(jobId=await services.create_job(jobs, tenant, request))


@router.get(
    "/invoice/{tenant}/jobs/invoices/{jobId}",
    dependencies=[ReadScope],
    operation_id="GET-invoice-retrieve-job-and-order",
    summary="Returning a job status and order details",
    description="Returns the job status and details about the processed orders.",
    response_model_exclude_none=True,
    responses=error_responses(401, 403, 404, 500, 503),
)
async def get_job(
    tenant: Tenant, jobId: Annotated[str, Path(description="Unique identifier of an invoice job.\n")], jobs: Jobs
) -> JobStatusResponse:
    job, orders = await services.job_with_orders(jobs, tenant, jobId)
    return JobStatusResponse(
        jobStatus=job.status,
        jobType=job.job_type,
        orders=orders,
        createdAt=job.created_at,
        updatedAt=job.updated_at,
        totalOrders=job.total_orders,
    )


@router.get(
    "/invoice/{tenant}/jobs/invoices",
    dependencies=[ReadScope],
    operation_id="GET-invoice-list-jobs",
    summary="Extension: list invoice jobs, newest first",
    description=(
        "The tenant's jobs, newest first, each with its counts of orders by status (no per-order list: "
        "read one job for that). Pass `nextCursor` as `cursor` for the next page."
    ),
    response_model_exclude_none=True,
    responses=error_responses(400, 401, 403, 500, 503),
)
async def list_jobs(
    tenant: Tenant,
    jobs: Jobs,
    status: Annotated[JobStatus | None, Query()] = None,
    jobType: Annotated[JobType | None, Query()] = None,
    createdFrom: Annotated[AwareDatetime | None, Query(description="Created at or after (with offset).")] = None,
    createdTo: Annotated[AwareDatetime | None, Query(description="Created before (with offset).")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=512, description="`nextCursor` of the page before.")] = None,
) -> JobPage:
    where = JobFilter(status=status, job_type=jobType, created_from=createdFrom, created_to=createdTo)
    page = await services.list_jobs(jobs.jobs, tenant, where, decode_cursor(JOBS_LISTING, cursor), limit)
    return JobPage(items=page.items, nextCursor=next_cursor(JOBS_LISTING, page.keys, limit))
