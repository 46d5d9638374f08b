"""Agent "plan": turns a job request into its order list and one invoice request per order."""

import asyncio
from functools import partial
from typing import Any

import faust

from infra.logs import log_context
from infra.mapping import order_selection
from infra.settings import Settings
from infra.tracing import trace_headers
from schemas.api import JobType
from schemas.events import JobPlanned, JobRequested, OrderInvoiceRequested
from streams.app import Topics
from streams.failures import Defect, parse_or_dead_letter, run_step
from streams.recorded import acts_on_recorded, unrecorded_job
from streams.resources import ResourcesProvider, WorkerResources
from streams.tracing import traced_events

# Order IDs per JobPlanned record: 1,000 IDs of up to 64 characters stay well below Kafka's 1 MB limit.
PLAN_PART_SIZE = 1000
# Orders checked for an invoice and claimed per round trip while an AUTOMATIC job selects its orders.
CLAIM_BATCH_SIZE = 1000


def plan_parts(request: JobRequested, order_ids: list[str]) -> list[JobPlanned]:
    chunks = [order_ids[i : i + PLAN_PART_SIZE] for i in range(0, len(order_ids), PLAN_PART_SIZE)] or [[]]
    return [
        JobPlanned(
            tenant=request.tenant,
            jobId=request.jobId,
            totalOrders=len(order_ids),
            part=index,
            parts=len(chunks),
            firstPosition=index * PLAN_PART_SIZE,
            orderIds=chunk,
        )
        for index, chunk in enumerate(chunks)
    ]


async def select_automatic_orders(resources: WorkerResources, request: JobRequested) -> list[str]:
    """The orders the tenant's invoice settings select that have no invoice and no other job's claim.
    Claiming is an insert keyed by the order, so overlapping jobs never share one; a redelivered request
    finds the claims it made before and keeps them."""
    if request.invoiceSettings is None:  # the API always sends them with an AUTOMATIC job: a defect
        raise ValueError(f"AUTOMATIC job {request.jobId} carries no invoice settings")
    selection = order_selection(request.invoiceSettings, request.siteCode)
    candidates = resources.orders.select(request.tenant, selection, selection.delivered_before(request.requestedAt))
    batch: list[str] = []

    async def claim_uninvoiced() -> None:
        invoiced = await resources.invoices.invoiced_among(request.tenant, batch)
        await resources.orders.mark_invoiced(request.tenant, invoiced)  # the next selection skips them
        uninvoiced = [order_id for order_id in batch if order_id not in invoiced]
        await resources.claims.claim(tenant=request.tenant, job_id=request.jobId, order_ids=uninvoiced)
        batch.clear()

    async for order_id in candidates:
        batch.append(order_id)
        if len(batch) == CLAIM_BATCH_SIZE:
            await claim_uninvoiced()
    await claim_uninvoiced()
    return await resources.claims.claimed_by(request.tenant, request.jobId)


async def job_order_ids(resources: WorkerResources, request: JobRequested) -> list[str]:
    if request.jobType is JobType.MANUAL:
        return list(dict.fromkeys(request.orderIds))
    return await select_automatic_orders(resources, request)


def parse_job_request(raw: bytes) -> JobRequested:
    request = JobRequested.model_validate_json(raw)
    if request.jobType is JobType.AUTOMATIC and request.invoiceSettings is None:
        raise ValueError("AUTOMATIC job request without the invoice settings to select orders")
    return request


def register(app: faust.App, topics: Topics, resources: ResourcesProvider, settings: Settings) -> None:
    @app.agent(topics.job_requests.channel, name=f"{__name__}.plan_jobs")
    async def plan_jobs(stream: Any) -> None:
        opened = await resources()
        async for event in traced_events(stream.events(), "plan job"):
            request = await parse_or_dead_letter(event, parse_job_request, "job request")
            if request is None:
                continue
            with log_context(tenant=request.tenant, job=request.jobId):
                if not await acts_on_recorded(
                    event, f"job request {request.jobId}", partial(unrecorded_job, opened.jobs, request)
                ):
                    continue
                order_ids = await run_step(
                    event, f"planning job {request.jobId}", partial(job_order_ids, opened, request)
                )
                if isinstance(order_ids, Defect):
                    continue
                request_them = partial(request_orders, topics, request, order_ids)
                await run_step(event, f"requesting the orders of job {request.jobId}", request_them)


async def request_orders(topics: Topics, request: JobRequested, order_ids: list[str]) -> None:
    """The plan, then one invoice request per order. Sent again in full when retried: the projection and
    the invoice agent take a plan part or an order request seen twice."""
    # The plan is on the results topic before any order request exists, so the projection learns
    # the job's size before its first result.
    planned = [
        await topics.order_results.send(part, headers=trace_headers()) for part in plan_parts(request, order_ids)
    ]
    await asyncio.gather(*planned)
    order_requests = [
        OrderInvoiceRequested(
            tenant=request.tenant, jobId=request.jobId, orderId=order_id, jobType=request.jobType, position=position
        )
        for position, order_id in enumerate(order_ids)
    ]
    requested = [await topics.order_requests.send(order, headers=trace_headers()) for order in order_requests]
    await asyncio.gather(*requested)
