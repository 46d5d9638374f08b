"""The list cursors: what a page gives out reads back, and anything else is a 400 naming `cursor`."""

import base64
from datetime import UTC, datetime

import pytest

from infra.records import PageKey
from service.pages import decode_cursor, encode_cursor, next_cursor
from service.services import InvalidRequest

KEY = PageKey(datetime(2026, 11, 29, 10, 15, 2, 123000, tzinfo=UTC), "demo:demo-1001")


def test_a_cursor_reads_back_as_its_key() -> None:
    assert decode_cursor("invoice", encode_cursor("invoice", KEY)) == KEY
    assert decode_cursor("invoice", None) is None


def test_a_next_cursor_only_when_there_is_more() -> None:
    keys = [KEY, PageKey(KEY.at, "demo:a"), PageKey(KEY.at, "demo:0")]
    assert next_cursor("jobs", keys, 3) is None
    assert decode_cursor("jobs", next_cursor("jobs", keys, 2)) == keys[1]


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "@@@",
        b64("not json"),
        b64("[1, 2]"),
        b64('{"l": "invoice", "at": "2026-11-29T10:15:02", "id": "x"}'),  # no offset
        b64('{"l": "invoice", "at": "2026-11-29T10:15:02+00:00", "id": 7}'),
        b64('{"l": "invoice", "at": "2026-11-29T10:15:02+00:00"}'),
        encode_cursor("jobs", KEY),  # another list's
    ],
)
def test_anything_else_is_refused_naming_the_cursor(cursor: str) -> None:
    with pytest.raises(InvalidRequest, match=r"^cursor: "):
        decode_cursor("invoice", cursor)
