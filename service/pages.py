"""Opaque cursors of the newest-first lists (invoices, credit notes, jobs).

A cursor is the page key of the last item shown (its instant and its ID) and the list it belongs to,
as base64url JSON. Clients must treat it as opaque; the API checks it fully, so a garbled, tampered or
foreign cursor is a 400 naming `cursor`, never a 500 or a silently wrong page.
"""

import base64
import binascii
import json
from datetime import datetime

from infra.records import PageKey
from service.services import InvalidRequest

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


def encode_cursor(listing: str, key: PageKey) -> str:
    body = json.dumps({"l": listing, "at": key.at.isoformat(), "id": key.id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode_cursor(listing: str, cursor: str | None) -> PageKey | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        body = json.loads(raw)
        at = datetime.fromisoformat(body["at"])
        key_id = body["id"]
        belongs_to = body["l"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise InvalidRequest("cursor: not a cursor this API gave out; pass nextCursor unchanged") from None
    if belongs_to != listing or not isinstance(key_id, str) or at.tzinfo is None:
        raise InvalidRequest(f"cursor: not a cursor of this list ({listing}); pass nextCursor unchanged")
    return PageKey(at=at, id=key_id)


def next_cursor(listing: str, keys: list[PageKey], limit: int) -> str | None:
    """A cursor when the page is full (one item more was read to know whether another page exists)."""
    return encode_cursor(listing, keys[limit - 1]) if len(keys) > limit else None
