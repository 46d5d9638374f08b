"""The fakes' shared helpers: the keyset page (newest first) and the period filter of the listings."""

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from infra.records import (
    PageKey,
)

KeyedT = TypeVar("KeyedT")


def newest_first_page(items: Iterable[tuple[PageKey, KeyedT]], after: PageKey | None, limit: int) -> list[KeyedT]:
    """The fakes' keyset page: (instant desc, id desc), strictly after `after`."""
    ordered = sorted(items, key=lambda item: (item[0].at, item[0].id), reverse=True)
    if after is not None:
        ordered = [item for item in ordered if (item[0].at, item[0].id) < (after.at, after.id)]
    return [value for _, value in ordered[:limit]]


def within_period(at: datetime, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or at >= start) and (end is None or at < end)
