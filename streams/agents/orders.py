"""Agent "orders": keeps each tenant's order store up to date from the upstream order events, and
settles an issued invoice whose order's payments now say paid (streams/settling.py)."""

from datetime import datetime
from functools import partial
from typing import Any

import faust

from infra.logs import log_context
from infra.settings import Settings
from schemas.orders import Order, parse_order_event
from streams.app import Topics
from streams.failures import parse_or_dead_letter, run_step
from streams.resources import ResourcesProvider, WorkerResources
from streams.settling import settle_from_order


async def store_and_settle(resources: WorkerResources, tenant: str, occurred_at: datetime, order: Order) -> None:
    """Both idempotent, so a retry or a redelivery of the whole step records nothing twice."""
    if await resources.orders.store_snapshot(tenant=tenant, occurred_at=occurred_at, order=order):
        await settle_from_order(resources.invoices, resources.announce, tenant, order)


def register(app: faust.App, topics: Topics, resources: ResourcesProvider, settings: Settings) -> None:
    @app.agent(topics.order_events.channel, name=f"{__name__}.store_orders")
    async def store_orders(stream: Any) -> None:
        opened = await resources()
        async for event in stream.events():
            order_event = await parse_or_dead_letter(
                event, partial(parse_order_event, max_order_lines=settings.max_order_lines), "order event"
            )
            if order_event is not None:
                store = partial(store_and_settle, opened, order_event.tenant, order_event.occurredAt, order_event.order)
                with log_context(tenant=order_event.tenant, order=order_event.order.id):
                    what = f"storing order {order_event.order.id} of tenant {order_event.tenant}"
                    await run_step(event, what, store)
