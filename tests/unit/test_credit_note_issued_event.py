"""credit_note.issued: announced when a credit note is made, with the same ce_id on a redelivered request."""

from streams.public_events import cloud_event_id
from tests.unit.test_crediting import CreditWorld
from tests.unit.test_pipeline import TENANT


async def test_a_credit_note_is_announced_once_per_number() -> None:
    world = CreditWorld()
    number = await world.invoiced("o-1")
    await world.credit("n1", "o-1", number, wholeInvoice=True)
    [issued] = [event for event in world.announced if event.type == "credit_note.issued"]
    note = await world.credit_notes.find(TENANT, "n1")
    assert note is not None
    assert (issued.tenant, issued.orderId, issued.invoiceNumber) == (TENANT, "o-1", number)
    assert issued.creditNoteNumber == note.number and issued.storageKey == note.storage_key
    assert issued.grossTotal > 0
    await world.credit("n1", "o-1", number, wholeInvoice=True)  # the same request again (a redelivery)
    again = [event for event in world.announced if event.type == "credit_note.issued"]
    assert len({cloud_event_id(event) for event in again}) == 1
