"""Download links for local storage: signed per tenant and invoice, expiring, read-only."""

import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from infra.links import LinkSigner
from infra.settings import Settings
from infra.storage import invoice_key
from service.app import create_app
from tests.support import api_client

pytestmark = pytest.mark.integration


@pytest.fixture
async def local_api(settings: Settings, tmp_path: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Settings, LinkSigner]]:
    """The API with local storage, and the signer it signs its links with."""
    local = settings.model_copy(update={"storage": "local", "local_storage_dir": tmp_path})
    app = create_app(local)
    async with api_client(app, local) as client:
        yield client, local, app.state.resources.signer


async def test_signed_link_downloads_only_its_invoice(
    local_api: tuple[httpx.AsyncClient, Settings, LinkSigner], mongo_db: Any, tenant: str
) -> None:
    client, settings, signer = local_api
    number = "INV/2026 7"  # a sequence format may put '/' and spaces into numbers
    pdf = b"%PDF-1.7 test invoice"
    key = invoice_key(tenant, number)
    (settings.local_storage_dir / key).parent.mkdir(parents=True)
    (settings.local_storage_dir / key).write_bytes(pdf)
    await mongo_db.invoices.insert_one(
        {
            "_id": f"{tenant}:o-1",
            "tenant": tenant,
            "orderId": "o-1",
            "jobId": "j",
            "seq": 7,
            "number": number,
            "document": {},
            "storageKey": key,
            "issuedAt": None,
        }
    )
    link = signer.link(tenant, number)
    path = urlsplit(link)
    response = await client.get(f"{path.path}?{path.query}")
    assert response.status_code == 200
    assert response.content == pdf
    assert response.headers["content-type"] == "application/pdf"

    query = parse_qs(path.query)
    tampered = f"{path.path}?expires={query['expires'][0]}&signature={'0' * 64}"
    assert (await client.get(tampered)).status_code == 403
    other_tenant = path.path.replace(f"/invoice/{tenant}/", "/invoice/othertenant/")
    assert (await client.get(f"{other_tenant}?{path.query}")).status_code == 403
    forged = urlsplit(LinkSigner(settings).link(tenant, number))  # another (random) key
    assert (await client.get(f"{forged.path}?{forged.query}")).status_code == 403


async def test_expired_link_is_refused(local_api: tuple[httpx.AsyncClient, Settings, LinkSigner], tenant: str) -> None:
    client, settings, signer = local_api
    expired = urlsplit(signer.link(tenant, "INV-1", now=time.time() - settings.download_link_ttl_seconds - 1))
    response = await client.get(f"{expired.path}?{expired.query}")
    assert response.status_code == 403
    assert "expired" in response.json()["message"]
