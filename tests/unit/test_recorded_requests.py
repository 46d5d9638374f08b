"""The worker acts only on what the API recorded (streams/recorded.py), on the fakes of tests/memory/:
each kind of request record passes its check when the API (or the scheduler, or the planner) recorded
it, and is dead-lettered as "unrecorded" with nothing done when it is forged: another tenant's,
never recorded, recorded with other content, withdrawn, or finished."""

from decimal import Decimal
from functools import partial
from typing import Any

import pytest

from infra.settings import Settings
from schemas.api import CreditNoteStatus, JobType
from schemas.events import (
    CreditedLine,
    CreditNoteRequested,
    DeadLetter,
    EmailReason,
    InvoiceEmailRequested,
    JobRequested,
    OrderInvoiceRequested,
)
from streams.agents.emails import handle_email_request
from streams.crediting import make_credit_note
from streams.recorded import (
    Finished,
    acts_on_recorded,
    unrecorded_credit_note,
    unrecorded_email_request,
    unrecorded_job,
    unrecorded_order_request,
)
from tests.memory import MemoryClaims, MemoryJobs
from tests.unit.agent_wiring import record
from tests.unit.test_agent_failures import dead_letters  # noqa: F401 (a fixture)
from tests.unit.test_crediting import CreditWorld, card
from tests.unit.test_pipeline import TENANT

OTHER = "othershop"


# --- job requests ----------------------------------------------------------------------------------


async def recorded_job(jobs: MemoryJobs, request: JobRequested) -> None:
    """As the API records a job: with the digest of the request it publishes."""
    await jobs.create(
        tenant=request.tenant,
        job_id=request.jobId,
        job_type=request.jobType,
        order_ids=request.orderIds,
        request_digest=request.digest(),
    )


async def test_a_recorded_job_request_is_planned_and_its_redelivery_too() -> None:
    jobs = MemoryJobs()
    request = JobRequested(tenant=TENANT, jobId="j-1", jobType=JobType.MANUAL, orderIds=["a"])
    await recorded_job(jobs, request)
    assert await unrecorded_job(jobs, request) is None
    again = JobRequested.model_validate_json(request.to_bytes())  # as the worker reads it back
    assert await unrecorded_job(jobs, again) is None
    assert not await jobs.withdraw(TENANT, "j-1")  # started: the API can no longer withdraw it


async def test_a_forged_job_request_is_refused() -> None:
    jobs = MemoryJobs()
    genuine = JobRequested(tenant=TENANT, jobId="j-1", jobType=JobType.MANUAL, orderIds=["a"])
    await recorded_job(jobs, genuine)
    forged = [
        genuine.model_copy(update={"tenant": OTHER}),  # another tenant's job ID
        genuine.model_copy(update={"jobId": "j-unrecorded"}),  # never recorded
        genuine.model_copy(update={"orderIds": ["a", "victim"]}),  # the recorded job, other orders
        genuine.model_copy(update={"jobType": JobType.AUTOMATIC}),
    ]
    for request in forged:
        reason = await unrecorded_job(jobs, request)
        assert isinstance(reason, str) and request.jobId in reason, request
    assert await unrecorded_job(jobs, genuine) is None  # and the genuine one still goes on


async def test_a_scheduled_job_is_bound_to_the_first_request_that_starts_it() -> None:
    jobs = MemoryJobs()
    await jobs.create(tenant=TENANT, job_id="s-1", job_type=JobType.AUTOMATIC, order_ids=())  # no digest
    request = JobRequested(tenant=TENANT, jobId="s-1", jobType=JobType.AUTOMATIC)
    assert await unrecorded_job(jobs, request) is None
    copy = request.model_copy(update={"requestedAt": request.requestedAt.replace(year=2000)})
    assert isinstance(await unrecorded_job(jobs, copy), str)


async def test_a_withdrawn_job_is_refused_and_a_finished_one_passed_over_without_a_dead_letter(
    dead_letters: list[DeadLetter],  # noqa: F811
) -> None:
    jobs = MemoryJobs()
    request = JobRequested(tenant=TENANT, jobId="j-1", jobType=JobType.MANUAL, orderIds=["a"])
    await recorded_job(jobs, request)
    assert await jobs.withdraw(TENANT, "j-1")
    assert isinstance(await unrecorded_job(jobs, request), str)
    done = request.model_copy(update={"jobId": "j-2"})
    await recorded_job(jobs, done)
    await jobs.record_planned(tenant=TENANT, job_id="j-2", total=0, first_position=0, order_ids=[])  # done
    assert await unrecorded_job(jobs, done) == Finished("job j-2")
    # A redelivery after the job finished does nothing and is no security event: no dead letter.
    assert not await acts_on_recorded(record(done.to_bytes()), "job request j-2", partial(unrecorded_job, jobs, done))
    assert dead_letters == []


