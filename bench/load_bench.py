"""Load on one API process: GET job requests and POST jobs at fixed rates, open loop, for a fixed time.

    make services && .venv/bin/python -m bench.load_bench                  # 200 GET/s + 20 POST/s for 60 s

Starts the API as a real process (`python -m cli api`, uvicorn, one worker) on 127.0.0.1 with its own
topic prefix and database, creates some jobs to read, then issues requests on a fixed schedule whatever
the answers take (open loop: a slow answer does not slow the load, so latencies are not flattered by
coordinated omission; each one counts from when its request was due). No stream worker runs: the POSTed
jobs stay IN_PROGRESS, which is all a GET needs. Prints, per operation, p50/p95/p99/max, errors by status,
how many requests went out late or not at all, and the API process's peak RSS; then whether it held.
"""

import argparse
import asyncio
import contextlib
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import psutil
from pymongo import AsyncMongoClient

from infra.clients import SCOPES
from infra.settings import Settings
from infra.tokens import TokenService
from tests.support import ApiProcess, Endpoints, env_for, settings_for

LOCAL = Endpoints("127.0.0.1:9092", "mongodb://127.0.0.1:27017", "http://127.0.0.1:9000", "minioadmin", "minioadmin")
LATE_SECONDS = 0.010  # a request issued more than this after it was due counts as late
MAX_IN_FLIGHT = 2_000  # past this many unanswered requests, a due request is counted missed, not issued
RSS_LIMIT = 300 * 1024 * 1024


