"""Expiring, signed download links for invoices kept in local storage.

S3 storage signs its own links (presigned GET); the local folder is served by the API, which checks
this HMAC. A link names exactly one tenant's invoice and stops working at its expiry.
"""

import hashlib
import hmac
import secrets
import time
from urllib.parse import quote, urlencode

from infra.settings import Settings


class LinkSigner:
    def __init__(self, settings: Settings) -> None:
        configured = settings.link_signing_key
        # Without a configured key, links still work for the life of this process (one API instance).
        self._key = configured.get_secret_value().encode() if configured else secrets.token_bytes(32)
        self._base_url = settings.public_base_url.rstrip("/")
        self._ttl = settings.download_link_ttl_seconds

    def _signature(self, tenant: str, invoice_number: str, expires: int) -> str:
        message = f"{tenant}\n{invoice_number}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def link(self, tenant: str, invoice_number: str, now: float | None = None) -> str:
        expires = int((now or time.time()) + self._ttl)
        query = urlencode({"expires": expires, "signature": self._signature(tenant, invoice_number, expires)})
        return f"{self._base_url}/invoice/{tenant}/invoices/{quote(invoice_number, safe='')}/pdf?{query}"

    def verify(self, tenant: str, invoice_number: str, expires: int, signature: str) -> bool:
        if expires < time.time():
            return False
        return hmac.compare_digest(self._signature(tenant, invoice_number, expires), signature)
