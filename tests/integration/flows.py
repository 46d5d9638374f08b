"""Steps the integration tests share: wait for orders in the store, create a job, wait for it, read a PDF."""

import io
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from pypdf import PdfReader

from tests.support import wait_for


async def stored(stored_order: Callable[[str, str], Awaitable[Any]], tenant: str, *order_ids: str) -> None:
    missing = set(order_ids)

    async def all_stored() -> bool:
        for order_id in list(missing):
            if await stored_order(tenant, order_id):
                missing.discard(order_id)
        return not missing

    timeout = 60 + len(order_ids) / 10  # generous for FerretDB on a small machine
    await wait_for(all_stored, timeout=timeout, what=f"all {len(order_ids)} orders in the order store")


async def create_job(api: httpx.AsyncClient, tenant: str, order_ids: list[str] | None = None) -> str:
    """A MANUAL job of `order_ids`, or an AUTOMATIC job when there are none."""
    body = {"jobType": "MANUAL", "orderIds": order_ids} if order_ids else {"jobType": "AUTOMATIC"}
    response = await api.post(f"/invoice/{tenant}/jobs/invoices", json=body)
    assert response.status_code == 201, response.text
    job_id: str = response.json()["jobId"]
    return job_id


async def finished_job(api: httpx.AsyncClient, tenant: str, job_id: str, timeout: float = 120) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        response = await api.get(f"/invoice/{tenant}/jobs/invoices/{job_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if body["jobStatus"] == "DONE" else None

    return await wait_for(done, timeout=timeout, what=f"job {job_id} to be DONE")


async def pdf_bytes(url: str) -> bytes:
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"%PDF")
    return response.content


async def pdf_text(url: str) -> str:
    reader = PdfReader(io.BytesIO(await pdf_bytes(url)))
    return "\n".join(page.extract_text() for page in reader.pages)


async def invoice_events(
    api: httpx.AsyncClient,
    publish_orders: Callable[..., Awaitable[None]],
    stored_order: Callable[[str, str], Awaitable[Any]],
    tenant: str,
    *events: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """Publish the order events, invoice their orders in one MANUAL job, and return its results by order."""
    order_ids = [event["order"]["id"] for event in events]
    await publish_orders(tenant, *events)
    await stored(stored_order, tenant, *order_ids)
    job = await finished_job(api, tenant, await create_job(api, tenant, order_ids))
    return {order["orderId"]: order for order in job["orders"]}
