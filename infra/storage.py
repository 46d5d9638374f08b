"""Where invoice PDFs live: an S3 bucket (aioboto3) or a local folder (the zero-setup default)."""

import asyncio
import os
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import aioboto3
import botocore.exceptions

from infra.links import CREDIT_NOTE_PDF, LinkSigner
from infra.s3_links import S3LinkSigner
from infra.settings import Settings


def invoice_key(tenant: str, invoice_number: str) -> str:
    # Invoice numbers come from the tenant's sequence format and may hold '/' or spaces: quote them so
    # a number is always exactly one object name and never a path outside the tenant's prefix.
    return f"{tenant}/invoices/{quote(invoice_number, safe='')}.pdf"


def credit_note_key(tenant: str, number: str) -> str:
    """Credit notes beside the invoices, under a prefix of their own: their sequence may print like an invoice's."""
    return f"{tenant}/credit-notes/{quote(number, safe='')}.pdf"


class AlreadyStored(Exception):
    """An object is stored under this key already: stored invoices are write-once, never overwritten."""


class InvoiceStorage(Protocol):
    async def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key` unless something is stored there; raises AlreadyStored if so."""
        ...

    async def get(self, key: str) -> bytes: ...
    async def check(self) -> None: ...
    async def download_link(self, key: str, tenant: str, invoice_number: str) -> str: ...
    async def close(self) -> None: ...


class LocalStorage:
    def __init__(self, root: Path, signer: LinkSigner) -> None:
        self.root = root
        self.signer = signer

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"storage key escapes the storage folder: {key!r}")
        return path

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target, then linked into place: readers never see half a PDF, and link()
        # fails when the target exists, so a stored invoice is never replaced (write-once).
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".partial-", delete=False) as partial:
            partial.write(data)
        try:
            os.link(partial.name, path)
        except FileExistsError:
            raise AlreadyStored(str(path)) from None
        finally:
            os.unlink(partial.name)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def check(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)

    async def download_link(self, key: str, tenant: str, invoice_number: str) -> str:
        # The API serves the file behind the link; a credit note's key says it is one (its own route).
        if key.startswith(f"{tenant}/credit-notes/"):
            return self.signer.link(tenant, invoice_number, what=CREDIT_NOTE_PDF)
        return self.signer.link(tenant, invoice_number)

    async def close(self) -> None:
        return None


class S3Storage:
    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.s3_bucket
        self.ttl = settings.download_link_ttl_seconds
        self._session = aioboto3.Session(
            aws_access_key_id=settings.s3_access_key_id.get_secret_value(),
            aws_secret_access_key=settings.s3_secret_access_key.get_secret_value(),
            region_name=settings.s3_region,
        )
        self._endpoint_url = settings.s3_endpoint_url
        self._links = S3LinkSigner(
            endpoint_url=settings.s3_endpoint_url,
            bucket=settings.s3_bucket,
            region=settings.s3_region,
            access_key=settings.s3_access_key_id.get_secret_value(),
            secret_key=settings.s3_secret_access_key.get_secret_value(),
            ttl=settings.download_link_ttl_seconds,
        )
        self._stack = AsyncExitStack()
        self._client: Any = None
        self._lock = asyncio.Lock()

    async def _s3(self) -> Any:
        async with self._lock:
            if self._client is None:
                self._client = await self._stack.enter_async_context(
                    self._session.client("s3", endpoint_url=self._endpoint_url)
                )
            return self._client

    async def put(self, key: str, data: bytes) -> None:
        s3 = await self._s3()
        try:
            # A conditional put: S3 and MinIO refuse it with 412 when the key exists (write-once).
            await s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType="application/pdf", IfNoneMatch="*")
        except botocore.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"PreconditionFailed", "412"}:
                raise AlreadyStored(key) from None
            raise

    async def get(self, key: str) -> bytes:
        s3 = await self._s3()
        response = await s3.get_object(Bucket=self.bucket, Key=key)
        async with response["Body"] as body:
            data: bytes = await body.read()
        return data

    async def check(self) -> None:
        s3 = await self._s3()
        await s3.head_bucket(Bucket=self.bucket)

    async def download_link(self, key: str, tenant: str, invoice_number: str) -> str:
        return self._links.link(key)  # presigned, at read time; thousands per GET (infra/s3_links.py)

    async def close(self) -> None:
        await self._stack.aclose()
        self._client = None


def open_storage(settings: Settings, signer: LinkSigner) -> InvoiceStorage:
    if settings.storage == "s3":
        return S3Storage(settings)
    return LocalStorage(settings.local_storage_dir, signer)
