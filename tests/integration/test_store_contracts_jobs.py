"""The store contract (tests/integration/store_contracts.py) over the in-memory fake and the MongoDB adapter:
the job store."""

from datetime import UTC, datetime

import pytest

from infra.records import (
    JobExists,
    JobFilter,
    PageKey,
)
from schemas.api import JobStatus, JobTrigger, JobType, OrderResultStatus
from schemas.settings import InvoiceSettings
from tests.integration.store_contracts import FINISHED, STARTED, UNRECORDED, Stores, new_id, outcome

pytestmark = pytest.mark.integration


# --- jobs ------------------------------------------------------------------------------------------


async def test_a_job_is_read_back_typed_and_only_by_its_tenant(stores: Stores, tenant: str) -> None:
    job_id = new_id()
    await stores.jobs.create(tenant=tenant, job_id=job_id, job_type=JobType.MANUAL, order_ids=["a", "b"])
    job = await stores.jobs.get(tenant, job_id)
    assert job is not None
    assert (job.job_type, job.status, tuple(job.requested_order_ids), job.total_orders, job.finished_orders) == (
        JobType.MANUAL, JobStatus.IN_PROGRESS, ("a", "b"), None, 0,
    )  # fmt: skip
    assert await stores.jobs.get("other" + tenant[:8], job_id) is None
    assert not await stores.jobs.withdraw("other" + tenant[:8], job_id)
    assert await stores.jobs.get(tenant, job_id) is not None
    assert await stores.jobs.withdraw(tenant, job_id)
    assert await stores.jobs.get(tenant, job_id) is None


async def test_a_job_starts_only_for_its_tenant_type_and_request_and_is_then_never_withdrawn(
    stores: Stores, tenant: str
) -> None:
    jobs, job_id = stores.jobs, new_id()
    await jobs.create(tenant=tenant, job_id=job_id, job_type=JobType.MANUAL, order_ids=["a"], request_digest="d1")
    assert await jobs.start("other" + tenant[:8], job_id, JobType.MANUAL, "d1") is UNRECORDED
    assert await jobs.start(tenant, job_id, JobType.AUTOMATIC, "d1") is UNRECORDED
    assert await jobs.start(tenant, job_id, JobType.MANUAL, "forged") is UNRECORDED
    assert await jobs.start(tenant, new_id(), JobType.MANUAL, "d1") is UNRECORDED
    assert await jobs.start(tenant, job_id, JobType.MANUAL, "d1") is STARTED
    assert await jobs.start(tenant, job_id, JobType.MANUAL, "d1") is STARTED  # a redelivery
    assert not await jobs.withdraw(tenant, job_id)  # started: it goes on
    assert await jobs.get(tenant, job_id) is not None
    # A job recorded without a digest (a scheduled one) is bound to the first request that starts it.
    scheduled = new_id()
    await jobs.create(tenant=tenant, job_id=scheduled, job_type=JobType.AUTOMATIC, order_ids=())
    assert await jobs.start(tenant, scheduled, JobType.AUTOMATIC, "first") is STARTED
    assert await jobs.start(tenant, scheduled, JobType.AUTOMATIC, "second") is UNRECORDED
    assert await jobs.start(tenant, scheduled, JobType.AUTOMATIC, "first") is STARTED


async def test_a_withdrawn_job_is_gone_and_a_finished_one_says_so(stores: Stores, tenant: str) -> None:
    jobs, withdrawn, finished = stores.jobs, new_id(), new_id()
    await jobs.create(tenant=tenant, job_id=withdrawn, job_type=JobType.MANUAL, order_ids=["a"], request_digest="d")
    assert await jobs.withdraw(tenant, withdrawn)
    assert await jobs.start(tenant, withdrawn, JobType.MANUAL, "d") is UNRECORDED
    assert await jobs.planned_by(tenant, withdrawn, "a") is None
    await jobs.create(tenant=tenant, job_id=finished, job_type=JobType.MANUAL, order_ids=["a"], request_digest="d")
    assert await jobs.planned_by(tenant, finished, "a") == (JobType.MANUAL, JobStatus.IN_PROGRESS)
    await jobs.record_planned(tenant=tenant, job_id=finished, total=1, first_position=0, order_ids=["a"])
    await jobs.record_results([outcome(tenant, finished, "a", at=0)])
    assert await jobs.start(tenant, finished, JobType.MANUAL, "d") is FINISHED
    assert await jobs.start(tenant, finished, JobType.MANUAL, "forged") is UNRECORDED
    assert await jobs.planned_by(tenant, finished, "a") == (JobType.MANUAL, JobStatus.DONE)


