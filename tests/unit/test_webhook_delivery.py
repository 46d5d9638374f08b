"""Webhook delivery on the fakes (streams/webhooks.py): one delivery per (event, endpoint) however often the
event comes, signed attempts the standardwebhooks package verifies, retries on the schedule by a moved
clock, the endpoint disabled (and the tenant told) once a delivery failed its whole schedule, and one slow
endpoint never holding up another's deliveries."""

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from prometheus_client import REGISTRY
from standardwebhooks import Webhook

from infra.settings import Settings
from infra.webhook_http import AttemptResult
from invoicing.webhooks import DeliveryState, Endpoint, SigningSecret, new_secret
from schemas.public_events import InvoiceFailed, PublicEventT
from streams.webhooks import Dispatcher, parse_public_event, record_deliveries
from tests.memory import MemoryWebhooks

# Signatures are checked against the wall clock (standardwebhooks: 5 min tolerance), so each test starts at
# the time it runs, not at the suite's import (the integration tests before it take longer than that); the
# test's clock then moves seconds only.
START = datetime.now(UTC)


@pytest.fixture(autouse=True)
def start_now() -> None:
    global START
    START = datetime.now(UTC)


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: START)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Receiver:
    """Answers with `statuses` in turn (then 200); keeps each request. URLs in `slow` wait for `release`."""

    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    slow: set[str] = field(default_factory=set)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> AttemptResult:
        if url in self.slow:
            await self.release.wait()
        self.requests.append((url, headers, body))
        status = self.statuses.pop(0) if self.statuses else 200
        return AttemptResult(status, "ok" if status < 300 else "boom")


def endpoint(endpoint_id: str, tenant: str = "shop", url: str = "https://erp.example/hook") -> Endpoint:
    return Endpoint(
        endpoint_id, tenant, url, frozenset({"invoice.failed"}), True, (SigningSecret(new_secret()),), START, START
    )


def failed_event(order: str = "o-1", tenant: str = "shop") -> InvoiceFailed:
    return InvoiceFailed(tenant=tenant, jobId="j1", orderId=order, reason="no such order", reasonClass="validation")


def world(
    schedule: list[float] | None = None, **settings: object
) -> tuple[MemoryWebhooks, Receiver, Clock, Dispatcher, list[PublicEventT]]:
    store, receiver, clock, announced = MemoryWebhooks(), Receiver(), Clock(), []

    async def announce(event: PublicEventT) -> None:
        announced.append(event)

    config = Settings(webhooks_retry_schedule_seconds=schedule or [1, 2, 3], **settings)  # type: ignore[arg-type]
    return store, receiver, clock, Dispatcher(store, receiver, announce, config, clock), announced


async def run(dispatcher: Dispatcher) -> int:
    started = await dispatcher.tick()
    await dispatcher.drain()
    return started


async def test_a_redelivered_event_makes_no_second_delivery_and_other_types_none() -> None:
    store, *_ = world()
    await store.add_endpoint(endpoint("ep1"))
    await store.add_endpoint(endpoint("ep2", tenant="other"))
    event = parse_public_event(failed_event().to_bytes())
    assert await record_deliveries(store, event, "ce-1", START) == 1
    assert await record_deliveries(store, event, "ce-1", START) == 0
    assert len(store.deliveries_) == 1
    [delivery] = store.deliveries_.values()
    body = json.loads(delivery.payload)
    assert body["type"] == "invoice.failed" and body["data"] == json.loads(event.to_bytes())


def attempts(outcome: str) -> float:
    return REGISTRY.get_sample_value("invoice_webhook_attempts_total", {"outcome": outcome}) or 0.0


async def test_failed_attempts_are_retried_on_the_schedule_with_the_same_webhook_id() -> None:
    store, receiver, clock, dispatcher, _ = world()
    before = attempts("retrying"), attempts("delivered")
    ep = endpoint("ep1")
    await store.add_endpoint(ep)
    await record_deliveries(store, failed_event(), "ce-1", START)
    receiver.statuses = [500, 500]
    assert await run(dispatcher) == 1
    clock.now += timedelta(seconds=0.5)
    assert await run(dispatcher) == 0  # not due before the schedule's first wait
    clock.now = START + timedelta(seconds=1)
    assert await run(dispatcher) == 1
    clock.now += timedelta(seconds=2)
    assert await run(dispatcher) == 1
    clock.now += timedelta(seconds=10)
    assert await run(dispatcher) == 0  # delivered: never again
    assert len(receiver.requests) == 3
    ids = {headers["webhook-id"] for _, headers, _ in receiver.requests}
    assert len(ids) == 1
    for _, headers, body in receiver.requests:
        assert Webhook(ep.secrets[0].secret).verify(body, headers)["data"]["orderId"] == "o-1"
    [delivery] = await store.deliveries("shop", "ep1", 10)
    assert (delivery.state, delivery.attempts, delivery.last_status) == (DeliveryState.DELIVERED, 3, 200)
    assert (attempts("retrying") - before[0], attempts("delivered") - before[1]) == (2, 1)


