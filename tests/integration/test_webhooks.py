"""Webhooks against the real services: a worker of this module's own (own topics, database, storage; webhook
settings for a local receiver: plain http and 127.0.0.1 allowed, a schedule of 1 s steps, 2 s timeout)
delivers to a receiver in this process that verifies every request with the `standardwebhooks` package.

- a job's events, answered 500 twice each, then seen exactly once each by webhook-id;
- a rotated secret: both signatures verify during the overlap;
- an endpoint at 10.0.0.1 refused (private addresses not allowed);
- a slow endpoint of one tenant never delays another tenant's delivery;
- the worker killed mid-delivery: the attempt is made again (same webhook-id) by the next worker.
"""

import asyncio
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient
from standardwebhooks import Webhook, WebhookVerificationError

from infra.kafka import kafka_client_options
from infra.settings import Settings
from schemas.public_events import JobCompleted
from streams.public_events import cloud_event_headers
from tests.factories import encoded, order_event
from tests.fakes import FakePaymentGateway, SmtpSink, fakes_env
from tests.integration.flows import create_job, finished_job
from tests.support import Endpoints, WorkerProcess, api_client, env_for, settings_for, wait_for

SCHEDULE = "[1, 1, 1, 1, 1, 1]"


@dataclass
class Receiver:
    """Endpoints by path. Each request is verified with the secrets of its path (any of them); an invalid
    one is kept in `invalid`. `fail_first` attempts of each webhook-id get a 500; paths in `slow` answer
    after `slow_seconds`; `accepted` counts the 2xx answers per webhook-id."""

    secrets: dict[str, list[str]] = field(default_factory=dict)
    fail_first: int = 0
    slow: set[str] = field(default_factory=set)
    slow_seconds: float = 30.0
    attempts: Counter[str] = field(default_factory=Counter)
    started: Counter[str] = field(default_factory=Counter)  # requests received, answered or not
    accepted: Counter[str] = field(default_factory=Counter)
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_path: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    signatures: dict[str, str] = field(default_factory=dict)
    invalid: list[str] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        path = request.match_info["name"]
        body = await request.read()
        headers = dict(request.headers)
        self.started[headers.get("webhook-id", "")] += 1
        if path in self.slow:
            await asyncio.sleep(self.slow_seconds)
        verified = False
        for secret in self.secrets.get(path, []):
            try:
                self.bodies[headers["webhook-id"]] = Webhook(secret).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                continue
        if not verified:
            self.invalid.append(f"{path}: {headers.get('webhook-id')}")
            return web.Response(status=401)
        message_id = headers["webhook-id"]
        self.signatures[message_id] = headers["webhook-signature"]
        self.attempts[message_id] += 1
        self.by_path[path].append(message_id)
        if self.attempts[message_id] <= self.fail_first:
            return web.Response(status=500, text="not yet")
        self.accepted[message_id] += 1
        return web.Response(status=204)


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/{name}", found.handle)
    runner = web.AppRunner(app, shutdown_timeout=1)  # a slow endpoint's handler still sleeping: do not wait for it
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    found.url = f"http://127.0.0.1:{port}"
    yield found
    await runner.cleanup()


@pytest.fixture(scope="module")
def hooks_env(endpoints: Endpoints, payment_gateway: FakePaymentGateway, smtp_sink: SmtpSink) -> dict[str, str]:
    return env_for(
        endpoints,
        "wh" + uuid.uuid4().hex[:8],
        **fakes_env(payment_gateway, smtp_sink),
        INVOICE_STORAGE="local",
        INVOICE_WEBHOOKS_ALLOW_HTTP="true",
        INVOICE_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES="true",
        INVOICE_WEBHOOKS_RETRY_SCHEDULE_SECONDS=SCHEDULE,
        INVOICE_WEBHOOKS_TIMEOUT_SECONDS="2",
        INVOICE_WEBHOOKS_POLL_SECONDS="0.2",
        INVOICE_WEBHOOKS_SECRET_KEY="webhook-secret-key-" + uuid.uuid4().hex,
    )