async def test_a_job_holds_the_orders_it_was_asked_for_and_an_automatic_one_its_claims(
    stores: Stores, tenant: str
) -> None:
    jobs, manual, automatic = stores.jobs, new_id(), new_id()
    await jobs.create(tenant=tenant, job_id=manual, job_type=JobType.MANUAL, order_ids=["a", "b"])
    assert await jobs.planned_by(tenant, manual, "b") == (JobType.MANUAL, JobStatus.IN_PROGRESS)
    assert await jobs.planned_by(tenant, manual, "c") is None
    assert await jobs.planned_by("other" + tenant[:8], manual, "a") is None
    await jobs.create(tenant=tenant, job_id=automatic, job_type=JobType.AUTOMATIC, order_ids=())
    assert await jobs.planned_by(tenant, automatic, "any") == (JobType.AUTOMATIC, JobStatus.IN_PROGRESS)
    await stores.claims.claim(tenant=tenant, job_id=automatic, order_ids=["x"])
    assert await stores.claims.holds(tenant=tenant, job_id=automatic, order_id="x")
    assert not await stores.claims.holds(tenant=tenant, job_id=manual, order_id="x")
    assert not await stores.claims.holds(tenant=tenant, job_id=automatic, order_id="y")
    await stores.claims.release(tenant=tenant, job_id=automatic, order_id="x")
    assert not await stores.claims.holds(tenant=tenant, job_id=automatic, order_id="x")


async def test_an_email_request_starts_once_recorded_until_done_and_is_withdrawn_only_unstarted(
    stores: Stores, tenant: str
) -> None:
    invoices, r1, r2 = stores.invoices, new_id(), new_id()
    for request_id in (r1, r2):
        await invoices.record_email_request(
            tenant=tenant, request_id=request_id, invoice_number="INV-1", order_id="o-1", request_digest="d"
        )
    assert await invoices.start_email_request("other" + tenant[:8], r1, "d") is UNRECORDED
    assert await invoices.start_email_request(tenant, r1, "forged") is UNRECORDED
    assert await invoices.start_email_request(tenant, new_id(), "d") is UNRECORDED
    assert await invoices.start_email_request(tenant, r1, "d") is STARTED
    assert not await invoices.withdraw_email_request(tenant, r1)
    await invoices.finish_email_request(tenant, r1)
    assert await invoices.start_email_request(tenant, r1, "d") is FINISHED  # a replay sends nothing
    assert not await invoices.withdraw_email_request("other" + tenant[:8], r2)
    assert await invoices.withdraw_email_request(tenant, r2)
    assert await invoices.start_email_request(tenant, r2, "d") is UNRECORDED


async def test_results_are_counted_once_and_finish_the_job(stores: Stores, tenant: str) -> None:
    job_id = new_id()
    await stores.jobs.create(tenant=tenant, job_id=job_id, job_type=JobType.MANUAL, order_ids=["a", "b", "c"])
    await stores.jobs.record_planned(tenant=tenant, job_id=job_id, total=3, first_position=0, order_ids=["a", "b", "c"])
    await stores.jobs.record_planned(tenant=tenant, job_id=job_id, total=3, first_position=0, order_ids=["a", "b", "c"])
    a, b = outcome(tenant, job_id, "a", at=0), outcome(tenant, job_id, "b", OrderResultStatus.FAILURE, at=1)
    await stores.jobs.record_results([a, b, a])  # a duplicate within the batch
    await stores.jobs.record_results([b])  # a redelivery in a later batch
    job = await stores.jobs.get(tenant, job_id)
    assert job is not None and job.finished_orders == 2 and job.status is JobStatus.IN_PROGRESS
    await stores.jobs.record_results([outcome(tenant, job_id, "c", at=2)])
    job = await stores.jobs.get(tenant, job_id)
    assert job is not None and job.finished_orders == 3 and job.status is JobStatus.DONE
    assert (job.succeeded_orders, job.failed_orders) == (2, 1)
    results = [r async for r in stores.jobs.order_results(job_id)]
    assert [(r.order_id, r.status, r.message, r.invoice_number) for r in results] == [
        ("a", OrderResultStatus.SUCCESS, "a SUCCESS", "N-1"),
        ("b", OrderResultStatus.FAILURE, "b FAILURE", None),
        ("c", OrderResultStatus.SUCCESS, "c SUCCESS", "N-1"),
    ]


