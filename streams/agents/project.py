"""Agent "project": folds plans and results into the job documents that GET reads."""

from typing import Any

from pydantic import ValidationError

from schemas.api import OrderResultStatus
from schemas.events import JOB_RESULT, JobPlanned, OrderFailed, OrderInvoiced
from streams.app import app, order_results
from streams.failures import retrying_transient, send_to_dead_letters
from streams.resources import worker_resources


@app.agent(order_results)
async def project_results(stream: Any) -> None:
    jobs = (await worker_resources()).jobs
    async for event in stream.events():
        try:
            result = JOB_RESULT.validate_json(event.value)
        except ValidationError as error:
            await send_to_dead_letters(event, f"invalid job result: {error}")
            continue
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
