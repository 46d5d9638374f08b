"""What operators and downstream systems see of a real job: the metrics of both processes (scraped before
and after, so each counter must move by exactly the job's numbers) and the public events on
invoice-events (consumed with a real Kafka consumer while the job runs).

The module runs its own worker and API on topics of their own (a prefix of their own), so no other
worker of the test session shares the job's partitions or its counters.
"""

import asyncio
import json
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from infra.kafka import kafka_client_options
from infra.settings import Settings
from tests.factories import encoded, order_event
from tests.fakes import free_port
from tests.integration.flows import create_job, finished_job, stored
from tests.support import ROOT, WorkerProcess, api_client, settings_for, wait_for

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse_samples(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@dataclass
class Operations:
    settings: Settings
    api: httpx.AsyncClient
    worker_metrics_url: str
    producer: AIOKafkaProducer

    async def api_metrics(self) -> Samples:
        response = await self.api.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        return parse_samples(response.text)

    async def worker_metrics(self) -> Samples:
        async with httpx.AsyncClient() as http:
            response = await http.get(self.worker_metrics_url)
        assert response.status_code == 200
        return parse_samples(response.text)

    async def publish_orders(self, tenant: str, *events: dict[str, Any]) -> None:
        topic = self.settings.topic(self.settings.topic_order_events)
        for event in events:
            await self.producer.send_and_wait(topic, encoded(event), key=f"{tenant}:{event['order']['id']}".encode())


@pytest.fixture(scope="module")
async def operations(
    service_env: dict[str, str], s3_bucket: str, run_id: str, producer: AIOKafkaProducer
) -> AsyncIterator[Operations]:
    port = free_port()
    env = {**service_env, "INVOICE_TOPIC_PREFIX": f"test-{run_id}-ops-", "INVOICE_WORKER_METRICS_PORT": str(port)}
    settings = settings_for(env)
    worker = WorkerProcess(env, f"test-worker-ops-{run_id}")
    await worker.start()
    try:
        from bootstrap.api import build_api

        async with api_client(build_api(settings), settings) as api:
            yield Operations(settings, api, f"http://127.0.0.1:{port}/metrics", producer)
    finally:
        worker.stop()


@dataclass(frozen=True)
class JobRun:
    tenant: str
    job_id: str
    api_before: Samples
    api_after: Samples
    worker_before: Samples
    worker_after: Samples
    events: list[tuple[dict[str, bytes], bytes, dict[str, Any]]]  # headers, key, value


# The job: two orders invoiced and emailed, one whose total the recalculation contradicts, one unknown.
INVOICED, WRONG_TOTAL, UNKNOWN = ("ok-1", "ok-2"), "wrong-total", "unknown"


@pytest.fixture(scope="module")
async def job_run(
    operations: Operations, stored_order: Callable[[str, str], Awaitable[dict[str, Any] | None]]
) -> JobRun:
    tenant = "t" + uuid.uuid4().hex[:12]
    settings = operations.settings
    consumer = AIOKafkaConsumer(
        settings.topic(settings.topic_invoice_events),
        **kafka_client_options(settings),
        group_id=f"downstream-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    events: list[tuple[dict[str, bytes], bytes, dict[str, Any]]] = []

    async def consume() -> None:
        while True:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    body = json.loads(record.value)
                    if body["tenant"] == tenant:
                        events.append((dict(record.headers), record.key, body))

    consuming = asyncio.create_task(consume())
    try:
        orders = [order_event(tenant, order_id) for order_id in INVOICED]
        orders.append(order_event(tenant, WRONG_TOTAL, total="58.77"))
        await operations.publish_orders(tenant, *orders)
        await stored(stored_order, tenant, *INVOICED, WRONG_TOTAL)
        api_before, worker_before = await operations.api_metrics(), await operations.worker_metrics()
        job_id = await create_job(operations.api, tenant, [*INVOICED, WRONG_TOTAL, UNKNOWN])
        # During the job, a record that is no order event at all: the orders agent dead-letters it.
        await operations.producer.send_and_wait(
            settings.topic(settings.topic_order_events), b"{not json", key=f"{tenant}:broken".encode()
        )
        await finished_job(operations.api, tenant, job_id)

        async def completed() -> bool:
            return any(body["type"] == "job.completed" for _, _, body in events)

        await wait_for(completed, timeout=60, what="job.completed on invoice-events")
        api_after = await operations.api_metrics()

        async def worker_settled() -> Samples | None:
            # The dead letter of the broken record is sent concurrently with the job; the lag gauge is
            # measured every few seconds: wait until both show.
            samples = await operations.worker_metrics()
            topic = settings.topic(settings.topic_order_events)
            dead = moved(worker_before, samples, "invoice_dead_letters_total", topic=topic, reason_class="invalid")
            lag = [v for (name, _), v in samples.items() if name == "invoice_consumer_lag"]
            return samples if dead >= 1 and lag and sum(lag) == 0 else None

        worker_after = await wait_for(worker_settled, timeout=60, what="the worker's dead letter and lag metrics")
        return JobRun(tenant, job_id, api_before, api_after, worker_before, worker_after, events)
    finally:
        consuming.cancel()
        await asyncio.gather(consuming, return_exceptions=True)
        await consumer.stop()


async def test_the_api_counts_the_job_and_its_requests(job_run: JobRun, operations: Operations) -> None:
    before, after = job_run.api_before, job_run.api_after
    assert moved(before, after, "invoice_jobs_created_total", job_type="MANUAL", tenant="") == 1
    post = {"route": "/invoice/{tenant}/jobs/invoices", "method": "POST"}
    assert moved(before, after, "invoice_http_requests_total", **post, status="201") == 1
    assert moved(before, after, "invoice_http_request_duration_seconds_count", **post) == 1
    # Exactly one more GET of the job: counted under its route template, never its raw path.
    get = {"route": "/invoice/{tenant}/jobs/invoices/{jobId}", "method": "GET"}
    ahead = await operations.api_metrics()
    response = await operations.api.get(f"/invoice/{job_run.tenant}/jobs/invoices/{job_run.job_id}")
    assert response.status_code == 200
    behind = await operations.api_metrics()
    assert moved(ahead, behind, "invoice_http_requests_total", **get, status="200") == 1
    assert moved(ahead, behind, "invoice_http_request_duration_seconds_count", **get) == 1
    assert not [labels for name, labels in behind if dict(labels).get("route", "").find(job_run.tenant) >= 0]
    assert moved(before, after, "invoice_store_commands_total", command="insert") >= 1


async def test_the_worker_counts_orders_steps_and_dead_letters(job_run: JobRun, operations: Operations) -> None:
    before, after = job_run.worker_before, job_run.worker_after
    finished = "invoice_orders_finished_total"
    assert moved(before, after, finished, status="SUCCESS", reason_class="none", tenant="") == 2
    assert moved(before, after, finished, status="FAILURE", reason_class="price", tenant="") == 1
    assert moved(before, after, finished, status="FAILURE", reason_class="validation", tenant="") == 1
    steps = {"validate": 4, "recalculate": 3, "capture": 2, "number": 2, "render": 2, "store": 2, "email": 2}
    for step, count in steps.items():
        assert moved(before, after, "invoice_pipeline_step_duration_seconds_count", step=step) == count, step
    assert moved(before, after, "invoice_emails_sent_total", attempt="first", document="invoice") == 2
    assert value(after, "invoice_render_busy_processes") == 0
    assert value(after, "invoice_render_queue_depth") == 0
    settings = operations.settings
    topic = settings.topic(settings.topic_order_events)
    assert moved(before, after, "invoice_dead_letters_total", topic=topic, reason_class="invalid") == 1
    lag_topics = {dict(labels)["topic"] for name, labels in after if name == "invoice_consumer_lag"}
    assert settings.topic(settings.topic_order_requests) in lag_topics
    assert moved(before, after, "invoice_store_commands_total", command="find") >= 1
    # No tenant ID as a label value without INVOICE_METRICS_TENANT_LABELS.
    assert not [labels for _, labels in after if job_run.tenant in dict(labels).values()]


async def test_downstream_sees_each_state_change_once_as_a_cloud_event(job_run: JobRun) -> None:
    tenant, events = job_run.tenant, job_run.events
    for headers, key, body in events:
        assert headers["ce_specversion"] == b"1.0"
        assert headers["ce_type"].decode() == body["type"]
        assert headers["ce_source"] == f"/invoice-service/{tenant}".encode()
        assert headers["content-type"] == b"application/json"
        assert headers["ce_time"] and len(headers["ce_id"]) == 64
        subject = body["jobId"] if body["type"] == "job.completed" else body["orderId"]
        assert headers["ce_subject"] == subject.encode()
        assert key == f"{tenant}:{subject}".encode()
        assert "downloadLink" not in body and "http" not in json.dumps(body)
    distinct = {headers["ce_id"]: body for headers, _, body in events}  # what a deduplicating consumer keeps
    types = Counter((body["type"], body.get("orderId")) for body in distinct.values())
    assert types == Counter(
        {
            ("invoice.issued", "ok-1"): 1,
            ("invoice.issued", "ok-2"): 1,
            ("invoice.emailed", "ok-1"): 1,
            ("invoice.emailed", "ok-2"): 1,
            ("invoice.failed", WRONG_TOTAL): 1,
            ("invoice.failed", UNKNOWN): 1,
            ("job.completed", None): 1,
        }
    )
    for order_id in INVOICED:  # one order's events share a key, so a partition: issued comes first
        in_order = [body["type"] for _, _, body in events if body.get("orderId") == order_id]
        assert in_order.index("invoice.issued") < in_order.index("invoice.emailed")
    issued = next(body for body in distinct.values() if body["type"] == "invoice.issued")
    # The standard order (tests/factories.py, worked out by hand): 19 % on 44.88, 7 % on 5.00.
    assert (issued["currency"], issued["netTotal"], issued["taxTotal"], issued["grossTotal"]) == (
        "EUR",
        "49.88",
        "8.88",
        "58.76",
    )
    assert {(Decimal(tax["rate"]), tax["base"], tax["tax"]) for tax in issued["taxes"]} == {
        (Decimal(19), "44.88", "8.53"),
        (Decimal(7), "5.00", "0.35"),
    }
    assert issued["storageKey"].endswith(".pdf") and issued["jobId"] == job_run.job_id
    reasons = {body["orderId"]: body["reasonClass"] for body in distinct.values() if body["type"] == "invoice.failed"}
    assert reasons == {WRONG_TOTAL: "price", UNKNOWN: "validation"}
    [completed] = [body for body in distinct.values() if body["type"] == "job.completed"]
    assert (completed["jobId"], completed["totalOrders"], completed["succeeded"], completed["failed"]) == (
        job_run.job_id,
        4,
        2,
        2,
    )


# The time series each kind of metric family exposes (prometheus-client's text format).
SERIES_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
}
METRIC_NAME = re.compile(r"\b(?:invoice|process|python)_[a-z0-9_]+\b")


async def exposed_series(operations: Operations) -> dict[str, set[str]]:
    """Every metric family either process exposes, with the series names it can have, including the
    labelled families no event has touched yet (their HELP and TYPE are in the scrape, no samples)."""
    async with httpx.AsyncClient() as http:
        worker_text = (await http.get(operations.worker_metrics_url)).text
    api_text = (await operations.api.get("/metrics")).text
    return {
        family.name: {family.name + suffix for suffix in SERIES_SUFFIXES.get(family.type, ("",))}
        for text in (api_text, worker_text)
        for family in text_string_to_metric_families(text)
    }


def dashboard_queries() -> list[str]:
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "invoice-service.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def alert_rule_queries() -> list[str]:
    rule = yaml.safe_load((ROOT / "deploy" / "monitoring" / "prometheus-rule.yaml").read_text())
    assert (rule["apiVersion"], rule["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
    return [str(entry["expr"]) for group in rule["spec"]["groups"] for entry in group["rules"]]


@pytest.mark.parametrize("queries", [dashboard_queries, alert_rule_queries], ids=["dashboard", "alert-rules"])
async def test_dashboard_and_alerts_query_only_metrics_that_exist(
    queries: Callable[[], list[str]], job_run: JobRun, operations: Operations
) -> None:
    families = await exposed_series(operations)
    exposed = set().union(*families.values())
    used = {name for expression in queries() for name in METRIC_NAME.findall(expression)}
    assert used, "no metric found in the queries: the pattern no longer matches them"
    assert used <= exposed, f"not exposed by the service: {sorted(used - exposed)}"
    if queries is dashboard_queries:
        # Every metric of the service has a panel, so none is measured for nobody to see.
        # (`*_created`, the creation time of a counter or histogram, parses as a family of its own.)
        ours = [family for family in families if family.startswith("invoice_") and not family.endswith("_created")]
        unseen = [family for family in ours if not families[family] & used]
        assert not unseen, f"metrics without a panel: {unseen}"
