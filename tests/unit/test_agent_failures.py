"""The agents' one failure policy (streams/failures.py) and the projection's batched fold, without
Kafka: records are stand-ins with the fields Faust gives, the dead-letter topic is replaced by a list."""

import base64
import re
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, MessageSizeTooLargeError

from infra.mail import OutgoingEmail
from infra.settings import Settings
from invoicing.document import DEFAULT_SELLER, build_invoice_document
from invoicing.recalculation import recalculate
from schemas.api import JobStatus, JobType, OrderResultStatus
from schemas.events import (
    DeadLetter,
    EmailReason,
    InvoiceEmailRequested,
    JobPlanned,
    OrderFailed,
    OrderInvoiced,
    OrderInvoiceRequested,
)
from schemas.orders import parse_order_event
from streams import failures
from streams.agents.emails import handle_email_request
from streams.agents.project import fold, fold_batch
from streams.emailing import EmailDeps
from tests.factories import encoded, order_event
from tests.memory import MemoryInvoices, MemoryJobs, MemoryStorage, MemoryTenantSettings
from tests.unit.agent_wiring import (
    Sent,
    Stream,
    World,
    record,
    wire_credit,
    wire_emails,
    wire_invoice,
    wire_orders,
    wire_plan,
    wire_project,
    wire_refunds,
)


@pytest.fixture
def dead_letters(monkeypatch: pytest.MonkeyPatch) -> list[DeadLetter]:
    letters: list[DeadLetter] = []

    class Topic:
        async def send(self, key: bytes | None, value: bytes) -> Sent:
            letters.append(DeadLetter.model_validate_json(value))
            return Sent()

    monkeypatch.setattr(failures, "dead_letters", Topic())
    return letters


async def test_a_record_that_does_not_parse_is_dead_lettered_with_its_bytes(dead_letters: list[DeadLetter]) -> None:
    parsed = await failures.parse_or_dead_letter(
        record(b"not json"), OrderInvoiceRequested.model_validate_json, "order invoice request"
    )
    assert parsed is None
    [letter] = dead_letters
    assert letter.reason.startswith("invalid order invoice request: ")
    assert base64.b64decode(letter.value) == b"not json" and base64.b64decode(letter.key or "") == b"shop:o-1"
    assert (letter.sourceTopic, letter.partition, letter.offset) == ("invoice-order-requests", 1, 7)


async def test_a_dependency_that_is_away_is_waited_for(
    dead_letters: list[DeadLetter], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("mongo away")
        return "done"

    monkeypatch.setattr(failures, "wait_exponential", lambda **_: lambda state: 0)
    assert await failures.run_step(record(b"{}"), "a step", flaky) == "done"
    assert calls == 3 and dead_letters == []


async def test_a_defect_is_dead_lettered_with_a_reference_and_logged(
    dead_letters: list[DeadLetter], caplog: pytest.LogCaptureFixture
) -> None:
    async def broken() -> str:
        raise KeyError("no such field")

    outcome = await failures.run_step(record(b'{"a": 1}'), "emailing invoice N1 of tenant shop", broken)
    assert isinstance(outcome, failures.Defect)
    [letter] = dead_letters
    assert f"(reference {outcome.reference})" in letter.reason and "KeyError" in letter.reason
    assert base64.b64decode(letter.value) == b'{"a": 1}'
    assert outcome.reference in caplog.text


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (KafkaConnectionError(), True),  # the broker away: waited for, like MongoDB and storage
        (KafkaTimeoutError(), True),  # a send unanswered: sent again, consumers take a record seen twice
        (MessageSizeTooLargeError(), False),  # sent again, refused again: a defect
    ],
)
def test_a_broker_away_is_waited_for_a_refusal_is_a_defect(error: Exception, transient: bool) -> None:
    assert failures.is_transient(error) is transient


async def test_a_dead_letter_waits_for_a_broker_that_is_away(
    dead_letters: list[DeadLetter], monkeypatch: pytest.MonkeyPatch
) -> None:
    sends: list[bytes | None] = []

    async def send(key: bytes | None, value: bytes) -> Sent:
        sends.append(key)
        if len(sends) == 1:
            raise KafkaConnectionError()
        dead_letters.append(DeadLetter.model_validate_json(value))
        return Sent()

    monkeypatch.setattr(failures, "wait_exponential", lambda **_: lambda state: 0)
    monkeypatch.setattr(failures, "dead_letters", SimpleNamespace(send=send))
    await failures.send_to_dead_letters(record(b"x"), "a reason")
    assert len(sends) == 2 and [letter.reason for letter in dead_letters] == ["a reason"]


async def test_the_projection_folds_a_batch_in_order_plans_before_later_results() -> None:
    jobs = MemoryJobs()
    await jobs.create(tenant="shop", job_id="j1", job_type=JobType.MANUAL, order_ids=["a", "b"])
    await fold(
        jobs,
        [
            OrderInvoiced(tenant="shop", jobId="j1", orderId="a", invoiceNumber="N1", message="made", position=0),
            JobPlanned(tenant="shop", jobId="j1", totalOrders=2, part=0, parts=1, firstPosition=0, orderIds=["a", "b"]),
            OrderFailed(tenant="shop", jobId="j1", orderId="b", reason="no", position=1),
            OrderFailed(tenant="shop", jobId="j1", orderId="b", reason="no"),  # redelivered, from an older request
        ],
    )
    job = await jobs.get("shop", "j1")
    assert job is not None and job.status is JobStatus.DONE and job.finished_orders == 2
    results = {r.order_id: (r.status, r.invoice_number) async for r in jobs.order_results("j1")}
    assert results == {"a": (OrderResultStatus.SUCCESS, "N1"), "b": (OrderResultStatus.FAILURE, None)}


