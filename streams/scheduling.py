"""Scheduled AUTOMATIC jobs: each tenant whose invoice settings carry a schedule gets one job per due time.

Exactly once across any number of workers and restarts, without a lock: the job's ID is derived from
the tenant and the due time, so the job is one insert that only the first worker makes; the others meet
JobExists. Only the latest due time is started, so a time missed while no worker ran is made up once.
A due time before the schedule was set is not one of its times. A worker that crashed between the
insert and the job request is mended by the next tick of any worker: a scheduled job still unplanned
after REQUEST_AGAIN_AFTER is requested again (the planner is idempotent for a request seen twice).

Each tenant is on its own: a tenant whose job cannot be started (a schedule stored before the API refused
schedules that never fire, settings that no longer validate, the store failing on its job) is logged
with the tenant, counted in invoice_schedule_failures, and the tick goes on with the other tenants. A
dependency away is not retried within the tick: the next tick, seconds later, tries the tenant again
(its due time is still due then), and a tick that retried would hold up every other tenant meanwhile.
"""

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from infra.metrics import SCHEDULE_FAILURES, tenant_label
from infra.ports import JobStore, TenantSettingsStore
from infra.records import JobExists, ScheduledTenant
from invoicing.schedule import latest_due
from schemas.api import JobTrigger, JobType
from schemas.events import JobRequested, utc_now
from streams.failures import is_transient, log_defect

log = logging.getLogger(__name__)

SCHEDULED_JOBS = uuid.UUID("6c1f5a52-5b0e-4f4e-9d7c-2f0d6f0b8a11")  # namespace of scheduled job IDs
REQUEST_AGAIN_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class ScheduleDeps:
    tenant_settings: TenantSettingsStore
    jobs: JobStore
    request_job: Callable[[JobRequested], Awaitable[None]]


def scheduled_job_id(tenant: str, due: datetime) -> str:
    """The same for every worker that sees this due time: the insert of the job is the exactly-once."""
    return uuid.uuid5(SCHEDULED_JOBS, f"{tenant}@{due.isoformat()}").hex


async def start_due_jobs(deps: ScheduleDeps, now: datetime) -> list[str]:
    """Start each scheduled tenant's job for its latest due time, unless started already; returns the IDs
    of the jobs this call requested."""
    requested = []
    for scheduled in await deps.tenant_settings.scheduled():
        try:
            job_id = await start_due_job(deps, scheduled, now)
        except Exception as error:
            record_failure(scheduled.tenant, error)
            continue
        if job_id is not None:
            requested.append(job_id)
    return requested


def record_failure(tenant: str, error: Exception) -> None:
    if is_transient(error):
        log.warning(
            "scheduled job of tenant %s not started, a dependency is away: %s", tenant, error, extra={"tenant": tenant}
        )
        SCHEDULE_FAILURES.labels("transient", tenant_label(tenant)).inc()
    else:
        log_defect(f"starting the scheduled job of tenant {tenant}", error, tenant=tenant)
        SCHEDULE_FAILURES.labels("defect", tenant_label(tenant)).inc()


async def start_due_job(deps: ScheduleDeps, scheduled: ScheduledTenant, now: datetime) -> str | None:
    settings, tenant = scheduled.settings, scheduled.tenant
    if settings.schedule is None:
        return None
    due = latest_due(settings.schedule, settings.timeZone or "UTC", now)
    if due < scheduled.since:
        return None
    job_id = scheduled_job_id(tenant, due)
    try:
        await deps.jobs.create(
            tenant=tenant, job_id=job_id, job_type=JobType.AUTOMATIC, order_ids=(), trigger=JobTrigger.SCHEDULE
        )
    except JobExists:
        job = await deps.jobs.get(tenant, job_id)
        # Measured on the store's clock (when the job was inserted), not on the schedule's `now`.
        if job is None or job.total_orders is not None or utc_now() - job.created_at < REQUEST_AGAIN_AFTER:
            return None
        log.warning("scheduled job %s unplanned since %s: requested again", job_id, job.created_at)
    # The job selects orders as if requested at its due time, whenever the request is handled.
    request = JobRequested(
        tenant=tenant, jobId=job_id, jobType=JobType.AUTOMATIC, invoiceSettings=settings, requestedAt=due
    )
    await deps.request_job(request)
    log.info("scheduled job started", extra={"tenant": tenant, "job_id": job_id, "due": due.isoformat()})
    return job_id
