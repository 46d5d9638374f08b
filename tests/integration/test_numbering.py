"""Invoice numbers from the tenant's sequence, and the seller's details on the PDF, with the real services."""

import io
from collections.abc import Awaitable, Callable
from typing import Any, cast

import httpx
import pytest
from PIL import Image
from pypdf import PdfReader

from tests.factories import order_event
from tests.integration.flows import create_job, finished_job, pdf_bytes, pdf_text, stored
from tests.support import WorkerProcess

pytestmark = pytest.mark.integration

Publish = Callable[..., Awaitable[None]]


async def put_settings(api: httpx.AsyncClient, tenant: str, concern: str, body: dict[str, Any]) -> None:
    response = await api.put(f"/invoice/{tenant}/settings/{concern}", json=body)
    assert response.status_code == 200, response.text


async def invoice_orders(
    api: httpx.AsyncClient, publish_orders: Publish, stored_order: Any, tenant: str, order_ids: list[str], **fields: Any
) -> dict[str, Any]:
    await publish_orders(tenant, *(order_event(tenant, order_id, **fields) for order_id in order_ids))
    await stored(stored_order, tenant, *order_ids)
    return await finished_job(api, tenant, await create_job(api, tenant, order_ids), timeout=600)


async def test_two_workers_number_500_orders_without_gaps_or_duplicates(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    second_worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    tenant: str,
    mongo_db: Any,
) -> None:
    await put_settings(
        api, tenant, "sequence", {"preText": "N-__num__", "numberOfDigits": 5, "startValue": 100, "maxValue": 99999}
    )
    order_ids = [f"order-{i:03d}" for i in range(500)]
    # The workers' logs are shared with every test of the run: read only what they log from here on.
    offsets = {process: process.log_path.stat().st_size for process in (worker, second_worker)}
    job = await invoice_orders(api, publish_orders, stored_order, tenant, order_ids)

    assert [order["orderStatus"] for order in job["orders"]] == ["SUCCESS"] * 500
    assert sorted(order["invoiceNumber"] for order in job["orders"]) == [f"N-{n:05d}" for n in range(100, 600)]
    by_job = {doc["jobId"] async for doc in mongo_db.invoices.find({"tenant": tenant}, {"jobId": 1})}
    assert len(by_job) == 1
    assert await mongo_db.invoices.count_documents({"tenant": tenant}) == 500
    # Both workers did part of this job (the test would prove little with one idle).
    for process, offset in offsets.items():
        with process.log_path.open("rb") as log:
            log.seek(offset)
            issued = [line for line in log if b"invoice issued" in line and f"tenant={tenant}".encode() in line]
        assert issued, f"{process.log_path} issued no invoice of {tenant}"


async def test_exhausted_sequence_fails_the_order_and_a_new_sequence_applies_to_later_invoices(
    api: httpx.AsyncClient, worker: WorkerProcess, publish_orders: Publish, stored_order: Any, tenant: str
) -> None:
    await put_settings(
        api, tenant, "sequence", {"preText": "A__num__", "numberOfDigits": 2, "startValue": 1, "maxValue": 2}
    )
    job = await invoice_orders(api, publish_orders, stored_order, tenant, ["o-1", "o-2", "o-3"])
    results = sorted((order["orderStatus"], order.get("invoiceNumber")) for order in job["orders"])
    assert results[0][0] == "FAILURE"
    assert results[1:] == [("SUCCESS", "A01"), ("SUCCESS", "A02")]
    failed = next(order for order in job["orders"] if order["orderStatus"] == "FAILURE")
    assert "invoice number sequence exhausted" in failed["message"]

    await put_settings(
        api, tenant, "sequence", {"preText": "B-__num__", "numberOfDigits": 3, "startValue": 1, "maxValue": 999}
    )
    again = await invoice_orders(api, publish_orders, stored_order, tenant, ["o-1", "o-2", "o-3"])
    numbers = {order["orderId"]: (order["orderStatus"], order.get("invoiceNumber")) for order in again["orders"]}
    # The sequence goes on after the last value used; the invoices already made keep their numbers.
    assert numbers[failed["orderId"]] == ("SUCCESS", "B-003")
    assert sorted(status for status, _ in numbers.values()) == ["FAILURE", "FAILURE", "SUCCESS"]


