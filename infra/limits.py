"""Windowed counters in the store, shared by every API replica: the failed-login backoff
(service/login_limits.py) and the per-tenant quotas (service/dependencies.py) count with them.

A counter counts the events of one key in one fixed window (say, the minute 12:07): its document's
`_id` is the key's hash, the window's length and its start, so an increment is one atomic upsert, two replicas
counting at once add up, and a new window starts at zero without anything being reset. Each document
carries `expiresAt`, the end of its window. A TTL index on it removes old windows in MongoDB; FerretDB
v1 refuses TTL indexes (`expireAfterSeconds` is "not implemented"), so each process also deletes the
ended windows itself every few minutes (infra/db.py makes a plain index there). Counts never rely on
either: a window's document is only ever found by its own window's `_id`, so an old one is never read.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from infra.db import Document

COLLECTION = "windowed_counters"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class WindowCount:
    """Events of one key in the window that holds `now`."""

    count: int
    last_at: datetime | None  # the latest event counted, None when there is none
    window_ends: datetime

    def seconds_to_window_end(self, now: datetime) -> int:
        """Whole seconds until the window ends, at least 1: what a Retry-After header says."""
        return max(1, int((self.window_ends - now).total_seconds() + 0.999))


def window_start(now: datetime, window: timedelta) -> datetime:
    length = window.total_seconds()
    return EPOCH + timedelta(seconds=(now - EPOCH).total_seconds() // length * length)


def counter_id(key: str, window: timedelta, start: datetime) -> str:
    """A key may be caller-supplied (a client ID, an invoice number): hashed, so `_id` stays small."""
    return f"{hashlib.sha256(key.encode()).hexdigest()}:{int(window.total_seconds())}:{int(start.timestamp())}"


class WindowedCounters(Protocol):
    async def add(self, key: str, window: timedelta, now: datetime) -> WindowCount:
        """Count one event of `key` at `now`; the window's count including it."""
        ...

    async def read(self, key: str, window: timedelta, now: datetime) -> WindowCount:
        """The window's count so far, without counting anything."""
        ...


PURGE_EVERY = timedelta(minutes=5)


class MongoWindowedCounters:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.counters: AsyncCollection[Document] = db[COLLECTION]
        self.purged_at = EPOCH

    async def add(self, key: str, window: timedelta, now: datetime) -> WindowCount:
        start = window_start(now, window)
        await self._purge_ended(now)
        try:
            doc = await self._increment(counter_id(key, window, start), now, start + window)
        except DuplicateKeyError:
            # Two first events of one window at once: one upsert inserted, so the other's retry updates.
            doc = await self._increment(counter_id(key, window, start), now, start + window)
        return WindowCount(doc["count"], doc["lastAt"], start + window)

    async def _increment(self, counter: str, now: datetime, expires_at: datetime) -> Document:
        doc = await self.counters.find_one_and_update(
            {"_id": counter},
            {"$inc": {"count": 1}, "$max": {"lastAt": now}, "$setOnInsert": {"expiresAt": expires_at}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:  # an upsert with ReturnDocument.AFTER always returns the document
            raise RuntimeError(f"windowed counter {counter} was not written")
        return doc

    async def _purge_ended(self, now: datetime) -> None:
        """What a TTL index does where the store has none; at most every PURGE_EVERY per process."""
        if now - self.purged_at >= PURGE_EVERY:
            self.purged_at = now
            await self.counters.delete_many({"expiresAt": {"$lt": now}})

    async def read(self, key: str, window: timedelta, now: datetime) -> WindowCount:
        start = window_start(now, window)
        doc = await self.counters.find_one({"_id": counter_id(key, window, start)})
        if doc is None:
            return WindowCount(0, None, start + window)
        return WindowCount(doc["count"], doc["lastAt"], start + window)
