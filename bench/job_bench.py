"""End-to-end throughput of one large invoice job, beside render-only throughput on the same cores.

    make services && .venv/bin/python -m bench.job_bench                           # 10,000 orders; 1, then 2 workers
    .venv/bin/python -m bench.job_bench --orders 500 --prefill 5000 --workers 1      # quicker

Each run has its own topic prefix, database and bucket. The database first holds PREFILL invoices and
PREFILL orders of other tenants (so that whatever scans shows), then the run starts WORKERS stream workers
and the API as real processes, feeds ORDERS orders in through the order-events topic, creates one
MANUAL job of all of them through the API, and times each order from job creation to its result event.
Every invoice is emailed, to an SMTP server in this process. Then the same invoices are rendered with
the same renderer and process count alone.

Printed per run: invoices/s and its ratio to render-only, p50/p95 per order, the store round trips per
order (the workers' own count of MongoDB commands, from their /metrics), GET of the finished job, and
the peak resident memory of the API, each worker and its render processes.
"""

import argparse
import asyncio
import json
import re
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aioboto3
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from infra.db import ensure_indexes
from infra.invoices import InvoiceRepository
from infra.kafka import kafka_client_options
from infra.orders import OrderRepository
from infra.settings import Settings
from invoicing.document import DEFAULT_SELLER, build_invoice_document
from invoicing.recalculation import recalculate
from schemas.orders import parse_order_event
from schemas.topics import ORDER_EVENTS, ORDER_RESULTS
from streams.app import topic_name
from streams.rendering.pool import RenderPool
from tests.factories import encoded, order_event
from tests.fakes import SmtpSink
from tests.support import ApiProcess, Endpoints, TenantTokens, WorkerProcess, env_for, settings_for, wait_for

LOCAL = Endpoints("127.0.0.1:9092", "mongodb://127.0.0.1:27017", "http://127.0.0.1:9000", "minioadmin", "minioadmin")
API_PORT = 8790
METRICS_PORT = 9190  # the first worker's; the next ones count up
Document = dict[str, Any]


@dataclass
class RunFigures:
    workers: int
    orders: int
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    intake_commands_per_order: float = 0.0
    job_commands_per_order: float = 0.0
    get_seconds: float = 0.0
    peak_rss: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.orders / max(self.latencies)


# --- processes: resident memory, the API, the workers' metrics -------------------------------------------


