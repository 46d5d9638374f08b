"""The store contract (tests/integration/store_contracts.py) over the in-memory fake and the MongoDB adapter:
the windowed counters."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.db import ensure_indexes
from infra.limits import COLLECTION as COUNTERS
from infra.limits import MongoWindowedCounters, WindowCount, WindowedCounters, counter_id, window_start
from tests.memory import (
    MemoryWindowedCounters,
)

pytestmark = pytest.mark.integration


# --- windowed counters (login backoff, tenant quotas) -------------------------------------------------------


@pytest.fixture(params=["memory", "mongo"])
async def counters(request: pytest.FixtureRequest, mongo_db: Any) -> WindowedCounters:
    if request.param == "memory":
        return MemoryWindowedCounters()
    await ensure_indexes(mongo_db)
    return MongoWindowedCounters(mongo_db)


async def test_counters_count_per_key_and_window(counters: WindowedCounters, tenant: str) -> None:
    minute, start = timedelta(minutes=1), datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert await counters.read(tenant, minute, start) == WindowCount(0, None, start + minute)
    first = await counters.add(tenant, minute, start + timedelta(seconds=5))
    assert first == WindowCount(1, start + timedelta(seconds=5), start + minute)
    second = await counters.add(tenant, minute, start + timedelta(seconds=30))
    assert second == WindowCount(2, start + timedelta(seconds=30), start + minute)
    assert second.seconds_to_window_end(start + timedelta(seconds=30)) == 30
    assert (await counters.read(tenant, minute, start + timedelta(seconds=59))).count == 2  # reading counts nothing
    assert (await counters.read(f"{tenant}-other", minute, start)).count == 0
    assert (await counters.read(tenant, timedelta(hours=1), start)).count == 0  # another window length
    later = await counters.add(tenant, minute, start + minute)  # the next window starts at zero
    assert later == WindowCount(1, start + minute, start + 2 * minute)


async def test_counters_add_up_events_counted_at_once(counters: WindowedCounters, tenant: str) -> None:
    hour, now = timedelta(hours=1), datetime.now(UTC)
    counts = await asyncio.gather(*(counters.add(tenant, hour, now) for _ in range(10)))
    assert sorted(count.count for count in counts) == list(range(1, 11))
    assert (await counters.read(tenant, hour, now)).count == 10


async def test_ended_counter_windows_are_removed(mongo_db: Any, tenant: str) -> None:
    await ensure_indexes(mongo_db)
    indexed = [info["key"] for info in (await mongo_db[COUNTERS].index_information()).values()]
    assert [("expiresAt", 1)] in indexed  # a TTL index on MongoDB, a plain one on FerretDB v1
    minute, then, now = timedelta(minutes=1), datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC)
    ended = counter_id(tenant, minute, window_start(then, minute))
    current = counter_id(tenant, minute, window_start(now, minute))
    await MongoWindowedCounters(mongo_db).add(tenant, minute, then)
    assert await mongo_db[COUNTERS].count_documents({"_id": ended}) == 1
    await MongoWindowedCounters(mongo_db).add(tenant, minute, now)  # a new process: it purges first
    assert await mongo_db[COUNTERS].count_documents({"_id": {"$in": [ended, current]}}) == 1
    assert await mongo_db[COUNTERS].count_documents({"_id": current}) == 1
