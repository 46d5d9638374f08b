"""Scheduled AUTOMATIC jobs: the schedule is validated with a real cron parser; the worker starts the
tenant's AUTOMATIC job at each due time, exactly once across workers and restarts, and a time missed
while no worker ran is made up once."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from infra.jobs import JobRepository
from infra.kafka import KafkaPublisher
from infra.settings import Settings
from infra.tenant_settings import TenantSettingsRepository
from schemas.events import JobRequested
from streams.scheduling import ScheduleDeps, scheduled_job_id, start_due_jobs
from tests.factories import order_event
from tests.integration.flows import finished_job, stored
from tests.support import WorkerProcess, wait_for

pytestmark = pytest.mark.integration

Publish = Callable[..., Awaitable[None]]
# Monthly: for the real clock its latest due time lies before the schedule was set, so the running workers
# leave these tenants alone while a test plays a later clock.
MONTHLY = {"threshold": "24", "status": "COMPLETED", "schedule": "0 2 1 * *", "timeZone": "Europe/Berlin"}


async def test_a_bad_schedule_or_time_zone_is_400_naming_the_field(api: httpx.AsyncClient, tenant: str) -> None:
    path = f"/invoice/{tenant}/settings/invoice"
    for schedule in ("61 * * * *", "0 2 * *", "0 0 2 * * *", "every night"):
        response = await api.put(path, json={**MONTHLY, "schedule": schedule})
        assert response.status_code == 400, (schedule, response.text)
        assert response.json()["message"].startswith("Invalid request: schedule: must be a cron expression"), schedule
    # croniter calls 31 February valid; it never fires, and would fail the scheduler's every tick.
    never = await api.put(path, json={**MONTHLY, "schedule": "0 0 31 2 *"})
    assert never.status_code == 400 and never.json()["message"].startswith("Invalid request: schedule: never fires")
    zone = await api.put(path, json={**MONTHLY, "timeZone": "Mars/Olympus"})
    assert zone.status_code == 400 and "timeZone: must be an IANA time zone" in zone.json()["message"]

    assert (await api.put(path, json=MONTHLY)).status_code == 200
    assert (await api.get(path)).json() == MONTHLY


def schedule_deps(settings: Settings, mongo_db: Any, publisher: KafkaPublisher) -> ScheduleDeps:
    """What one worker's scheduler has: its own adapters over the shared store, and Kafka."""

    async def request_job(request: JobRequested) -> None:
        key = f"{request.tenant}:{request.jobId}"
        await publisher.publish(settings.topic(settings.topic_job_requests), key, request.to_bytes())

    return ScheduleDeps(TenantSettingsRepository(mongo_db), JobRepository(mongo_db), request_job)


async def scheduled_jobs(mongo_db: Any, tenant: str) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = await mongo_db.jobs.find({"tenant": tenant, "trigger": "schedule"}).to_list()
    return jobs


async def test_one_job_per_due_time_across_workers_and_restarts_and_a_missed_time_runs_once(
    api: httpx.AsyncClient, mongo_db: Any, settings: Settings, worker: WorkerProcess, tenant: str
) -> None:
    assert (await api.put(f"/invoice/{tenant}/settings/invoice", json=MONTHLY)).status_code == 200
    publisher = KafkaPublisher(settings)
    first, second = schedule_deps(settings, mongo_db, publisher), schedule_deps(settings, mongo_db, publisher)
    try:
        # Three months on, with no worker in between: 1 Dec, 1 Jan and 1 Feb were missed; one job, for 1 Feb.
        back = datetime.now(UTC) + timedelta(days=95)
        started = await asyncio.gather(start_due_jobs(first, back), start_due_jobs(second, back))
        ours = {job["_id"] for job in await scheduled_jobs(mongo_db, tenant)}
        mine = [job_id for job_ids in started for job_id in job_ids if job_id in ours]
        assert len(mine) == 1  # two workers at one due time: one starts it
        [job] = await scheduled_jobs(mongo_db, tenant)
        due = datetime(back.year, back.month, 1, 1, tzinfo=UTC)  # 02:00 in Berlin (winter) is 01:00 UTC
        assert job["_id"] == scheduled_job_id(tenant, due)
        assert job["jobType"] == "AUTOMATIC"

        # A restart later in the same month: the same due time, no new job.
        await start_due_jobs(first, back + timedelta(hours=5))
        assert len(await scheduled_jobs(mongo_db, tenant)) == 1
        # The next month's time: a new job.
        await start_due_jobs(second, back + timedelta(days=31))
        assert len(await scheduled_jobs(mongo_db, tenant)) == 2
    finally:
        await publisher.close()
    # The requested job is a real AUTOMATIC job: the worker plans it (no orders due) and finishes it.
    done = await finished_job(api, tenant, job["_id"])
    assert done["jobType"] == "AUTOMATIC" and done["totalOrders"] == 0


async def test_two_running_workers_start_an_every_minute_job_once_per_minute_and_it_invoices_due_orders(
    api: httpx.AsyncClient,
    mongo_db: Any,
    worker: WorkerProcess,
    second_worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    tenant: str,
) -> None:
    await publish_orders(tenant, order_event(tenant, "due-1"))
    await stored(stored_order, tenant, "due-1")
    every_minute = {"threshold": "0", "status": "COMPLETED", "schedule": "* * * * *"}
    assert (await api.put(f"/invoice/{tenant}/settings/invoice", json=every_minute)).status_code == 200
    # Set a minute ago, as far as the workers can tell: the current minute is already one of its due times,
    # so their next tick (every second) starts it instead of the test waiting up to a minute for the next.
    # Not in a minute's last seconds, where the job of this minute and of the next could share a createdAt minute.
    now = datetime.now(UTC)
    if now.second >= 55:
        await asyncio.sleep(60.1 - now.second - now.microsecond / 1e6)  # the clock, not the stream
    set_before = {"$set": {"updatedAt": datetime.now(UTC) - timedelta(minutes=1)}}
    assert (await mongo_db.tenant_settings.update_one({"_id": f"{tenant}:invoice"}, set_before)).modified_count == 1

    first_job = await wait_for(
        lambda: first_scheduled(mongo_db, tenant), timeout=60, what="the first scheduled job (this minute's)"
    )
    done = await finished_job(api, tenant, first_job["_id"])
    assert [(o["orderId"], o["orderStatus"]) for o in done["orders"]] == [("due-1", "SUCCESS")]
    # Both workers ticked (every second) over that due time: still one job for its minute.
    minute = first_job["createdAt"].replace(second=0, microsecond=0)
    same_minute = [
        job
        for job in await scheduled_jobs(mongo_db, tenant)
        if job["createdAt"].replace(second=0, microsecond=0) == minute
    ]
    assert len(same_minute) == 1
    await api.put(f"/invoice/{tenant}/settings/invoice", json={"threshold": "0", "status": "COMPLETED"})


async def first_scheduled(mongo_db: Any, tenant: str) -> dict[str, Any] | None:
    jobs = await scheduled_jobs(mongo_db, tenant)
    return min(jobs, key=lambda job: job["createdAt"]) if jobs else None
