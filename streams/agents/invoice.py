"""Agent "invoice": one order at a time per actor, several actors per worker."""

import logging
import uuid
from typing import Any

from pydantic import ValidationError

from schemas.events import InvoiceEmailRequested, OrderFailed, OrderInvoiced, OrderInvoiceRequested
from streams.agents.emails import delivery_deps
from streams.app import app, invoice_emails, order_requests, order_results, settings
from streams.failures import retrying_transient, send_to_dead_letters
from streams.pipeline import PipelineDeps, invoice_order
from streams.resources import worker_resources

log = logging.getLogger(__name__)


async def queue_email(request: InvoiceEmailRequested) -> None:
    delivery = await invoice_emails.send(key=f"{request.tenant}:{request.orderId}".encode(), value=request.to_bytes())
    await delivery


@app.agent(order_requests, concurrency=settings.invoice_concurrency)
async def invoice_orders(stream: Any) -> None:
    resources = await worker_resources()
    deps = PipelineDeps(
        orders=resources.orders,
        invoices=resources.invoices,
        tenant_settings=resources.tenant_settings,
        storage=resources.storage,
        render=resources.render_pool.render,
        captures=resources.captures,
        payments=resources.payment_gateway,
        delivery=delivery_deps(resources),
        queue_email=queue_email,
    )
    async for event in stream.events():
        try:
            request = OrderInvoiceRequested.model_validate_json(event.value)
        except ValidationError as error:
            await send_to_dead_letters(event, f"invalid order invoice request: {error}")
            continue
        result: OrderInvoiced | OrderFailed
        try:
            async for attempt in retrying_transient():
                with attempt:
                    result = await invoice_order(request, deps)
        except Exception:
            # A defect, not a bad order: the order fails visibly and the partition goes on.
            reference = uuid.uuid4().hex[:12]
            log.exception("invoicing order %s failed, reference %s", request.orderId, reference)
            result = OrderFailed(
                tenant=request.tenant,
                jobId=request.jobId,
                orderId=request.orderId,
                reason=f"Internal error while invoicing; the order can be retried in a new job (reference {reference})",
            )
        if isinstance(result, OrderFailed):
            # An AUTOMATIC job's claim on a failed order ends, so a later job can take the order again.
            async for attempt in retrying_transient():
                with attempt:
                    await resources.claims.release(
                        tenant=request.tenant, job_id=request.jobId, order_id=request.orderId
                    )
        delivery = await order_results.send(key=f"{request.tenant}:{request.jobId}".encode(), value=result.to_bytes())
        await delivery