@dataclass
class Operation:
    name: str
    rate: float
    latencies: list[float] = field(default_factory=list)
    due_times: list[float] = field(default_factory=list)  # beside latencies: when each request was due
    statuses: Counter[str] = field(default_factory=Counter)
    late: int = 0
    missed: int = 0
    scheduled: int = 0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def run_schedule(op: Operation, duration: float, request: Any, in_flight: set[asyncio.Task[None]]) -> None:
    """Issue op.rate requests per second for `duration` seconds, each on its due time, not waiting for answers."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    count = int(op.rate * duration)
    for index in range(count):
        due = start + index / op.rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)  # the schedule itself: wait for the next request's due time
        op.scheduled += 1
        if loop.time() - due > LATE_SECONDS:
            op.late += 1
        if len(in_flight) >= MAX_IN_FLIGHT:
            op.missed += 1
            continue
        task = asyncio.create_task(timed(op, due, request))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)


async def timed(op: Operation, due: float, request: Any) -> None:
    loop = asyncio.get_running_loop()
    try:
        async with request() as response:
            await response.read()
            op.statuses[str(response.status)] += 1
    except (aiohttp.ClientError, TimeoutError) as error:
        op.statuses[type(error).__name__] += 1
    op.latencies.append(loop.time() - due)
    op.due_times.append(due)


async def sample_rss(pid: int, stop: asyncio.Event, peak: list[int]) -> None:
    process = psutil.Process(pid)
    while not stop.is_set():
        peak[0] = max(peak[0], process.memory_info().rss)
        cpu = process.cpu_times()
        peak[1] = int((cpu.user + cpu.system) * 1000)  # CPU milliseconds used so far
        with contextlib.suppress(TimeoutError):  # the sampling interval, unless stopped first
            await asyncio.wait_for(stop.wait(), timeout=0.25)


async def load(api: ApiProcess, settings: Settings, args: argparse.Namespace) -> tuple[list[Operation], int]:
    tenant = f"load{uuid.uuid4().hex[:8]}"
    token, _ = TokenService(settings).issue(client_id="load-bench", tenant=tenant, scopes=frozenset(SCOPES))
    # aiohttp, not httpx: at these rates httpx's own CPU per request made the load generator the bottleneck.
    async with aiohttp.ClientSession(
        base_url=api.url,
        headers={"Authorization": f"Bearer {token}"},
        connector=aiohttp.TCPConnector(limit=512),
        timeout=aiohttp.ClientTimeout(total=30),
    ) as http:
        jobs_url = f"/invoice/{tenant}/jobs/invoices"
        job_ids = []
        for index in range(args.jobs):
            order_ids = [f"order-{index}-{n}" for n in range(3)]
            async with http.post(jobs_url, json={"jobType": "MANUAL", "orderIds": order_ids}) as created:
                created.raise_for_status()
                job_ids.append((await created.json())["jobId"])
        posted = 0

        def get_job() -> Any:
            return http.get(f"{jobs_url}/{job_ids[int(time.monotonic() * 1000) % len(job_ids)]}")

        def post_job() -> Any:
            nonlocal posted
            posted += 1
            return http.post(jobs_url, json={"jobType": "MANUAL", "orderIds": [f"new-{posted}-{n}" for n in range(3)]})

        assert api.process is not None
        peak = [0, 0]  # peak RSS in bytes, CPU milliseconds used
        stop = asyncio.Event()
        cpu_before = psutil.Process(api.process.pid).cpu_times()
        sampler = asyncio.create_task(sample_rss(api.process.pid, stop, peak))
        get, post = Operation("GET job", args.get_rate), Operation("POST job", args.post_rate)
        in_flight: set[asyncio.Task[None]] = set()
        await asyncio.gather(
            run_schedule(get, args.duration, get_job, in_flight),
            run_schedule(post, args.duration, post_job, in_flight),
        )
        if in_flight:
            await asyncio.wait(in_flight, timeout=60)
        stop.set()
        await sampler
    cpu_ms = peak[1] - int((cpu_before.user + cpu_before.system) * 1000)
    print(
        f"CPU in the run: API process {cpu_ms / 1000:.1f} s, this load generator {time.process_time():.1f} s; "
        f"machine load average {', '.join(f'{load:.1f}' for load in psutil.getloadavg())} on {psutil.cpu_count()} CPUs"
    )
    return [get, post], peak[0]


def timeline(operations: list[Operation], window: float = 10.0) -> None:
    """p99 of all requests by the window they were due in: shows whether a miss is a stall or a trend."""
    samples = [(due, latency) for op in operations for due, latency in zip(op.due_times, op.latencies, strict=True)]
    if not samples:
        return
    start = min(due for due, _ in samples)
    windows: dict[int, list[float]] = {}
    for due, latency in samples:
        windows.setdefault(int((due - start) // window), []).append(latency * 1000)
    print(
        f"p99 ms per {window:.0f} s window: "
        + ", ".join(f"{int(i * window)}s {percentile(ms, 0.99):.0f}" for i, ms in sorted(windows.items()))
    )


def report(operations: list[Operation], peak_rss: int, duration: float) -> bool:
    timeline(operations)
    held = True
    for op in operations:
        answered = len(op.latencies)
        ok = sum(count for status, count in op.statuses.items() if status.startswith("2"))
        errors = {status: count for status, count in op.statuses.items() if not status.startswith("2")}
        ms = [latency * 1000 for latency in op.latencies]
        print(
            f"{op.name:9} target {op.rate:.0f}/s: {op.scheduled} due, "
            f"{answered} answered ({answered / duration:.1f}/s), "
            f"{ok} ok, errors {errors or 'none'}, late {op.late}, missed {op.missed}; latency ms "
            f"p50 {percentile(ms, 0.50):.1f}  p95 {percentile(ms, 0.95):.1f}  p99 {percentile(ms, 0.99):.1f}  "
            f"max {max(ms, default=float('nan')):.1f}  mean {statistics.fmean(ms) if ms else float('nan'):.1f}"
        )
        # Held: every due request went out, at most 1 % of them late, every one answered 2xx.
        held = held and op.missed == 0 and op.late <= op.scheduled / 100 and ok == op.scheduled
    print(f"API peak RSS {peak_rss / 1024 / 1024:.0f} MB (limit {RSS_LIMIT / 1024 / 1024:.0f} MB)")
    held = held and peak_rss <= RSS_LIMIT
    print("held the rates within the limits" if held else "did NOT hold the rates within the limits")
    return held


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--get-rate", type=float, default=200.0, help="GET job requests per second")
    parser.add_argument("--post-rate", type=float, default=20.0, help="POST job requests per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--jobs", type=int, default=200, help="jobs created first, for the GETs to read")
    args = parser.parse_args()

    run_id = uuid.uuid4().hex[:10]
    # Local storage: nothing here makes or links a PDF. WARNING: a log line per request is not the load.
    # The load is one tenant's at 20 jobs/s: far beyond its job quota, which this is not about.
    env = env_for(
        LOCAL,
        f"load-{run_id}",
        INVOICE_STORAGE="local",
        INVOICE_LOG_LEVEL="WARNING",
        INVOICE_QUOTA_JOBS_PER_MINUTE="1000000",
    )
    settings = settings_for(env)
    api = ApiProcess(env, f"bench-api-{run_id}")
    api.start()
    try:
        operations, peak_rss = await load(api, settings, args)
    finally:
        api.stop()
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url.get_secret_value())
        await mongo.drop_database(settings.mongo_database)
        await mongo.close()
    print(f"one API process (uvicorn), {args.duration:.0f} s, open loop; latency counted from each request's due time")
    report(operations, peak_rss, args.duration)


if __name__ == "__main__":
    asyncio.run(main())