# --- order requests --------------------------------------------------------------------------------


async def test_an_order_request_must_be_of_a_job_in_progress_that_planned_that_order() -> None:
    jobs, claims = MemoryJobs(), MemoryClaims()
    await jobs.create(tenant=TENANT, job_id="m", job_type=JobType.MANUAL, order_ids=["a"])
    await jobs.create(tenant=TENANT, job_id="auto", job_type=JobType.AUTOMATIC, order_ids=())
    await claims.claim(tenant=TENANT, job_id="auto", order_ids=["c"])
    check = partial(unrecorded_order_request, jobs, claims)

    def asked(job_id: str, order_id: str, job_type: JobType | None, tenant: str = TENANT) -> OrderInvoiceRequested:
        return OrderInvoiceRequested(tenant=tenant, jobId=job_id, orderId=order_id, jobType=job_type)

    assert await check(asked("m", "a", JobType.MANUAL)) is None
    assert await check(asked("m", "a", None)) is None  # written before requests carried the type
    assert await check(asked("auto", "c", JobType.AUTOMATIC)) is None
    assert await check(asked("auto", "c", None)) is None
    refused = [
        asked("m", "victim", JobType.MANUAL),  # not an order of that job
        asked("m", "a", JobType.MANUAL, tenant=OTHER),  # another tenant's job
        asked("nojob", "a", JobType.MANUAL),  # no such job
        asked("auto", "victim", JobType.AUTOMATIC),  # not claimed by that job
        asked("auto", "c", JobType.MANUAL),  # a MANUAL request invoices again: not of an AUTOMATIC job
        asked("m", "a", JobType.AUTOMATIC),
    ]
    for request in refused:
        reason = await check(request)
        assert isinstance(reason, str) and request.orderId in reason, request
    await claims.release(tenant=TENANT, job_id="auto", order_id="c")
    assert isinstance(await check(asked("auto", "c", JobType.AUTOMATIC)), str)
    await jobs.record_planned(tenant=TENANT, job_id="m", total=0, first_position=0, order_ids=[])  # done
    assert await check(asked("m", "a", JobType.MANUAL)) == Finished("job m")  # a redelivery
    assert isinstance(await check(asked("m", "victim", JobType.MANUAL)), str)


async def test_a_forged_order_request_is_dead_lettered_and_nothing_is_charged(
    dead_letters: list[DeadLetter],  # noqa: F811
) -> None:
    world, jobs, claims = CreditWorld(), MemoryJobs(), MemoryClaims()
    await world.add_order("victim", payments=card("ok-victim"))
    forged = OrderInvoiceRequested(tenant=TENANT, jobId="forged", orderId="victim", jobType=JobType.MANUAL)
    check = partial(unrecorded_order_request, jobs, claims, forged)
    assert not await acts_on_recorded(record(forged.to_bytes()), "invoice request of order victim", check)
    [letter] = dead_letters
    assert letter.reason.startswith("invoice request of order victim not acted on: order victim is no order")
    assert world.gateway.requests == [] and world.invoices.records == {}


# --- credit-note requests --------------------------------------------------------------------------


async def recorded_credit(world: CreditWorld, request: CreditNoteRequested) -> None:
    await world.credit_notes.create_request(
        tenant=request.tenant,
        request_id=request.creditNoteId,
        invoice_number=request.invoiceNumber,
        order_id=request.orderId,
        request_digest=request.digest(),
    )


async def acted_on_credit(world: CreditWorld, request: CreditNoteRequested) -> bool:
    """What the credit-note agent does with a record: check, then make the credit note."""
    check = partial(unrecorded_credit_note, world.credit_notes, request)
    if not await acts_on_recorded(record(request.to_bytes()), f"credit-note request {request.creditNoteId}", check):
        return False
    await make_credit_note(request, world.credit_deps())
    return True


