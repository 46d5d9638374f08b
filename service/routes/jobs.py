"""The contract's two endpoints: create an invoice job, read its status."""

from typing import Annotated

from fastapi import APIRouter, Path

from schemas.api import JobCreationResponse, JobRequest, JobStatusResponse
from service import services
from service.auth import ManageScope, ReadScope
from service.dependencies import Jobs, Tenant
from service.errors import error_responses

router = APIRouter(tags=["Invoice Jobs"])


@router.post(
    "/invoice/{tenant}/jobs/invoices",
    dependencies=[ManageScope],
    operation_id="POST-invoice-create-job",
    summary="Creating a job that starts an invoice creation",
    status_code=201,
    responses=error_responses(400, 401, 403, 500, 503),
)
async def create_job(tenant: Tenant, request: JobRequest, jobs: Jobs) -> JobCreationResponse:
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
