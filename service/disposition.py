"""The Content-Disposition of every file the API hands out (PDF and XML downloads).

An invoice number is whatever the tenant's number format makes: any Unicode character, quotes and
backslashes included. Starlette has no helper, so: RFC 6266 with the name in full as `filename*`
(RFC 8187, UTF-8, percent-encoded), and an ASCII `filename` for clients that know no `filename*`, in
which anything outside letters, digits and `._-` becomes `_` (no quote or backslash left to escape).
"""

import re
import unicodedata
from urllib.parse import quote

_NOT_PLAIN = re.compile(r"[^A-Za-z0-9._-]+")


def attachment(filename: str) -> str:
    """`attachment; filename="..."; filename*=UTF-8''...` for `filename`."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = _NOT_PLAIN.sub("_", ascii_name).strip("_") or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
