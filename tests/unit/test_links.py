"""Signed links of local storage: an invoice's and a credit note's PDF go to different routes, under
signatures that cannot be swapped (credit-note numbers may print like invoice numbers)."""

import asyncio
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
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


def query_of(link: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(link).query).items()}


def test_a_link_names_its_key_and_verifies_on_another_instance_with_the_same_settings() -> None:
    """Two API replicas (two signers of the same settings) accept each other's links."""
    link = LinkSigner(SETTINGS).link("shop", "N/1", what="xml")
    query = query_of(link)
    assert query["kid"] == SETTINGS.link_key_id
    assert LinkSigner(SETTINGS).verify("shop", "N/1", int(query["expires"]), query["signature"], "xml", query["kid"])


def test_a_link_of_the_previous_key_verifies_after_a_rotation_and_an_unknown_key_id_does_not() -> None:
    old = LinkSigner(Settings(link_signing_key=SecretStr("o" * 32), link_key_id="k0"))
    rotated = LinkSigner(
        Settings(link_signing_key=SecretStr("n" * 32), link_key_id="k1", link_previous_keys={"k0": SecretStr("o" * 32)})
    )
    query = query_of(old.link("shop", "INV-1"))
    expires, signature = int(query["expires"]), query["signature"]
    assert query["kid"] == "k0"
    assert rotated.verify("shop", "INV-1", expires, signature, kid="k0")
    assert not rotated.verify("shop", "INV-1", expires, signature, kid="k1")  # not the current key's
    assert not rotated.verify("shop", "INV-1", expires, signature, kid="k9")  # unknown: refused
    assert not rotated.verify("shop", "INV-1", expires, signature)  # without kid: the current key


def test_a_link_without_a_key_id_is_checked_with_the_current_key() -> None:
    """Links signed before key ids (no `kid=`) stay valid within their TTL."""
    signer = LinkSigner(SETTINGS)
    query = query_of(signer.link("shop", "INV-1"))
    assert signer.verify("shop", "INV-1", int(query["expires"]), query["signature"], kid=None)


@pytest.mark.parametrize("signature", ["é", "é" * 64, "", "0" * 63, "0" * 65, "A" * 64, "\x00" * 64, "g" * 64])
def test_a_malformed_signature_is_not_valid_and_raises_nothing(signature: str) -> None:
    assert not LinkSigner(SETTINGS).verify("shop", "INV-1", 9_999_999_999, signature)


def test_a_previous_key_shorter_than_32_characters_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        Settings(link_previous_keys={"k0": SecretStr("short")})
