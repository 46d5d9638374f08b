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
"""

from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from tenacity import AsyncRetrying, RetryError, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from infra.db import Document, newest_first_page
from infra.ports import RequestState
from infra.records import Job, JobExists, JobFilter, JobOrderResult, OrderOutcome, PageKey
from schemas.api import JobStatus, JobTrigger, JobType, OrderResultStatus
from schemas.events import utc_now

PENDING = OrderResultStatus.PENDING.value
# The job's counter of each final status, next to finishedOrders (their sum); each page counts its own.
STATUS_COUNTERS = {OrderResultStatus.SUCCESS.value: "succeededOrders", OrderResultStatus.FAILURE.value: "failedOrders"}

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


@dataclass
class PageChange:
    """What merging entries into a page changes: the slots to set, the results that became final (by
    status), whether an entry met a final result already there (a redelivery), and the entries whose
    slot holds another order (placed by a plan made again from a changed order list)."""

    entries: dict[str, Document] = field(default_factory=dict)
    finals: Counter[str] = field(default_factory=Counter)
    repeated: bool = False
    misplaced: list[Document] = field(default_factory=list)

    def __iadd__(self, other: "PageChange") -> "PageChange":
        """The counts of changes of several pages together (`entries` stays this page's own)."""
        self.finals += other.finals
        self.repeated = self.repeated or other.repeated
        self.misplaced += other.misplaced
        return self


def merge_entries(slots: Mapping[str, Document], placed: Iterable[tuple[str, Document]]) -> PageChange:
    """Merge `placed` (slot, entry) into a page's `slots`: an entry fills an empty slot, a final result
    also replaces a PENDING one, and nothing replaces a final result, so a redelivered result or plan
    changes nothing. Pure: the caller writes the change."""
    change = PageChange()
    for slot, entry in placed:
        current = change.entries.get(slot, slots.get(slot))
        final = entry["status"] != PENDING
        if current is not None and current["orderId"] != entry["orderId"]:
            change.misplaced.append(entry)
        elif current is None or (final and current["status"] == PENDING):
            change.entries[slot] = entry
            if final:
                change.finals[entry["status"]] += 1
        elif final and current["status"] != PENDING:
            change.repeated = True
    return change


def result_entry(outcome: OrderOutcome) -> Document:
    entry: Document = {"orderId": outcome.order_id, "status": outcome.status.value, "message": outcome.message}
    if outcome.invoice_number is not None:
        entry["invoiceNumber"] = outcome.invoice_number
    return entry


def pending_entry(order_id: str) -> Document:
    return {"orderId": order_id, "status": PENDING}


def legacy_entry(doc: Document) -> Document:
    """The page entry of a result stored as a document of its own (before pages)."""
    entry = pending_entry(doc["orderId"]) | {"status": doc["status"]}
    for name in ("message", "invoiceNumber"):
        if doc.get(name) is not None:
            entry[name] = doc[name]
    return entry


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
                entry = results[slot]
                yield JobOrderResult(
                    order_id=entry["orderId"],
                    status=OrderResultStatus(entry["status"]),
                    message=entry.get("message"),
                    invoice_number=entry.get("invoiceNumber"),
                )

    async def record_planned(
        self, *, tenant: str, job_id: str, total: int, first_position: int, order_ids: Sequence[str]
    ) -> None:
        """Add PENDING results for one planned part; places a result reached first keep it, and a
        redelivered part changes nothing."""
        placed = [(first_position + offset, pending_entry(order_id)) for offset, order_id in enumerate(order_ids)]
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
        placed_by_job: dict[tuple[str, str], list[tuple[int | None, Document]]] = defaultdict(list)
        for outcome in outcomes:
            placed_by_job[(outcome.tenant, outcome.job_id)].append((outcome.position, result_entry(outcome)))
        now = utc_now()
        for (tenant, job_id), placed in placed_by_job.items():
            change = await self._merge(tenant, job_id, placed)
            if change.repeated:
                counters = await self._counted_in_pages(job_id)
                update: Document = {"$set": {"finishedOrders": sum(counters.values()), **counters, "updatedAt": now}}
            else:
                increments = {STATUS_COUNTERS[status]: count for status, count in change.finals.items()}
                update = {"$inc": {"finishedOrders": change.finals.total(), **increments}, "$set": {"updatedAt": now}}
            job = await self.jobs.find_one_and_update({"_id": job_id}, update, return_document=ReturnDocument.AFTER)
            await self._finish_if_complete(job)

    async def _merge(self, tenant: str, job_id: str, placed: Sequence[tuple[int | None, Document]]) -> PageChange:
        """Merge entries at their places, one page write per page. An entry without a place (from a
        request written before places were carried), or whose place holds another order (a plan made
        again from a changed order list, say after a claimed order was released), goes where its order
        already is, or else after the job's last place: every order shows once, and nothing is lost."""
        change = PageChange()
        unplaced = [entry for position, entry in placed if position is None]
        for page, entries in by_page((position, entry) for position, entry in placed if position is not None).items():
            change += await self._merge_into_page(tenant, job_id, page, entries)
        unplaced += change.misplaced
        if not unplaced:
            return change
        positions = await self._positions(job_id)
        after_last = max(positions.values(), default=-1) + 1
        for entry in unplaced:
            if entry["orderId"] not in positions:
                positions[entry["orderId"]], after_last = after_last, after_last + 1
        replaced = [(positions[entry["orderId"]], entry) for entry in unplaced]
        change.misplaced = []
        for page, entries in by_page(replaced).items():
            placed_again = await self._merge_into_page(tenant, job_id, page, entries)
            if placed_again.misplaced:  # another writer filled the place in between: fold the batch again
                raise PageContention(f"job {job_id}: a place changed while its orders were placed")
            change += placed_again
        return change

    async def _merge_into_page(
        self, tenant: str, job_id: str, page: int, entries: list[tuple[str, Document]]
    ) -> PageChange:
        """Merge entries into a page (made when missing): read it, merge, and write the change only if
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
        self, tenant: str, job_id: str, page: int, page_id: str, entries: list[tuple[str, Document]]
    ) -> PageChange:
        stored = await self.pages.find_one({"_id": page_id})
        version = stored["version"] if stored else 0
        change = merge_entries(stored["results"] if stored else {}, entries)
        if change.entries:
            counted = {STATUS_COUNTERS[status]: count for status, count in change.finals.items()}
            # Filtered by the version read, as an upsert: it meets the page's `_id` (DuplicateKeyError)
            # when another version is there, and makes the page when there is none.
            await self.pages.update_one(
                {"_id": page_id, "version": version},
                {
                    "$set": {f"results.{slot}": entry for slot, entry in change.entries.items()},
                    "$inc": {"version": 1, **counted},
                    "$setOnInsert": {"tenant": tenant, "jobId": job_id, "page": page},
                },
                upsert=True,
            )
        return change

    async def _counted_in_pages(self, job_id: str) -> dict[str, int]:
        counters = dict.fromkeys(STATUS_COUNTERS.values(), 0)
        async for page in self.pages.find({"jobId": job_id}, dict.fromkeys(STATUS_COUNTERS.values(), 1)):
            for name in counters:
                counters[name] += page.get(name, 0)
        return counters

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
            placed = [(doc["position"] if doc["position"] >= 0 else None, legacy_entry(doc)) for doc in docs]
            await self._merge(tenant, job_id, placed)
        await legacy.drop()
        await self.db.migrations.update_one(
            {"_id": RESULT_PAGES_MIGRATION}, {"$set": {"done": True, "at": utc_now()}}, upsert=True
        )
        return sum(len(docs) for docs in by_job.values())

    async def _finish_if_complete(self, job: Document | None) -> None:
        if job is None or job["status"] != JobStatus.IN_PROGRESS.value or job["totalOrders"] is None:
            return
        if job["finishedOrders"] >= job["totalOrders"]:
            await self.jobs.update_one(
                {"_id": job["_id"]}, {"$set": {"status": JobStatus.DONE.value, "finishedAt": utc_now()}}
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


def by_page(placed: Iterable[tuple[int, Document]]) -> dict[int, list[tuple[str, Document]]]:
    """Entries at job positions, grouped by page, each with its slot there."""
    pages: dict[int, list[tuple[str, Document]]] = defaultdict(list)
    for position, entry in placed:
        page, slot = page_and_slot(position)
        pages[page].append((slot, entry))
    return pages