async def test_a_batch_with_a_bad_record_folds_the_others(dead_letters: list[DeadLetter]) -> None:
    jobs = MemoryJobs()
    await jobs.create(tenant="shop", job_id="j1", job_type=JobType.MANUAL, order_ids=["a"])
    plan = JobPlanned(tenant="shop", jobId="j1", totalOrders=1, part=0, parts=1, firstPosition=0, orderIds=["a"])
    result = OrderInvoiced(tenant="shop", jobId="j1", orderId="a", invoiceNumber="N1", message="made")
    await fold_batch(jobs, [record(plan.to_bytes(), 1), record(b"garbage", 2), record(result.to_bytes(), 3)])
    job = await jobs.get("shop", "j1")
    assert job is not None and job.status is JobStatus.DONE
    [letter] = dead_letters
    assert letter.offset == 2 and letter.reason.startswith("invalid job result")


async def test_an_email_request_that_meets_a_defect_is_dead_lettered_not_dropped(
    dead_letters: list[DeadLetter], caplog: pytest.LogCaptureFixture
) -> None:
    invoices, storage = MemoryInvoices(), MemoryStorage()
    order = parse_order_event(encoded(order_event("shop", "o-1"))).order
    document = build_invoice_document(
        order=order, tenant="shop", totals=recalculate(order), invoice_number="N1",
        issued_at=datetime.now(UTC), seller=DEFAULT_SELLER, captured=None,
    )  # fmt: skip
    invoice = await invoices.allocate(
        tenant="shop", order_id="o-1", job_id="job-1", seq=1, number="N1", document=document
    )
    assert invoice is not None
    await storage.put("shop/invoices/N1.pdf", b"%PDF stored")
    await invoices.mark_issued(invoice, "shop/invoices/N1.pdf")

    class BrokenMailer:
        async def send(self, email: OutgoingEmail) -> None:
            raise UnicodeEncodeError("ascii", "Ä", 0, 1, "a defect, not the mail server being away")

    deps = EmailDeps(
        invoices=invoices,
        tenant_settings=MemoryTenantSettings(),
        storage=storage,
        mailer=BrokenMailer(),
        default_sender="invoices@example.com",
    )
    request = InvoiceEmailRequested(tenant="shop", orderId="o-1", invoiceNumber="N1", reason=EmailReason.RETRY)
    await handle_email_request(record(request.to_bytes()), deps, Settings())

    [letter] = dead_letters
    assert "emailing invoice N1 of tenant shop failed" in letter.reason and "UnicodeEncodeError" in letter.reason
    assert base64.b64decode(letter.value) == request.to_bytes()  # the request can be replayed as it was
    invoice = await invoices.find("shop", "o-1")
    assert invoice is not None and invoice.emailed_at is None  # not recorded as sent


# --- every step of every agent under the policy --------------------------------------------------------
# Each agent runs on a stream of two records whose collaborators are stand-ins that record each step; one
# step is broken for the first record (a RuntimeError: a defect, not a dependency being away). That record
# must be dead-lettered with a reference, and the agent must go on and take the second record to its end.


AGENTS: dict[str, tuple[Any, list[str]]] = {
    # agent: (its wiring, its steps in order; the last is where a record's handling ends)
    "orders": (wire_orders, ["parse", "store"]),
    "plan": (wire_plan, ["parse", "check", "select orders", "publish plan", "request orders"]),
    "invoice": (wire_invoice, ["parse", "check", "invoice", "publish result", "release claim", "announce failure"]),
    "credit": (wire_credit, ["parse", "check", "make credit note"]),
    "refunds": (wire_refunds, ["parse", "refund"]),
    "emails (invoice)": (lambda world, patch: wire_emails(world, patch, None), ["parse", "check", "email invoice"]),
    "emails (credit note)": (
        lambda world, patch: wire_emails(world, patch, "c-1"),
        ["parse", "check", "email credit note"],
    ),
    "project": (wire_project, ["parse", "fold", "announce completed jobs"]),
}
CASES = [
    pytest.param(agent, {step}, id=f"{agent}: {step}") for agent, (_, steps) in AGENTS.items() for step in steps
] + [
    # A defect handler that itself does I/O: the credit note is finished FAILED after the defect.
    pytest.param("credit", {"make credit note", "fail request"}, id="credit: fail request after a defect"),
]


@pytest.mark.parametrize(("agent", "broken"), CASES)
async def test_a_defect_in_any_step_of_any_agent_is_dead_lettered_and_the_agent_goes_on(
    agent: str, broken: set[str], dead_letters: list[DeadLetter], monkeypatch: pytest.MonkeyPatch
) -> None:
    wire, steps = AGENTS[agent]
    world = World(broken)
    run, values = wire(world, monkeypatch)

    await run(Stream(world, values))  # a defect that escaped would end the agent here

    assert dead_letters, "the broken record was not dead-lettered"
    for letter in dead_letters:
        assert letter.offset == 1 and base64.b64decode(letter.value) == values[0]
        assert re.search(r"\(reference [0-9a-f]{12}\): RuntimeError: injected defect in ", letter.reason)
    assert (steps[-1], 2) in world.steps, f"the second record did not get through: {world.steps}"
