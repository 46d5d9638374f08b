"""Download links for local storage: signed per tenant and invoice, expiring, read-only."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from bootstrap.api import build_api
from infra.links import LinkSigner
from infra.settings import Settings
from infra.storage import credit_note_key, invoice_key
from tests.support import api_client

pytestmark = pytest.mark.integration


@pytest.fixture
async def local_api(settings: Settings, tmp_path: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Settings, LinkSigner]]:
    """The API with local storage, and the signer it signs its links with."""
    local = settings.model_copy(update={"storage": "local", "local_storage_dir": tmp_path})
    app = build_api(local)
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
    other_key = settings.model_copy(update={"link_signing_key": SecretStr("another-key-" * 4)})
    forged = urlsplit(LinkSigner(other_key).link(tenant, number))  # another key under the same key id
    assert (await client.get(f"{forged.path}?{forged.query}")).status_code == 403


async def test_a_credit_notes_link_gives_its_pdf_never_the_invoice_numbered_alike(
    local_api: tuple[httpx.AsyncClient, Settings, LinkSigner], mongo_db: Any, tenant: str
) -> None:
    """A credit-note sequence may print like the invoice sequence: the list's links.pdf of the credit
    note N-1 gives the credit note's PDF, and its signature does not open the invoice N-1."""
    client, settings, _ = local_api
    number = "N-1"
    invoice_pdf, note_pdf = b"%PDF-1.7 the invoice", b"%PDF-1.7 the credit note"
    for key, pdf in ((invoice_key(tenant, number), invoice_pdf), (credit_note_key(tenant, number), note_pdf)):
        (settings.local_storage_dir / key).parent.mkdir(parents=True, exist_ok=True)
        (settings.local_storage_dir / key).write_bytes(pdf)
    issued_at = datetime.now(UTC).replace(microsecond=0)
    await mongo_db.credit_notes.insert_one(
        {
            "_id": f"{tenant}-note-1",
            "tenant": tenant,
            "type": "credit-note",
            "number": number,
            "seq": 1,
            "ordinal": 1,
            "invoiceNumber": number,
            "orderId": "o-1",
            "issuedAt": issued_at,
            "currency": "EUR",
            "totals": {"net": "10.00", "tax": "1.90", "gross": "11.90"},
            "reason": "r",
            "document": {},
            "logoSha256": None,
            "storageKey": credit_note_key(tenant, number),
            "refund": {"status": "NOT_NEEDED", "amount": "11.90", "refundId": None, "error": None},
        }
    )
    listed = await client.get(f"/invoice/{tenant}/invoices", params={"type": "credit-note"})
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    link = urlsplit(item["links"]["pdf"])
    assert link.path == f"/invoice/{tenant}/credit-notes/{number}/pdf"
    response = await client.get(f"{link.path}?{link.query}")
    assert response.status_code == 200, response.text
    assert response.content == note_pdf
    as_invoice = f"/invoice/{tenant}/invoices/{number}/pdf?{link.query}"
    assert (await client.get(as_invoice)).status_code == 403  # a credit note's signature opens no invoice


async def test_two_api_instances_accept_each_others_links(
    settings: Settings, mongo_db: Any, tenant: str, tmp_path: Any
) -> None:
    """Replicas share the link key: a link one API signed downloads from another, and so does a link of
    before key ids (no `kid=`), checked with the current key."""
    local = settings.model_copy(update={"storage": "local", "local_storage_dir": tmp_path})
    number = "INV-77"
    key = invoice_key(tenant, number)
    (tmp_path / key).parent.mkdir(parents=True)
    (tmp_path / key).write_bytes(b"%PDF-1.7 replicated")
    await mongo_db.invoices.insert_one(
        {"_id": f"{tenant}:o-77", "tenant": tenant, "orderId": "o-77", "jobId": "j", "seq": 77, "number": number,
         "document": {}, "storageKey": key, "issuedAt": None}
    )  # fmt: skip
    first, second = build_api(local), build_api(local)
    async with api_client(first, local) as one, api_client(second, local) as other:
        link = urlsplit(first.state.resources.signer.link(tenant, number))
        assert "kid=" in link.query
        assert (await other.get(f"{link.path}?{link.query}")).content == b"%PDF-1.7 replicated"
        without_kid = "&".join(part for part in link.query.split("&") if not part.startswith("kid="))
        assert (await other.get(f"{link.path}?{without_kid}")).status_code == 200
        unknown = (await one.get(f"{link.path}?{without_kid}&kid=k-unknown")).json()
        assert unknown["code"] == "403"
