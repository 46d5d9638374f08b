"""In-memory fakes of the job, order and claim stores."""

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from typing import Any

from infra.ports import RequestState
from infra.records import (
    Job,
    JobExists,
    JobFilter,
    JobOrderResult,
    OrderOutcome,
    PageKey,
    UnreadableOrder,
)
from invoicing.jobs import JobResultPage, pending, places_for
from invoicing.selection import OrderSelection, delivery_instant
from invoicing.statuses import JobStatus, JobTrigger, JobType
from schemas.events import utc_now
from schemas.orders import Order
from tests.memory.paging import newest_first_page, within_period

# --- jobs ------------------------------------------------------------------------------------------


class MemoryJobs:
    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        # Each job's results in one page of the domain, its slots the positions (invoicing/jobs.py).
        self.results: dict[str, JobResultPage] = {}
        self.digests: dict[str, str] = {}  # job ID -> the digest of the request recorded with it
        self.started: set[str] = set()

    async def create(
        self,
        *,
        tenant: str,
        job_id: str,
        job_type: JobType,
        order_ids: Sequence[str],
        trigger: JobTrigger = JobTrigger.API,
        request_digest: str | None = None,
    ) -> None:
        if job_id in self.jobs:
            raise JobExists(job_id)
        now = utc_now()
        self.jobs[job_id] = Job(
            tenant, job_id, job_type, JobStatus.IN_PROGRESS, tuple(order_ids), None, 0, now, now, trigger=trigger
        )
        if request_digest is not None:
            self.digests[job_id] = request_digest

    async def start(self, tenant: str, job_id: str, job_type: JobType, request_digest: str) -> RequestState:
        job = await self.get(tenant, job_id)
        if job is None or job.job_type is not job_type or self.digests.get(job_id, request_digest) != request_digest:
            return RequestState.UNRECORDED
        if job.status is not JobStatus.IN_PROGRESS:
            return RequestState.FINISHED if job_id in self.digests else RequestState.UNRECORDED
        self.digests[job_id] = request_digest
        self.started.add(job_id)
        return RequestState.STARTED

    async def withdraw(self, tenant: str, job_id: str) -> bool:
        if await self.get(tenant, job_id) is None or job_id in self.started:
            return False
        del self.jobs[job_id]
        self.digests.pop(job_id, None)
        return True

    async def planned_by(self, tenant: str, job_id: str, order_id: str) -> tuple[JobType, JobStatus] | None:
        job = await self.get(tenant, job_id)
        if job is None or (job.job_type is JobType.MANUAL and order_id not in job.requested_order_ids):
            return None
        return job.job_type, job.status

    async def list_jobs(self, tenant: str, where: JobFilter, after: PageKey | None, limit: int) -> list[Job]:
        found = [
            (PageKey(job.created_at, job.job_id), job)
            for job in self.jobs.values()
            if job.tenant == tenant
            and where.status in (None, job.status)
            and where.job_type in (None, job.job_type)
            and within_period(job.created_at, where.created_from, where.created_to)
        ]
        return newest_first_page(found, after, limit)

    async def get(self, tenant: str, job_id: str) -> Job | None:
        job = self.jobs.get(job_id)
        return job if job is not None and job.tenant == tenant else None

    async def order_results(self, job_id: str) -> AsyncIterator[JobOrderResult]:
        page = self.results.get(job_id, JobResultPage())
        for slot in sorted(page.slots, key=int):
            yield page.slots[slot]

    async def record_planned(
        self, *, tenant: str, job_id: str, total: int, first_position: int, order_ids: Sequence[str]
    ) -> None:
        self._record(
            job_id, [(first_position + offset, pending(order_id)) for offset, order_id in enumerate(order_ids)]
        )
        job = self.jobs.get(job_id)
        if job is not None:
            self.jobs[job_id] = job.planned(total, utc_now())

    async def record_results(self, outcomes: Sequence[OrderOutcome]) -> None:
        for outcome in outcomes:
            result = JobOrderResult(outcome.order_id, outcome.status, outcome.message, outcome.invoice_number)
            self._record(outcome.job_id, [(outcome.position, result)])
        for job_id in {outcome.job_id for outcome in outcomes}:
            job = self.jobs.get(job_id)
            if job is not None:
                self.jobs[job_id] = job.counted(self.results[job_id].counts, utc_now())

    def _record(self, job_id: str, placed: Sequence[tuple[int | None, JobOrderResult]]) -> None:
        page = self.results.setdefault(job_id, JobResultPage())
        change = page.record((str(position), result) for position, result in placed if position is not None)
        unplaced = [result for position, result in placed if position is None] + change.misplaced
        if unplaced:
            positions = {result.order_id: int(slot) for slot, result in page.slots.items()}
            page.record((str(position), result) for position, result in places_for(positions, unplaced))


