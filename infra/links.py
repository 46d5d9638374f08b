"""Expiring, signed download links: invoice PDFs kept in local storage, and every invoice's e-invoice XML.

S3 storage signs its own PDF links (presigned GET); the local folder and the XML (made from the stored
invoice document on request) are served by the API, which checks this HMAC. A link names exactly one
tenant's invoice and what of it (PDF or XML), and stops working at its expiry.
"""

import hashlib
import hmac
import secrets
import time
from urllib.parse import quote

from infra.settings import Settings

CREDIT_NOTE_PDF = "credit-note-pdf"
# What a link is for -> where the API serves it (the number goes in between).
_PATHS = {"pdf": ("invoices", "pdf"), "xml": ("invoices", "xml"), CREDIT_NOTE_PDF: ("credit-notes", "pdf")}


class LinkSigner:
    def __init__(self, settings: Settings) -> None:
        configured = settings.link_signing_key
        # Without a configured key, links still work for the life of this process (one API instance).
        self._key = configured.get_secret_value().encode() if configured else secrets.token_bytes(32)
        self._base_url = settings.public_base_url.rstrip("/")
        self._ttl = settings.download_link_ttl_seconds

    def _signature(self, tenant: str, invoice_number: str, expires: int, what: str) -> str:
        # A PDF link's message has no suffix (links signed before XML links existed stay valid); an XML
        # link's signature cannot be used for the PDF, nor the other way round.
        suffix = "" if what == "pdf" else f"\n{what}"
        message = f"{tenant}\n{invoice_number}\n{expires}{suffix}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def link(self, tenant: str, invoice_number: str, now: float | None = None, what: str = "pdf") -> str:
        """The signed link to the invoice's PDF, or with what="xml" to its e-invoice XML (Factur-X CII;
        `&format=` another format works with the same signature), or with what=CREDIT_NOTE_PDF to the PDF
        of the credit note numbered `invoice_number` (a signature of its own: credit-note numbers may
        print like invoice numbers)."""
        expires = int((now or time.time()) + self._ttl)
        signature = self._signature(tenant, invoice_number, expires, what)
        collection, suffix = _PATHS[what]
        # A number and a hex digest: nothing to escape in the query (GET of a job signs thousands).
        path = f"/invoice/{tenant}/{collection}/{quote(invoice_number, safe='')}/{suffix}"
        return f"{self._base_url}{path}?expires={expires}&signature={signature}"

    def verify(self, tenant: str, invoice_number: str, expires: int, signature: str, what: str = "pdf") -> bool:
        if expires < time.time():
            return False
        return hmac.compare_digest(self._signature(tenant, invoice_number, expires, what), signature)