@pytest.fixture(scope="module")
def hooks_settings(hooks_env: dict[str, str]) -> Settings:
    # settings_for reads the strings as given, not as the environment's JSON: the list as a list.
    return settings_for(hooks_env, webhooks_retry_schedule_seconds=json.loads(SCHEDULE))


@pytest.fixture(scope="module")
async def hooks_worker(hooks_env: dict[str, str]) -> AsyncIterator[WorkerProcess]:
    process = WorkerProcess(hooks_env, f"test-webhooks-worker-{uuid.uuid4().hex[:6]}")
    await process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
async def hooks_api(hooks_settings: Settings, hooks_worker: WorkerProcess) -> AsyncIterator[httpx.AsyncClient]:
    from bootstrap.api import build_api

    async with api_client(build_api(hooks_settings), hooks_settings) as client:
        yield client


@pytest.fixture(scope="module")
async def hooks_producer(hooks_settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    kafka = AIOKafkaProducer(**kafka_client_options(hooks_settings), acks="all")
    await kafka.start()
    yield kafka
    await kafka.stop()


async def register(api: httpx.AsyncClient, receiver: Receiver, tenant: str, path: str, *types: str) -> str:
    response = await api.post(
        f"/invoice/{tenant}/webhooks", json={"url": f"{receiver.url}/{path}", "eventTypes": list(types)}
    )
    assert response.status_code == 201, response.text
    receiver.secrets[path] = [response.json()["secret"]]
    endpoint_id: str = response.json()["id"]
    return endpoint_id


async def announce_job_completed(producer: AIOKafkaProducer, settings: Settings, tenant: str) -> None:
    """A public event on invoice-events as the worker sends it (CloudEvents headers, the topic's key)."""
    event = JobCompleted(
        tenant=tenant, jobId=uuid.uuid4().hex, totalOrders=1, succeeded=1, failed=0, completedAt=datetime.now(UTC)
    )
    topic = settings.topic(settings.topic_invoice_events)
    key = f"{tenant}:{event.jobId}".encode()
    await producer.send_and_wait(topic, event.to_bytes(), key=key, headers=cloud_event_headers(event))


async def test_a_jobs_events_are_retried_then_seen_exactly_once_each(
    hooks_api: httpx.AsyncClient, hooks_producer: AIOKafkaProducer, hooks_settings: Settings, receiver: Receiver
) -> None:
    tenant = "t" + uuid.uuid4().hex[:12]
    path = f"job-{tenant}"
    endpoint_id = await register(hooks_api, receiver, tenant, path, "invoice.issued", "job.completed")
    receiver.fail_first = 2
    topic = hooks_settings.topic(hooks_settings.topic_order_events)
    for order_id in ("o-1", "o-2"):
        event = order_event(tenant, order_id)
        await hooks_producer.send_and_wait(topic, encoded(event), key=f"{tenant}:{order_id}".encode())

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(hooks_settings.mongo_url.get_secret_value())
    orders = client[hooks_settings.mongo_database].orders

    async def both_stored() -> bool:
        return await orders.count_documents({"tenant": tenant}) == 2

    await wait_for(both_stored, timeout=60, what="both orders in the order store")
    await client.close()
    job = await finished_job(hooks_api, tenant, await create_job(hooks_api, tenant, ["o-1", "o-2"]), timeout=180)
    assert [order["orderStatus"] for order in job["orders"]] == ["SUCCESS", "SUCCESS"], job

    def accepted_types() -> list[str]:
        return sorted(receiver.bodies[i]["type"] for i in set(receiver.by_path[path]) if receiver.accepted[i])

    async def all_three() -> bool:
        return len(accepted_types()) >= 3

    await wait_for(all_three, timeout=60, what="2 invoice.issued and 1 job.completed accepted")
    await asyncio.sleep(3)  # time for any extra attempt to show (the schedule's steps are 1 s)
    assert accepted_types() == ["invoice.issued", "invoice.issued", "job.completed"]
    ids = set(receiver.by_path[path])
    assert all(receiver.accepted[i] == 1 for i in ids), receiver.accepted
    assert all(receiver.attempts[i] == 3 for i in ids), receiver.attempts
    assert receiver.invalid == []
    log = (await hooks_api.get(f"/invoice/{tenant}/webhooks/{endpoint_id}/deliveries")).json()["items"]
    assert sorted((d["state"], d["attempts"], d["lastStatusCode"]) for d in log) == [("delivered", 3, 204)] * 3
    assert {d["id"] for d in log} == ids
    receiver.fail_first = 0


async def test_a_rotated_secret_verifies_beside_the_new_one_during_the_overlap(
    hooks_api: httpx.AsyncClient, hooks_producer: AIOKafkaProducer, hooks_settings: Settings, receiver: Receiver
) -> None:
    tenant = "t" + uuid.uuid4().hex[:12]
    path = f"rotate-{tenant}"
    endpoint_id = await register(hooks_api, receiver, tenant, path, "job.completed")
    old = receiver.secrets[path][0]
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(hooks_settings.mongo_url.get_secret_value())
    stored = await client[hooks_settings.mongo_database].webhook_endpoints.find_one({"_id": endpoint_id})
    await client.close()
    assert stored is not None and old not in str(stored)  # sealed at rest (INVOICE_WEBHOOKS_SECRET_KEY)
    assert stored["secrets"][0]["secret"].startswith("enc:v1:")
    rotated = await hooks_api.post(f"/invoice/{tenant}/webhooks/{endpoint_id}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    receiver.secrets[path] = [old]  # a receiver not yet updated: the old secret still verifies
    await announce_job_completed(hooks_producer, hooks_settings, tenant)

    async def delivered() -> list[str]:
        return receiver.by_path[path]

    [message_id] = await wait_for(delivered, timeout=60, what="the delivery after the rotation")
    body = receiver.bodies[message_id]
    assert body["type"] == "job.completed" and body["data"]["tenant"] == tenant
    assert receiver.signatures[message_id].count("v1,") == 2
    # The same request verifies with the new secret alone, too.
    receiver.secrets[path] = [new]
    await announce_job_completed(hooks_producer, hooks_settings, tenant)

    async def second() -> bool:
        return len(receiver.by_path[path]) == 2

    await wait_for(second, timeout=60, what="the second delivery")
    assert receiver.invalid == []


async def test_an_endpoint_at_a_private_address_is_refused(hooks_settings: Settings) -> None:
    from bootstrap.api import build_api

    strict = hooks_settings.model_copy(update={"webhooks_allow_private_addresses": False})
    async with api_client(build_api(strict), strict) as api:
        response = await api.post(
            "/invoice/shop/webhooks", json={"url": "http://10.0.0.1/hook", "eventTypes": ["invoice.issued"]}
        )
    assert response.status_code == 400
    assert "10.0.0.1, which is private" in response.json()["message"]


async def test_a_slow_endpoint_never_delays_another_tenants(
    hooks_api: httpx.AsyncClient, hooks_producer: AIOKafkaProducer, hooks_settings: Settings, receiver: Receiver
) -> None:
    slow_tenant, fast_tenant = "s" + uuid.uuid4().hex[:12], "f" + uuid.uuid4().hex[:12]
    slow_path, fast_path = f"slow-{slow_tenant}", f"fast-{fast_tenant}"
    await register(hooks_api, receiver, slow_tenant, slow_path, "job.completed")
    await register(hooks_api, receiver, fast_tenant, fast_path, "job.completed")
    receiver.slow.add(slow_path)
    for _ in range(10):
        await announce_job_completed(hooks_producer, hooks_settings, slow_tenant)
    await asyncio.sleep(1)  # the slow tenant's attempts are under way (each waits for its 2 s timeout)
    started = asyncio.get_running_loop().time()
    await announce_job_completed(hooks_producer, hooks_settings, fast_tenant)

    async def fast_delivered() -> bool:
        return len(receiver.by_path[fast_path]) == 1

    await wait_for(fast_delivered, timeout=30, what="the fast tenant's delivery")
    assert asyncio.get_running_loop().time() - started < 5
    assert receiver.by_path[slow_path] == []  # the slow one has answered nothing yet
    receiver.slow.discard(slow_path)


async def test_a_worker_killed_mid_delivery_leaves_it_to_the_next(
    hooks_api: httpx.AsyncClient,
    hooks_producer: AIOKafkaProducer,
    hooks_settings: Settings,
    hooks_worker: WorkerProcess,
    receiver: Receiver,
) -> None:
    tenant = "k" + uuid.uuid4().hex[:12]
    path = f"kill-{tenant}"
    endpoint_id = await register(hooks_api, receiver, tenant, path, "job.completed")
    receiver.slow.add(path)
    receiver.slow_seconds = 1.5  # within the 2 s timeout: the worker is killed while it waits
    base = f"/invoice/{tenant}/webhooks/{endpoint_id}/deliveries"
    await announce_job_completed(hooks_producer, hooks_settings, tenant)

    async def attempt_under_way() -> bool:
        log = (await hooks_api.get(base)).json()["items"]
        return bool(log) and log[0]["attempts"] == 0 and log[0]["nextAttemptAt"] is not None and len(log) == 1

    await wait_for(attempt_under_way, timeout=60, what="the delivery recorded")
    await asyncio.sleep(0.8)  # the attempt is claimed (polls every 0.2 s) and the receiver is holding it
    hooks_worker.kill()
    await hooks_worker.start()

    async def delivered() -> dict[str, Any] | None:
        log = (await hooks_api.get(base)).json()["items"]
        return log[0] if log and log[0]["state"] == "delivered" else None

    done = await wait_for(delivered, timeout=90, what="the delivery made by the restarted worker")
    assert done["attempts"] >= 1
    assert receiver.started[done["id"]] >= 2  # the attempt the killed worker made, and the next worker's
    assert receiver.accepted[done["id"]] >= 1  # at least once; the same webhook-id lets the receiver dedupe
    assert set(receiver.by_path[path]) == {done["id"]}
    receiver.slow.discard(path)


async def test_the_due_deliveries_and_the_log_are_index_lookups(hooks_settings: Settings) -> None:
    """On FerretDB (the local store), the due query's equality on state and the log's on tenant and endpoint
    are pushed down to PostgreSQL and answered from an index, among thousands of delivered deliveries."""
    from infra.db import ensure_indexes
    from tests.integration.test_invoice_lists import plan_scans

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(hooks_settings.mongo_url.get_secret_value())
    db = client[f"plans-wh-{uuid.uuid4().hex[:8]}"]
    try:
        await ensure_indexes(db)
        now = datetime.now(UTC)
        made = [
            {"_id": f"msg_{i}", "tenant": f"t{i % 50}", "endpointId": f"ep{i % 200}", "state": "delivered",
             "createdAt": now, "nextAttemptAt": None}
            for i in range(3000)
        ]  # fmt: skip
        await db.webhook_deliveries.insert_many(made, ordered=False)
        await db.unindexed.insert_many(made, ordered=False)  # the same, without the indexes: the check tells
        queries = {
            "state": {"state": "pending", "nextAttemptAt": {"$lte": now}},
            "tenant": {"tenant": "t1", "endpointId": "ep1"},
            "endpointId": {"tenant": "t1", "endpointId": "ep1"},
        }

        async def problems(collection: str) -> list[str]:
            found = []
            for field_name, query in queries.items():
                plan = await db.command("explain", {"find": collection, "filter": query})
                if "ferretdbVersion" not in plan.get("serverInfo", {}):
                    pytest.skip("not FerretDB: MongoDB serves these by the same compound indexes")
                scans = plan_scans(plan["queryPlanner"])
                by_index = [c for node, c in scans if node.endswith("Index Scan") and f"'{field_name}'" in c]
                if plan.get("filterPushdown") is not True or not by_index or any(n == "Seq Scan" for n, _ in scans):
                    found.append(f"{field_name}: {scans}")
            return found

        assert await problems("webhook_deliveries") == []
        assert len(await problems("unindexed")) == len(queries)
    finally:
        await client.drop_database(db.name)
        await client.close()
