"""Agent "invoice": one order at a time per actor, several actors per worker."""

from functools import partial
from typing import Any

import faust

from infra.logs import log_context
from infra.settings import Settings
from infra.tracing import trace_headers
from schemas.events import OrderFailed, OrderInvoiced, OrderInvoiceRequested
from streams.announcements import invoice_failed
from streams.app import Topics
from streams.failures import Defect, parse_or_dead_letter, run_step
from streams.observability import record_order_finished
from streams.pipeline import PipelineDeps, failed_by_defect, invoice_order
from streams.recorded import acts_on_recorded, unrecorded_order_request
from streams.resources import ResourcesProvider, WorkerResources
from streams.tracing import traced_events


def register(app: faust.App, topics: Topics, resources: ResourcesProvider, settings: Settings) -> None:
    @app.agent(
        topics.order_requests.channel, name=f"{__name__}.invoice_orders", concurrency=settings.invoice_concurrency
    )
    async def invoice_orders(stream: Any) -> None:
        opened = await resources()
        deps = opened.pipeline_deps(topics.invoice_emails.publish)
        async for event in traced_events(stream.events(), "invoice order"):
            parse = OrderInvoiceRequested.model_validate_json
            request = await parse_or_dead_letter(event, parse, "order invoice request")
            if request is None:
                continue
            # Every line logged while this order is invoiced names it, whichever module logs it.
            with log_context(tenant=request.tenant, job=request.jobId, order=request.orderId):
                check = partial(unrecorded_order_request, opened.jobs, opened.claims, request)
                if await acts_on_recorded(event, f"invoice request of order {request.orderId}", check):
                    await invoice_one(event, request, topics, opened, deps)


async def invoice_one(
    event: Any, request: OrderInvoiceRequested, topics: Topics, resources: WorkerResources, deps: PipelineDeps
) -> None:
    """Invoice one order and publish its result; a defect dead-letters the request and fails the order."""
    outcome = await run_step(event, f"invoicing order {request.orderId}", partial(invoice_order, request, deps))
    # A defect dead-letters the request; the order also fails visibly, so its job still finishes.
    result = failed_by_defect(request, outcome.reference) if isinstance(outcome, Defect) else outcome
    # A step of its own: a defect here dead-letters the request too (its replay publishes the result).
    await run_step(
        event,
        f"publishing the result of order {request.orderId}",
        partial(publish_result, topics, request, result, resources),
    )


async def publish_result(
    topics: Topics, request: OrderInvoiceRequested, result: OrderInvoiced | OrderFailed, resources: WorkerResources
) -> None:
    """Each part may run twice (a retry while a dependency is away): a claim released again stays
    released, invoice.failed carries the same ce_id, and the projection takes a result seen twice.
    The result goes out before the claim is released: the claim is what lets a redelivered request of
    an AUTOMATIC job pass the worker's check (streams/recorded.py), so a crash in between redoes the
    order and publishes its result again instead of leaving the job IN_PROGRESS for ever."""
    await topics.order_results.publish(result, headers=trace_headers())
    if isinstance(result, OrderFailed):
        # An AUTOMATIC job's claim on a failed order ends, so a later job can take the order again.
        await resources.claims.release(tenant=request.tenant, job_id=request.jobId, order_id=request.orderId)
        await resources.announce(invoice_failed(result))
    record_order_finished(result)
