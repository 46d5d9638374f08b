"""Webhook delivery, apart from invoicing: the agent "webhooks" reads the public topic invoice-events and
records one delivery per (event, subscribed endpoint); the timer "webhook_deliveries" makes the due ones.

Recording is idempotent: the delivery's ID is derived from the event's `ce_id` and the endpoint's ID, so
a redelivered record adds nothing. Each attempt is claimed first (its next attempt moves a lease ahead, so
a worker killed mid-attempt leaves it to be taken again once the lease ends), signed with every live
secret of the endpoint, and marked delivered only after a 2xx. Attempts run as tasks of their own, at
most `webhooks_endpoint_concurrency` per endpoint and `webhooks_concurrency` in all, each within
`webhooks_timeout_seconds`; an endpoint at its limit is left out of the next query for due deliveries, so
one slow endpoint holds only its own slots and never another tenant's deliveries.
"""

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from infra.metrics import WEBHOOK_ATTEMPTS, WEBHOOK_ENDPOINTS_DISABLED
from infra.ports import WebhookStore
from infra.settings import Settings
from infra.webhook_http import AttemptResult
from invoicing.webhooks import RETRY_SCHEDULE, Delivery, DeliveryState, Endpoint, delivery_id, webhook_headers
from schemas.public_events import ALL_PUBLIC_EVENTS, PublicEvent, WebhookEndpointDisabled
from streams.announcements import Announce

log = logging.getLogger(__name__)

# Every public event type is deliverable: a new one in ALL_PUBLIC_EVENTS needs no change here.
EVENT_TYPES: dict[str, type[PublicEvent]] = {model.model_fields["type"].default: model for model in ALL_PUBLIC_EVENTS}


class Sender(Protocol):
    async def post(self, url: str, headers: dict[str, str], body: bytes) -> AttemptResult: ...


def retry_schedule(settings: Settings) -> tuple[timedelta, ...]:
    seconds = settings.webhooks_retry_schedule_seconds
    return RETRY_SCHEDULE if seconds is None else tuple(timedelta(seconds=s) for s in seconds)


def header(headers: Any, name: str) -> str | None:
    pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
    for key, value in pairs:
        if key.lower() == name:
            return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return None


def webhook_body(event: PublicEvent, timestamp: datetime) -> str:
    """Standard Webhooks' payload shape: the type, when it happened, and the event as on Kafka in `data`."""
    data = json.loads(event.model_dump_json())
    return json.dumps({"type": data["type"], "timestamp": timestamp.isoformat(), "data": data}, separators=(",", ":"))


def parse_public_event(value: bytes) -> PublicEvent:
    """The event on invoice-events, by its type; ValueError for anything else."""
    raw = json.loads(value)
    model = EVENT_TYPES.get(str(raw.get("type"))) if isinstance(raw, dict) else None
    if model is None:
        raise ValueError(f"not a public event type: {raw.get('type') if isinstance(raw, dict) else raw!r}")
    return model.model_validate(raw)


async def record_deliveries(store: WebhookStore, event: PublicEvent, event_id: str, now: datetime) -> int:
    """One delivery per enabled endpoint of the tenant that takes this type; how many were new."""
    event_type = str(event.model_dump(include={"type"})["type"])  # every public event has its literal type
    endpoints = [endpoint for endpoint in await store.endpoints(event.tenant) if endpoint.wants(event_type)]
    body = webhook_body(event, now)
    added = 0
    for endpoint in endpoints:
        delivery = Delivery(
            id=delivery_id(event_id, endpoint.id),
            tenant=event.tenant,
            endpoint_id=endpoint.id,
            event_id=event_id,
            event_type=event_type,
            payload=body,
            created_at=now,
            next_attempt_at=now,
        )
        added += await store.add_delivery(delivery)
    return added


