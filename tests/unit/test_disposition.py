"""Content-Disposition of the API's downloads: any invoice number, as RFC 6266 `filename*` with an
ASCII `filename` fallback that no quote, backslash or non-ASCII character can break."""

from urllib.parse import unquote

import pytest
from starlette.responses import Response

from service.disposition import attachment


@pytest.mark.parametrize(
    "filename",
    ["INV-1.pdf", "R€-0001-facturx.xml", 'A"B\\C.xml', "Nr. 7 \u2013 Müller.pdf", "請求書-1.xml", "a\r\nb.pdf"],
)
def test_every_file_name_makes_a_header_that_gives_it_back(filename: str) -> None:
    header = attachment(filename)
    Response(b"", headers={"Content-Disposition": header})  # Latin-1 only: raised for R€ before
    assert header.isascii() and "\r" not in header and "\n" not in header
    full = header.split("; filename*=UTF-8''", 1)[1]
    assert unquote(full, encoding="utf-8", errors="strict") == filename  # what a client reading filename* saves


def test_the_ascii_fallback_has_nothing_to_escape() -> None:
    header = attachment('R€-"7"\\x.xml')
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback == "R-_7_x.xml"  # the € dropped, quotes and backslash replaced
    assert header.endswith("filename*=UTF-8''R%E2%82%AC-%227%22%5Cx.xml")
