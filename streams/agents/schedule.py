"""Timer "schedule": every few seconds, on every worker, start the scheduled AUTOMATIC jobs that are due
(exactly once however many workers run: streams/scheduling.py)."""

from schemas.events import JobRequested, utc_now
from streams.app import app, job_requests, settings
from streams.failures import run_tick
from streams.resources import worker_resources
from streams.scheduling import ScheduleDeps, start_due_jobs


async def request_job(request: JobRequested) -> None:
    sent = await job_requests.send(key=f"{request.tenant}:{request.jobId}".encode(), value=request.to_bytes())
    await sent


async def start_scheduled_jobs() -> None:
    # Each tenant's failure is its own (streams/scheduling.py); what fails for all (the store away while the
    # scheduled tenants are read) is logged and the next tick tries again: a due job is still due then.
    await run_tick("starting the scheduled jobs", start_jobs_due_now)


async def start_jobs_due_now() -> None:
    resources = await worker_resources()
    deps = ScheduleDeps(tenant_settings=resources.tenant_settings, jobs=resources.jobs, request_job=request_job)
    await start_due_jobs(deps, utc_now())


# Registered without decorator syntax: Faust's timer decorator is untyped, and would make this function so.
app.timer(interval=settings.schedule_check_seconds)(start_scheduled_jobs)
