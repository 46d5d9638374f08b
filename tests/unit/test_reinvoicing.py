"""An order whose invoice is credited in full is invoiced again, only by a new MANUAL job (issue 15): on
the in-memory fakes (tests/memory/), with the pipeline and the credit-note flow of the worker.

The standard order (tests/factories.py) totals 58.76 EUR: entry 1 is 2 x 19.99 at 19 %, entry 2 is
1 x 5.00 at 7 %, shipping 4.90 at 19 %."""

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from infra.records import RefundStatus
from infra.storage import invoice_key
from invoicing.payments import idempotency_key
from schemas.api import CreditNoteStatus, JobType
from schemas.events import CreditedLine, OrderFailed, OrderInvoiced
from tests.unit.test_crediting import CreditWorld, card
from tests.unit.test_pipeline import TENANT


async def credited_in_full(world: CreditWorld, note_id: str, number: str, order_id: str = "o-1") -> None:
    note = await world.credit(note_id, order_id, number, wholeInvoice=True)
    assert note is not None, await world.credit_notes.get_request(TENANT, note_id)


@pytest.fixture
def world() -> CreditWorld:
    return CreditWorld()


async def test_a_fully_credited_order_is_invoiced_again_by_a_new_manual_job(world: CreditWorld) -> None:
    first = await world.invoiced("o-1", payments=card("ok-1"))
    await credited_in_full(world, "n1", first)
    # The order as stored now: the new invoice is recalculated from it, not copied from the old one.
    await world.add_order(
        "o-1", payments=card("ok-1"), customer="Erika Neu", occurred_at=datetime(2099, 1, 1, tzinfo=UTC)
    )

    result = await world.invoice("o-1", job_id="job-2")

    assert isinstance(result, OrderInvoiced), result
    assert result.invoiceNumber == "INV-000002"
    assert result.message == "Invoice INV-000002 created and emailed to erika@example.com"
    current = await world.invoices.find(TENANT, "o-1")
    assert current is not None and (current.number, current.generation, current.job_id) == ("INV-000002", 2, "job-2")
    assert current.issued and current.invoice_document().buyer.name == "Erika Neu"
    assert world.storage.files[invoice_key(TENANT, "INV-000002")] != world.storage.files[invoice_key(TENANT, first)]
    # The old invoice and its credit note stay as they are.
    old = await world.invoices.find_by_number(TENANT, first)
    assert old is not None and old.generation == 1 and old.issued and old.job_id == "job-1"
    assert old.invoice_document().buyer.name == "Erika Mustermann"
    assert [note.number for note in await world.credit_notes.of_invoice(TENANT, first)] == ["CN-000001"]
    assert await world.credit_notes.of_invoice(TENANT, "INV-000002") == []
    # Captured again, as a capture of its own: the gateway gets a new idempotency key.
    first_capture, second_capture = world.gateway.requests
    assert first_capture.idempotency_key == idempotency_key(TENANT, "o-1")
    assert second_capture.idempotency_key == idempotency_key(TENANT, "o-1", 2) != first_capture.idempotency_key
    captured = await world.captures.find(TENANT, "o-1", 2)
    assert captured is not None and captured.capture_id == "cap-2"
    assert current.invoice_document().payment.paid
    # Emailed: the first invoice, its credit note, the second invoice.
    assert [mail.recipient for mail in world.mailer.sent] == ["erika@example.com"] * 3


async def test_a_partly_credited_invoice_is_not_invoiced_again(world: CreditWorld) -> None:
    number = await world.invoiced("o-1")
    await world.credit("n1", "o-1", number, lines=[CreditedLine(entryId="1", quantity=Decimal(2))], shipping=True)
    result = await world.invoice("o-1", job_id="job-2")
    assert isinstance(result, OrderFailed)
    assert result.reason == f"Order o-1 is already invoiced as {number}; credit it fully to invoice it again"
    assert len(world.invoices.records) == 1 and world.invoices.allocations == 1


async def test_an_automatic_job_never_invoices_an_order_again(world: CreditWorld) -> None:
    number = await world.invoiced("o-1")
    await credited_in_full(world, "n1", number)
    result = await world.invoice("o-1", job_id="job-2", job_type=JobType.AUTOMATIC)
    assert isinstance(result, OrderFailed) and result.reason == f"Order o-1 is already invoiced as {number}"
    # A request written before requests carried the job's type is not a MANUAL job's either.
    legacy = await world.invoice("o-1", job_id="job-3", job_type=None)
    assert isinstance(legacy, OrderFailed)
    assert len(world.invoices.records) == 1 and world.invoices.allocations == 1


async def test_the_job_that_made_the_invoice_reports_it_again_and_does_not_invoice_again(world: CreditWorld) -> None:
    number = await world.invoiced("o-1")
    await credited_in_full(world, "n1", number)
    again = await world.invoice("o-1", job_id="job-1")  # a late redelivery of the first job
    assert isinstance(again, OrderInvoiced) and again.invoiceNumber == number
    assert len(world.invoices.records) == 1


