"""The store contract (tests/integration/store_contracts.py) over the in-memory fake and the MongoDB adapter:
the order and claim stores."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from infra.records import (
    UnreadableOrder,
)
from invoicing.selection import OrderSelection
from schemas.orders import OrderStatus, parse_order_event
from tests.factories import encoded, order_event
from tests.integration.store_contracts import Stores

pytestmark = pytest.mark.integration


# --- orders and claims -----------------------------------------------------------------------------


async def test_the_newest_snapshot_of_an_order_is_kept(stores: Stores, tenant: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    newer = parse_order_event(encoded(order_event(tenant, "o-1", status="SHIPPED", occurred_at=now)))
    older = parse_order_event(encoded(order_event(tenant, "o-1", status="CREATED", occurred_at=now - timedelta(1))))
    assert await stores.orders.store_snapshot(tenant=tenant, occurred_at=newer.occurredAt, order=newer.order)
    assert not await stores.orders.store_snapshot(tenant=tenant, occurred_at=older.occurredAt, order=older.order)
    stored = await stores.orders.get(tenant, "o-1")
    assert stored is not None and stored.status is OrderStatus.SHIPPED and stored.totalPrice == Decimal("58.76")
    assert await stores.orders.get(tenant, "o-2") is None
    selection = OrderSelection(statuses=(OrderStatus.SHIPPED,), extended_statuses=(), threshold=timedelta(hours=1))
    assert [o async for o in stores.orders.select(tenant, selection, now)] == ["o-1"]


async def test_an_order_known_to_be_invoiced_is_no_longer_selected(stores: Stores, tenant: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    for order_id in ("o-1", "o-2"):
        event = parse_order_event(encoded(order_event(tenant, order_id, status="SHIPPED", occurred_at=now)))
        await stores.orders.store_snapshot(tenant=tenant, occurred_at=event.occurredAt, order=event.order)
    selection = OrderSelection(statuses=(OrderStatus.SHIPPED,), extended_statuses=(), threshold=timedelta(hours=1))
    assert sorted([o async for o in stores.orders.select(tenant, selection, now)]) == ["o-1", "o-2"]
    await stores.orders.mark_invoiced(tenant, ["o-1"])
    # A later snapshot of the invoiced order (say, a status change upstream) does not bring it back.
    later = parse_order_event(encoded(order_event(tenant, "o-1", status="SHIPPED", occurred_at=now + timedelta(1))))
    assert await stores.orders.store_snapshot(tenant=tenant, occurred_at=later.occurredAt, order=later.order)
    assert [o async for o in stores.orders.select(tenant, selection, now + timedelta(2))] == ["o-2"]


async def test_an_unreadable_stored_order_says_so(stores: Stores, tenant: str) -> None:
    await stores.put_unreadable_order(tenant, "o-1")
    with pytest.raises(UnreadableOrder):
        await stores.orders.get(tenant, "o-1")


async def test_an_order_is_claimed_by_one_job_until_released(stores: Stores, tenant: str) -> None:
    await stores.claims.claim(tenant=tenant, job_id="j1", order_ids=["b", "a"])
    await stores.claims.claim(tenant=tenant, job_id="j2", order_ids=["a", "c"])
    assert await stores.claims.claimed_by(tenant, "j1") == ["a", "b"]
    assert await stores.claims.claimed_by(tenant, "j2") == ["c"]
    await stores.claims.release(tenant=tenant, job_id="j2", order_id="a")  # not j2's: stays
    await stores.claims.release(tenant=tenant, job_id="j1", order_id="a")
    await stores.claims.claim(tenant=tenant, job_id="j2", order_ids=["a"])
    assert await stores.claims.claimed_by(tenant, "j2") == ["a", "c"]
