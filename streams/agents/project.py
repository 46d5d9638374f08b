"""Agent "project": folds plans and results into the job documents that GET reads."""

import logging
from typing import Any

from pydantic import ValidationError

from infra.mongo import JobRepository
from schemas.api import OrderResultStatus
from schemas.events import JOB_RESULT, JobPlanned, OrderFailed, OrderInvoiced
from streams.app import app, order_results
from streams.failures import retrying_transient, send_to_dead_letters
from streams.resources import worker_resources

log = logging.getLogger(__name__)


@app.agent(order_results)
async def project_results(stream: Any) -> None:
    jobs = (await worker_resources()).jobs
    async for event in stream.events():
        try:
            result = JOB_RESULT.validate_json(event.value)
        except ValidationError as error:
            await send_to_dead_letters(event, f"invalid job result: {error}")
            continue
        try:
            await apply(jobs, result)
        except Exception as error:
            # The store refused a result that passed validation (an outage is retried in `apply`): keep it
            # where it can be looked at and replayed, and go on with the next, rather than crash the agent.
            log.exception("projecting %s of job %s failed", result.eventType, result.jobId)
            await send_to_dead_letters(event, f"job result not applied: {type(error).__name__}: {error}")


async def apply(jobs: JobRepository, result: JobPlanned | OrderInvoiced | OrderFailed) -> None:
    async for attempt in retrying_transient():
        with attempt:
            match result:
                case JobPlanned():
                    await jobs.record_planned(
                        tenant=result.tenant,
                        job_id=result.jobId,
                        total=result.totalOrders,
                        first_position=result.firstPosition,
                        order_ids=result.orderIds,
                    )
                case OrderInvoiced():
                    await jobs.record_result(
                        tenant=result.tenant,
                        job_id=result.jobId,
                        order_id=result.orderId,
                        status=OrderResultStatus.SUCCESS,
                        message=result.message,
                        invoice_number=result.invoiceNumber,
                    )
                case OrderFailed():
                    await jobs.record_result(
                        tenant=result.tenant,
                        job_id=result.jobId,
                        order_id=result.orderId,
                        status=OrderResultStatus.FAILURE,
                        message=result.reason,
                    )
