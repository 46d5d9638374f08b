"""The agents' one failure policy (streams/failures.py) and the projection's batched fold, without
Kafka: records are stand-ins with the fields Faust gives, the dead-letter topic is replaced by a list."""

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

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


@dataclass
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


@dataclass
class Event:
    message: Message

    @property
    def value(self) -> bytes:
        return self.message.value


def record(value: bytes, offset: int = 7) -> Event:
    return Event(Message("invoice-order-requests", 1, offset, b"shop:o-1", value))


class Sent:
    def __await__(self) -> Any:
        yield from ()


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
