"""How the MongoDB-wire store holds up as its collections grow: the service's store operations per order,
and each query the service makes by something other than `_id`, at several collection sizes in one run.

    make services && .venv/bin/python -m bench.store_bench         # 1,000 beside 100,000 documents
    .venv/bin/python -m bench.store_bench --large 20000 --rounds 2  # quicker

Two databases: in each, every collection the service uses holds SMALL (or LARGE) documents of other
tenants (about 1 KB each, like real orders, invoices and job results). Then, in turns, CLIENTS
concurrent clients run the operation mix of invoicing ORDERS orders (the reads and writes the
pipeline, the projection and the order intake make per order, each by `_id`), and each non-`_id`
query runs against the full collections. The figure that matters is the ratio between the sizes: flat
means every operation is an index lookup. FerretDB's explain (PostgreSQL's plan beneath it) is printed
for each non-`_id` query.
"""

import argparse
import asyncio
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from infra.db import ensure_indexes

Document = dict[str, Any]
Timings = dict[str, list[float]]
FILLED = ("orders", "invoices", "job_result_pages", "jobs", "payment_captures", "order_claims")
PADDING = "x" * 600  # brings each document to about 1 KB, as the service's own are


def filler(collection: str, index: int) -> Document:
    # 20 documents per tenant and 100 results per job at any size: a query's answer stays the same size
    # as the collection grows, so only the cost of finding it can change.
    tenant = f"other{index // 20}"
    key = f"{tenant}:fill-{index}"
    common = {"tenant": tenant, "orderId": f"fill-{index}", "padding": PADDING}
    match collection:
        case "orders":
            return {
                "_id": key,
                **common,
                "status": random.choice(["COMPLETED", "SHIPPED", "CREATED"]),
                "awaitingInvoice": index % 3 == 0,
                "deliveredAt": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=index),
            }
        case "invoices":
            return {"_id": key, **common, "seq": index, "number": f"INV-{index:08d}", "jobId": f"job-{index // 100}"}
        case "job_result_pages":
            job, page = f"job-{index // 100}", index % 100
            result = {"orderId": f"fill-{index}", "status": "SUCCESS"}
            page_fields = {"jobId": job, "page": page, "version": 1, "results": {"0": result}}
            return {"_id": f"{job}:{page}", **common, **page_fields}
        case "jobs":
            return {"_id": f"job-fill-{index}", **common, "status": "DONE", "createdAt": datetime.now(UTC)}
        case _:
            return {"_id": key, **common}


async def fill_to(db: AsyncDatabase[Document], size: int) -> None:
    for name in FILLED:
        have = await db[name].estimated_document_count()
        for start in range(have, size, 1000):
            await db[name].insert_many([filler(name, i) for i in range(start, min(size, start + 1000))], ordered=False)


async def order_mix(db: AsyncDatabase[Document], tenant: str, job_id: str, n: int, timings: Timings) -> None:
    """The store operations of one order through the service, each by `_id`: order intake (2), the
    invoice pipeline (10), the projection of its result (4). Each is timed under its name."""
    order_key = f"{tenant}:o{n}"
    now = datetime.now(UTC)

    async def timed(name: str, operation: Awaitable[object]) -> Any:
        started = time.perf_counter()
        result = await operation
        timings.setdefault(name, []).append(time.perf_counter() - started)
        return result

    await timed("find order", db.orders.find_one({"_id": order_key}))
    order = {"_id": order_key, "tenant": tenant, "orderId": f"o{n}", "status": "COMPLETED", "padding": PADDING}
    await timed("insert order", db.orders.insert_one(order))
    await timed("find invoice", db.invoices.find_one({"_id": order_key}))
    await timed("find order", db.orders.find_one({"_id": order_key}))
    for kind in ("sequence", "seller", "logo"):
        await timed("find setting", db.tenant_settings.find_one({"_id": f"{tenant}:{kind}"}))
    await timed("find mark", db.invoice_sequences.find_one({"_id": tenant}))
    seq = n + 1  # each simulated order its own number; the service takes the next after the mark
    invoice = {
        "_id": order_key,
        "tenant": tenant,
        "seq": seq,
        "number": f"B-{seq}",
        "jobId": job_id,
        "padding": PADDING,
    }
    await timed("insert invoice", db.invoices.insert_one(invoice))
    await timed("raise mark", db.invoice_sequences.update_one({"_id": tenant}, {"$max": {"lastSeq": seq}}))
    await timed("update invoice", db.invoices.update_one({"_id": order_key}, {"$set": {"issuedAt": now}}))
    await timed("update invoice", db.invoices.update_one({"_id": order_key}, {"$set": {"emailedAt": now}}))
    # The projection's page write (infra/jobs.py): read the page, then set the slot if the version holds.
    page_key = f"{job_id}:{n // 250}"
    await timed("find result page", db.job_result_pages.find_one({"_id": page_key}))
    result = {f"results.{n % 250}": {"orderId": order_key, "status": "SUCCESS"}}
    await timed(
        "upsert result page",
        db.job_result_pages.update_one(
            {"_id": page_key}, {"$set": result, "$inc": {"version": 1}, "$setOnInsert": {"jobId": job_id}}, upsert=True
        ),
    )
    await timed("count in job", db.jobs.update_one({"_id": job_id}, {"$inc": {"finishedOrders": 1}}))
    await timed("find job", db.jobs.find_one({"_id": job_id}))


