"""Making a credit note on in-memory fakes of the ports (tests/memory/): the refund's branches, a
redelivered request, an over-credit. The same flow runs against the real services in
tests/integration/test_credit_notes.py."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from infra.records import CreditNoteRecord, RefundStatus
from schemas.api import CreditNoteStatus
from schemas.events import CreditedLine, CreditNoteRequested, InvoiceEmailRequested, RefundRequested
from streams.crediting import CreditDeps, make_credit_note
from tests.unit.test_pipeline import NOW, TENANT, World


def card(transaction: str) -> list[dict[str, object]]:
    return [{"method": "credit_card", "status": "AUTHORIZED", "authorizedAmount": 58.76, "transactionId": transaction}]


@dataclass
class CreditWorld(World):
    refunds_queued: list[RefundRequested] = field(default_factory=list)
    emails_queued: list[InvoiceEmailRequested] = field(default_factory=list)

    def credit_deps(self) -> CreditDeps:
        async def queue_refund(request: RefundRequested) -> None:
            self.refunds_queued.append(request)

        async def queue_email(request: InvoiceEmailRequested) -> None:
            self.emails_queued.append(request)

        pipeline = self.deps()
        return CreditDeps(
            invoices=self.invoices,
            credit_notes=self.credit_notes,
            tenant_settings=self.tenant_settings,
            storage=self.storage,
            render=self.render,
            captures=self.captures,
            refunds=self.gateway,
            email=pipeline.email,
            queue_refund=queue_refund,
            queue_email=queue_email,
            now=lambda: NOW,
        )

    async def invoiced(self, order_id: str, **fields: Any) -> str:
        await self.add_order(order_id, **fields)
        result = await self.invoice(order_id)
        return result.invoiceNumber  # type: ignore[union-attr]

    async def credit(self, note_id: str, order_id: str, number: str, **ask: Any) -> CreditNoteRecord | None:
        request = CreditNoteRequested(
            tenant=TENANT, creditNoteId=note_id, orderId=order_id, invoiceNumber=number, reason="r", **ask
        )
        await self.credit_notes.create_request(
            tenant=TENANT, request_id=note_id, invoice_number=number, order_id=order_id
        )
        await make_credit_note(request, self.credit_deps())
        return await self.credit_notes.find(TENANT, note_id)


async def test_a_captured_payment_is_refunded_once_even_when_the_request_comes_twice() -> None:
    world = CreditWorld()
    number = await world.invoiced("o-1", payments=card("ok-1"))
    note = await world.credit("n1", "o-1", number, lines=[CreditedLine(entryId="1", quantity=Decimal(1))])
    assert note is not None and note.refund.status is RefundStatus.REFUNDED and note.refund.amount == Decimal("23.79")
    again = await world.credit("n1", "o-1", number, lines=[CreditedLine(entryId="1", quantity=Decimal(1))])
    assert again == note and len(world.gateway.refund_requests) == 1
    assert len(world.credit_notes.notes) == 1
    request = await world.credit_notes.get_request(TENANT, "n1")
    assert request is not None and request.status is CreditNoteStatus.DONE
    assert (
        request.message
        == f"Credit note CN-000001 issued for invoice {number}; 23.79 EUR refunded and emailed to erika@example.com"
    )
    assert world.credit_notes.summaries[f"{TENANT}:{number}"]["gross"] == "23.79"


async def test_a_refund_without_an_answer_stays_pending_and_goes_to_the_refund_agent() -> None:
    world = CreditWorld()
    world.gateway.refunds_down = True
    number = await world.invoiced("o-1", payments=card("ok-1"))
    note = await world.credit("n1", "o-1", number, wholeInvoice=True)
    assert note is not None and note.refund.status is RefundStatus.PENDING
    assert note.refund.error == "no answer within 60 s"
    assert world.refunds_queued == [
        RefundRequested(tenant=TENANT, creditNoteId="n1", requestedAt=world.refunds_queued[0].requestedAt)
    ]


async def test_nothing_captured_nothing_refunded_and_an_over_credit_fails_the_request() -> None:
    world = CreditWorld()
    number = await world.invoiced("o-1")
    note = await world.credit("n1", "o-1", number, wholeInvoice=True)
    assert note is not None and note.refund.status is RefundStatus.NOT_NEEDED and world.gateway.refund_requests == []
    assert await world.credit("n2", "o-1", number, shipping=True) is None
    request = await world.credit_notes.get_request(TENANT, "n2")
    assert request is not None and request.status is CreditNoteStatus.FAILED
    assert request.message is not None and "the shipping is credited already" in request.message
