"""Jobs and their per-order results in MongoDB.

A job document holds the job and its counters. Its orders' results are kept in pages: documents of up
to PAGE_SIZE results each (`_id` jobId:page), in the job's order, so GET of a 10,000-order job reads 40
documents instead of 10,000, and a job of any size stays far below the 16 MB document limit. An order's
place comes with its result (the plan gives it to the order's request); a result lands in its page,
and the plan fills the places it has not reached yet, so either may come first.

The projection agent is the only writer of results and counters (one actor; one job's results on one
partition). Each page write is a read-modify-write checked by the page's version, so a second writer
(a rebalance hands a partition over while the old owner finishes its batch) makes a write retry, never
lose a result.

The rules themselves (a final result is never replaced, the counters, DONE once every order is final, where
an order without a place goes) are the domain's: invoicing/jobs.py decides, this module loads and stores.
"""

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from tenacity import AsyncRetrying, RetryError, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from infra.db import Document, newest_first_page
from infra.ports import RequestState
from infra.records import Job, JobExists, JobFilter, JobOrderResult, OrderOutcome, PageKey
from invoicing.jobs import JobResultPage, PageChange, ResultCounts, pending, places_for
from invoicing.statuses import JobStatus, JobTrigger, JobType, OrderResultStatus
from schemas.events import utc_now

# The job's counters of final results, next to finishedOrders (their sum); each page counts its own.
COUNTERS = ("succeededOrders", "failedOrders")

# Results per page document. GET reads a job's pages at a cost per result, whatever the page size; the
# projection reads and writes a whole page per batch, so smaller pages make its writes cheaper.
PAGE_SIZE = 250
# Read-modify-write attempts on one page before PageContention (a transient error: the batch is folded
# again). Two writers of one page are rare and brief (a partition changing hands).
PAGE_WRITE_ATTEMPTS = 10
# Once every job's results are in pages: recorded in `migrations` (see migrate_results_to_pages).
RESULT_PAGES_MIGRATION = "job-results-in-pages"


class PageContention(RuntimeError):
    """Another writer changed a page between each read and write of every attempt. Transient
    (streams/failures.py): the batch is folded again, which merges what is not in the page yet."""


def page_and_slot(position: int) -> tuple[int, str]:
    """The page of a job's result at `position`, and its slot there (a string: a field name)."""
    return position // PAGE_SIZE, str(position % PAGE_SIZE)


def counter_fields(counts: ResultCounts) -> dict[str, int]:
    """The stored counters of final results (a page's, or without finishedOrders, the job's)."""
    return {"succeededOrders": counts.succeeded, "failedOrders": counts.failed}


def job_counter_fields(counts: ResultCounts) -> dict[str, int]:
    return {"finishedOrders": counts.finished, **counter_fields(counts)}


def result_entry(result: JobOrderResult) -> Document:
    """A result as its page keeps it (no None fields: a PENDING entry is its order ID and status)."""
    entry: Document = {"orderId": result.order_id, "status": result.status.value}
    if result.message is not None:
        entry["message"] = result.message
    if result.invoice_number is not None:
        entry["invoiceNumber"] = result.invoice_number
    return entry


def stored_result(entry: Document) -> JobOrderResult:
    return JobOrderResult(
        order_id=entry["orderId"],
        status=OrderResultStatus(entry["status"]),
        message=entry.get("message"),
        invoice_number=entry.get("invoiceNumber"),
    )


def outcome_result(outcome: OrderOutcome) -> JobOrderResult:
    return JobOrderResult(outcome.order_id, outcome.status, outcome.message, outcome.invoice_number)


class JobRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db
        self.jobs: AsyncCollection[Document] = db.jobs
        self.pages: AsyncCollection[Document] = db.job_result_pages

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
        """Raises JobExists when a job has this ID (scheduled jobs have IDs derived from their due time).
        `request_digest`: of the JobRequested that will be published (the worker plans only that one)."""
        now = utc_now()
        try:
            await self._insert(tenant, job_id, job_type, order_ids, trigger, now, request_digest)
        except DuplicateKeyError:
            raise JobExists(job_id) from None

    async def _insert(
        self,
        tenant: str,
        job_id: str,
        job_type: JobType,
        order_ids: Sequence[str],
        trigger: JobTrigger,
        now: datetime,
        request_digest: str | None = None,
    ) -> None:
        doc: Document = {
            "_id": job_id,
            "tenant": tenant,
            "jobType": job_type.value,
            "status": JobStatus.IN_PROGRESS.value,
            "requestedOrderIds": list(order_ids),
            "totalOrders": None,
            "finishedOrders": 0,
            "succeededOrders": 0,
            "failedOrders": 0,
            "trigger": trigger.value,
            "createdAt": now,
            "updatedAt": now,
        }
        if request_digest is not None:
            doc["requestDigest"] = request_digest
        await self.jobs.insert_one(doc)

    # --- the request check (the worker) and the withdrawal (the API) --------------------------------
    # One document, two conditional writes: the planner's `start` marks the job started, the API's
    # `withdraw` removes a job not started. Whichever comes first wins, so a job is either planned and
    # answered as created, or withdrawn and never planned (README "Under faults").

    async def start(self, tenant: str, job_id: str, job_type: JobType, request_digest: str) -> RequestState:
        """The planner's check before it plans: STARTED when this tenant has this job in progress, of this
        type, recorded with this request (a job recorded without a digest, say a scheduled one, is bound to
        the first request that starts it), and then marked started, so the API can no longer withdraw it;
        FINISHED when it is that job, done (a redelivery). One update by `_id` (and a read when refused)."""
        job: Document = {"_id": job_id, "tenant": tenant, "jobType": job_type.value}
        started = await self.jobs.update_one(
            job
            | {
                "status": JobStatus.IN_PROGRESS.value,
                "$or": [{"requestDigest": request_digest}, {"requestDigest": {"$exists": False}}],
            },
            {"$set": {"requestDigest": request_digest, "started": True}},
        )
        if started.matched_count == 1:
            return RequestState.STARTED
        done = await self.jobs.find_one(
            job | {"requestDigest": request_digest, "status": JobStatus.DONE.value}, {"_id": 1}
        )
        return RequestState.UNRECORDED if done is None else RequestState.FINISHED

    async def withdraw(self, tenant: str, job_id: str) -> bool:
        """Remove the job unless the planner started it; whether it was removed."""
        removed = await self.jobs.delete_one({"_id": job_id, "tenant": tenant, "started": {"$exists": False}})
        return removed.deleted_count == 1

    async def planned_by(self, tenant: str, job_id: str, order_id: str) -> tuple[JobType, JobStatus] | None:
        """The type and status of this tenant's job, if it may have planned this order: a MANUAL job that
        was asked for it, or any AUTOMATIC one (whose orders are its claims: ClaimStore.holds). One read by
        `_id`, of two fields."""
        doc = await self.jobs.find_one(
            {
                "_id": job_id,
                "tenant": tenant,
                "$or": [{"jobType": JobType.AUTOMATIC.value}, {"requestedOrderIds": order_id}],
            },
            {"jobType": 1, "status": 1},
        )
        return None if doc is None else (JobType(doc["jobType"]), JobStatus(doc["status"]))

    async def get(self, tenant: str, job_id: str) -> Job | None:
        """The job, if it is this tenant's: job IDs are unique across tenants, the check keeps them apart."""
        doc = await self.jobs.find_one({"_id": job_id})
        if doc is None or doc["tenant"] != tenant:
            return None
        return _job(doc)

    async def list_jobs(self, tenant: str, where: JobFilter, after: PageKey | None, limit: int) -> list[Job]:
        """The tenant's jobs, newest first (equality on tenant, and on status or jobType when given: an
        index of infra/db.py serves each)."""
        query: Document = {"tenant": tenant}
        if where.status is not None:
            query["status"] = where.status.value
        if where.job_type is not None:
            query["jobType"] = where.job_type.value
        created: Document = {}
        if where.created_from is not None:
            created["$gte"] = where.created_from
        if where.created_to is not None:
            created["$lt"] = where.created_to
        if created:
            query["createdAt"] = created
        return [_job(doc) for doc in await newest_first_page(self.jobs, query, "createdAt", after, limit)]

    async def order_results(self, job_id: str) -> AsyncIterator[JobOrderResult]:
        async for page in self.pages.find({"jobId": job_id}).sort("page", ASCENDING):
            results = page["results"]
            for slot in sorted(results, key=int):
                yield stored_result(results[slot])

    async def record_planned(
        self, *, tenant: str, job_id: str, total: int, first_position: int, order_ids: Sequence[str]
    ) -> None:
        """Add PENDING results for one planned part; places a result reached first keep it, and a
        redelivered part changes nothing."""
        placed = [(first_position + offset, pending(order_id)) for offset, order_id in enumerate(order_ids)]
        await self._merge(tenant, job_id, placed)
        job = await self.jobs.find_one_and_update(
            {"_id": job_id},
            {"$set": {"totalOrders": total, "updatedAt": utc_now()}},
            return_document=ReturnDocument.AFTER,
        )
        await self._finish_if_complete(job)

    async def record_results(self, outcomes: Sequence[OrderOutcome]) -> None:
        """Set each order's final result once, one page write per page the batch touches, and move each
        job's counters by the results this batch made final, so redelivered results are never counted
        twice.

        A page counts its own final results in the same write, so when a result was final already (a
        redelivery) the job's counters are summed from its pages instead: that also repairs counters a
        crash between a page write and the counter update left behind."""
        placed_by_job: dict[tuple[str, str], list[tuple[int | None, JobOrderResult]]] = defaultdict(list)
        for outcome in outcomes:
            placed_by_job[(outcome.tenant, outcome.job_id)].append((outcome.position, outcome_result(outcome)))
        now = utc_now()
        for (tenant, job_id), placed in placed_by_job.items():
            change = await self._merge(tenant, job_id, placed)
            if change.repeated:
                counts = await self._counted_in_pages(job_id)
                update: Document = {
                    "$set": {"finishedOrders": counts.finished, **counter_fields(counts), "updatedAt": now}
                }
            else:
                update = {"$inc": job_counter_fields(change.finals), "$set": {"updatedAt": now}}
            job = await self.jobs.find_one_and_update({"_id": job_id}, update, return_document=ReturnDocument.AFTER)
            await self._finish_if_complete(job)

    async def _merge(self, tenant: str, job_id: str, placed: Sequence[tuple[int | None, JobOrderResult]]) -> PageChange:
        """Record results at their places, one page write per page. A result without a place, or whose
        place holds another order, goes where the domain puts it (invoicing/jobs.py places_for): this
        reads the job's positions only then."""
        change = PageChange()
        unplaced = [result for position, result in placed if position is None]
        for page, entries in by_page((position, result) for position, result in placed if position is not None).items():
            change += await self._merge_into_page(tenant, job_id, page, entries)
        unplaced += change.misplaced
        if not unplaced:
            return change
        replaced = places_for(await self._positions(job_id), unplaced)
        change.misplaced = []
        for page, entries in by_page(replaced).items():
            placed_again = await self._merge_into_page(tenant, job_id, page, entries)
            if placed_again.misplaced:  # another writer filled the place in between: fold the batch again
                raise PageContention(f"job {job_id}: a place changed while its orders were placed")
            change += placed_again
        return change

    async def _merge_into_page(
        self, tenant: str, job_id: str, page: int, entries: list[tuple[str, JobOrderResult]]
    ) -> PageChange:
        """Record results into a page (made when missing): read it, record, and write the change only if
        the page is still the version read; otherwise, after a random pause (growing with each try, so
        the writer that lost does not keep meeting the other's next write), read again."""
        page_id = f"{job_id}:{page}"
        retrying = AsyncRetrying(
            stop=stop_after_attempt(PAGE_WRITE_ATTEMPTS),
            wait=wait_random_exponential(multiplier=0.005, max=0.2),
            retry=retry_if_exception_type(DuplicateKeyError),
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._merge_once(tenant, job_id, page, page_id, entries)
        except RetryError:
            raise PageContention(f"page {page_id} changed under each of {PAGE_WRITE_ATTEMPTS} writes") from None
        raise AssertionError("unreachable: tenacity either returns, retries or raises")  # pragma: no cover

    async def _merge_once(
        self, tenant: str, job_id: str, page: int, page_id: str, entries: list[tuple[str, JobOrderResult]]
    ) -> PageChange:
        stored = await self.pages.find_one({"_id": page_id})
        version = stored["version"] if stored else 0
        # Only the slots this batch touches are read into the domain's page: the rest are not its concern.
        results = stored["results"] if stored else {}
        touched = {slot: stored_result(results[slot]) for slot, _ in entries if slot in results}
        change = JobResultPage(touched).record(entries)
        if change.entries:
            # Filtered by the version read, as an upsert: it meets the page's `_id` (DuplicateKeyError)
            # when another version is there, and makes the page when there is none.
            await self.pages.update_one(
                {"_id": page_id, "version": version},
                {
                    "$set": {f"results.{slot}": result_entry(result) for slot, result in change.entries.items()},
                    "$inc": {"version": 1, **counter_fields(change.finals)},
                    "$setOnInsert": {"tenant": tenant, "jobId": job_id, "page": page},
                },
                upsert=True,
            )
        return change

    async def _counted_in_pages(self, job_id: str) -> ResultCounts:
        counts = ResultCounts()
        async for page in self.pages.find({"jobId": job_id}, dict.fromkeys(COUNTERS, 1)):
            counts += ResultCounts(page.get("succeededOrders", 0), page.get("failedOrders", 0))
        return counts

    async def _positions(self, job_id: str) -> dict[str, int]:
        """Where each order of the job is, from its pages."""
        return {
            entry["orderId"]: int(page["page"]) * PAGE_SIZE + int(slot)
            async for page in self.pages.find({"jobId": job_id})
            for slot, entry in page["results"].items()
        }

    async def migrate_results_to_pages(self) -> int:
        """Move the results of jobs made before pages (one document per order, in `job_orders`) into
        pages, once per database, and return how many it moved. The worker runs it at start, before its
        agents read anything. A crash part-way leaves the marker unset and the legacy documents in
        place; the next start merges them again, which changes nothing already moved."""
        if await self.db.migrations.find_one({"_id": RESULT_PAGES_MIGRATION}) is not None:
            return 0
        legacy = self.db.job_orders
        by_job: dict[tuple[str, str], list[Document]] = defaultdict(list)
        async for doc in legacy.find({}):
            by_job[(doc["tenant"], doc["jobId"])].append(doc)
        for (tenant, job_id), docs in by_job.items():
            # A result that overtook its plan has position -1: placed as one without a place (after the last).
            placed = [(doc["position"] if doc["position"] >= 0 else None, stored_result(doc)) for doc in docs]
            await self._merge(tenant, job_id, placed)
        await legacy.drop()
        await self.db.migrations.update_one(
            {"_id": RESULT_PAGES_MIGRATION}, {"$set": {"done": True, "at": utc_now()}}, upsert=True
        )
        return sum(len(docs) for docs in by_job.values())

    async def _finish_if_complete(self, doc: Document | None) -> None:
        """Write DONE when the domain says the job, as its counters now stand, is complete."""
        if doc is not None and _job(doc).is_complete:
            await self.jobs.update_one(
                {"_id": doc["_id"]}, {"$set": {"status": JobStatus.DONE.value, "finishedAt": utc_now()}}
            )


def _job(doc: Document) -> Job:
    return Job(
        tenant=doc["tenant"],
        job_id=doc["_id"],
        job_type=JobType(doc["jobType"]),
        status=JobStatus(doc["status"]),
        requested_order_ids=tuple(doc["requestedOrderIds"]),
        total_orders=doc["totalOrders"],
        finished_orders=doc["finishedOrders"],
        created_at=doc["createdAt"],
        updated_at=doc["updatedAt"],
        # Jobs made before the counters existed have none: their summary shows finished orders only.
        succeeded_orders=doc.get("succeededOrders", 0),
        failed_orders=doc.get("failedOrders", 0),
        trigger=JobTrigger(doc.get("trigger", JobTrigger.API.value)),
    )


def by_page(placed: Iterable[tuple[int, JobOrderResult]]) -> dict[int, list[tuple[str, JobOrderResult]]]:
    """Results at job positions, grouped by page, each with its slot there."""
    pages: dict[int, list[tuple[str, JobOrderResult]]] = defaultdict(list)
    for position, entry in placed:
        page, slot = page_and_slot(position)
        pages[page].append((slot, entry))
    return pages
