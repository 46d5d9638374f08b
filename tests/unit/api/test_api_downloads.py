"""Signed download links over the fakes: the link's PDF and nothing else; every bad, foreign, forged or
expired link is 403 and a link to nothing is 404."""

import time
from urllib.parse import parse_qs, urlsplit

from pydantic import SecretStr

from infra.links import CREDIT_NOTE_PDF, LinkSigner
from tests.api_fakes import FakeApi
from tests.unit.api.test_api_invoices import issue


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


async def test_a_signed_link_downloads_its_invoice_only(fake: FakeApi) -> None:
    await issue(fake, "INV/2026 7", "o-1")
    link = fake.resources.signer.link("shop", "INV/2026 7")
    response = fake.http.get(path_of(link))
    assert response.status_code == 200, response.text
    assert response.content == b"%PDF INV/2026 7"
    assert response.headers["content-type"] == "application/pdf"

    parts = urlsplit(link)
    tampered = f"{parts.path}?expires={parse_qs(parts.query)['expires'][0]}&signature={'0' * 64}"
    assert fake.http.get(tampered).status_code == 403
    other_tenant = path_of(link).replace("/invoice/shop/", "/invoice/othertenant/")
    assert fake.http.get(other_tenant).status_code == 403
    other_key = fake.settings.model_copy(update={"link_signing_key": SecretStr("another-key-" * 4)})
    assert fake.http.get(path_of(LinkSigner(other_key).link("shop", "INV/2026 7"))).status_code == 403
    as_xml = fake.resources.signer.link("shop", "INV/2026 7", what="xml")
    assert fake.http.get(path_of(as_xml).replace("/xml?", "/pdf?")).status_code == 403  # an xml link opens no pdf


async def test_an_expired_link_is_refused(fake: FakeApi) -> None:
    await issue(fake, "INV-1", "o-1")
    ttl = fake.settings.download_link_ttl_seconds
    expired = fake.resources.signer.link("shop", "INV-1", now=time.time() - ttl - 1)
    response = fake.http.get(path_of(expired))
    assert response.status_code == 403
    assert "expired" in response.json()["message"]


async def test_a_link_to_no_invoice_or_to_one_not_issued_is_404(fake: FakeApi) -> None:
    assert fake.http.get(path_of(fake.resources.signer.link("shop", "INV-404"))).status_code == 404
    await fake.invoices.allocate(
        tenant="shop",
        order_id="o-9",
        job_id="j",
        seq=9,
        number="INV-9",
        document=(await issue(fake, "X", "o-x")).invoice_document(),
    )
    response = fake.http.get(path_of(fake.resources.signer.link("shop", "INV-9")))
    assert response.status_code == 404
    assert response.json()["message"] == "Invoice INV-9 not found"


def test_a_link_without_its_signature_is_400(fake: FakeApi) -> None:
    assert fake.http.get("/invoice/shop/invoices/INV-1/pdf?expires=1").status_code == 400
    assert fake.http.get("/invoice/shop/invoices/INV-1/pdf?signature=x").status_code == 400


async def test_a_credit_notes_link_opens_no_invoice_and_an_invoices_no_credit_note(fake: FakeApi) -> None:
    await issue(fake, "N-1", "o-1")
    note_link = fake.resources.signer.link("shop", "N-1", what=CREDIT_NOTE_PDF)
    assert fake.http.get(path_of(note_link)).status_code == 404  # signed right, but no such credit note
    as_invoice = path_of(note_link).replace("/credit-notes/", "/invoices/")
    assert fake.http.get(as_invoice).status_code == 403
    invoice_link = path_of(fake.resources.signer.link("shop", "N-1")).replace("/invoices/", "/credit-notes/")
    response = fake.http.get(invoice_link)
    assert response.status_code == 403
    assert "read the credit note again" in response.json()["message"]