async def run_mix(db: AsyncDatabase[Document], orders: int, clients: int) -> tuple[float, Timings]:
    tenant, job_id = f"bench{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    await db.jobs.insert_one({"_id": job_id, "tenant": tenant, "finishedOrders": 0})
    await db.invoice_sequences.insert_one({"_id": tenant, "lastSeq": 0})
    timings: Timings = {}
    queue = iter(range(orders))

    async def client() -> None:
        for n in queue:
            await order_mix(db, tenant, job_id, n, timings)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return orders / (time.perf_counter() - started), timings


# The service's queries by something other than `_id`: collection and filter, for a known key of the fill.
QueryFilter = Callable[[str, str, int], Document]
QUERIES: dict[str, tuple[str, QueryFilter]] = {
    "job results by job": ("job_result_pages", lambda tenant, job, index: {"jobId": job}),
    "invoice by number": ("invoices", lambda tenant, job, index: {"tenant": tenant, "number": f"INV-{index:08d}"}),
    "orders awaiting invoice": (
        "orders",
        lambda tenant, job, index: {"tenant": tenant, "status": "COMPLETED", "awaitingInvoice": True},
    ),
    "claims of a job": ("order_claims", lambda tenant, job, index: {"tenant": tenant, "jobId": job}),
}


def query_filters(size: int) -> dict[str, tuple[str, Document]]:
    index = size // 2
    tenant, job = f"other{index // 20}", f"job-{index // 100}"
    return {name: (collection, make(tenant, job, index)) for name, (collection, make) in QUERIES.items()}


async def per_second(db: AsyncDatabase[Document], collection: str, query: Document, seconds: float) -> float:
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        await db[collection].find(query).to_list()
        count += 1
    return count / (time.perf_counter() - started)


async def plan_summary(db: AsyncDatabase[Document], collection: str, query: Document) -> str:
    """FerretDB's explain: whether it pushed the filter down, and the node types of PostgreSQL's plan."""
    explained = await db.command("explain", {"find": collection, "filter": query}, verbosity="queryPlanner")
    planner = explained.get("queryPlanner", {})
    nodes: list[str] = []

    def walk(plan: Any) -> None:
        if isinstance(plan, dict):
            if "Node Type" in plan:
                nodes.append(plan["Node Type"] + (f" {plan['Index Name']}" if "Index Name" in plan else ""))
            for value in plan.values():
                walk(value)
        elif isinstance(plan, list):
            for value in plan:
                walk(value)

    walk(planner)
    return f"pushdown={explained.get('filterPushdown')} plan={' > '.join(nodes) or planner}"


async def prepared(client: AsyncMongoClient[Document], name: str, size: int) -> AsyncDatabase[Document]:
    db = client[name]
    await ensure_indexes(db)
    await db.orders.create_index([("tenant", 1), ("status", 1), ("awaitingInvoice", 1)])
    await db.order_claims.create_index([("tenant", 1), ("jobId", 1)])
    started = time.perf_counter()
    await fill_to(db, size)
    print(f"{size:,} documents in each of {len(FILLED)} collections of {name} ({time.perf_counter() - started:.0f} s)")
    return db


async def main(mongo_url: str, small: int, large: int, orders: int, clients: int, rounds: int) -> None:
    """Both sizes are measured in turns, round after round, so that whatever else the machine does at the
    time (autovacuum after the fill, other processes) weighs on both alike; medians are compared."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_url, tz_aware=True)
    run = uuid.uuid4().hex[:8]
    sizes = {small: f"bench_store_{run}_small", large: f"bench_store_{run}_large"}
    try:
        databases = {size: await prepared(client, name, size) for size, name in sizes.items()}
        rates: dict[int, list[float]] = {size: [] for size in sizes}
        query_rates: dict[tuple[int, str], list[float]] = {}
        timings: dict[int, Timings] = {size: {} for size in sizes}
        for db in databases.values():
            await run_mix(db, min(50, orders), clients)  # warm-up: connections, caches
        for round_number in range(1, rounds + 1):
            for size, db in databases.items():
                rate, round_timings = await run_mix(db, orders, clients)
                rates[size].append(rate)
                for name, values in round_timings.items():
                    timings[size].setdefault(name, []).extend(values)
                for name, (collection, query) in query_filters(size).items():
                    rate = await per_second(db, collection, query, seconds=1.0)
                    query_rates.setdefault((size, name), []).append(rate)
            figures = ", ".join(f"{size:,} docs {rates[size][-1]:.1f} orders/s" for size in sizes)
            print(f"round {round_number}: {figures}")
        for size, db in databases.items():
            print(f"\n{size:,} documents per collection")
            print(
                f"  operation mix: {statistics.median(rates[size]):7.1f} orders/s "
                f"(median of {rounds}; {clients} clients, 16 operations per order, all by _id)"
            )
            p50s = ", ".join(f"{name} {statistics.median(values) * 1000:.1f}" for name, values in timings[size].items())
            print(f"    p50 ms: {p50s}")
            for name, (collection, query) in query_filters(size).items():
                plan = await plan_summary(db, collection, query)
                rate = statistics.median(query_rates[(size, name)])
                print(f"  {name:<24} {rate:7.1f} queries/s   {plan}")
        ratio = statistics.median(rates[large]) / statistics.median(rates[small])
        print(f"\nratio {large:,} / {small:,} documents: {ratio:.2f} (1.00 is flat; the bar is >= 0.75)")
    finally:
        for name in sizes.values():
            await client.drop_database(name)
        await client.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mongo-url", default="mongodb://127.0.0.1:27017")
    parser.add_argument("--small", type=int, default=1000, help="documents per collection of the small database")
    parser.add_argument("--large", type=int, default=100_000, help="documents per collection of the large database")
    parser.add_argument("--orders", type=int, default=300, help="orders in each round of the operation mix")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.mongo_url, args.small, args.large, args.orders, args.clients, args.rounds))
