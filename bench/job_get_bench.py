"""GET of a large finished job, through the API process, beside the store's read of its results alone.

    make services && .venv/bin/python -m bench.job_get_bench                 # a 10,000-order job
    .venv/bin/python -m bench.job_get_bench --orders 2000 --prefill 10000    # quicker

The job's results are written as the projection writes them (infra/jobs.py: planned, then folded in
batches), into a database that first holds PREFILL results of other jobs, so that whatever scans shows.
Every order succeeded, so each has its PDF link (presigned) and XML link, the most a GET can carry. The
full job_bench reports the same GET at the end of its run; this one takes a minute instead of half an
hour.

Printed: the median of GET (full HTTP round trip, JSON body) and of reading the results from the store
in this process (40 page documents for 10,000 orders), and the GET of a 100-order job beside it.
"""

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from bench.job_bench import LOCAL
from infra.db import ensure_indexes
from infra.jobs import JobRepository
from infra.records import OrderOutcome
from schemas.api import JobType, OrderResultStatus
from tests.support import ApiProcess, TenantTokens, env_for, settings_for

REPEATS = 7
FOLD_BATCH = 500  # the projection agent's largest batch


async def median_seconds(action: Callable[[], Awaitable[Any]]) -> float:
    await action()  # warm: connections, caches
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        await action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


async def finished_job(jobs: JobRepository, tenant: str, orders: int) -> str:
    """A job of `orders` orders, planned and every result folded, as the projection agent does."""
    job_id = uuid.uuid4().hex
    order_ids = [f"order-{n:06d}" for n in range(orders)]
    await jobs.create(tenant=tenant, job_id=job_id, job_type=JobType.MANUAL, order_ids=order_ids)
    for first in range(0, orders, 1000):  # the planner's parts
        part = order_ids[first : first + 1000]
        await jobs.record_planned(tenant=tenant, job_id=job_id, total=orders, first_position=first, order_ids=part)
    outcomes = [
        OrderOutcome(
            tenant,
            job_id,
            order_id,
            OrderResultStatus.SUCCESS,
            f"Invoice INV-{n:08d} created and emailed to customer-{n}@example.com",
            f"INV-{n:08d}",
            position=n,
        )
        for n, order_id in enumerate(order_ids)
    ]
    for first in range(0, orders, FOLD_BATCH):
        await jobs.record_results(outcomes[first : first + FOLD_BATCH])
    return job_id


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--prefill", type=int, default=50_000, help="results of other tenants' jobs")
    args = parser.parse_args()

    run_id = uuid.uuid4().hex[:10]
    env = env_for(LOCAL, run_id)
    settings = settings_for(env)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url.get_secret_value(), tz_aware=True)
    db = mongo[settings.mongo_database]
    api = ApiProcess(env, f"bench-get-{run_id}")
    try:
        await ensure_indexes(db)
        jobs = JobRepository(db)
        started = time.perf_counter()
        for index in range(0, args.prefill, 1000):
            await finished_job(jobs, f"other{index // 1000}", min(1000, args.prefill - index))
        tenant = f"bench{run_id[:8]}"
        large, small = await finished_job(jobs, tenant, args.orders), await finished_job(jobs, tenant, 100)
        print(
            f"wrote {args.prefill:,} results of other jobs, then the measured jobs: "
            f"{time.perf_counter() - started:.0f} s"
        )

        api.start()
        async with httpx.AsyncClient(base_url=api.url, auth=TenantTokens(settings), timeout=60) as client:

            async def get(job_id: str, orders: int) -> None:
                response = await client.get(f"/invoice/{tenant}/jobs/invoices/{job_id}")
                response.raise_for_status()
                assert len(response.json()["orders"]) == orders

            async def read_results() -> None:
                assert len([result async for result in jobs.order_results(large)]) == args.orders

            get_large = await median_seconds(lambda: get(large, args.orders))
            get_small = await median_seconds(lambda: get(small, 100))
            store_read = await median_seconds(read_results)
        print(f"GET of the {args.orders:,}-order job:   {get_large * 1000:6.0f} ms (median of {REPEATS})")
        print(f"  of which the store read alone: {store_read * 1000:6.0f} ms (in this process)")
        print(f"GET of a 100-order job:         {get_small * 1000:6.0f} ms")
    finally:
        api.stop()
        await mongo.drop_database(settings.mongo_database)
        await mongo.close()


if __name__ == "__main__":
    asyncio.run(main())