async def test_a_result_that_overtakes_its_plan_is_kept_and_counted(stores: Stores, tenant: str) -> None:
    job_id, other_job = new_id(), new_id()
    for each in (job_id, other_job):
        await stores.jobs.create(tenant=tenant, job_id=each, job_type=JobType.MANUAL, order_ids=["a", "b"])
    await stores.jobs.record_planned(tenant=tenant, job_id=other_job, total=2, first_position=0, order_ids=["a", "b"])
    # One batch: a result before its job's plan, and a counted result of another job.
    await stores.jobs.record_results([outcome(tenant, job_id, "b", at=1), outcome(tenant, other_job, "a", at=0)])
    await stores.jobs.record_planned(tenant=tenant, job_id=job_id, total=2, first_position=0, order_ids=["a", "b"])
    await stores.jobs.record_results([outcome(tenant, job_id, "a", at=0)])
    job = await stores.jobs.get(tenant, job_id)
    assert job is not None and job.finished_orders == 2 and job.status is JobStatus.DONE
    other = await stores.jobs.get(tenant, other_job)
    assert other is not None and other.finished_orders == 1 and other.status is JobStatus.IN_PROGRESS
    statuses = {r.order_id: r.status async for r in stores.jobs.order_results(job_id)}
    assert statuses == {"a": OrderResultStatus.SUCCESS, "b": OrderResultStatus.SUCCESS}


async def test_a_result_without_its_place_is_filed_where_the_plan_put_its_order(stores: Stores, tenant: str) -> None:
    job_id = new_id()
    order_ids = [f"o{n}" for n in range(600)]  # more than two pages
    await stores.jobs.create(tenant=tenant, job_id=job_id, job_type=JobType.MANUAL, order_ids=order_ids)
    await stores.jobs.record_planned(tenant=tenant, job_id=job_id, total=600, first_position=0, order_ids=order_ids)
    await stores.jobs.record_results([outcome(tenant, job_id, "o599", at=None), outcome(tenant, job_id, "o3", at=3)])
    results = [r async for r in stores.jobs.order_results(job_id)]
    assert [r.order_id for r in results] == order_ids
    assert [n for n, r in enumerate(results) if r.status is OrderResultStatus.SUCCESS] == [3, 599]
    job = await stores.jobs.get(tenant, job_id)
    assert job is not None and (job.finished_orders, job.succeeded_orders) == (2, 2)
    # An order the plan does not name (its plan lost): kept after the last place, and counted.
    await stores.jobs.record_results([outcome(tenant, job_id, "unplanned", at=None)])
    results = [r async for r in stores.jobs.order_results(job_id)]
    assert [r.order_id for r in results] == [*order_ids, "unplanned"]
    job = await stores.jobs.get(tenant, job_id)
    assert job is not None and job.finished_orders == 3


async def test_a_plan_made_again_from_a_changed_order_list_shows_every_order_once(stores: Stores, tenant: str) -> None:
    job_id = new_id()
    await stores.jobs.create(tenant=tenant, job_id=job_id, job_type=JobType.AUTOMATIC, order_ids=[])
    await stores.jobs.record_planned(tenant=tenant, job_id=job_id, total=3, first_position=0, order_ids=["a", "b", "c"])
    await stores.jobs.record_results([outcome(tenant, job_id, "a", OrderResultStatus.FAILURE, at=0)])
    # The job request redelivered after a's claim was released: planned again as b, c, d; its requests
    # carry those places, while the first plan's requests carry theirs.
    await stores.jobs.record_planned(tenant=tenant, job_id=job_id, total=3, first_position=0, order_ids=["b", "c", "d"])
    await stores.jobs.record_results(
        [outcome(tenant, job_id, "b", at=0), outcome(tenant, job_id, "d", at=2), outcome(tenant, job_id, "c", at=2)]
    )
    statuses = [(r.order_id, r.status) async for r in stores.jobs.order_results(job_id)]
    assert sorted(statuses) == [
        ("a", OrderResultStatus.FAILURE),
        ("b", OrderResultStatus.SUCCESS),
        ("c", OrderResultStatus.SUCCESS),
        ("d", OrderResultStatus.SUCCESS),
    ]
    job = await stores.jobs.get(tenant, job_id)
    assert job is not None and (job.finished_orders, job.failed_orders) == (4, 1)


