"""Agent "project": folds plans and results into the job documents that GET reads.

Results are folded in batches (up to PROJECTION_BATCH records, or what arrived within
PROJECTION_WAIT_SECONDS): one bulk write of the order results and one counter update per job and
batch, instead of three round trips per order. `take_events` is `take` with the events kept, which the
dead-letter topic needs (topic, partition, offset, bytes); their offsets are committed once the batch is
folded. A batch that meets a defect is folded (and announced) again record by record, so only the
record at fault is dead-lettered (streams/failures.py `run_batch_step`).
"""

from collections.abc import Sequence
from functools import partial
from typing import Any

import faust

from infra.ports import JobStore
from infra.records import OrderOutcome
from infra.settings import Settings
from schemas.api import OrderResultStatus
from schemas.events import JOB_RESULT, JobPlanned, JobResult, OrderFailed, OrderInvoiced
from streams.announcements import Announce
from streams.app import Topics
from streams.failures import parse_or_dead_letter, run_batch_step
from streams.public_events import announce_completed_jobs
from streams.resources import ResourcesProvider
from streams.tracing import traced_batches

PROJECTION_BATCH = 500
PROJECTION_WAIT_SECONDS = 0.5


def outcome_of(result: OrderInvoiced | OrderFailed) -> OrderOutcome:
    if isinstance(result, OrderInvoiced):
        return OrderOutcome(
            tenant=result.tenant,
            job_id=result.jobId,
            order_id=result.orderId,
            status=OrderResultStatus.SUCCESS,
            message=result.message,
            invoice_number=result.invoiceNumber,
            position=result.position,
        )
    return OrderOutcome(
        tenant=result.tenant,
        job_id=result.jobId,
        order_id=result.orderId,
        status=OrderResultStatus.FAILURE,
        message=result.reason,
        position=result.position,
    )


async def fold(jobs: JobStore, results: Sequence[JobResult]) -> None:
    """Fold results in their order: the outcomes between two plans go in one bulk write, and a plan is
    recorded only after the outcomes before it."""
    outcomes: list[OrderOutcome] = []
    for result in results:
        if isinstance(result, JobPlanned):
            await jobs.record_results(outcomes)
            outcomes = []
            await jobs.record_planned(
                tenant=result.tenant,
                job_id=result.jobId,
                total=result.totalOrders,
                first_position=result.firstPosition,
                order_ids=result.orderIds,
            )
        else:
            outcomes.append(outcome_of(result))
    await jobs.record_results(outcomes)


async def fold_batch(jobs: JobStore, events: Sequence[Any]) -> None:
    parsed = [(event, await parse_or_dead_letter(event, JOB_RESULT.validate_json, "job result")) for event in events]
    valid = [(event, result) for event, result in parsed if result is not None]
    await run_batch_step(valid, lambda result: f"projecting a result of job {result.jobId}", partial(fold, jobs))


async def announce_batch(jobs: JobStore, announce: Announce, events: Sequence[Any]) -> None:
    batch = [(event, event) for event in events]
    await run_batch_step(
        batch, lambda _: "announcing the jobs a result completed", partial(announce_completed_jobs, jobs, announce)
    )


def register(app: faust.App, topics: Topics, resources: ResourcesProvider, settings: Settings) -> None:
    @app.agent(topics.order_results.channel, name=f"{__name__}.project_results")
    async def project_results(stream: Any) -> None:
        opened = await resources()
        batches = stream.take_events(PROJECTION_BATCH, within=PROJECTION_WAIT_SECONDS)
        async for events in traced_batches(batches, "project results"):
            await fold_batch(opened.jobs, events)
            await announce_batch(opened.jobs, opened.announce, events)
