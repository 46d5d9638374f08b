"""The store contract (tests/integration/store_contracts.py) over the in-memory fake and the MongoDB adapter:
invoices, their numbers, captures and tenant settings."""

import asyncio
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from PIL import Image

from infra.records import (
    CaptureRecord,
    InvoiceFilter,
    NumberInUse,
    NumberTaken,
)
from invoicing.logo import check_logo
from schemas.api import EmailStatus
from schemas.settings import SequenceSettings
from tests.integration.store_contracts import Stores, document

pytestmark = pytest.mark.integration


# --- invoices, numbers, captures, settings ---------------------------------------------------------


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
