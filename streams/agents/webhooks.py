"""Agent "webhooks" and timer "webhook_deliveries" (streams/webhooks.py): delivery to tenants' endpoints,
apart from invoicing. The agent only records deliveries (one insert per subscribed endpoint); the timer's
attempts run as tasks of their own, so no endpoint ever holds up the topic or another endpoint."""

from functools import partial
from typing import Any

import faust

from infra.settings import Settings
from streams.app import Topics
from streams.failures import parse_or_dead_letter, run_step, run_tick, send_to_dead_letters
from streams.resources import ResourcesProvider
from streams.webhooks import Dispatcher, header, parse_public_event, record_deliveries


def register(app: faust.App, topics: Topics, resources: ResourcesProvider, settings: Settings) -> None:
    @app.agent(topics.public_events.channel, name=f"{__name__}.record_webhook_deliveries")
    async def record_webhook_deliveries(stream: Any) -> None:
        async for event in stream.events():
            await handle_public_event(event, resources)

    dispatchers: list[Dispatcher] = []

    async def deliver_due() -> None:
        if not dispatchers:
            opened = await resources()
            if opened.webhooks is None or opened.webhook_sender is None:
                return
            dispatchers.append(
                Dispatcher(opened.webhooks, opened.webhook_sender, opened.announce, opened.settings, opened.now)
            )
        await dispatchers[0].tick()

    async def deliver_due_now() -> None:
        await run_tick("starting the due webhook deliveries", deliver_due)

    app.timer(interval=settings.webhooks_poll_seconds, name=f"{__name__}.webhook_deliveries")(deliver_due_now)


async def handle_public_event(event: Any, resources: ResourcesProvider) -> None:
    opened = await resources()
    if opened.webhooks is None:
        return
    public = await parse_or_dead_letter(event, parse_public_event, "public event")
    if public is None:
        return
    event_id = header(event.headers, "ce_id")
    if not event_id:
        await send_to_dead_letters(event, "public event without a ce_id header", "invalid")
        return
    store = opened.webhooks
    what = f"recording the webhook deliveries of event {event_id} of tenant {public.tenant}"
    await run_step(event, what, partial(record_deliveries, store, public, event_id, opened.now()))