async def test_a_forged_credit_note_request_is_dead_lettered_and_nothing_is_numbered_or_refunded(
    dead_letters: list[DeadLetter],  # noqa: F811
) -> None:
    world = CreditWorld()
    number = await world.invoiced("paid", payments=card("ok-paid"))
    genuine = CreditNoteRequested(
        tenant=TENANT, creditNoteId="cn-1", orderId="paid", invoiceNumber=number, reason="r", wholeInvoice=True
    )
    # Recorded for another tenant: the same ID, in a record that names this tenant's invoice.
    await recorded_credit(world, genuine.model_copy(update={"tenant": OTHER}))
    unrecorded = genuine.model_copy(update={"creditNoteId": "cn-unrecorded"})
    for forged in (genuine, unrecorded):
        assert not await acted_on_credit(world, forged)
    assert [letter.reason.split(":")[0] for letter in dead_letters] == [
        "credit-note request cn-1 not acted on",
        "credit-note request cn-unrecorded not acted on",
    ]
    assert world.gateway.refund_requests == [] and world.credit_notes.notes == {}


async def test_a_recorded_credit_note_request_is_made_and_a_changed_copy_or_a_replay_is_not(
    dead_letters: list[DeadLetter],  # noqa: F811
) -> None:
    world = CreditWorld()
    number = await world.invoiced("paid", payments=card("ok-paid"))
    genuine = CreditNoteRequested(
        tenant=TENANT,
        creditNoteId="cn-1",
        orderId="paid",
        invoiceNumber=number,
        reason="r",
        lines=[CreditedLine(entryId="1", quantity=Decimal(1))],
    )
    await recorded_credit(world, genuine)
    assert not await acted_on_credit(world, genuine.model_copy(update={"wholeInvoice": True, "lines": []}))
    assert world.credit_notes.notes == {}
    assert await acted_on_credit(world, genuine)
    assert len(world.gateway.refund_requests) == 1
    request = await world.credit_notes.get_request(TENANT, "cn-1")
    assert request is not None and request.status is CreditNoteStatus.DONE
    assert not await acted_on_credit(world, genuine)  # finished: a redelivery or a replay does nothing
    assert len(world.gateway.refund_requests) == 1 and len(dead_letters) == 1


# --- email requests --------------------------------------------------------------------------------


async def emailed_world() -> tuple[CreditWorld, str]:
    world = CreditWorld()
    number = await world.invoiced("o-1")
    world.mailer.sent.clear()  # the first email
    return world, number


async def test_a_resend_is_sent_only_when_the_api_recorded_it_and_once(
    dead_letters: list[DeadLetter],  # noqa: F811
) -> None:
    world, number = await emailed_world()
    deps = world.deps().email
    resend = InvoiceEmailRequested(
        tenant=TENANT, orderId="o-1", invoiceNumber=number, reason=EmailReason.RESEND, requestId="e-1"
    )
    forged = [
        resend.model_copy(update={"requestId": None}),  # the shape of a resend before they were recorded
        resend,  # not recorded (yet)
    ]
    for request in forged:
        await handle_email_request(record(request.to_bytes()), deps, Settings())
    assert world.mailer.sent == []
    assert [letter.reason.startswith(f"email request of invoice {number} not acted on") for letter in dead_letters] == [
        True,
        True,
    ]
    await world.invoices.record_email_request(
        tenant=TENANT, request_id="e-1", invoice_number=number, order_id="o-1", request_digest=resend.digest()
    )
    other_tenant = resend.model_copy(update={"tenant": OTHER})
    await handle_email_request(record(other_tenant.to_bytes()), deps, Settings())
    assert world.mailer.sent == []
    await handle_email_request(record(resend.to_bytes()), deps, Settings())
    assert len(world.mailer.sent) == 1
    await handle_email_request(record(resend.to_bytes()), deps, Settings())  # a replay: done already
    assert len(world.mailer.sent) == 1 and len(dead_letters) == 3


async def test_a_retry_is_the_workers_own_and_needs_no_recorded_request() -> None:
    world, number = await emailed_world()
    retry = InvoiceEmailRequested(tenant=TENANT, orderId="o-1", invoiceNumber=number, reason=EmailReason.RETRY)
    assert await unrecorded_email_request(world.invoices, retry) is None


@pytest.mark.parametrize("kind", ["job", "credit note", "email"])
def test_the_digest_survives_the_round_trip_through_the_topic(kind: str) -> None:
    request: Any = {
        "job": JobRequested(tenant=TENANT, jobId="j", jobType=JobType.MANUAL, orderIds=["a", "b"]),
        "credit note": CreditNoteRequested(
            tenant=TENANT,
            creditNoteId="c",
            orderId="o",
            invoiceNumber="N",
            reason="r",
            lines=[CreditedLine(entryId="1", quantity=Decimal("1.50"))],
        ),
        "email": InvoiceEmailRequested(
            tenant=TENANT, orderId="o", invoiceNumber="N", reason=EmailReason.RESEND, requestId="e"
        ),
    }[kind]
    assert type(request).model_validate_json(request.to_bytes()).digest() == request.digest()
