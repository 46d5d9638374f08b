"""Stored invoices are write-once, in both storages: a second put under a key is refused, never applied."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from infra.links import LinkSigner
from infra.settings import Settings
from infra.storage import AlreadyStored, InvoiceStorage, LocalStorage, S3Storage, invoice_key

pytestmark = pytest.mark.integration


@pytest.fixture(params=["local", "s3"])
async def storage(
    request: pytest.FixtureRequest, settings: Settings, s3_bucket: str, tmp_path: Path
) -> AsyncIterator[InvoiceStorage]:
    opened: InvoiceStorage = (
        S3Storage(settings) if request.param == "s3" else LocalStorage(tmp_path, LinkSigner(settings))
    )
    yield opened
    await opened.close()


async def test_a_stored_invoice_is_never_overwritten(storage: InvoiceStorage, tenant: str) -> None:
    key = invoice_key(tenant, "A11")
    await storage.put(key, b"%PDF first")
    with pytest.raises(AlreadyStored):
        await storage.put(key, b"%PDF second")
    assert await storage.get(key) == b"%PDF first"
    # Other keys are unaffected, and a refused put leaves nothing behind.
    await storage.put(invoice_key(tenant, "A12"), b"%PDF other")
    assert await storage.get(invoice_key(tenant, "A12")) == b"%PDF other"
