"""Agent "plan": turns a job request into its order list and one invoice request per order."""

import asyncio
from typing import Any

from pydantic import ValidationError

from schemas.api import JobType
from schemas.events import JobPlanned, JobRequested, OrderInvoiceRequested
from streams.app import app, job_requests, order_requests, order_results
from streams.failures import send_to_dead_letters

# Order IDs per JobPlanned record: 1,000 IDs of up to 64 characters stay well below Kafka's 1 MB limit.
PLAN_PART_SIZE = 1000


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


@app.agent(job_requests)
async def plan_jobs(stream: Any) -> None:
    async for event in stream.events():
        try:
            request = JobRequested.model_validate_json(event.value)
        except ValidationError as error:
            await send_to_dead_letters(event, f"invalid job request: {error}")
            continue
        if request.jobType is not JobType.MANUAL:
            await send_to_dead_letters(event, f"job type {request.jobType} cannot be planned by this worker")
            continue
        order_ids = list(dict.fromkeys(request.orderIds))
        job_key = f"{request.tenant}:{request.jobId}".encode()
        # The plan is on the results topic before any order request exists, so the projection learns
        # the job's size before its first result.
        planned = [
            await order_results.send(key=job_key, value=part.to_bytes()) for part in plan_parts(request, order_ids)
        ]
        await asyncio.gather(*planned)
        requested = [
            await order_requests.send(
                key=f"{request.tenant}:{order_id}".encode(),
                value=OrderInvoiceRequested(tenant=request.tenant, jobId=request.jobId, orderId=order_id).to_bytes(),
            )
            for order_id in order_ids
        ]
        await asyncio.gather(*requested)