async def test_an_endpoint_failing_the_whole_schedule_is_disabled_and_the_tenant_told() -> None:
    store, receiver, clock, dispatcher, announced = world(schedule=[1, 1])
    await store.add_endpoint(endpoint("ep1"))
    await record_deliveries(store, failed_event(), "ce-1", START)
    receiver.statuses = [500, 503, 502]
    for _ in range(3):
        await run(dispatcher)
        clock.now += timedelta(seconds=1)
    [delivery] = await store.deliveries("shop", "ep1", 10)
    assert (delivery.state, delivery.attempts, delivery.last_status) == (DeliveryState.FAILED, 3, 502)
    disabled = await store.endpoint("shop", "ep1")
    assert disabled is not None and not disabled.enabled and "whole retry schedule" in (disabled.disabled_reason or "")
    [event] = announced
    assert event.type == "webhook.endpoint_disabled" and event.endpointId == "ep1"
    # A disabled endpoint gets no new deliveries.
    assert await record_deliveries(store, failed_event("o-2"), "ce-2", clock.now) == 0


async def test_a_delivery_that_fails_while_others_reach_the_endpoint_leaves_it_enabled() -> None:
    store, receiver, clock, dispatcher, announced = world(schedule=[1])
    await store.add_endpoint(endpoint("ep1"))
    await record_deliveries(store, failed_event("o-1"), "ce-1", START)
    receiver.statuses = [500]
    await run(dispatcher)
    clock.now += timedelta(seconds=0.5)
    await record_deliveries(store, failed_event("o-2"), "ce-2", clock.now)
    await run(dispatcher)  # o-2 reaches the endpoint
    clock.now += timedelta(seconds=0.5)
    receiver.statuses = [500]
    await run(dispatcher)  # o-1's last attempt fails
    assert [d.state for d in await store.deliveries("shop", "ep1", 10)] == [
        DeliveryState.DELIVERED,
        DeliveryState.FAILED,
    ]
    ep = await store.endpoint("shop", "ep1")
    assert ep is not None and ep.enabled and announced == []


async def test_a_slow_endpoint_never_delays_another_tenants() -> None:
    store, receiver, clock, dispatcher, _ = world(webhooks_endpoint_concurrency=1, webhooks_concurrency=4)
    slow = endpoint("slow", tenant="slowshop", url="https://slow.example/hook")
    await store.add_endpoint(slow)
    await store.add_endpoint(endpoint("fast", tenant="shop"))
    receiver.slow = {slow.url}
    for n in range(20):  # a backlog of the slow endpoint, all due before the other tenant's event
        await record_deliveries(store, failed_event(f"s-{n}", tenant="slowshop"), f"ce-s{n}", START)
    clock.now += timedelta(seconds=1)
    await record_deliveries(store, failed_event(tenant="shop"), "ce-fast", clock.now)
    for _ in range(3):
        await dispatcher.tick()
        await asyncio.sleep(0)
    assert [url for url, _, _ in receiver.requests] == ["https://erp.example/hook"]
    assert dispatcher.per_endpoint["slow"] == 1  # the slow one holds one slot, its own
    receiver.release.set()
    await dispatcher.drain()


async def test_a_claimed_attempt_is_not_made_twice_and_a_lost_worker_s_is_made_after_its_lease() -> None:
    store, receiver, clock, dispatcher, _ = world()
    await store.add_endpoint(endpoint("ep1"))
    await record_deliveries(store, failed_event(), "ce-1", START)
    [due] = await store.due(clock.now, 10)
    assert await store.claim(due, clock.now + dispatcher.lease) is not None  # a worker that then died
    assert await store.claim(due, clock.now + dispatcher.lease) is None
    assert await run(dispatcher) == 0
    clock.now += dispatcher.lease
    assert await run(dispatcher) == 1
    assert len(receiver.requests) == 1


async def test_the_data_of_every_delivery_is_valid_against_the_kafka_events_json_schema() -> None:
    store, *_ = world()
    await store.add_endpoint(endpoint("ep1"))
    await record_deliveries(store, failed_event(), "ce-1", START)
    [delivery] = store.deliveries_.values()
    body = json.loads(delivery.payload)
    schema = json.loads((Path(__file__).parents[2] / "schemas" / "json" / "InvoiceFailed.schema.json").read_text())
    jsonschema.validate(body["data"], schema)
    assert set(body) == {"type", "timestamp", "data"}
