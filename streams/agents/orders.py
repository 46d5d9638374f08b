"""Agent "orders": keeps each tenant's order store up to date from the upstream order events."""

from typing import Any

from pydantic import ValidationError

from schemas.orders import parse_order_event
from streams.app import app, order_events
from streams.failures import retrying_transient, send_to_dead_letters
from streams.resources import worker_resources


@app.agent(order_events)
async def store_orders(stream: Any) -> None:
    resources = await worker_resources()
    async for event in stream.events():
        try:
            order_event = parse_order_event(event.value)
        except (ValueError, ValidationError) as error:
            await send_to_dead_letters(event, f"invalid order event: {error}")
            continue
        async for attempt in retrying_transient():
            with attempt:
                await resources.orders.store_snapshot(
                    tenant=order_event.tenant, occurred_at=order_event.occurredAt, order=order_event.order
                )
