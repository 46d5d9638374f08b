"""The store contract (tests/integration/store_contracts.py) over the in-memory fake and the MongoDB adapter:
the credit note store."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from infra.records import (
    CreditRaced,
    NumberTaken,
    RefundState,
    RefundStatus,
)
from schemas.api import CreditNoteStatus
from tests.integration.store_contracts import FINISHED, STARTED, UNRECORDED, Stores, document

pytestmark = pytest.mark.integration


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