# --- orders and claims -----------------------------------------------------------------------------


class MemoryOrders:
    def __init__(self) -> None:
        self.snapshots: dict[str, tuple[datetime, dict[str, Any]]] = {}
        self.invoiced: set[str] = set()  # keys whose orders AUTOMATIC selection no longer reads

    async def store_snapshot(self, *, tenant: str, occurred_at: datetime, order: Order) -> bool:
        key = f"{tenant}:{order.id}"
        stored = self.snapshots.get(key)
        if stored is not None and stored[0] > occurred_at:
            return False
        self.snapshots[key] = (occurred_at, order.model_dump(mode="json", exclude_none=True))
        return True

    def put_raw(self, tenant: str, order_id: str, body: dict[str, Any]) -> None:
        """A snapshot as some older version may have stored it (whether it still parses or not)."""
        self.snapshots[f"{tenant}:{order_id}"] = (utc_now(), body)

    async def get(self, tenant: str, order_id: str) -> Order | None:
        stored = self.snapshots.get(f"{tenant}:{order_id}")
        if stored is None:
            return None
        try:
            return Order.model_validate(stored[1])
        except ValueError as error:
            raise UnreadableOrder(str(error)) from None

    async def select(self, tenant: str, selection: OrderSelection, delivered_before: datetime) -> AsyncIterator[str]:
        for key, (_, body) in list(self.snapshots.items()):
            if not key.startswith(f"{tenant}:") or key in self.invoiced:
                continue
            order = Order.model_validate(body)
            delivered = delivery_instant(order.deliveryDate)
            if (
                order.status in selection.statuses
                and delivered is not None
                and delivered <= delivered_before
                and (not selection.extended_statuses or order.extendedOrderStatus in selection.extended_statuses)
                and selection.site_code in (None, order.siteCode)
            ):
                yield order.id

    async def mark_invoiced(self, tenant: str, order_ids: Iterable[str]) -> None:
        self.invoiced.update(f"{tenant}:{order_id}" for order_id in order_ids)


class MemoryClaims:
    def __init__(self) -> None:
        self.claims: dict[str, str] = {}  # tenant:orderId -> jobId

    async def claim(self, *, tenant: str, job_id: str, order_ids: Iterable[str]) -> None:
        for order_id in order_ids:
            self.claims.setdefault(f"{tenant}:{order_id}", job_id)

    async def claimed_by(self, tenant: str, job_id: str) -> list[str]:
        prefix = f"{tenant}:"
        return sorted(k.removeprefix(prefix) for k, j in self.claims.items() if j == job_id and k.startswith(prefix))

    async def holds(self, *, tenant: str, job_id: str, order_id: str) -> bool:
        return self.claims.get(f"{tenant}:{order_id}") == job_id

    async def release(self, *, tenant: str, job_id: str, order_id: str) -> None:
        key = f"{tenant}:{order_id}"
        if self.claims.get(key) == job_id:
            del self.claims[key]
