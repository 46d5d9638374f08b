"""Timer "schedule": every few seconds, on every worker, start the scheduled AUTOMATIC jobs that are due
(exactly once however many workers run: streams/scheduling.py)."""

from functools import partial

import faust

from infra.settings import Settings
from schemas.events import utc_now
from streams.app import Topics
from streams.failures import run_tick
from streams.resources import ResourcesProvider
from streams.scheduling import ScheduleDeps, start_due_jobs


async def start_scheduled_jobs(topics: Topics, resources: ResourcesProvider) -> None:
    # Each tenant's failure is its own (streams/scheduling.py); what fails for all (the store away while the
    # scheduled tenants are read) is logged and the next tick tries again: a due job is still due then.
    await run_tick("starting the scheduled jobs", partial(start_jobs_due_now, topics, resources))


async def start_jobs_due_now(topics: Topics, resources: ResourcesProvider) -> None:
    opened = await resources()
    request_job = topics.job_requests.publish
    deps = ScheduleDeps(tenant_settings=opened.tenant_settings, jobs=opened.jobs, request_job=request_job)
    await start_due_jobs(deps, utc_now())


def register(app: faust.App, topics: Topics, resources: ResourcesProvider, settings: Settings) -> None:
    async def start_scheduled_jobs_now() -> None:
        await start_scheduled_jobs(topics, resources)

    # Registered without decorator syntax: Faust's timer decorator is untyped, and would make this function so.
    app.timer(interval=settings.schedule_check_seconds, name=f"{__name__}.start_scheduled_jobs")(
        start_scheduled_jobs_now
    )
