"""One contract, two implementations: every test here runs against the MongoDB adapter of a port (on
the real MongoDB-wire server) and against its in-memory fake (tests/memory.py), so the fakes the unit
tests use behave like what the worker and the API use. Each test works in a fresh tenant of the run's
own database, which is dropped after the run."""

import asyncio
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from PIL import Image

from infra.captures import PaymentCaptures
from infra.claims import OrderClaims
from infra.credit_notes import CreditNoteRepository
from infra.db import ensure_indexes
from infra.invoices import InvoiceRepository
from infra.jobs import JobRepository
from infra.limits import COLLECTION as COUNTERS
from infra.limits import MongoWindowedCounters, WindowCount, WindowedCounters, counter_id, window_start
from infra.orders import OrderRepository
from infra.ports import (
    CaptureStore,
    ClaimStore,
    CreditNoteStore,
    JobStore,
    OrderStore,
    RequestState,
    TenantSettingsStore,
)
from infra.records import (
    CaptureRecord,
    CreditRaced,
    InvoiceFilter,
    JobExists,
    JobFilter,
    NumberInUse,
    NumberTaken,
    OrderOutcome,
    PageKey,
    RefundState,
    RefundStatus,
    UnreadableOrder,
)
from infra.tenant_settings import TenantSettingsRepository
from invoicing.document import DEFAULT_SELLER, build_invoice_document
from invoicing.logo import check_logo
from invoicing.recalculation import recalculate
from invoicing.selection import OrderSelection
from schemas.api import CreditNoteStatus, EmailStatus, JobStatus, JobTrigger, JobType, OrderResultStatus
from schemas.orders import OrderStatus, parse_order_event
from schemas.settings import InvoiceSettings, SequenceSettings
from tests.factories import encoded, order_event
from tests.memory import (
    MemoryCaptures,
    MemoryClaims,
    MemoryCreditNotes,
    MemoryInvoices,
    MemoryJobs,
    MemoryOrders,
    MemoryTenantSettings,
    MemoryWindowedCounters,
)

pytestmark = pytest.mark.integration

STARTED, FINISHED, UNRECORDED = RequestState.STARTED, RequestState.FINISHED, RequestState.UNRECORDED


@dataclass
class Stores:
    kind: str
    jobs: JobStore
    orders: OrderStore
    claims: ClaimStore
    invoices: MemoryInvoices | InvoiceRepository  # both ports: InvoiceStore and InvoiceNumbers
    captures: CaptureStore
    tenant_settings: TenantSettingsStore
    credit_notes: CreditNoteStore
    raw_db: Any = None

    async def put_unreadable_order(self, tenant: str, order_id: str) -> None:
        body = {"id": order_id, "status": "NO-SUCH-STATUS"}
        if isinstance(self.orders, MemoryOrders):
            self.orders.put_raw(tenant, order_id, body)
        else:
            await self.raw_db.orders.insert_one({"_id": f"{tenant}:{order_id}", "tenant": tenant, "order": body})


@pytest.fixture(params=["memory", "mongo"])
async def stores(request: pytest.FixtureRequest, mongo_db: Any) -> Stores:
    if request.param == "memory":
        return Stores(
            "memory", MemoryJobs(), MemoryOrders(), MemoryClaims(), MemoryInvoices(), MemoryCaptures(),
            MemoryTenantSettings(), MemoryCreditNotes(),
        )  # fmt: skip
    await ensure_indexes(mongo_db)
    return Stores(
        "mongo",
        JobRepository(mongo_db),
        OrderRepository(mongo_db),
        OrderClaims(mongo_db),
        InvoiceRepository(mongo_db),
        PaymentCaptures(mongo_db),
        TenantSettingsRepository(mongo_db),
        CreditNoteRepository(mongo_db),
        raw_db=mongo_db,
    )


def new_id() -> str:
    return uuid.uuid4().hex


