"""Agent "orders": keeps each tenant's order store up to date from the upstream order events."""

import logging
from typing import Any

from pydantic import ValidationError

from schemas.orders import parse_order_event
from streams.app import app, order_events, settings
from streams.failures import retrying_transient, send_to_dead_letters
from streams.resources import worker_resources

log = logging.getLogger(__name__)


@app.agent(order_events)
async def store_orders(stream: Any) -> None:
    resources = await worker_resources()
    async for event in stream.events():
        try:
            order_event = parse_order_event(event.value, settings.max_order_lines)
        except (ValueError, ValidationError) as error:
            await send_to_dead_letters(event, f"invalid order event: {error}")
            continue
        try:
            async for attempt in retrying_transient():
                with attempt:
                    await resources.orders.store_snapshot(
                        tenant=order_event.tenant, occurred_at=order_event.occurredAt, order=order_event.order
                    )
        except Exception as error:
            # The store refused an event that passed the contract (not an outage: that is retried above):
            # keep it where it can be looked at and replayed, and go on, rather than crash the agent.
            log.exception("storing order %s of tenant %s failed", order_event.order.id, order_event.tenant)
            await send_to_dead_letters(event, f"order event not stored: {type(error).__name__}: {error}")
