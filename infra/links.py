"""Expiring, signed download links: invoice PDFs kept in local storage, and every invoice's e-invoice XML.

S3 storage signs its own PDF links (presigned GET); the local folder and the XML (made from the stored
invoice document on request) are served by the API, which checks this HMAC. A link names exactly one
tenant's invoice and what of it (PDF or XML), and stops working at its expiry.

Keys rotate like the JWT keys: a link names the id of the key that signed it (`kid=`); the current key
and the earlier ones (link_previous_keys) verify, so links stay valid across restarts, across API
replicas and through a rotation. A link without `kid` (signed before key ids) is checked with the
current key.
"""

import hashlib
import hmac
import re
import secrets
import time
from urllib.parse import quote

from infra.settings import Settings

CREDIT_NOTE_PDF = "credit-note-pdf"
# What a link is for -> where the API serves it (the number goes in between).
_PATHS = {"pdf": ("invoices", "pdf"), "xml": ("invoices", "xml"), CREDIT_NOTE_PDF: ("credit-notes", "pdf")}
# What this signer writes: a SHA-256 HMAC in lower-case hex. Anything else is refused before comparing.
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


class LinkSigner:
    def __init__(self, settings: Settings) -> None:
        configured = settings.link_signing_key
        # Without a configured key (allowed only with environment=local, infra/deployment.py), links
        # work for the life of this process (one API instance).
        current = configured.get_secret_value().encode() if configured else secrets.token_bytes(32)
        self._key_id = settings.link_key_id
        self._keys = {kid: key.get_secret_value().encode() for kid, key in settings.link_previous_keys.items()}
        self._keys[self._key_id] = current
        self._kid_query = f"&kid={quote(self._key_id, safe='')}"
        self._base_url = settings.public_base_url.rstrip("/")
        self._ttl = settings.download_link_ttl_seconds

    def _signature(self, key: bytes, tenant: str, invoice_number: str, expires: int, what: str) -> str:
        # A PDF link's message has no suffix (links signed before XML links existed stay valid); an XML
        # link's signature cannot be used for the PDF, nor the other way round.
        suffix = "" if what == "pdf" else f"\n{what}"
        message = f"{tenant}\n{invoice_number}\n{expires}{suffix}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    def link(self, tenant: str, invoice_number: str, now: float | None = None, what: str = "pdf") -> str:
        """The signed link to the invoice's PDF, or with what="xml" to its e-invoice XML (Factur-X CII;
        `&format=` another format works with the same signature), or with what=CREDIT_NOTE_PDF to the PDF
        of the credit note numbered `invoice_number` (a signature of its own: credit-note numbers may
        print like invoice numbers)."""
        expires = int((now or time.time()) + self._ttl)
        signature = self._signature(self._keys[self._key_id], tenant, invoice_number, expires, what)
        collection, suffix = _PATHS[what]
        # A number, a hex digest and the key id (escaped once): GET of a job signs thousands.
        path = f"/invoice/{tenant}/{collection}/{quote(invoice_number, safe='')}/{suffix}"
        return f"{self._base_url}{path}?expires={expires}&signature={signature}{self._kid_query}"

    def verify(
        self, tenant: str, invoice_number: str, expires: int, signature: str, what: str = "pdf", kid: str | None = None
    ) -> bool:
        """Whether the link is one this service signed and has not expired. A malformed signature (not
        hex, any character a client sends) or an unknown key id is simply not valid: the route answers 403."""
        key = self._keys.get(self._key_id if kid is None else kid)
        if key is None or expires < time.time() or not _SIGNATURE.fullmatch(signature):
            return False
        return hmac.compare_digest(self._signature(key, tenant, invoice_number, expires, what), signature)