async def test_results_keep_the_plan_order_across_pages_and_parts(stores: Stores, tenant: str) -> None:
    job_id = new_id()
    order_ids = [f"order-{n:04d}" for n in range(1200)]
    await stores.jobs.create(tenant=tenant, job_id=job_id, job_type=JobType.MANUAL, order_ids=order_ids)
    # The second part planned first, and a batch of results spread over pages, some failed.
    await stores.jobs.record_planned(
        tenant=tenant, job_id=job_id, total=1200, first_position=1000, order_ids=order_ids[1000:]
    )
    failed = set(range(0, 1200, 7))
    batch = [
        outcome(tenant, job_id, order_id, OrderResultStatus.FAILURE if n in failed else OrderResultStatus.SUCCESS, at=n)
        for n, order_id in enumerate(order_ids)
    ]
    await stores.jobs.record_results(batch[::2])
    await stores.jobs.record_planned(
        tenant=tenant, job_id=job_id, total=1200, first_position=0, order_ids=order_ids[:1000]
    )
    await stores.jobs.record_results(batch[1::2] + batch[:10])  # the rest, and a redelivery
    job = await stores.jobs.get(tenant, job_id)
    assert job is not None and job.status is JobStatus.DONE
    assert (job.finished_orders, job.succeeded_orders, job.failed_orders) == (1200, 1200 - len(failed), len(failed))
    results = [r async for r in stores.jobs.order_results(job_id)]
    assert [r.order_id for r in results] == order_ids
    assert {n for n, r in enumerate(results) if r.status is OrderResultStatus.FAILURE} == failed


async def test_an_empty_plan_finishes_the_job(stores: Stores, tenant: str) -> None:
    job_id = new_id()
    await stores.jobs.create(tenant=tenant, job_id=job_id, job_type=JobType.AUTOMATIC, order_ids=[])
    await stores.jobs.record_planned(tenant=tenant, job_id=job_id, total=0, first_position=0, order_ids=[])
    job = await stores.jobs.get(tenant, job_id)
    assert job is not None and job.status is JobStatus.DONE and job.total_orders == 0


async def test_jobs_are_paged_newest_first_by_filter(stores: Stores, tenant: str) -> None:
    made = []
    for job_type in (JobType.MANUAL, JobType.AUTOMATIC, JobType.MANUAL):
        made.append(new_id())
        await stores.jobs.create(tenant=tenant, job_id=made[-1], job_type=job_type, order_ids=[])
    first = await stores.jobs.list_jobs(tenant, JobFilter(), None, 2)
    rest = await stores.jobs.list_jobs(tenant, JobFilter(), PageKey(first[-1].created_at, first[-1].job_id), 2)
    listed = [job.job_id for job in first + rest]
    assert sorted(listed) == sorted(made) and len(set(listed)) == 3
    assert [j.created_at for j in first + rest] == sorted((j.created_at for j in first + rest), reverse=True)
    automatic = await stores.jobs.list_jobs(tenant, JobFilter(job_type=JobType.AUTOMATIC), None, 10)
    assert [job.job_id for job in automatic] == [made[1]]
    assert all(job.trigger is JobTrigger.API for job in first)
    assert await stores.jobs.list_jobs(tenant, JobFilter(status=JobStatus.DONE), None, 10) == []


async def test_a_job_id_is_taken_once_and_scheduled_settings_are_found(stores: Stores, tenant: str) -> None:
    job_id = new_id()
    await stores.jobs.create(
        tenant=tenant, job_id=job_id, job_type=JobType.AUTOMATIC, order_ids=(), trigger=JobTrigger.SCHEDULE
    )
    with pytest.raises(JobExists):
        await stores.jobs.create(tenant=tenant, job_id=job_id, job_type=JobType.AUTOMATIC, order_ids=())
    job = await stores.jobs.get(tenant, job_id)
    assert job is not None and job.trigger is JobTrigger.SCHEDULE

    scheduled = InvoiceSettings(threshold="1", status="COMPLETED", schedule="0 2 * * *", timeZone="Europe/Berlin")
    await stores.tenant_settings.write(tenant, scheduled)
    [found] = [entry for entry in await stores.tenant_settings.scheduled() if entry.tenant == tenant]
    assert found.settings == scheduled and found.since <= datetime.now(UTC)
    await stores.tenant_settings.write(tenant, InvoiceSettings(threshold="1", status="COMPLETED"))
    assert [entry for entry in await stores.tenant_settings.scheduled() if entry.tenant == tenant] == []