def png_logo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 100), (10, 90, 170)).save(buffer, format="PNG")
    return buffer.getvalue()


def image_names(pdf: bytes) -> list[str]:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    resources = cast(dict[str, Any], page["/Resources"].get_object())
    xobjects = cast(dict[str, Any], resources.get("/XObject", {}))
    return [name for name, ref in xobjects.items() if ref.get_object()["/Subtype"] == "/Image"]


async def test_seller_settings_and_logo_appear_on_invoices_made_after_them(
    api: httpx.AsyncClient, worker: WorkerProcess, publish_orders: Publish, stored_order: Any, tenant: str
) -> None:
    before = await invoice_orders(api, publish_orders, stored_order, tenant, ["before"])
    await put_settings(
        api,
        tenant,
        "seller",
        {
            "legalName": "Müller & Söhne GmbH",
            "address": {"street": "Łódzka 7", "zipCode": "90-001", "city": "Łódź", "country": "PL"},
            "vatId": "PL1234567890",
            "language": "de",
            "locale": "de_DE",
        },
    )
    logo = await api.put(f"/invoice/{tenant}/settings/logo", content=png_logo())
    assert logo.status_code == 200, logo.text

    after = await invoice_orders(api, publish_orders, stored_order, tenant, ["after"])

    after_pdf = await pdf_bytes(after["orders"][0]["downloadLink"])
    text = await pdf_text(after["orders"][0]["downloadLink"])
    assert "Müller & Söhne GmbH" in text
    assert "Łódź" in text
    assert "PL1234567890" in text
    assert "58,76" in text  # the German locale's decimal comma
    assert image_names(after_pdf), "the logo is not among the page's images"

    # The invoice made before the settings keeps the placeholder seller and has no logo.
    before_pdf = await pdf_bytes(before["orders"][0]["downloadLink"])
    assert "Müller & Söhne" not in await pdf_text(before["orders"][0]["downloadLink"])
    assert not image_names(before_pdf)


async def test_a_sequence_format_that_repeats_an_earlier_number_skips_it_and_says_so(
    api: httpx.AsyncClient, worker: WorkerProcess, publish_orders: Publish, stored_order: Any, tenant: str
) -> None:
    # "A1__num__" with 1 digit gives A11 for value 1; "A__num__" with 2 digits from 11 gives A11 again.
    await put_settings(
        api, tenant, "sequence", {"preText": "A1__num__", "numberOfDigits": 1, "startValue": 1, "maxValue": 9}
    )
    first = await invoice_orders(api, publish_orders, stored_order, tenant, ["o-1"])
    assert [(o["orderStatus"], o["invoiceNumber"]) for o in first["orders"]] == [("SUCCESS", "A11")]
    await put_settings(
        api, tenant, "sequence", {"preText": "A__num__", "numberOfDigits": 2, "startValue": 11, "maxValue": 99}
    )
    second = await invoice_orders(api, publish_orders, stored_order, tenant, ["o-2"])
    [result] = second["orders"]
    assert (result["orderStatus"], result["invoiceNumber"]) == ("SUCCESS", "A12")
    assert "A11, already the number of another invoice" in result["message"]
    # Each invoice keeps its own PDF: the first was not overwritten by the second.
    first_text = await pdf_text(first["orders"][0]["downloadLink"])
    second_text = await pdf_text(result["downloadLink"])
    assert "o-1" in first_text and "o-2" not in first_text
    assert "o-2" in second_text and "A12" in second_text
