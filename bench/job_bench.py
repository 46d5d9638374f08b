"""End-to-end throughput of invoice jobs, beside render-only throughput, in one run.

    make services && .venv/bin/python -m bench.job_bench --orders 500

Starts its own stream worker (a real process, own topic prefix, database and bucket), feeds N orders
in through the order-events topic, creates one MANUAL job of N orders through the API, and times each
order from job creation to its result event. Then renders the same invoices with the same renderer and
process count alone. Prints invoices/s of both, p50/p95 per order, and the ratio: how much of the
renderer's speed the whole pipeline keeps.
"""

import argparse
import asyncio
import json
import statistics
import time
import uuid
from datetime import UTC, datetime

import aioboto3
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import AsyncMongoClient

from infra.settings import Settings
from invoicing.document import DEFAULT_SELLER, build_invoice_document
from invoicing.recalculation import recalculate
from schemas.orders import parse_order_event
from service.app import create_app
from streams.rendering.pool import RenderPool
from tests.factories import encoded, order_event
from tests.fakes import SmtpSink
from tests.support import Endpoints, WorkerProcess, api_client, env_for, wait_for

LOCAL = Endpoints("127.0.0.1:9092", "mongodb://127.0.0.1:27017", "http://127.0.0.1:9000", "minioadmin", "minioadmin")


async def pipeline(settings: Settings, env: dict[str, str], run_id: str, orders: int) -> list[float]:
    """Seconds from job creation to each order's result."""
    tenant = f"bench{run_id[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", linger_ms=5)
    await producer.start()
    order_ids = [f"order-{i:06d}" for i in range(orders)]
    for order_id in order_ids:
        await producer.send(
            settings.topic(settings.topic_order_events),
            encoded(order_event(tenant, order_id)),
            key=f"{tenant}:{order_id}".encode(),
        )
    await producer.flush()
    await producer.stop()

    worker = WorkerProcess(env, f"bench-worker-{run_id}")
    await worker.start()
    mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(settings.mongo_url.get_secret_value())
    db = mongo[settings.mongo_database]
    try:

        async def all_stored() -> bool:
            return await db.orders.count_documents({"tenant": tenant}) == orders

        await wait_for(all_stored, timeout=600, what="the orders in the order store")

        results = AIOKafkaConsumer(
            settings.topic(settings.topic_order_results),
            bootstrap_servers=settings.kafka_bootstrap_servers,
            auto_offset_reset="latest",
            group_id=f"bench-{run_id}",
        )
        await results.start()
        await wait_for(lambda: _assigned(results), timeout=60, what="the results consumer's assignment")
        app = create_app(settings)
        async with api_client(app, settings) as api:
            started = time.perf_counter()
            response = await api.post(
                f"/invoice/{tenant}/jobs/invoices", json={"jobType": "MANUAL", "orderIds": order_ids}
            )
            response.raise_for_status()
            job_id = response.json()["jobId"]
            latencies: list[float] = []
            failures = 0

            async def collect() -> bool:
                nonlocal failures
                batch = await results.getmany(timeout_ms=500)
                now = time.perf_counter()
                for record in (r for records in batch.values() for r in records):
                    event = json.loads(record.value)
                    if event.get("jobId") == job_id and event["eventType"] in {"order.invoiced", "order.failed"}:
                        latencies.append(now - started)
                        failures += event["eventType"] == "order.failed"
                return len(latencies) >= orders

            await wait_for(collect, timeout=3600, what="every order's result")
        await results.stop()
        if failures:
            print(f"warning: {failures} orders failed")
        return latencies
    finally:
        worker.stop()
        await mongo.drop_database(settings.mongo_database)
        await mongo.close()


async def _assigned(consumer: AIOKafkaConsumer) -> bool:
    await consumer.getmany(timeout_ms=100)
    return bool(consumer.assignment())


async def render_only(settings: Settings, orders: int) -> float:
    """Seconds to render the same N invoices with the same renderer and process count, nothing else."""
    order = parse_order_event(encoded(order_event("bench", "order"))).order
    totals = recalculate(order)
    documents = [
        build_invoice_document(
            order=order,
            tenant="bench",
            totals=totals,
            invoice_number=f"INV-{i:06d}",
            issued_at=datetime.now(UTC),
            seller=DEFAULT_SELLER,
        )
        for i in range(orders)
    ]
    pool = RenderPool(processes=settings.render_processes)
    try:
        await pool.render(documents[0])  # start the processes outside the timing, as the worker does
        in_flight = asyncio.Semaphore(settings.invoice_concurrency)

        async def render(document: object) -> None:
            async with in_flight:
                await pool.render(document)  # type: ignore[arg-type]

        started = time.perf_counter()
        await asyncio.gather(*(render(document) for document in documents))
        return time.perf_counter() - started
    finally:
        pool.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=500)
    args = parser.parse_args()

    run_id = uuid.uuid4().hex[:10]
    # Every invoice is emailed: to an SMTP server in this process, so the figures include the sending.
    mail = SmtpSink()
    mail.start()
    env = env_for(LOCAL, run_id, INVOICE_SMTP_PORT=str(mail.port))
    settings = Settings.model_validate({k.removeprefix("INVOICE_").lower(): v for k, v in env.items()})
    session = aioboto3.Session(
        aws_access_key_id=LOCAL.s3_key, aws_secret_access_key=LOCAL.s3_secret, region_name=settings.s3_region
    )
    async with session.client("s3", endpoint_url=settings.s3_endpoint_url) as s3:
        await s3.create_bucket(Bucket=settings.s3_bucket)

    try:
        latencies = await pipeline(settings, env, run_id, args.orders)
    finally:
        mail.stop()
    render_seconds = await render_only(settings, args.orders)

    pipeline_rate = args.orders / max(latencies)
    render_rate = args.orders / render_seconds
    quantiles = statistics.quantiles(latencies, n=20)
    print(
        f"orders:                 {args.orders} (render processes {settings.render_processes}, "
        f"concurrency {settings.invoice_concurrency})"
    )
    print(f"pipeline:               {pipeline_rate:8.1f} invoices/s")
    print(f"per order, job -> result: p50 {statistics.median(latencies):.2f} s, p95 {quantiles[18]:.2f} s")
    print(f"render only:            {render_rate:8.1f} invoices/s")
    print(f"ratio pipeline/render:  {pipeline_rate / render_rate:8.2f}")


if __name__ == "__main__":
    asyncio.run(main())