def rss_bytes(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else 0


def child_pids(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children += [int(child) for child in task.read_text().split()]
        except OSError:
            continue
    return children


class MemoryWatch:
    """Samples the resident memory of named processes (and, for workers, their render processes)."""

    def __init__(self) -> None:
        self.peaks: dict[str, int] = {}
        self.watched: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None

    def watch(self, name: str, pid: int) -> None:
        self.watched[name] = pid

    def sample(self) -> None:
        for name, pid in self.watched.items():
            self.peaks[name] = max(self.peaks.get(name, 0), rss_bytes(pid))
            if name.startswith("worker"):
                renderers = sum(rss_bytes(child) for child in child_pids(pid))
                key = f"{name} render processes"
                self.peaks[key] = max(self.peaks.get(key, 0), renderers)

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(0.5)

    def __enter__(self) -> "MemoryWatch":
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def store_commands(ports: list[int]) -> int:
    """MongoDB commands the workers sent so far, summed over their /metrics."""
    total = 0.0
    async with httpx.AsyncClient() as client:
        for port in ports:
            text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
            total += sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("invoice_store_commands_total{")
            )
    return int(total)


# --- the database as a shop that has been invoicing for a while ------------------------------------------


async def prefill(db: AsyncDatabase[Document], count: int) -> None:
    """COUNT invoices and COUNT orders of 100 other tenants, cloned from documents the service's own
    adapters wrote, so they have the size and shape of the real ones."""
    await ensure_indexes(db)
    order = parse_order_event(encoded(order_event("template", "template-order"))).order
    await OrderRepository(db).store_snapshot(tenant="template", occurred_at=datetime.now(UTC), order=order)
    document = build_invoice_document(
        order=order,
        tenant="template",
        totals=recalculate(order),
        invoice_number="T-1",
        issued_at=datetime.now(UTC),
        seller=DEFAULT_SELLER,
    )
    await InvoiceRepository(db).allocate(
        tenant="template", order_id="template-order", job_id="template-job", seq=1, number="T-1", document=document
    )
    order_doc = await db.orders.find_one_and_delete({"_id": "template:template-order"})
    invoice_doc = await db.invoices.find_one_and_delete({"_id": "template:template-order"})
    assert order_doc is not None and invoice_doc is not None
    await db.invoice_sequences.delete_many({})
    for start in range(0, count, 1000):
        orders, invoices = [], []
        for index in range(start, min(count, start + 1000)):
            tenant, order_id = f"shop{index % 100}", f"past-{index}"
            key = {"_id": f"{tenant}:{order_id}", "tenant": tenant, "orderId": order_id}
            orders.append({**order_doc, **key})
            invoices.append(
                {**invoice_doc, **key, "seq": index, "number": f"P-{index:07d}", "jobId": f"past-{index // 500}"}
            )
        await db.orders.insert_many(orders, ordered=False)
        await db.invoices.insert_many(invoices, ordered=False)


# --- one run ----------------------------------------------------------------------------------------------


async def run(orders: int, prefill_count: int, workers: int, mail: SmtpSink) -> RunFigures:
    run_id = uuid.uuid4().hex[:10]
    env = env_for(LOCAL, run_id, INVOICE_SMTP_PORT=str(mail.port))
    settings = settings_for(env)
    figures = RunFigures(workers=workers, orders=orders)
    session = aioboto3.Session(
        aws_access_key_id=LOCAL.s3_key, aws_secret_access_key=LOCAL.s3_secret, region_name=settings.s3_region
    )
    async with session.client("s3", endpoint_url=settings.s3_endpoint_url) as s3:
        await s3.create_bucket(Bucket=settings.s3_bucket)
    mongo: AsyncMongoClient[Document] = AsyncMongoClient(settings.mongo_url.get_secret_value(), tz_aware=True)
    db = mongo[settings.mongo_database]
    started = time.perf_counter()
    await prefill(db, prefill_count)
    print(
        f"  prefilled {prefill_count:,} invoices and {prefill_count:,} orders in {time.perf_counter() - started:.0f} s"
    )

    metrics_ports = [METRICS_PORT + index for index in range(workers)]
    processes = [
        WorkerProcess({**env, "INVOICE_WORKER_METRICS_PORT": str(port)}, f"bench-worker-{index}-{run_id}")
        for index, port in enumerate(metrics_ports)
    ]
    api = ApiProcess(env, f"bench-api-{run_id}", port=API_PORT)
    tenant = f"bench{run_id[:8]}"
    order_ids = [f"order-{i:06d}" for i in range(orders)]
    try:
        for process in processes:
            await process.start()
        api.start()
        with MemoryWatch() as memory:
            for index, process in enumerate(processes):
                assert process.process is not None
                memory.watch(f"worker {index + 1}", process.process.pid)
            assert api.process is not None
            memory.watch("api", api.process.pid)

            before_intake = await store_commands(metrics_ports)
            await publish_orders(settings, tenant, order_ids)

            async def all_stored() -> bool:
                return await db.orders.count_documents({"tenant": tenant}) == orders

            await wait_for(all_stored, timeout=1800, what="the orders in the order store")
            before_job = await store_commands(metrics_ports)
            figures.intake_commands_per_order = (before_job - before_intake) / orders
            job_id = await invoice_all(settings, tenant, order_ids, figures)
            figures.job_commands_per_order = (await store_commands(metrics_ports) - before_job) / orders
            figures.get_seconds = await time_get(settings, tenant, job_id, orders)
            memory.sample()
            figures.peak_rss = dict(memory.peaks)
        return figures
    finally:
        api.stop()
        for process in processes:
            process.stop()
        await mongo.drop_database(settings.mongo_database)
        await mongo.close()


async def publish_orders(settings: Settings, tenant: str, order_ids: list[str]) -> None:
    producer = AIOKafkaProducer(**kafka_client_options(settings), acks="all", linger_ms=5)
    await producer.start()
    try:
        for order_id in order_ids:
            event = order_event(tenant, order_id)
            await producer.send(
                topic_name(settings, ORDER_EVENTS),
                encoded(event),
                key=ORDER_EVENTS.key_of(parse_order_event(encoded(event))),
            )
        await producer.flush()
    finally:
        await producer.stop()


def api(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{API_PORT}", auth=TenantTokens(settings), timeout=60)


async def invoice_all(settings: Settings, tenant: str, order_ids: list[str], figures: RunFigures) -> str:
    """Create one MANUAL job of every order; record each order's seconds from creation to its result."""
    results = AIOKafkaConsumer(
        topic_name(settings, ORDER_RESULTS),
        **kafka_client_options(settings),
        auto_offset_reset="latest",
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
    )
    await results.start()
    try:
        await wait_for(lambda: _assigned(results), timeout=60, what="the results consumer's assignment")
        async with api(settings) as client:
            started = time.perf_counter()
            response = await client.post(
                f"/invoice/{tenant}/jobs/invoices", json={"jobType": "MANUAL", "orderIds": order_ids}
            )
            response.raise_for_status()
            job_id: str = response.json()["jobId"]

        async def collect() -> bool:
            batch = await results.getmany(timeout_ms=500)
            now = time.perf_counter()
            for record in (r for records in batch.values() for r in records):
                event = json.loads(record.value)
                if event.get("jobId") == job_id and event["eventType"] in {"order.invoiced", "order.failed"}:
                    figures.latencies.append(now - started)
                    figures.failures += event["eventType"] == "order.failed"
            return len(figures.latencies) >= len(order_ids)

        await wait_for(collect, timeout=7200, what="every order's result")
        return job_id
    finally:
        await results.stop()


async def time_get(settings: Settings, tenant: str, job_id: str, orders: int) -> float:
    """Median seconds of GET on the finished job (it says DONE with every order once projected)."""
    async with api(settings) as client:

        async def done() -> bool:
            body = (await client.get(f"/invoice/{tenant}/jobs/invoices/{job_id}")).json()
            return bool(body["jobStatus"] == "DONE" and len(body["orders"]) == orders)

        await wait_for(done, timeout=300, what="the job to be DONE with every order")
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            (await client.get(f"/invoice/{tenant}/jobs/invoices/{job_id}")).raise_for_status()
            timings.append(time.perf_counter() - started)
        return statistics.median(timings)


async def _assigned(consumer: AIOKafkaConsumer) -> bool:
    await consumer.getmany(timeout_ms=100)
    return bool(consumer.assignment())


async def render_only(settings: Settings, orders: int) -> float:
    """Seconds to render the same N invoices with the same renderer and process count, nothing else."""
    order = parse_order_event(encoded(order_event("bench", "order"))).order
    totals = recalculate(order)
    document = build_invoice_document(
        order=order,
        tenant="bench",
        totals=totals,
        invoice_number="INV-000001",
        issued_at=datetime.now(UTC),
        seller=DEFAULT_SELLER,
    )
    pool = RenderPool(processes=settings.render_processes)
    try:
        await pool.render(document)  # start the processes outside the timing, as the worker does
        in_flight = asyncio.Semaphore(settings.invoice_concurrency)

        async def render() -> None:
            async with in_flight:
                await pool.render(document)

        started = time.perf_counter()
        await asyncio.gather(*(render() for _ in range(orders)))
        return time.perf_counter() - started
    finally:
        pool.close()


def report(figures: RunFigures, render_rate: float) -> None:
    quantiles = statistics.quantiles(figures.latencies, n=20)
    print(f"\n{figures.workers} worker(s), {figures.orders:,} orders in one job ({figures.failures} failed)")
    print(
        f"  pipeline:                 {figures.rate:8.1f} invoices/s, "
        f"ratio to render-only {figures.rate / render_rate:.2f}"
    )
    print(f"  per order, job -> result: p50 {statistics.median(figures.latencies):.1f} s, p95 {quantiles[18]:.1f} s")
    print(
        f"  store round trips/order:  {figures.job_commands_per_order:.1f} in the job, "
        f"{figures.intake_commands_per_order:.1f} taking the order in"
    )
    print(f"  GET of the finished job:  {figures.get_seconds * 1000:.0f} ms")
    for name, peak in sorted(figures.peak_rss.items()):
        print(f"  peak RSS {name + ':':<29} {peak / 2**20:6.0f} MB")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--prefill", type=int, default=50_000, help="invoices and orders of other tenants")
    parser.add_argument("--workers", default="1,2", help="worker counts to run, comma-separated")
    args = parser.parse_args()

    with SmtpSink() as mail:  # every invoice is emailed: the figures include the sending
        runs = []
        for workers in (int(count) for count in args.workers.split(",")):
            print(f"run with {workers} worker(s) ...")
            runs.append(await run(args.orders, args.prefill, workers, mail))
    settings = Settings()
    render_rate = args.orders / await render_only(settings, args.orders)
    print(
        f"\nrender only: {render_rate:.1f} invoices/s (render processes {settings.render_processes}, "
        f"concurrency {settings.invoice_concurrency}, per worker)"
    )
    for figures in runs:
        report(figures, render_rate)


if __name__ == "__main__":
    asyncio.run(main())
