"""No phantom work (README "Under faults"): a publish that times out after the broker took the record.
The API withdraws the request unless the worker started it: withdrawn, the answer is 503 "nothing was
created" and the worker's check refuses the record, so indeed nothing is done; started, the request
goes on and the answer says it was accepted. On the fakes, with a publisher that sends and then times out."""

from collections.abc import Awaitable, Callable, Sequence

import pytest
from pymongo.errors import AutoReconnect

from infra.kafka import KafkaUnavailable
from infra.links import LinkSigner
from infra.settings import Settings
from schemas.api import CreditNoteRequest, CreditNoteStatus, JobRequest
from schemas.events import CreditNoteRequested, InvoiceEmailRequested, JobRequested
from service import services
from streams.recorded import unrecorded_credit_note, unrecorded_email_request, unrecorded_job
from tests.memory import MemoryJobs, MemoryPublisher, MemoryStorage, MemoryTenantSettings
from tests.unit.test_crediting import CreditWorld, card
from tests.unit.test_pipeline import TENANT

SETTINGS = Settings()


class SendsThenTimesOut(MemoryPublisher):
    """The broker takes the record, and the answer never comes: the send times out. `meanwhile` runs
    between the two, as a worker that reads the record at once would."""

    def __init__(self, meanwhile: Callable[[bytes], Awaitable[None]] | None = None) -> None:
        super().__init__()
        self.meanwhile = meanwhile

    async def publish(
        self, topic: str, key: str, value: bytes, headers: Sequence[tuple[str, bytes]] | None = None
    ) -> None:
        await super().publish(topic, key, value)
        if self.meanwhile is not None:
            await self.meanwhile(value)
        raise KafkaUnavailable("Kafka at 127.0.0.1:9092: KafkaTimeoutError()")


def job_services(jobs: MemoryJobs, publisher: MemoryPublisher) -> services.JobServices:
    return services.JobServices(
        settings=SETTINGS,
        jobs=jobs,
        tenant_settings=MemoryTenantSettings(),
        publisher=publisher,
        storage=MemoryStorage(),
        signer=LinkSigner(SETTINGS),
    )


MANUAL = JobRequest.model_validate({"jobType": "MANUAL", "orderIds": ["a"]})


async def test_a_job_whose_publish_timed_out_is_withdrawn_and_its_record_is_not_planned() -> None:
    jobs, publisher = MemoryJobs(), SendsThenTimesOut()
    with pytest.raises(KafkaUnavailable):  # 503 "nothing was created"
        await services.create_job(job_services(jobs, publisher), TENANT, MANUAL)
    assert jobs.jobs == {}
    [(_, _, value)] = publisher.published  # yet the broker has it
    assert await unrecorded_job(jobs, JobRequested.model_validate_json(value)) is not None


async def test_a_job_the_worker_started_before_the_timeout_is_answered_as_created() -> None:
    jobs = MemoryJobs()

    async def planner_starts(value: bytes) -> None:
        assert await unrecorded_job(jobs, JobRequested.model_validate_json(value)) is None

    publisher = SendsThenTimesOut(planner_starts)
    job_id = await services.create_job(job_services(jobs, publisher), TENANT, MANUAL)
    [(_, _, value)] = publisher.published
    assert JobRequested.model_validate_json(value).jobId == job_id
    assert await jobs.get(TENANT, job_id) is not None


async def test_a_withdrawal_the_store_does_not_confirm_is_not_answered_as_nothing_created() -> None:
    jobs = MemoryJobs()

    async def store_away(tenant: str, job_id: str) -> bool:
        raise AutoReconnect("connection refused")

    jobs.withdraw = store_away  # type: ignore[method-assign]
    with pytest.raises(services.Unconfirmed, match="may still go ahead"):
        await services.create_job(job_services(jobs, SendsThenTimesOut()), TENANT, MANUAL)


async def credit_services(publisher: MemoryPublisher) -> tuple[CreditWorld, services.CreditServices, str]:
    world = CreditWorld()
    number = await world.invoiced("paid", payments=card("ok-paid"))
    app = services.CreditServices(
        settings=SETTINGS, invoices=world.invoices, credit_notes=world.credit_notes, publisher=publisher
    )
    return world, app, number


WHOLE = CreditNoteRequest.model_validate({"reason": "returned", "wholeInvoice": True})


async def test_a_credit_note_whose_publish_timed_out_is_withdrawn_and_never_refunded() -> None:
    publisher = SendsThenTimesOut()
    world, app, number = await credit_services(publisher)
    with pytest.raises(KafkaUnavailable):
        await services.request_credit_note(app, TENANT, number, WHOLE)
    [(_, _, value)] = publisher.published
    request = CreditNoteRequested.model_validate_json(value)
    assert await world.credit_notes.get_request(TENANT, request.creditNoteId) is None
    assert await unrecorded_credit_note(world.credit_notes, request) is not None
    assert world.gateway.refund_requests == []


async def test_a_credit_note_the_worker_started_before_the_timeout_is_accepted() -> None:
    world = CreditWorld()

    async def agent_starts(value: bytes) -> None:
        assert await unrecorded_credit_note(world.credit_notes, CreditNoteRequested.model_validate_json(value)) is None

    publisher = SendsThenTimesOut(agent_starts)
    number = await world.invoiced("paid", payments=card("ok-paid"))
    app = services.CreditServices(
        settings=SETTINGS, invoices=world.invoices, credit_notes=world.credit_notes, publisher=publisher
    )
    accepted = await services.request_credit_note(app, TENANT, number, WHOLE)
    assert accepted.status is CreditNoteStatus.IN_PROGRESS
    assert await world.credit_notes.get_request(TENANT, accepted.creditNoteId) is not None


async def test_a_resend_whose_publish_timed_out_is_withdrawn_and_never_sent() -> None:
    publisher = SendsThenTimesOut()
    world, _, number = await credit_services(publisher)
    with pytest.raises(KafkaUnavailable):
        await services.request_invoice_email(SETTINGS, world.invoices, publisher, TENANT, number)
    [(_, _, value)] = publisher.published
    assert await unrecorded_email_request(world.invoices, InvoiceEmailRequested.model_validate_json(value)) is not None
    assert world.invoices.email_requests == {}


async def test_a_resend_the_worker_started_before_the_timeout_is_accepted() -> None:
    world = CreditWorld()

    async def agent_starts(value: bytes) -> None:
        assert await unrecorded_email_request(world.invoices, InvoiceEmailRequested.model_validate_json(value)) is None

    publisher = SendsThenTimesOut(agent_starts)
    number = await world.invoiced("paid", payments=card("ok-paid"))
    queued = await services.request_invoice_email(SETTINGS, world.invoices, publisher, TENANT, number)
    assert queued.invoice_number == number