@dataclass
class Dispatcher:
    """The due deliveries of every tenant, attempted as tasks of their own (one per delivery)."""

    store: WebhookStore
    sender: Sender
    announce: Announce
    settings: Settings
    now: Callable[[], datetime]
    in_flight: set[str] = field(default_factory=set)
    per_endpoint: Counter[str] = field(default_factory=Counter)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def lease(self) -> timedelta:
        """How long a claimed attempt is this worker's: well past its deadline."""
        return timedelta(seconds=2 * self.settings.webhooks_timeout_seconds + 5)

    async def tick(self) -> int:
        """Start the attempts that are due and have room; how many were started."""
        room = self.settings.webhooks_concurrency - len(self.in_flight)
        if room <= 0:
            return 0
        busy = [e for e, n in self.per_endpoint.items() if n >= self.settings.webhooks_endpoint_concurrency]
        due = await self.store.due(self.now(), room * 2, exclude_endpoints=busy)
        started = 0
        for delivery in due:
            if len(self.in_flight) >= self.settings.webhooks_concurrency:
                break
            if delivery.id in self.in_flight:
                continue
            if self.per_endpoint[delivery.endpoint_id] >= self.settings.webhooks_endpoint_concurrency:
                continue
            self._start(delivery)
            started += 1
        return started

    def _start(self, delivery: Delivery) -> None:
        self.in_flight.add(delivery.id)
        self.per_endpoint[delivery.endpoint_id] += 1
        task = asyncio.create_task(self.attempt(delivery))
        self.tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self.tasks.discard(finished)
            self.in_flight.discard(delivery.id)
            self.per_endpoint[delivery.endpoint_id] -= 1
            if self.per_endpoint[delivery.endpoint_id] <= 0:
                del self.per_endpoint[delivery.endpoint_id]
            if not finished.cancelled() and finished.exception() is not None:
                log.error("webhook delivery %s failed unexpectedly: %r", delivery.id, finished.exception())

        task.add_done_callback(done)

    async def drain(self) -> None:
        """Wait for the attempts in flight (tests)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def attempt(self, delivery: Delivery) -> None:
        claimed = await self.store.claim(delivery, self.now() + self.lease)
        if claimed is None:
            return  # another worker took it
        endpoint = await self.store.endpoint(claimed.tenant, claimed.endpoint_id)
        if endpoint is None:
            return  # deleted meanwhile: so are its deliveries
        if not endpoint.enabled:
            await self.store.save_delivery(
                replace(claimed, state=DeliveryState.FAILED, next_attempt_at=None, last_error="endpoint disabled")
            )
            return
        sent_at = self.now()
        body = claimed.payload.encode()
        headers = webhook_headers(endpoint.signing_secrets(sent_at), claimed.id, sent_at, body)
        result = await self.sender.post(endpoint.url, headers, body)
        await self.record_outcome(endpoint, claimed, result)

    async def record_outcome(self, endpoint: Endpoint, delivery: Delivery, result: AttemptResult) -> None:
        now = self.now()
        if result.ok and result.status is not None:
            await self.store.save_delivery(delivery.succeeded(now, result.status, result.response))
            await self.store.mark_success(endpoint.tenant, endpoint.id, now)
            WEBHOOK_ATTEMPTS.labels("delivered").inc()
            return
        error = result.error or f"HTTP {result.status}"
        failed = delivery.failed(now, result.status, error, result.response, retry_schedule(self.settings))
        await self.store.save_delivery(failed)
        WEBHOOK_ATTEMPTS.labels("failed" if failed.state is DeliveryState.FAILED else "retrying").inc()
        log.info(
            "webhook attempt failed",
            extra={"tenant": delivery.tenant, "endpoint": endpoint.id, "delivery": delivery.id, "error": error},
        )
        if failed.state is DeliveryState.FAILED:
            await self.disable_if_failing(endpoint, failed, now)

    async def disable_if_failing(self, endpoint: Endpoint, failed: Delivery, now: datetime) -> None:
        """A delivery failed its whole schedule, and nothing reached the endpoint since it was made."""
        current = await self.store.endpoint(endpoint.tenant, endpoint.id) or endpoint
        if not current.enabled or (
            current.last_success_at is not None and current.last_success_at >= failed.created_at
        ):
            return
        reason = f"every attempt of delivery {failed.id} failed for its whole retry schedule: {failed.last_error}"
        await self.store.save_endpoint(current.disabled(reason, now))
        WEBHOOK_ENDPOINTS_DISABLED.inc()
        log.warning("webhook endpoint disabled", extra={"tenant": endpoint.tenant, "endpoint": endpoint.id})
        await self.announce(
            WebhookEndpointDisabled(
                tenant=endpoint.tenant, endpointId=endpoint.id, url=endpoint.url, reason=reason, disabledAt=now
            )
        )