async def test_a_redelivered_reinvoicing_makes_no_third_invoice(world: CreditWorld) -> None:
    number = await world.invoiced("o-1", payments=card("ok-1"))
    await credited_in_full(world, "n1", number)
    second = await world.invoice("o-1", job_id="job-2")
    again = await world.invoice("o-1", job_id="job-2")
    assert isinstance(second, OrderInvoiced) and isinstance(again, OrderInvoiced)
    assert again.invoiceNumber == second.invoiceNumber == "INV-000002" and again.message == second.message
    assert len(world.invoices.records) == 2 and len(world.gateway.requests) == 2 and len(world.mailer.sent) == 3
    # Another job for the order now meets an invoice with everything left to credit.
    third = await world.invoice("o-1", job_id="job-3")
    assert isinstance(third, OrderFailed) and "already invoiced as INV-000002" in third.reason


async def test_two_jobs_racing_to_invoice_an_order_again_make_one_new_invoice(world: CreditWorld) -> None:
    number = await world.invoiced("o-1", payments=card("ok-1"))
    await credited_in_full(world, "n1", number)
    results = await asyncio.gather(world.invoice("o-1", job_id="job-2"), world.invoice("o-1", job_id="job-3"))
    invoiced = [result for result in results if isinstance(result, OrderInvoiced)]
    assert invoiced and {result.invoiceNumber for result in invoiced} == {"INV-000002"}
    for result in results:
        if isinstance(result, OrderFailed):
            assert "already invoiced as INV-000002" in result.reason
    assert sorted(record.number for record in world.invoices.records.values()) == [number, "INV-000002"]
    # Both captured under the second invoice's key: the gateway answers the second request with the first.
    assert {request.idempotency_key for request in world.gateway.requests[1:]} == {idempotency_key(TENANT, "o-1", 2)}
    assert len(world.captures.records) == 2


async def crash(*_: Any) -> None:
    raise ConnectionError("the worker died here")


async def test_a_crash_before_the_new_invoice_is_current_is_finished_by_the_redelivery(
    world: CreditWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await world.invoiced("o-1", payments=card("ok-1"))
    await credited_in_full(world, "n1", number)
    monkeypatch.setattr(world.invoices, "make_current", crash)
    with pytest.raises(ConnectionError):
        await world.invoice("o-1", job_id="job-2")
    # Allocated, not yet current: the order's invoice is still the credited one.
    current = await world.invoices.find(TENANT, "o-1")
    assert current is not None and current.number == number
    made = await world.invoices.find_generation(TENANT, "o-1", 2)
    assert made is not None and made.number == "INV-000002" and not made.issued
    monkeypatch.undo()

    again = await world.invoice("o-1", job_id="job-2")  # the redelivery

    assert isinstance(again, OrderInvoiced) and again.invoiceNumber == "INV-000002"
    current = await world.invoices.find(TENANT, "o-1")
    assert current is not None and current.number == "INV-000002" and current.issued
    assert world.invoices.allocations == 2  # the first invoice's and the second's: nothing allocated again
    assert len(world.gateway.requests) == 2  # the recorded capture is not requested again
    assert len(world.invoices.records) == 2


async def test_a_crash_before_the_new_invoice_is_current_is_finished_by_another_job(
    world: CreditWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await world.invoiced("o-1")
    await credited_in_full(world, "n1", number)
    monkeypatch.setattr(world.invoices, "make_current", crash)
    with pytest.raises(ConnectionError):
        await world.invoice("o-1", job_id="job-2")
    monkeypatch.undo()
    other = await world.invoice("o-1", job_id="job-3")
    assert isinstance(other, OrderInvoiced) and other.invoiceNumber == "INV-000002"
    assert len(world.invoices.records) == 2


async def test_credit_notes_apply_to_the_invoice_they_name_not_to_the_order(world: CreditWorld) -> None:
    first = await world.invoiced("o-1", payments=card("ok-1"))
    await credited_in_full(world, "n1", first)
    second = await world.invoice("o-1", job_id="job-2")
    assert isinstance(second, OrderInvoiced)

    # The old invoice's credit note does not count against the new one: all of it is left to credit.
    note = await world.credit("n2", "o-1", second.invoiceNumber, wholeInvoice=True)
    assert note is not None and note.invoice_number == "INV-000002" and note.ordinal == 1
    assert note.credit_document().totals.total == Decimal("58.76")
    # Refunded from the new invoice's capture.
    assert note.refund.status is RefundStatus.REFUNDED
    assert [request.capture_id for request in world.gateway.refund_requests] == ["cap-1", "cap-2"]
    assert world.credit_notes.summaries[f"{TENANT}:{first}"]["gross"] == "58.76"
    assert world.credit_notes.summaries[f"{TENANT}:INV-000002"]["gross"] == "58.76"
    # The old invoice stays credited in full.
    assert await world.credit("n3", "o-1", first, shipping=True) is None
    refused = await world.credit_notes.get_request(TENANT, "n3")
    assert refused is not None and refused.status is CreditNoteStatus.FAILED

    # Credited in full again: a third invoice by the next MANUAL job, and the order's current is the newest.
    third = await world.invoice("o-1", job_id="job-3")
    assert isinstance(third, OrderInvoiced) and third.invoiceNumber == "INV-000003"
    current = await world.invoices.find(TENANT, "o-1")
    assert current is not None and (current.number, current.generation) == ("INV-000003", 3)
