"""Publishing the public events of `schemas/public_events.py` on invoice-events, as CloudEvents.

Exactly once from the consumer's point of view: each state change has a deterministic `ce_id` (a hash
of tenant, subject, type and what identifies the change), so a redelivered or retried step that emits
the event again emits the same `ce_id`, and a consumer that keeps the IDs it has seen sees each change
once, across worker crashes. The key is tenant:orderId (tenant:jobId for job events), so one order's
events stay in order on one partition.
"""

import hashlib
from collections import Counter
from collections.abc import Sequence
from typing import Any

from infra.ports import JobStore
from infra.tracing import trace_headers
from schemas.api import JobStatus, OrderResultStatus
from schemas.events import JOB_RESULT, utc_now
from schemas.public_events import (
    CreditNoteEmailed,
    CreditNoteEmailFailed,
    InvoiceEmailed,
    InvoiceEmailFailed,
    InvoiceFailed,
    InvoiceIssued,
    InvoiceOverdue,
    InvoicePaid,
    JobCompleted,
    PublicEventT,
    subject_of,
)
from streams.announcements import Announce
from streams.app import Topic

SPEC_VERSION = b"1.0"
SOURCE = "/invoice-service"


def change_of(event: PublicEventT) -> str:
    """What makes this state change one of a kind: the same change always gives the same text."""
    match event:
        case InvoiceIssued():
            return event.invoiceNumber
        case InvoiceFailed():
            return event.jobId  # an order fails at most once per job
        case InvoiceEmailed():
            return f"{event.invoiceNumber}:{event.emailedAt.isoformat()}"
        case InvoiceEmailFailed():
            return f"{event.invoiceNumber}:{event.retrying}:{event.reason}"
        case CreditNoteEmailed():
            return f"{event.creditNoteNumber}:{event.emailedAt.isoformat()}"
        case CreditNoteEmailFailed():
            return f"{event.creditNoteNumber}:{event.retrying}:{event.reason}"
        case InvoicePaid():
            return event.invoiceNumber  # an invoice is paid once
        case InvoiceOverdue():
            return event.invoiceNumber  # an invoice becomes overdue once
        case JobCompleted():
            return ""  # a job completes once


def cloud_event_id(event: PublicEventT) -> str:
    identity = f"{event.tenant}:{subject_of(event)}:{event.type}:{change_of(event)}"
    return hashlib.sha256(identity.encode()).hexdigest()


def cloud_event_headers(event: PublicEventT) -> list[tuple[str, bytes]]:
    """The CloudEvents Kafka protocol binding, binary content mode: attributes as ce_ headers."""
    return [
        ("ce_specversion", SPEC_VERSION),
        ("ce_id", cloud_event_id(event).encode()),
        ("ce_type", event.type.encode()),
        ("ce_source", f"{SOURCE}/{event.tenant}".encode()),
        ("ce_time", utc_now().isoformat().encode()),
        ("ce_subject", subject_of(event).encode()),
        ("content-type", b"application/json"),
        *trace_headers(),  # CloudEvents' distributed tracing extension: traceparent, tracestate
    ]


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
