"""The demo orders `make run` seeds for a newcomer: published with `invoice-service orders publish` (as
run.sh does), each becomes a real invoice, the long one over several pages, the card one paid."""

import asyncio
import io
import os
import sys
from asyncio.subprocess import PIPE
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from tests.integration.flows import create_job, finished_job, pdf_bytes, stored
from tests.support import ROOT, WorkerProcess

pytestmark = pytest.mark.integration

DEMO_ORDERS = ROOT / "deploy" / "local" / "demo-orders.ndjson"
DEMO_IDS = [f"demo-100{n}" for n in range(1, 6)]


async def test_every_demo_order_becomes_an_invoice(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    service_env: dict[str, str],
    stored_order: Callable[[str, str], Awaitable[Any]],
    tenant: str,
    tmp_path: Path,
) -> None:
    seed = tmp_path / "demo-orders.ndjson"
    seed.write_text(DEMO_ORDERS.read_text().replace('"tenant": "demo"', f'"tenant": "{tenant}"'))
    publisher = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "orders", "publish", str(seed),
        env={**os.environ, **service_env}, cwd=ROOT, stdout=PIPE, stderr=PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(publisher.communicate(), timeout=120)
    assert publisher.returncode == 0, stderr.decode()
    assert "5 published, 0 rejected" in stdout.decode()
    await stored(stored_order, tenant, *DEMO_IDS)

    job = await finished_job(api, tenant, await create_job(api, tenant, DEMO_IDS), timeout=240)
    results = {order["orderId"]: order for order in job["orders"]}
    assert {order_id: result["orderStatus"] for order_id, result in results.items()} == dict.fromkeys(
        DEMO_IDS, "SUCCESS"
    ), results

    long_pdf = PdfReader(io.BytesIO(await pdf_bytes(results["demo-1003"]["downloadLink"])))
    assert len(long_pdf.pages) >= 2
    card = (await api.get(f"/invoice/{tenant}/invoices", params={"orderId": "demo-1002"})).json()["items"][0]
    assert card["payment"]["paid"] is True and card["payment"]["method"] == "card"
    rates = {
        line["taxRate"]
        for order_id in ("demo-1001", "demo-1004")
        for line in await lines_of(api, tenant, results[order_id]["invoiceNumber"])
    }
    assert {"0", "7", "19"} <= rates


async def lines_of(api: httpx.AsyncClient, tenant: str, number: str) -> list[dict[str, Any]]:
    response = await api.get(f"/invoice/{tenant}/invoices/{number}")
    assert response.status_code == 200, response.text
    lines: list[dict[str, Any]] = response.json()["lines"]
    return lines
