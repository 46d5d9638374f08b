"""Signed links of local storage: an invoice's and a credit note's PDF go to different routes, under
signatures that cannot be swapped (credit-note numbers may print like invoice numbers)."""

import asyncio
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from pydantic import SecretStr

from infra.links import CREDIT_NOTE_PDF, LinkSigner
from infra.settings import Settings
from infra.storage import LocalStorage, credit_note_key, invoice_key

SETTINGS = Settings(link_signing_key=SecretStr("k" * 32), public_base_url="http://api.test")


def signature_of(link: str) -> tuple[str, int, str]:
    parts = urlsplit(link)
    query = parse_qs(parts.query)
    return parts.path, int(query["expires"][0]), query["signature"][0]


def test_local_storage_links_a_credit_note_to_its_own_route(tmp_path: Path) -> None:
    signer = LinkSigner(SETTINGS)
    storage = LocalStorage(tmp_path, signer)
    invoice = asyncio.run(storage.download_link(invoice_key("shop", "N/1"), "shop", "N/1"))
    note = asyncio.run(storage.download_link(credit_note_key("shop", "N/1"), "shop", "N/1"))
    invoice_path, invoice_expires, invoice_signature = signature_of(invoice)
    note_path, note_expires, note_signature = signature_of(note)
    assert invoice_path == "/invoice/shop/invoices/N%2F1/pdf"
    assert note_path == "/invoice/shop/credit-notes/N%2F1/pdf"
    assert signer.verify("shop", "N/1", note_expires, note_signature, what=CREDIT_NOTE_PDF)
    assert not signer.verify("shop", "N/1", note_expires, note_signature)  # not the invoice's PDF
    assert not signer.verify("shop", "N/1", invoice_expires, invoice_signature, what=CREDIT_NOTE_PDF)
