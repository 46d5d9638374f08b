"""The job results' pages on the real MongoDB-wire server: what only the store shows (concurrent writers
of one page, the move of results stored one document per order into pages)."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from infra.db import ensure_indexes
from infra.jobs import PAGE_SIZE, JobRepository
from infra.records import OrderOutcome
from infra.settings import Settings
from schemas.api import JobStatus, JobType, OrderResultStatus
from streams.failures import retrying_transient

pytestmark = pytest.mark.integration


@pytest.fixture
async def own_db(settings: Settings) -> AsyncIterator[Any]:
    """A database of this test alone: the move runs once per database."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url.get_secret_value(), tz_aware=True)
    name = f"{settings.mongo_database}-pages-{uuid.uuid4().hex[:8]}"
    yield client[name]
    await client.drop_database(name)
    await client.close()


def success(job_id: str, order_id: str, position: int) -> OrderOutcome:
    return OrderOutcome("t", job_id, order_id, OrderResultStatus.SUCCESS, "done", f"N-{position}", position=position)


async def test_two_writers_of_one_page_lose_no_result(own_db: Any) -> None:
    await ensure_indexes(own_db)
    first, second = JobRepository(own_db), JobRepository(own_db)
    order_ids = [f"o{n}" for n in range(PAGE_SIZE)]
    await first.create(tenant="t", job_id="j", job_type=JobType.MANUAL, order_ids=order_ids)
    await first.record_planned(tenant="t", job_id="j", total=len(order_ids), first_position=0, order_ids=order_ids)

    # Each writer folds every other result of the same page, one result per write, both at once; and
    # both fold the last ten (a partition handed over while its old owner finishes a batch).
    async def fold(writer: JobRepository, places: list[int]) -> None:
        for n in places:
            async for attempt in retrying_transient():  # as the projection agent folds: PageContention is transient
                with attempt:
                    await writer.record_results([success("j", order_ids[n], n)])

    last_ten = list(range(PAGE_SIZE - 10, PAGE_SIZE))
    await asyncio.gather(
        fold(first, list(range(0, PAGE_SIZE - 10, 2)) + last_ten),
        fold(second, list(range(1, PAGE_SIZE - 10, 2)) + last_ten),
    )
    statuses = [result.status async for result in first.order_results("j")]
    assert statuses == [OrderResultStatus.SUCCESS] * PAGE_SIZE
    job = await first.get("t", "j")
    assert job is not None and job.status is JobStatus.DONE
    assert (job.finished_orders, job.succeeded_orders) == (PAGE_SIZE, PAGE_SIZE)


async def test_results_stored_one_document_per_order_move_into_pages_once(own_db: Any) -> None:
    jobs = JobRepository(own_db)
    await jobs.create(tenant="t", job_id="old", job_type=JobType.MANUAL, order_ids=["a", "b", "c", "d"])
    legacy = [
        {"_id": "old:a", "tenant": "t", "jobId": "old", "orderId": "a", "position": 0, "status": "SUCCESS",
         "message": "Invoice N-1 created", "invoiceNumber": "N-1"},
        {"_id": "old:b", "tenant": "t", "jobId": "old", "orderId": "b", "position": 1, "status": "FAILURE",
         "message": "no lines", "invoiceNumber": None},
        {"_id": "old:c", "tenant": "t", "jobId": "old", "orderId": "c", "position": 2, "status": "PENDING"},
        # A result that overtook its plan (stored at place -1): after the planned places.
        {"_id": "old:d", "tenant": "t", "jobId": "old", "orderId": "d", "position": -1, "status": "SUCCESS",
         "message": "Invoice N-2 created", "invoiceNumber": "N-2"},
    ]  # fmt: skip
    await own_db.job_orders.insert_many(legacy)
    await ensure_indexes(own_db)

    assert await jobs.migrate_results_to_pages() == 4
    results = [(r.order_id, r.status.value, r.message, r.invoice_number) async for r in jobs.order_results("old")]
    assert results == [
        ("a", "SUCCESS", "Invoice N-1 created", "N-1"),
        ("b", "FAILURE", "no lines", None),
        ("c", "PENDING", None, None),
        ("d", "SUCCESS", "Invoice N-2 created", "N-2"),
    ]
    assert "job_orders" not in await own_db.list_collection_names()
    # The job goes on: the pending order's result, from a request that carried no place, lands in place.
    await jobs.record_planned(tenant="t", job_id="old", total=4, first_position=0, order_ids=["a", "b", "c", "d"])
    outcome = OrderOutcome("t", "old", "c", OrderResultStatus.SUCCESS, "Invoice N-3 created", "N-3", position=None)
    await jobs.record_results([outcome])
    assert [r.status.value async for r in jobs.order_results("old")] == ["SUCCESS", "FAILURE", "SUCCESS", "SUCCESS"]
    # Once per database: a later start finds the marker and moves nothing.
    await own_db.job_orders.insert_one(legacy[0])
    assert await jobs.migrate_results_to_pages() == 0
