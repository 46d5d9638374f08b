"""Jobs and their per-order results in MongoDB.

A job document holds the job; each order's result is a document of its own in job_orders (`_id`
jobId:orderId), so a job of 50,000 orders stays far below the 16 MB document limit. The projection
agent is the only writer of results and counters (one actor; one job's results on one partition).
"""

from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from infra.db import Document, ignore_duplicates, newest_first_page
from infra.records import Job, JobExists, JobFilter, JobOrderResult, OrderOutcome, PageKey
from schemas.api import JobStatus, JobTrigger, JobType, OrderResultStatus
from schemas.events import utc_now

PENDING = OrderResultStatus.PENDING.value
# The job's counter of each final status, next to finishedOrders (their sum).
STATUS_COUNTERS = {OrderResultStatus.SUCCESS: "succeededOrders", OrderResultStatus.FAILURE: "failedOrders"}


# Updates per bulk write. FerretDB v1 keeps each update's query open until the whole command is done, one
# PostgreSQL connection each: a bulk of more updates than its pool has connections waits for ever on
# itself (it stalled every client with batches of 500). Well below any pool; still one round trip per 20.
BULK_UPDATES = 20


def chunks(operations: list[UpdateOne]) -> list[list[UpdateOne]]:
    return [operations[i : i + BULK_UPDATES] for i in range(0, len(operations), BULK_UPDATES)]


class JobRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.jobs: AsyncCollection[Document] = db.jobs
        self.orders: AsyncCollection[Document] = db.job_orders

    async def create(
        self,
        *,
        tenant: str,
        job_id: str,
        job_type: JobType,
        order_ids: Sequence[str],
        trigger: JobTrigger = JobTrigger.API,
    ) -> None:
        """Raises JobExists when a job has this ID (scheduled jobs have IDs derived from their due time)."""
        now = utc_now()
        try:
            await self._insert(tenant, job_id, job_type, order_ids, trigger, now)
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
    ) -> None:
        await self.jobs.insert_one(
            {
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
        )

    async def delete(self, tenant: str, job_id: str) -> None:
        if await self.get(tenant, job_id) is not None:
            await self.jobs.delete_one({"_id": job_id})

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
        # In few batches: a job has up to 10,000 orders, and each getMore is a round trip (the server
        # still caps a batch at 16 MB). 10,000 results read in 600 ms instead of 690 on the local FerretDB.
        async for doc in self.orders.find({"jobId": job_id}).sort("position", ASCENDING).batch_size(10_000):
            yield JobOrderResult(
                order_id=doc["orderId"],
                status=OrderResultStatus(doc["status"]),
                message=doc.get("message"),
                invoice_number=doc.get("invoiceNumber"),
            )

    async def record_planned(
        self, *, tenant: str, job_id: str, total: int, first_position: int, order_ids: Sequence[str]
    ) -> None:
        """Add PENDING results for one planned part; a redelivered part changes nothing."""
        if order_ids:
            pending = [
                {
                    "_id": f"{job_id}:{order_id}",
                    "tenant": tenant,
                    "jobId": job_id,
                    "orderId": order_id,
                    "position": first_position + offset,
                    "status": PENDING,
                }
                for offset, order_id in enumerate(order_ids)
            ]
            try:
                await self.orders.insert_many(pending, ordered=False)
            except BulkWriteError as error:
                ignore_duplicates(error)
        job = await self.jobs.find_one_and_update(
            {"_id": job_id},
            {"$set": {"totalOrders": total, "updatedAt": utc_now()}},
            return_document=ReturnDocument.AFTER,
        )
        await self._finish_if_complete(job)

    async def record_results(self, outcomes: Sequence[OrderOutcome]) -> None:
        """Set each order's final result once, in one bulk write, and move each job's finished counter by
        the results this batch turned from PENDING, so redelivered results are never counted twice.

        Each update is addressed by `_id` and matches only a PENDING result. When every one matched, the
        counters move by the batch. Otherwise some result was final already (a redelivery) or overtook its
        plan (no PENDING result yet); the bulk result does not say which, so the batch is written again
        as upserts (the same fields: harmless for the rest) and its jobs are recounted, which also repairs
        a counter left behind by a crash between the bulk write and the counter update. (An upsert that
        meets a final result would say which at once, by its duplicate key, but FerretDB v1 answers such a
        bulk in a form PyMongo cannot read.)"""
        if not outcomes:
            return
        pending_only = [
            UpdateOne({"_id": _result_id(outcome), "status": PENDING}, {"$set": _result_fields(outcome)})
            for outcome in outcomes
        ]
        modified = 0
        for chunk in chunks(pending_only):
            modified += (await self.orders.bulk_write(chunk, ordered=False)).modified_count
        recount = modified != len(outcomes)
        if recount:
            upserts = [
                UpdateOne(
                    {"_id": _result_id(outcome)},
                    {"$set": _result_fields(outcome), "$setOnInsert": _placeholder_fields(outcome)},
                    upsert=True,
                )
                for outcome in outcomes
            ]
            for chunk in chunks(upserts):
                await self.orders.bulk_write(chunk, ordered=False)
        counted = Counter(outcome.job_id for outcome in outcomes)
        by_status = Counter((outcome.job_id, outcome.status) for outcome in outcomes)
        now = utc_now()
        for job_id, count in counted.items():
            if recount:
                # Equality on (jobId, status), one count per final status: served by the index, unlike $ne.
                counters = {
                    field: await self.orders.count_documents({"jobId": job_id, "status": status.value})
                    for status, field in STATUS_COUNTERS.items()
                }
                change: Document = {"$set": {"finishedOrders": sum(counters.values()), **counters, "updatedAt": now}}
            else:
                increments = {field: by_status[(job_id, status)] for status, field in STATUS_COUNTERS.items()}
                change = {"$inc": {"finishedOrders": count, **increments}, "$set": {"updatedAt": now}}
            job = await self.jobs.find_one_and_update({"_id": job_id}, change, return_document=ReturnDocument.AFTER)
            await self._finish_if_complete(job)

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


def _result_id(outcome: OrderOutcome) -> str:
    return f"{outcome.job_id}:{outcome.order_id}"


def _result_fields(outcome: OrderOutcome) -> Document:
    return {"status": outcome.status.value, "message": outcome.message, "invoiceNumber": outcome.invoice_number}


def _placeholder_fields(outcome: OrderOutcome) -> dict[str, Any]:
    """A result that overtook its plan: the plan's insert of this order then meets it and leaves it."""
    return {"tenant": outcome.tenant, "jobId": outcome.job_id, "orderId": outcome.order_id, "position": -1}
