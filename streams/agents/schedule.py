"""Timer "schedule": every few seconds, on every worker, start the scheduled AUTOMATIC jobs that are due
(exactly once however many workers run: streams/scheduling.py)."""

import logging

from schemas.events import JobRequested, utc_now
from streams.app import app, job_requests, settings
from streams.failures import is_transient
from streams.resources import worker_resources
from streams.scheduling import ScheduleDeps, start_due_jobs

log = logging.getLogger(__name__)


async def request_job(request: JobRequested) -> None:
    sent = await job_requests.send(key=f"{request.tenant}:{request.jobId}".encode(), value=request.to_bytes())
    await sent


async def start_scheduled_jobs() -> None:
    resources = await worker_resources()
    deps = ScheduleDeps(tenant_settings=resources.tenant_settings, jobs=resources.jobs, request_job=request_job)
    try:
        await start_due_jobs(deps, utc_now())
    except Exception as error:
        # The next tick tries again (a due job is still due then); a timer that raised would stop for good.
        log.log(logging.WARNING if is_transient(error) else logging.ERROR, "scheduled jobs not started", exc_info=error)


# Registered without decorator syntax: Faust's timer decorator is untyped, and would make this function so.
app.timer(interval=settings.schedule_check_seconds)(start_scheduled_jobs)
