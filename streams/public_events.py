"""Publishing the public events of `schemas/public_events.py` on invoice-events, as CloudEvents.

Exactly once from the consumer's point of view: each state change has a deterministic `ce_id` (a hash
of tenant, subject, type and what identifies the change), so a redelivered or retried step that emits
the event again emits the same `ce_id`, and a consumer that keeps the IDs it has seen sees each change
once, across worker crashes. The key is tenant:orderId (tenant:jobId for job events), so one order's
events stay in order on one partition.
"""

from collections import Counter
from collections.abc import Sequence
from typing import Any

from infra.cloud_events import cloud_event_headers as cloud_event_headers
from infra.cloud_events import cloud_event_id as cloud_event_id  # its callers' name here (made in infra)
from infra.ports import JobStore
from schemas.api import JobStatus, OrderResultStatus
from schemas.events import JOB_RESULT
from schemas.public_events import (
    JobCompleted,
    PublicEventT,
)
from streams.announcements import Announce
from streams.app import Topic


def announcer(public_events: Topic[PublicEventT]) -> Announce:
    """What announces a public event on the topic (keyed by the contract: schemas/topics.py)."""

    async def announce(event: PublicEventT) -> None:
        await public_events.publish(event, headers=cloud_event_headers(event))

    return announce


async def announce_completed_jobs(jobs: JobStore, announce: Announce, events: Sequence[Any]) -> None:
    """job.completed for each job of the projected batch that is DONE now. A later batch with a result of
    the same job (a redelivery) announces it again under the same ce_id."""
    job_ids: dict[str, str] = {}
    for event in events:
        try:
            result = JOB_RESULT.validate_json(event.value)
        except ValueError:
            continue  # dead-lettered by the projection
        job_ids[result.jobId] = result.tenant
    for job_id, tenant in job_ids.items():
        job = await jobs.get(tenant, job_id)
        if job is None or job.status is not JobStatus.DONE:
            continue
        statuses = Counter([result.status async for result in jobs.order_results(job_id)])
        await announce(
            JobCompleted(
                tenant=tenant,
                jobId=job_id,
                totalOrders=job.total_orders or 0,
                succeeded=statuses[OrderResultStatus.SUCCESS],
                failed=statuses[OrderResultStatus.FAILURE],
                completedAt=job.updated_at,
            )
        )