def outcome(
    tenant: str,
    job_id: str,
    order_id: str,
    status: OrderResultStatus = OrderResultStatus.SUCCESS,
    *,
    at: int | None,
) -> OrderOutcome:
    """A result of the order at place `at` of its job (None: a request written before places were carried)."""
    return OrderOutcome(
        tenant,
        job_id,
        order_id,
        status,
        f"{order_id} {status.value}",
        "N-1" if status is OrderResultStatus.SUCCESS else None,
        position=at,
    )


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


# --- orders and claims -----------------------------------------------------------------------------


async def test_the_newest_snapshot_of_an_order_is_kept(stores: Stores, tenant: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    newer = parse_order_event(encoded(order_event(tenant, "o-1", status="SHIPPED", occurred_at=now)))
    older = parse_order_event(encoded(order_event(tenant, "o-1", status="CREATED", occurred_at=now - timedelta(1))))
    assert await stores.orders.store_snapshot(tenant=tenant, occurred_at=newer.occurredAt, order=newer.order)
    assert not await stores.orders.store_snapshot(tenant=tenant, occurred_at=older.occurredAt, order=older.order)
    stored = await stores.orders.get(tenant, "o-1")
    assert stored is not None and stored.status is OrderStatus.SHIPPED and stored.totalPrice == Decimal("58.76")
    assert await stores.orders.get(tenant, "o-2") is None
    selection = OrderSelection(statuses=(OrderStatus.SHIPPED,), extended_statuses=(), threshold=timedelta(hours=1))
    assert [o async for o in stores.orders.select(tenant, selection, now)] == ["o-1"]


async def test_an_order_known_to_be_invoiced_is_no_longer_selected(stores: Stores, tenant: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    for order_id in ("o-1", "o-2"):
        event = parse_order_event(encoded(order_event(tenant, order_id, status="SHIPPED", occurred_at=now)))
        await stores.orders.store_snapshot(tenant=tenant, occurred_at=event.occurredAt, order=event.order)
    selection = OrderSelection(statuses=(OrderStatus.SHIPPED,), extended_statuses=(), threshold=timedelta(hours=1))
    assert sorted([o async for o in stores.orders.select(tenant, selection, now)]) == ["o-1", "o-2"]
    await stores.orders.mark_invoiced(tenant, ["o-1"])
    # A later snapshot of the invoiced order (say, a status change upstream) does not bring it back.
    later = parse_order_event(encoded(order_event(tenant, "o-1", status="SHIPPED", occurred_at=now + timedelta(1))))
    assert await stores.orders.store_snapshot(tenant=tenant, occurred_at=later.occurredAt, order=later.order)
    assert [o async for o in stores.orders.select(tenant, selection, now + timedelta(2))] == ["o-2"]


async def test_an_unreadable_stored_order_says_so(stores: Stores, tenant: str) -> None:
    await stores.put_unreadable_order(tenant, "o-1")
    with pytest.raises(UnreadableOrder):
        await stores.orders.get(tenant, "o-1")


async def test_an_order_is_claimed_by_one_job_until_released(stores: Stores, tenant: str) -> None:
    await stores.claims.claim(tenant=tenant, job_id="j1", order_ids=["b", "a"])
    await stores.claims.claim(tenant=tenant, job_id="j2", order_ids=["a", "c"])
    assert await stores.claims.claimed_by(tenant, "j1") == ["a", "b"]
    assert await stores.claims.claimed_by(tenant, "j2") == ["c"]
    await stores.claims.release(tenant=tenant, job_id="j2", order_id="a")  # not j2's: stays
    await stores.claims.release(tenant=tenant, job_id="j1", order_id="a")
    await stores.claims.claim(tenant=tenant, job_id="j2", order_ids=["a"])
    assert await stores.claims.claimed_by(tenant, "j2") == ["a", "c"]


# --- invoices, numbers, captures, settings ---------------------------------------------------------


def document(tenant: str, order_id: str, number: str) -> Any:
    order = parse_order_event(encoded(order_event(tenant, order_id))).order
    return build_invoice_document(
        order=order, tenant=tenant, totals=recalculate(order), invoice_number=number,
        issued_at=datetime.now(UTC), seller=DEFAULT_SELLER, captured=None,
    )  # fmt: skip


async def test_a_number_is_bound_to_one_order_and_an_order_to_one_number(stores: Stores, tenant: str) -> None:
    invoices = stores.invoices
    assert await invoices.last_seq(tenant) is None
    first = await invoices.allocate(
        tenant=tenant, order_id="o-1", job_id="j1", seq=1, number="N1", document=document(tenant, "o-1", "N1")
    )
    assert first is not None and (first.number, first.seq, first.issued, first.job_id) == ("N1", 1, False, "j1")
    assert first.customer_email == "erika@example.com"
    assert first.invoice_document().invoice_number == "N1"
    again = await invoices.allocate(
        tenant=tenant, order_id="o-1", job_id="j2", seq=2, number="N2", document=document(tenant, "o-1", "N2")
    )
    assert again is None
    with pytest.raises(NumberTaken):
        await invoices.allocate(
            tenant=tenant, order_id="o-2", job_id="j1", seq=1, number="N1", document=document(tenant, "o-2", "N1")
        )
    assert await invoices.last_seq(tenant) == 1
    assert await invoices.invoiced_among(tenant, ["o-1", "o-2"]) == {"o-1"}
    assert await invoices.find(tenant, "o-2") is None
    found = await invoices.find_by_number(tenant, "N1")
    assert found is not None and found.order_id == "o-1"


async def test_a_number_is_unique_per_tenant_as_a_string_not_only_as_a_sequence_value(
    stores: Stores, tenant: str
) -> None:
    """ "A1__num__" with 1 digit gives A11 for value 1; "A__num__" with 2 digits gives A11 for value 11."""
    invoices = stores.invoices
    await invoices.allocate(
        tenant=tenant, order_id="o-1", job_id="j1", seq=1, number="A11", document=document(tenant, "o-1", "A11")
    )
    with pytest.raises(NumberInUse) as in_use:
        await invoices.allocate(
            tenant=tenant, order_id="o-2", job_id="j2", seq=11, number="A11", document=document(tenant, "o-2", "A11")
        )
    assert in_use.value.number == "A11"
    # The colliding value is used up, so the next allocation takes the one after it.
    assert await invoices.last_seq(tenant) == 11
    assert await invoices.find(tenant, "o-2") is None
    found = await invoices.find_by_number(tenant, "A11")
    assert found is not None and found.order_id == "o-1"
    # Another tenant's numbers are its own.
    other = tenant + "x"
    assert await invoices.allocate(
        tenant=other, order_id="o-1", job_id="j1", seq=11, number="A11", document=document(other, "o-1", "A11")
    )


async def test_an_invoice_records_its_issue_and_its_email(stores: Stores, tenant: str) -> None:
    invoices = stores.invoices
    invoice = await invoices.allocate(
        tenant=tenant, order_id="o-1", job_id="j1", seq=7, number="N7", document=document(tenant, "o-1", "N7")
    )
    assert invoice is not None
    await invoices.mark_issued(invoice, f"{tenant}/invoices/N7.pdf")
    await invoices.mark_email_pending(invoice, "421 later")
    record = await invoices.find(tenant, "o-1")
    assert record is not None and record.issued and record.storage_key == f"{tenant}/invoices/N7.pdf"
    assert (record.email_pending, record.email_error, record.emailed_at) == (True, "421 later", None)
    at = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    await invoices.mark_emailed(invoice, "erika@example.com", at)
    record = await invoices.find(tenant, "o-1")
    assert record is not None and (record.email_pending, record.email_error, record.emailed_at) == (False, None, at)
    await invoices.mark_email_failed(invoice, "550 no such user")
    record = await invoices.find(tenant, "o-1")
    assert record is not None and (record.email_pending, record.email_error) == (False, "550 no such user")
    assert record.email_status is EmailStatus.FAILED
    failed = await invoices.issued_invoices(tenant, InvoiceFilter(email_status=EmailStatus.FAILED), None, 10)
    assert [invoice.record.number for invoice in failed] == ["N7"]
    assert await invoices.issued_invoices(tenant, InvoiceFilter(email_status=EmailStatus.SENT), None, 10) == []


async def test_an_order_invoiced_again_has_one_current_invoice_and_keeps_the_earlier(
    stores: Stores, tenant: str
) -> None:
    invoices = stores.invoices
    first = await invoices.allocate(
        tenant=tenant, order_id="o-1", job_id="j1", seq=1, number="N1", document=document(tenant, "o-1", "N1")
    )
    assert first is not None and first.generation == 1
    await invoices.mark_issued(first, f"{tenant}/invoices/N1.pdf")
    assert await invoices.find_generation(tenant, "o-1", 2) is None
    # The second invoice is an insert of its own: once per generation, numbers unique across all of them.
    with pytest.raises(NumberTaken):
        await invoices.allocate(
            tenant=tenant, order_id="o-1", job_id="j2", seq=1, number="N1", document=document(tenant, "o-1", "N1"),
            generation=2,
        )  # fmt: skip
    second = await invoices.allocate(
        tenant=tenant, order_id="o-1", job_id="j2", seq=2, number="N2", document=document(tenant, "o-1", "N2"),
        generation=2,
    )  # fmt: skip
    assert second is not None and (second.number, second.generation, second.job_id) == ("N2", 2, "j2")
    assert await invoices.allocate(
        tenant=tenant, order_id="o-1", job_id="j3", seq=3, number="N3", document=document(tenant, "o-1", "N3"),
        generation=2,
    ) is None  # fmt: skip
    # Allocated, not yet current.
    current = await invoices.find(tenant, "o-1")
    assert current is not None and current.number == "N1"
    assert await invoices.find_generation(tenant, "o-1", 2) == second
    await invoices.make_current(second)
    await invoices.make_current(first)  # a late writer never points back
    current = await invoices.find(tenant, "o-1")
    assert current is not None and (current.number, current.generation) == ("N2", 2)
    await asyncio.sleep(0.01)  # issued a moment after the first: the list's order is by issue instant
    await invoices.mark_issued(second, f"{tenant}/invoices/N2.pdf")
    await invoices.mark_email_failed(second, "550 no such user")
    earlier = await invoices.find_by_number(tenant, "N1")
    assert earlier is not None and earlier.issued and earlier.email_error is None and earlier.generation == 1
    # An order ID that looks like another order's later invoice is an order of its own.
    assert await invoices.find(tenant, "o-1:2") is None and await invoices.find(tenant, "2:o-1") is None
    assert await invoices.invoiced_among(tenant, ["o-1", "o-2"]) == {"o-1"}
    by_order = await invoices.issued_invoices(tenant, InvoiceFilter(order_id="o-1"), None, 10)
    assert [(i.record.number, i.record.generation) for i in by_order] == [("N2", 2), ("N1", 1)]
    found = await invoices.issued_invoice(tenant, "N1")
    assert found is not None and found.record.order_id == "o-1"


async def test_issued_invoices_are_paged_newest_first_by_filter(stores: Stores, tenant: str) -> None:
    invoices = stores.invoices
    for seq, order_id in enumerate(["a", "b", "c"], start=1):
        number = f"N{seq}"
        invoice = await invoices.allocate(
            tenant=tenant, order_id=order_id, job_id=f"j{seq % 2}", seq=seq, number=number,
            document=document(tenant, order_id, number),
        )  # fmt: skip
        assert invoice is not None
        if order_id != "b":
            await invoices.mark_issued(invoice, f"{tenant}/invoices/{number}.pdf")
    everything = InvoiceFilter()
    first = await invoices.issued_invoices(tenant, everything, None, 1)
    assert [i.record.number for i in first] == ["N3"]  # newest first; N2 is not issued yet
    rest = await invoices.issued_invoices(tenant, everything, first[-1].key, 10)
    assert [i.record.number for i in rest] == ["N1"]
    assert [i.record.number for i in await invoices.issued_invoices(tenant, InvoiceFilter(job_id="j1"), None, 10)] == [
        "N3", "N1",
    ]  # fmt: skip
    by_order = await invoices.issued_invoices(tenant, InvoiceFilter(order_id="c"), None, 10)
    assert [i.record.number for i in by_order] == ["N3"]
    assert await invoices.issued_invoices("x" + tenant, everything, None, 10) == []
    found = await invoices.issued_invoice(tenant, "N1")
    assert found is not None and found.credited.gross == 0 and found.issued_at.tzinfo is not None
    assert await invoices.issued_invoice(tenant, "N2") is None  # allocated, not issued
    assert await invoices.credit_notes_page(tenant, everything, None, 10) == []


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


async def test_a_capture_is_recorded_once(stores: Stores, tenant: str) -> None:
    at = datetime(2026, 11, 25, 9, 30, 0, 123456, tzinfo=UTC)
    capture = CaptureRecord("tx-1", Decimal("58.76"), "EUR", "credit_card", "cap-1", at)
    stored = await stores.captures.record(tenant=tenant, order_id="o-1", record=capture, idempotency_key="k")
    assert stored.captured_at == at.replace(microsecond=123000)
    assert await stores.captures.find(tenant, "o-1") == stored
    second = CaptureRecord("tx-1", Decimal("58.76"), "EUR", "credit_card", "cap-2", at)
    assert await stores.captures.record(tenant=tenant, order_id="o-1", record=second, idempotency_key="k") == stored
    assert await stores.captures.find(tenant, "o-2") is None
    # The capture for the order's second invoice (after a full credit) is one of its own.
    assert await stores.captures.find(tenant, "o-1", 2) is None
    again = await stores.captures.record(
        tenant=tenant, order_id="o-1", record=second, idempotency_key="k2", generation=2
    )
    assert again.capture_id == "cap-2" and await stores.captures.find(tenant, "o-1", 2) == again
    assert await stores.captures.find(tenant, "o-1") == stored


def png() -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (4, 2), "navy").save(image, format="PNG")
    return image.getvalue()


async def test_tenant_settings_and_logos(stores: Stores, tenant: str) -> None:
    settings = stores.tenant_settings
    assert await settings.read(tenant, SequenceSettings) is None
    sequence = SequenceSettings(preText="INV__num__", numberOfDigits=4, startValue=1000, maxValue=9999)
    await settings.write(tenant, sequence)
    assert await settings.read(tenant, SequenceSettings) == sequence
    logo = check_logo(png())
    info = await settings.put_logo(tenant, logo)
    assert await settings.current_logo(tenant) == info
    everything = await settings.read_all(tenant)  # one query for all of them
    assert everything.get(SequenceSettings) == sequence and everything.logo == info
    assert (await settings.read_all("another-" + tenant)).get(SequenceSettings) is None
    assert await settings.logo_content(tenant, logo.sha256) == logo.content
    assert await settings.delete_logo(tenant)
    assert not await settings.delete_logo(tenant)
    assert await settings.current_logo(tenant) is None
    assert await settings.logo_content(tenant, logo.sha256) == logo.content  # kept for the invoices that show it


# --- credit notes, scheduled jobs --------------------------------------------------------------------


async def test_a_credit_note_takes_one_place_among_its_invoices_notes_and_one_number(
    stores: Stores, tenant: str
) -> None:
    notes = stores.credit_notes
    a, b, c = (f"{tenant}-{name}" for name in "abc")  # credit-note IDs are unique across tenants (uuid4)
    refund = RefundState(RefundStatus.PENDING, Decimal("58.76"))

    async def allocate(note_id: str, ordinal: int, seq: int, order_id: str = "o-1", invoice: str = "INV-1") -> Any:
        return await notes.allocate(
            tenant=tenant, note_id=note_id, order_id=order_id, invoice_number=invoice, ordinal=ordinal, seq=seq,
            number=f"CN-{seq}", reason="returned", document=document(tenant, order_id, f"CN-{seq}"),
            logo_sha256=None, refund=refund,
        )  # fmt: skip

    assert await notes.last_seq(tenant) is None
    first = await allocate(a, 1, 1)
    assert (first.number, first.ordinal, first.stored, first.refund) == ("CN-1", 1, False, refund)
    assert first.credit_document().invoice_number == "CN-1" and first.customer_email == "erika@example.com"
    assert await allocate(a, 2, 2) == first  # the same request again: its note
    with pytest.raises(CreditRaced):
        await allocate(b, 1, 2)  # another note of the invoice took place 1
    with pytest.raises(NumberTaken):
        await allocate(c, 1, 1, order_id="o-2", invoice="INV-2")  # another invoice's note took the number
    second = await allocate(b, 2, 2)
    assert [note.note_id for note in await notes.of_invoice(tenant, "INV-1")] == [a, b]
    # Places are per invoice, not per order: the order's next invoice numbers its credit notes from 1 again.
    again = await allocate(c, 1, 3, invoice="INV-3")
    assert (again.ordinal, again.order_id, again.invoice_number) == (1, "o-1", "INV-3")
    assert [note.note_id for note in await notes.of_invoice(tenant, "INV-3")] == [c]
    assert await notes.last_seq(tenant) == 3
    assert await notes.find(tenant, b) == second
    assert await notes.find("othertenant", b) is None

    refunded = RefundState(RefundStatus.REFUNDED, Decimal("58.76"), "ref-1")
    await notes.mark_stored(tenant, a, f"{tenant}/credit-notes/CN-1.pdf")
    await notes.mark_refund(tenant, a, refunded)
    await notes.mark_email_pending(tenant, a, "421 later")
    note = await notes.find(tenant, a)
    assert note is not None and note.stored and note.refund == refunded
    assert (note.email_pending, note.email_error) == (True, "421 later")
    at = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    await notes.mark_emailed(tenant, a, "erika@example.com", at)
    note = await notes.find(tenant, a)
    assert note is not None and (note.email_pending, note.emailed_at) == (False, at)


async def test_a_credit_note_request_is_read_back_by_its_tenant_until_finished(stores: Stores, tenant: str) -> None:
    notes = stores.credit_notes
    r1 = f"{tenant}-r1"
    await notes.create_request(tenant=tenant, request_id=r1, invoice_number="INV-1", order_id="o-1")
    request = await notes.get_request(tenant, r1)
    assert request is not None and (request.status, request.message) == (CreditNoteStatus.IN_PROGRESS, None)
    assert await notes.get_request("othertenant", r1) is None
    await notes.finish_request(tenant, r1, CreditNoteStatus.FAILED, "nothing left")
    request = await notes.get_request(tenant, r1)
    assert request is not None and (request.status, request.message) == (CreditNoteStatus.FAILED, "nothing left")
    assert await notes.start_request(tenant, r1, "INV-1", "o-1", "d") is UNRECORDED  # finished, no digest
    assert await notes.withdraw_request(tenant, r1)
    assert await notes.get_request(tenant, r1) is None


async def test_a_credit_note_request_starts_only_as_recorded_and_is_then_never_withdrawn(
    stores: Stores, tenant: str
) -> None:
    notes, r1 = stores.credit_notes, f"{tenant}-r1"
    await notes.create_request(tenant=tenant, request_id=r1, invoice_number="INV-1", order_id="o-1", request_digest="d")
    assert await notes.start_request("othertenant", r1, "INV-1", "o-1", "d") is UNRECORDED
    assert await notes.start_request(tenant, r1, "INV-2", "o-1", "d") is UNRECORDED
    assert await notes.start_request(tenant, r1, "INV-1", "o-2", "d") is UNRECORDED
    assert await notes.start_request(tenant, r1, "INV-1", "o-1", "forged") is UNRECORDED
    assert await notes.start_request(tenant, f"{tenant}-unrecorded", "INV-1", "o-1", "d") is UNRECORDED
    assert not await notes.withdraw_request("othertenant", r1)
    assert await notes.start_request(tenant, r1, "INV-1", "o-1", "d") is STARTED
    assert await notes.start_request(tenant, r1, "INV-1", "o-1", "d") is STARTED  # a redelivery
    assert not await notes.withdraw_request(tenant, r1)
    await notes.finish_request(tenant, r1, CreditNoteStatus.DONE, "made")
    assert await notes.start_request(tenant, r1, "INV-1", "o-1", "d") is FINISHED
    assert await notes.start_request(tenant, r1, "INV-1", "o-1", "forged") is UNRECORDED
    assert await notes.get_request(tenant, r1) is not None
    # Recorded before digests were: bound to the first request that starts it.
    r2 = f"{tenant}-r2"
    await notes.create_request(tenant=tenant, request_id=r2, invoice_number="INV-1", order_id="o-1")
    assert await notes.start_request(tenant, r2, "INV-1", "o-1", "first") is STARTED
    assert await notes.start_request(tenant, r2, "INV-1", "o-1", "second") is UNRECORDED


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


# --- windowed counters (login backoff, tenant quotas) -------------------------------------------------------


@pytest.fixture(params=["memory", "mongo"])
async def counters(request: pytest.FixtureRequest, mongo_db: Any) -> WindowedCounters:
    if request.param == "memory":
        return MemoryWindowedCounters()
    await ensure_indexes(mongo_db)
    return MongoWindowedCounters(mongo_db)


async def test_counters_count_per_key_and_window(counters: WindowedCounters, tenant: str) -> None:
    minute, start = timedelta(minutes=1), datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert await counters.read(tenant, minute, start) == WindowCount(0, None, start + minute)
    first = await counters.add(tenant, minute, start + timedelta(seconds=5))
    assert first == WindowCount(1, start + timedelta(seconds=5), start + minute)
    second = await counters.add(tenant, minute, start + timedelta(seconds=30))
    assert second == WindowCount(2, start + timedelta(seconds=30), start + minute)
    assert second.seconds_to_window_end(start + timedelta(seconds=30)) == 30
    assert (await counters.read(tenant, minute, start + timedelta(seconds=59))).count == 2  # reading counts nothing
    assert (await counters.read(f"{tenant}-other", minute, start)).count == 0
    assert (await counters.read(tenant, timedelta(hours=1), start)).count == 0  # another window length
    later = await counters.add(tenant, minute, start + minute)  # the next window starts at zero
    assert later == WindowCount(1, start + minute, start + 2 * minute)


async def test_counters_add_up_events_counted_at_once(counters: WindowedCounters, tenant: str) -> None:
    hour, now = timedelta(hours=1), datetime.now(UTC)
    counts = await asyncio.gather(*(counters.add(tenant, hour, now) for _ in range(10)))
    assert sorted(count.count for count in counts) == list(range(1, 11))
    assert (await counters.read(tenant, hour, now)).count == 10


async def test_ended_counter_windows_are_removed(mongo_db: Any, tenant: str) -> None:
    await ensure_indexes(mongo_db)
    indexed = [info["key"] for info in (await mongo_db[COUNTERS].index_information()).values()]
    assert [("expiresAt", 1)] in indexed  # a TTL index on MongoDB, a plain one on FerretDB v1
    minute, then, now = timedelta(minutes=1), datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC)
    ended = counter_id(tenant, minute, window_start(then, minute))
    current = counter_id(tenant, minute, window_start(now, minute))
    await MongoWindowedCounters(mongo_db).add(tenant, minute, then)
    assert await mongo_db[COUNTERS].count_documents({"_id": ended}) == 1
    await MongoWindowedCounters(mongo_db).add(tenant, minute, now)  # a new process: it purges first
    assert await mongo_db[COUNTERS].count_documents({"_id": {"$in": [ended, current]}}) == 1
    assert await mongo_db[COUNTERS].count_documents({"_id": current}) == 1
